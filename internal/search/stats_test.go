package search_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/search"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// searched is a query searched for times times, each finding hits results.
type searched struct {
	q           string
	times, hits int
}

func record(t *testing.T, st *search.Stats, searches ...searched) {
	t.Helper()
	for _, s := range searches {
		for range s.times {
			if err := st.Record(context.Background(), s.q, s.hits); err != nil {
				t.Fatalf("Record(%q): %v", s.q, err)
			}
		}
	}
}

func TestStatsCountsNormalisedQueries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		st := search.NewStats(db.DB).WithHotMinCount(1)
		record(t, st,
			searched{"Senior Card", 1, 3},
			searched{"  senior \t card ", 1, 3},
			searched{"SENIOR\u3000CARD", 1, 2}, // ideographic space, as a Chinese IME types it
			searched{"落户", 1, 5},
			searched{" 落户 ", 1, 4},
		)
		hot, err := st.Hot(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []search.HotWord{{Query: "senior card", Count: 3, LastHits: 2}, {Query: "落户", Count: 2, LastHits: 4}}
		if fmt.Sprint(hot) != fmt.Sprint(want) {
			t.Errorf("Hot = %v, want %v", hot, want)
		}
	})
}

func TestStatsRefusesWhatSearchRefuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		st := search.NewStats(db.DB).WithHotMinCount(1)
		for q, code := range map[string]string{"": "empty_query", "  ": "empty_query", strings.Repeat("证", 101): "query_too_long"} {
			err := st.Record(context.Background(), q, 0)
			if e := apperr.As(err); e == nil || e.Kind != apperr.Invalid || e.Code != apperr.Code(code) {
				t.Errorf("Record(%q): err = %v, want %s", q, err, code)
			}
		}
		if hot, err := st.Hot(context.Background(), 10); err != nil || len(hot) != 0 {
			t.Errorf("refused queries were counted: %v %v", hot, err)
		}
	})
}

func TestStatsHotAndMissesOrderAndLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st := search.NewStats(db.DB).WithHotMinCount(1)
		record(t, st,
			searched{"社保", 1, 2},
			searched{"营业执照", 2, 3},
			searched{"老人", 2, 1},
			searched{"落户", 4, 6},
			searched{"ebay", 2, 0},   // equal counts: code-point order on both backends,
			searched{"e-bike", 2, 0}, // whatever PostgreSQL's default collation
			searched{"火箭", 3, 0},
			searched{"公积金", 1, 0},
			searched{"公积金", 1, 7}, // found something last time: no longer a miss
		)
		tests := []struct {
			name  string
			list  func(context.Context, int) ([]search.HotWord, error)
			limit int
			want  string
		}{
			{"hot", st.Hot, 10, "落户 火箭 e-bike ebay 公积金 老人 营业执照 社保"},
			{"hot limited", st.Hot, 2, "落户 火箭"},
			{"hot default limit", st.Hot, 0, "落户 火箭 e-bike ebay 公积金 老人 营业执照 社保"},
			{"misses", st.Misses, 10, "火箭 e-bike ebay"},
			{"misses limited", st.Misses, 1, "火箭"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				words, err := tt.list(ctx, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, w := range words {
					got = append(got, w.Query)
				}
				if strings.Join(got, " ") != tt.want {
					t.Errorf("got %q, want %q", strings.Join(got, " "), tt.want)
				}
			})
		}
		hot, _ := st.Hot(ctx, 1)
		if len(hot) != 1 || hot[0] != (search.HotWord{Query: "落户", Count: 4, LastHits: 6}) {
			t.Errorf("top hot word = %+v", hot)
		}
	})
}

// The upsert counts every search even when many land at once.
func TestStatsRecordConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		st := search.NewStats(db.DB).WithHotMinCount(1)
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for range 10 {
			wg.Go(func() {
				for range 10 {
					if err := st.Record(context.Background(), "落户", 1); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		hot, err := st.Hot(context.Background(), 10)
		if err != nil || len(hot) != 1 || hot[0].Count != 100 {
			t.Errorf("Hot = %v, %v; want 落户 counted 100 times", hot, err)
		}
	})
}

// TestHotWordsKeepPersonalDataOut: hot words are public, so a query shows
// only when several searches asked it, and numbers like ID numbers never count.
func TestHotWordsKeepPersonalDataOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		stats := search.NewStats(db.DB)
		for i := 0; i < search.HotMinCount; i++ {
			stats.Record(ctx, "落户", 1)
			stats.Record(ctx, "身份证 440301199001011234", 0)
			stats.Record(ctx, "１３８００１３８０００", 0) // a full-width phone number
		}
		stats.Record(ctx, "张三", 0) // asked once: maybe a person's name
		hot, err := stats.Hot(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hot) != 1 || hot[0].Query != "落户" {
			t.Errorf("hot = %+v, want only 落户", hot)
		}
	})
}
