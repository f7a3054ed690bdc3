package pii_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// t0 is a fixed time with sub-microsecond digits, in China Standard Time.
var t0 = time.Date(2025, 3, 14, 9, 30, 0, 123456789, time.FixedZone("CST", 8*3600))

func access(staff, subject int64, at time.Time) pii.Access {
	return pii.Access{
		At: at, StaffAccount: staff, StaffName: fmt.Sprintf("窗口人员%d", staff), SubjectPerson: subject,
		Fields: []string{"id_number"}, Purpose: "核对户籍材料", RequestID: "req-" + at.Format("150405"),
	}
}

func recordAll(t *testing.T, l *pii.AccessLog, es ...pii.Access) {
	t.Helper()
	for _, e := range es {
		if err := l.Record(context.Background(), e); err != nil {
			t.Fatalf("Record(%+v): %v", e, err)
		}
	}
}

func TestAccessLogRecordAndList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := pii.NewAccessLog(db.DB)
		e := pii.Access{
			At: t0, StaffAccount: 7, StaffName: " 李四 ", SubjectPerson: 42,
			Fields: []string{"id_number", "phone"}, Purpose: "  办理户口迁移，核对身份  ", RequestID: "01J9ZQ",
		}
		recordAll(t, l, e)
		got, err := l.List(ctx, pii.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("List = %+v, want one entry", got)
		}
		a := got[0]
		if a.ID <= 0 {
			t.Errorf("ID = %d", a.ID)
		}
		want := pii.Access{
			ID: a.ID, At: t0.UTC().Truncate(time.Microsecond), StaffAccount: 7, StaffName: "李四", SubjectPerson: 42,
			Fields: []string{"id_number", "phone"}, Purpose: "办理户口迁移，核对身份", RequestID: "01J9ZQ",
		}
		if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", want) {
			t.Errorf("List =\n%+v, want\n%+v", a, want)
		}
		if a.At.Location() != time.UTC {
			t.Errorf("At is in %v, want UTC", a.At.Location())
		}
	})
}

func TestAccessLogZeroTimeMeansNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := pii.NewAccessLog(db.DB)
		before := time.Now().Add(-time.Second)
		recordAll(t, l, access(1, 2, time.Time{}))
		after := time.Now().Add(time.Second)
		got, err := l.List(context.Background(), pii.Filter{})
		if err != nil || len(got) != 1 {
			t.Fatalf("List = %v, %v", got, err)
		}
		if got[0].At.Before(before) || got[0].At.After(after) {
			t.Errorf("At = %v, want between %v and %v", got[0].At, before, after)
		}
	})
}

func TestAccessLogRecordTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := pii.NewAccessLog(db.DB)
		rollback := errors.New("the data was not shown after all")
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if err := l.RecordTx(ctx, tx, access(1, 10, t0)); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("InTx = %v", err)
		}
		err = db.InTx(ctx, func(tx *sql.Tx) error { return l.RecordTx(ctx, tx, access(1, 20, t0)) })
		if err != nil {
			t.Fatal(err)
		}
		err = db.InTx(ctx, func(tx *sql.Tx) error { return l.RecordTx(ctx, tx, pii.Access{}) })
		wantCode(t, "RecordTx(empty)", err, apperr.Invalid, "purpose_required")

		got, err := l.List(ctx, pii.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].SubjectPerson != 20 {
			t.Errorf("List = %+v, want only the committed entry (subject 20)", got)
		}
		// The audit trail has the committed view only, written with it.
		entries, err := audit.Since(ctx, db, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != "pii.view" || entries[0].ObjectID != "20" || !entries[0].Human || entries[0].ActorID != "1" {
			t.Errorf("audit entries %+v, want the committed view of person 20 by account 1", entries)
		}
	})
}

func TestAccessLogRefuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := pii.NewAccessLog(db.DB)
		tests := []struct {
			name string
			edit func(e *pii.Access)
			code string // "" = accepted
		}{
			{"complete", func(e *pii.Access) {}, ""},
			{"four-rune purpose", func(e *pii.Access) { e.Purpose = "核对身份" }, ""},
			{"no request ID", func(e *pii.Access) { e.RequestID = "" }, ""},
			{"empty purpose", func(e *pii.Access) { e.Purpose = "" }, "purpose_required"},
			{"blank purpose", func(e *pii.Access) { e.Purpose = " \t\u3000 " }, "purpose_required"},
			{"two-rune purpose", func(e *pii.Access) { e.Purpose = "查看" }, "purpose_required"},
			{"three-rune purpose, padded", func(e *pii.Access) { e.Purpose = "  abc     " }, "purpose_required"},
			{"overlong purpose", func(e *pii.Access) { e.Purpose = strings.Repeat("核", 501) }, "purpose_too_long"},
			{"no fields", func(e *pii.Access) { e.Fields = nil }, "fields_required"},
			{"empty field list", func(e *pii.Access) { e.Fields = []string{} }, "fields_required"},
			{"empty field name", func(e *pii.Access) { e.Fields = []string{"id_number", ""} }, "bad_field"},
			{"comma in field name", func(e *pii.Access) { e.Fields = []string{"id_number,phone"} }, "bad_field"},
			{"no staff account", func(e *pii.Access) { e.StaffAccount = 0 }, "staff_required"},
			{"no staff name", func(e *pii.Access) { e.StaffName = " " }, "staff_required"},
			{"no subject", func(e *pii.Access) { e.SubjectPerson = 0 }, "subject_required"},
		}
		accepted := 0
		for _, tt := range tests {
			e := access(1, 2, t0)
			tt.edit(&e)
			err := l.Record(ctx, e)
			if tt.code == "" {
				if err != nil {
					t.Errorf("%s: %v", tt.name, err)
				}
				accepted++
				continue
			}
			wantCode(t, tt.name, err, apperr.Invalid, tt.code)
		}
		if got, err := l.List(ctx, pii.Filter{}); err != nil || len(got) != accepted {
			t.Errorf("List has %d entries (%v), want the %d accepted", len(got), err, accepted)
		}
	})
}

func TestAccessLogFiltersAndOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := pii.NewAccessLog(db.DB)
		at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
		// Recorded out of time order; entries 3 and 4 share a time.
		recordAll(t, l,
			access(1, 10, at(2)), // request 1
			access(1, 20, at(0)), // 2
			access(2, 10, at(5)), // 3
			access(2, 20, at(5)), // 4
			access(1, 10, at(9)), // 5
			access(3, 30, at(1)), // 6
		)
		all, err := l.List(ctx, pii.Filter{})
		if err != nil || len(all) != 6 {
			t.Fatalf("List = %v, %v", all, err)
		}
		// order maps the entries' IDs back to the order they were recorded in.
		order := map[int64]int{}
		for i, id := range slices.Sorted(func(yield func(int64) bool) {
			for _, a := range all {
				yield(a.ID)
			}
		}) {
			order[id] = i + 1
		}

		tests := []struct {
			name string
			f    pii.Filter
			want []int
		}{
			{"all, newest first, ties latest recorded first", pii.Filter{}, []int{5, 4, 3, 1, 6, 2}},
			{"staff", pii.Filter{StaffAccount: 1}, []int{5, 1, 2}},
			{"subject", pii.Filter{SubjectPerson: 10}, []int{5, 3, 1}},
			{"staff and subject", pii.Filter{StaffAccount: 2, SubjectPerson: 20}, []int{4}},
			{"unknown staff", pii.Filter{StaffAccount: 99}, nil},
			{"since is inclusive", pii.Filter{Since: at(5)}, []int{5, 4, 3}},
			{"since, other zone", pii.Filter{Since: at(5).UTC()}, []int{5, 4, 3}},
			{"since, a microsecond later", pii.Filter{Since: at(5).Add(time.Microsecond)}, []int{5}},
			{"until is exclusive", pii.Filter{Until: at(5)}, []int{1, 6, 2}},
			{"window", pii.Filter{Since: at(1), Until: at(9)}, []int{4, 3, 1, 6}},
			{"window and subject", pii.Filter{Since: at(1), Until: at(9), SubjectPerson: 10}, []int{3, 1}},
			{"empty window", pii.Filter{Since: at(9), Until: at(9)}, nil},
			{"limit", pii.Filter{Limit: 2}, []int{5, 4}},
			{"limit after filter", pii.Filter{SubjectPerson: 10, Limit: 2}, []int{5, 3}},
			{"negative limit means default", pii.Filter{Limit: -1}, []int{5, 4, 3, 1, 6, 2}},
		}
		for _, tt := range tests {
			got, err := l.List(ctx, tt.f)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			var gotOrder []int
			for _, a := range got {
				gotOrder = append(gotOrder, order[a.ID])
			}
			if !slices.Equal(gotOrder, tt.want) {
				t.Errorf("%s: entries %v, want %v", tt.name, gotOrder, tt.want)
			}
		}
	})
}

func TestAccessLogLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := pii.NewAccessLog(db.DB)
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			for i := range pii.MaxListLimit + 5 {
				if err := l.RecordTx(ctx, tx, access(1, int64(i+1), t0.Add(time.Duration(i)*time.Second))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ limit, want int }{
			{0, pii.DefaultListLimit}, {3, 3}, {pii.MaxListLimit, pii.MaxListLimit}, {pii.MaxListLimit + 1, pii.MaxListLimit}, {1 << 40, pii.MaxListLimit},
		} {
			got, err := l.List(ctx, pii.Filter{Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("Limit %d: %d entries, want %d", tt.limit, len(got), tt.want)
			}
			if len(got) > 0 && got[0].SubjectPerson != pii.MaxListLimit+5 {
				t.Errorf("Limit %d: first entry is subject %d, want the newest", tt.limit, got[0].SubjectPerson)
			}
		}
	})
}

// TestAccessLogFractionalSeconds guards SQLite, which stores times as text:
// whole and fractional seconds of different lengths must still compare and
// sort as times.
func TestAccessLogFractionalSeconds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l := pii.NewAccessLog(db.DB)
		noon := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
		for i, ms := range []int{450, 0, 1000, 500, 5} {
			recordAll(t, l, access(1, int64(i+1), noon.Add(time.Duration(ms)*time.Millisecond)))
		}
		got, err := l.List(context.Background(), pii.Filter{Since: noon.Add(time.Microsecond), Until: noon.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		var subjects []int64
		for _, a := range got {
			subjects = append(subjects, a.SubjectPerson)
		}
		if want := []int64{4, 1, 5}; !slices.Equal(subjects, want) {
			t.Errorf("subjects %v, want %v (0.5 s, 0.45 s, 0.005 s)", subjects, want)
		}
	})
}
