package workday_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

// notice2027 is a plausible 2027 arrangement, for tests: the dates are made
// up (the real notice is not out), but consistent.
func notice2027() workday.Notice {
	return workday.Notice{
		Year:   2027,
		Source: "国办发明电〔2026〕测试号",
		Holidays: []workday.NoticeHoliday{
			{Name: "元旦", From: "2027-01-01", To: "2027-01-03"},
			{Name: "春节", From: "2027-02-05", To: "2027-02-13"},
		},
		MakeUpDays: []workday.NoticeMakeUp{{Date: "2027-02-14", For: "春节"}}, // a Sunday
	}
}

func TestBadYearListsEveryProblem(t *testing.T) {
	n := workday.Notice{
		Year:   2027,
		Source: " ",
		Holidays: []workday.NoticeHoliday{
			{Name: "春节", From: "2027-02-05", To: "2027-02-13"},
			{Name: "清明节", From: "2027-04-05", To: "2027-04-03"}, // ends before it starts
			{Name: "元旦", From: "2026-12-31", To: "2027-01-01"},  // starts in 2026
			{Name: "", From: "2027-05-01", To: "2027-05-05"},    // no name
			{Name: "元宵", From: "2027-02-12", To: "2027-02-14"},  // overlaps 春节
			{Name: "国庆节", From: "2027-10-01", To: "2027-12-07"}, // far too long
			{Name: "端午节", From: "2027-6-9", To: "2027-06-11"},   // not YYYY-MM-DD
		},
		MakeUpDays: []workday.NoticeMakeUp{
			{Date: "2027-02-10", For: "春节"}, // a Wednesday, and inside 春节
			{Date: "2027-02-20", For: "春假"}, // a Saturday for no such holiday
			{Date: "2027-02-20"},            // again
			{Date: "2028-01-08"},            // another year
			{Date: ""},
		},
	}
	_, err := n.Parse()
	e := apperr.As(err)
	if e == nil || e.Kind != apperr.Invalid || e.Code != "calendar_invalid" {
		t.Fatalf("err = %v", err)
	}
	var problems []string
	for _, d := range e.Details.([]apperr.Detail) {
		problems = append(problems, d.En)
		if d.Zh == "" || strings.Contains(d.Zh, "holiday") || strings.Contains(d.Zh, "make-up") {
			t.Errorf("problem %q has no Chinese words: %q", d.En, d.Zh)
		}
	}
	want := []string{
		"the source is empty",
		"holiday 清明节 ends on 2027-04-03, before it starts on 2027-04-05",
		"holiday 元旦 from 2026-12-31 is not in 2027",
		"the holiday from 2027-05-01 to 2027-05-05 has no name",
		"holiday 元宵 overlaps holiday 春节 on 2027-02-12",
		"holiday 国庆节 runs 68 days",
		`holiday 7 (端午节) from: "2027-6-9" is not a date written YYYY-MM-DD`,
		"make-up day 2027-02-10 is a Wednesday",
		"make-up day 2027-02-10 is also a day of holiday 春节",
		`make-up day 2027-02-20 is for "春假", which is not the name of a holiday of 2027`,
		"make-up day 2027-02-20 is listed twice",
		"make-up day 2028-01-08 is not in 2027",
		"make-up day 5: the date is missing",
	}
	for _, w := range want {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("no problem says %q in:\n%s", w, strings.Join(problems, "\n"))
		}
	}
	if len(problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(problems), len(want), strings.Join(problems, "\n"))
	}
	if !strings.Contains(e.Message, fmt.Sprintf("the 2027 calendar has %d problem(s)", len(want))) {
		t.Errorf("message: %s", e.Message)
	}
	if _, err := (workday.Notice{Year: 2027, Source: "x"}).Parse(); err == nil || !strings.Contains(err.Error(), "no holidays") {
		t.Errorf("a year without holidays: %v", err)
	}
	if _, err := workday.ParseYAML([]byte("year: 2027\nholiday: []\n")); err == nil || !strings.Contains(err.Error(), "holiday") {
		t.Errorf("a misspelt key must be refused: %v", err)
	}
}

func TestStoreLoadsAYear(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		s, err := workday.NewStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		cal, _ := s.Calendar(ctx)
		if d, err := cal.Deadline(cst("2026-12-30 10:00"), 2); err != nil || !cal.Provisional(cst("2026-12-30 10:00"), d) {
			t.Fatalf("2027 is not loaded yet: %v, %v", d, err)
		}

		// A bad notice changes nothing.
		bad := notice2027()
		bad.MakeUpDays[0].Date = "2027-02-10"
		if _, err := s.Load(ctx, bad, "staff:1"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("bad notice: %v", err)
		}
		if _, err := s.Year(ctx, 2027); !apperr.Is(err, apperr.NotFound) || !strings.Contains(err.Error(), "2025, 2026") {
			t.Fatalf("after a refused load: %v", err)
		}

		y, err := s.Load(ctx, notice2027(), "staff:1")
		if err != nil {
			t.Fatal(err)
		}
		if y.Origin != workday.OriginLoaded || y.LoadedBy != "staff:1" || y.LoadedAt == nil || y.Holidays[1].Days != 9 {
			t.Errorf("loaded year: %+v", y)
		}
		// At once: a deadline over New Year 2027 now counts. Wed 30 Dec 2026
		// + 2: Thu 31 Dec, then 1–3 Jan are off, so Mon 4 Jan 2027.
		cal, _ = s.Calendar(ctx)
		if d, err := cal.Deadline(cst("2026-12-30 10:00"), 2); err != nil || !d.Equal(day("2027-01-04").End()) {
			t.Errorf("deadline into 2027: %v %v", d, err)
		}
		// The make-up Sunday 14 Feb 2027 is a working day.
		if ok, err := cal.IsWorkday(day("2027-02-14")); !ok || err != nil {
			t.Errorf("make-up Sunday: %v %v", ok, err)
		}

		// After a restart: a new store on the same database has it.
		db.Close()
		db = storetest.Open(t, dsn)
		s2, err := workday.NewStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s2.Year(ctx, 2027)
		if err != nil || got.Source != "国办发明电〔2026〕测试号" || got.LoadedBy != "staff:1" || len(got.MakeUpDays) != 1 {
			t.Fatalf("after restart: %+v %v", got, err)
		}

		// Loading again replaces the year whole.
		again := notice2027()
		again.Holidays = again.Holidays[:1]
		again.MakeUpDays = nil
		again.Source = "国办发明电〔2026〕更正"
		if _, err := s2.Load(ctx, again, "staff:2"); err != nil {
			t.Fatal(err)
		}
		cal, _ = s2.Calendar(ctx)
		if ok, _ := cal.IsWorkday(day("2027-02-08")); !ok {
			t.Error("8 Feb 2027 is a working Monday once 春节 is gone from the replaced year")
		}
		if ok, _ := cal.IsWorkday(day("2027-02-14")); ok {
			t.Error("14 Feb 2027 is an ordinary Sunday once the make-up day is gone")
		}
	})
}

func TestLoadRunsRecountInItsTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, err := workday.NewStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		fail := true
		var seen []bool
		s.OnLoad(func(ctx context.Context, tx *sql.Tx, before, after *workday.Calendar) error {
			seen = append(seen, before.Known(2027), after.Known(2027))
			if fail {
				return errors.New("no")
			}
			return nil
		})
		if _, err := s.Load(ctx, notice2027(), "staff:1"); err == nil || !strings.Contains(err.Error(), "no") {
			t.Fatalf("a failing recount must fail the load: %v", err)
		}
		if _, err := s.Year(ctx, 2027); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("a failed recount undoes the load: %v", err)
		}
		fail = false
		if _, err := s.Load(ctx, notice2027(), "staff:1"); err != nil {
			t.Fatal(err)
		}
		if want := []bool{false, true, false, true}; !slices.Equal(seen, want) {
			t.Errorf("before and after knew 2027: %v, want %v", seen, want)
		}
	})
}

func TestLoadedYearReplacesAnEmbeddedOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, err := workday.NewStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		// Suppose the State Council extended 春节 2026 by a day (as it did in 2020).
		y, _ := s.Year(ctx, 2026)
		n := y.Notice()
		n.Holidays[1].To = "2026-02-24"
		n.Source += "；延长春节假期的通知"
		if _, err := s.Load(ctx, n, "staff:1"); err != nil {
			t.Fatal(err)
		}
		cal, _ := s.Calendar(ctx)
		if d, _ := cal.Deadline(cst("2026-02-13 10:00"), 5); !d.Equal(day("2026-02-28").End()) {
			t.Errorf("Fri 13 Feb + 5 with 24 Feb off = Sat 14, 25, 26, 27, Sat 28 → end of 28 Feb … got %s", d)
		}
		got, _ := s.Year(ctx, 2026)
		if got.Origin != workday.OriginLoaded {
			t.Errorf("origin %q", got.Origin)
		}
	})
}

// TestOtherProcessesCatchUp: a year loaded through one yiwang process reaches
// another process on the same database within RefreshEvery.
func TestOtherProcessesCatchUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, err := workday.NewStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		b, err := workday.NewStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		workday.SetClock(b, func() time.Time { return now })
		if _, err := a.Load(ctx, notice2027(), "staff:1"); err != nil {
			t.Fatal(err)
		}
		if cal, _ := b.Calendar(ctx); cal.Known(2027) {
			t.Fatal("b re-read before RefreshEvery passed") // it must not hit the database on every call
		}
		now = now.Add(workday.RefreshEvery)
		if cal, _ := b.Calendar(ctx); !cal.Known(2027) {
			t.Error("b does not see 2027 after RefreshEvery")
		}
	})
}

// TestStoreIsSafeForConcurrentUse computes deadlines while years are loaded;
// run it with -race.
func TestStoreIsSafeForConcurrentUse(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	s, err := workday.NewStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	workday.SetClock(s, func() time.Time { return time.Now().Add(time.Hour) }) // always stale: every call re-reads
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 20 {
				cal, err := s.Calendar(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if d, err := cal.Deadline(cst("2026-02-13 10:00"), 5); err != nil || !d.Equal(day("2026-02-27").End()) {
					t.Errorf("deadline %v %v", d, err)
				}
				if i == 0 {
					if _, err := s.Load(ctx, notice2027(), "staff:1"); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
}
