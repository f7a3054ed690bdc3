package workday_test

import (
	"os"
	"reflect"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/workday"
)

// FuzzNotice feeds the calendar notice parser any file: it never panics, a
// refusal is calendar_invalid, and a year it accepts is within its limits,
// has its days in order inside the year, and reads back the same from the
// notice it turns into.
func FuzzNotice(f *testing.F) {
	for _, name := range []string{"data/2025.yaml", "data/2026.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("year: 2027\nsource: x\nholidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-01}\n"))
	f.Add([]byte("year: 2027\nsource: x\nholidays:\n  - {name: 长, from: 2027-01-01, to: 2099-12-31}\nmake_up_days:\n  - {date: 2027-01-02, for: 长}\n"))
	f.Add([]byte("year: [1]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := workday.ParseYAML(b)
		if err != nil {
			if e := apperr.As(err); e == nil || e.Code != apperr.CalendarInvalid {
				t.Fatalf("ParseYAML refused with %v, want calendar_invalid", err)
			}
			return
		}
		y, err := n.Parse()
		if err != nil {
			if e := apperr.As(err); e == nil || e.Code != apperr.CalendarInvalid {
				t.Fatalf("Parse refused with %v, want calendar_invalid", err)
			}
			return
		}
		if y.Year < workday.MinYear || y.Year > workday.MaxYear || len(y.Holidays) == 0 {
			t.Fatalf("accepted year %d with %d holidays", y.Year, len(y.Holidays))
		}
		for i, h := range y.Holidays {
			if h.From.Year != y.Year || h.To.Year != y.Year || h.From.Compare(h.To) > 0 || h.Days < 1 {
				t.Fatalf("accepted holiday %+v in %d", h, y.Year)
			}
			if i > 0 && y.Holidays[i-1].From.Compare(h.From) > 0 {
				t.Fatalf("holidays out of order: %+v", y.Holidays)
			}
		}
		for _, m := range y.MakeUpDays {
			if m.Date.Year != y.Year {
				t.Fatalf("accepted make-up day %s in %d", m.Date, y.Year)
			}
		}
		again, err := y.Notice().Parse()
		if err != nil || !reflect.DeepEqual(again, y) {
			t.Fatalf("the year does not read back from its notice: %+v, %v; want %+v", again, err, y)
		}
	})
}
