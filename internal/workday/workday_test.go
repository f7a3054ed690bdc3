package workday_test

import (
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/workday"
)

// shipped is the calendar of the embedded years, 2025 and 2026.
func shipped(t testing.TB) *workday.Calendar {
	t.Helper()
	years, err := workday.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c, err := workday.NewCalendar(years...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cst is a moment in China Standard Time.
func cst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, workday.CST)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) workday.Date {
	d, err := workday.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestEmbeddedYearsMatchTheStateCouncilNotices(t *testing.T) {
	c := shipped(t)
	if got := c.Years(); len(got) != 2 || got[0] != 2025 || got[1] != 2026 {
		t.Fatalf("embedded years = %v, want [2025 2026]", got)
	}
	// Days off in the notices, and the make-up days; the days around them
	// are checked by the deadline table below.
	tests := []struct {
		date string
		want bool
	}{
		{"2025-01-01", false}, {"2025-01-02", true}, // 元旦 one day, no make-up
		{"2025-01-26", true}, {"2025-01-27", true}, {"2025-01-28", false}, {"2025-02-04", false}, {"2025-02-05", true}, {"2025-02-08", true}, {"2025-02-09", false},
		{"2025-04-04", false}, {"2025-04-06", false}, {"2025-04-07", true},
		{"2025-04-27", true}, {"2025-05-01", false}, {"2025-05-05", false}, {"2025-05-06", true},
		{"2025-05-31", false}, {"2025-06-02", false}, {"2025-06-03", true},
		{"2025-09-28", true}, {"2025-10-01", false}, {"2025-10-08", false}, {"2025-10-09", true}, {"2025-10-11", true}, {"2025-10-12", false},
		{"2026-01-01", false}, {"2026-01-02", false}, {"2026-01-03", false}, {"2026-01-04", true}, {"2026-01-05", true},
		{"2026-02-13", true}, {"2026-02-14", true}, {"2026-02-15", false}, {"2026-02-16", false}, {"2026-02-23", false}, {"2026-02-24", true}, {"2026-02-28", true}, {"2026-03-01", false},
		{"2026-04-03", true}, {"2026-04-04", false}, {"2026-04-06", false}, {"2026-04-07", true},
		{"2026-05-01", false}, {"2026-05-05", false}, {"2026-05-06", true}, {"2026-05-09", true}, {"2026-05-10", false},
		{"2026-06-19", false}, {"2026-06-21", false}, {"2026-06-22", true},
		{"2026-09-20", true}, {"2026-09-25", false}, {"2026-09-27", false}, {"2026-09-28", true},
		{"2026-10-01", false}, {"2026-10-07", false}, {"2026-10-08", true}, {"2026-10-10", true}, {"2026-10-11", false},
		{"2026-03-04", true}, {"2026-03-07", false}, // an ordinary Wednesday and Saturday
	}
	for _, tt := range tests {
		got, err := c.IsWorkday(day(tt.date))
		if err != nil || got != tt.want {
			t.Errorf("IsWorkday(%s) = %v, %v; want %v", tt.date, got, err, tt.want)
		}
	}
	// The counts the notices give: 2025 has 8 days for 春节 and for 国庆节、中秋节,
	// 2026 has 9 for 春节.
	y25, _ := c.Year(2025)
	y26, _ := c.Year(2026)
	if y25.Holidays[1].Name != "春节" || y25.Holidays[1].Days != 8 || y25.Holidays[5].Days != 8 || y26.Holidays[1].Days != 9 {
		t.Errorf("holiday lengths: 2025 %+v, 2026 %+v", y25.Holidays, y26.Holidays)
	}
	if !strings.Contains(y25.Source, "国办发明电〔2024〕12号") || y25.Origin != workday.OriginEmbedded {
		t.Errorf("2025 source %q origin %q", y25.Source, y25.Origin)
	}
}

// TestDeadline checks deadlines counted by hand on the 2025 and 2026
// notices. The day of acceptance never counts; make-up Saturdays and Sundays
// do; holidays and ordinary weekends do not.
func TestDeadline(t *testing.T) {
	c := shipped(t)
	tests := []struct {
		name     string
		accepted time.Time
		n        int
		want     string // the deadline's day; the deadline is its end
	}{
		// Spring Festival 2026: off Sun 15 – Mon 23 Feb, make-up Sat 14 and Sat 28 Feb.
		{"Fri before 春节, 1 day: the make-up Saturday", cst("2026-02-13 10:00"), 1, "2026-02-14"},
		{"Fri before 春节, 5 days: Sat 14, Tue 24, Wed 25, Thu 26, Fri 27", cst("2026-02-13 10:00"), 5, "2026-02-27"},
		{"Fri before 春节, 6 days: the second make-up Saturday", cst("2026-02-13 10:00"), 6, "2026-02-28"},
		{"Fri before 春节, 7 days: Sun 1 Mar is off", cst("2026-02-13 10:00"), 7, "2026-03-02"},
		{"Thu before 春节, 2 days: Fri 13, Sat 14", cst("2026-02-12 09:00"), 2, "2026-02-14"},
		{"accepted on the make-up Saturday, 1 day", cst("2026-02-14 15:00"), 1, "2026-02-24"},
		{"accepted on 除夕 (a holiday), 1 day", cst("2026-02-16 11:00"), 1, "2026-02-24"},
		{"accepted on a holiday Sunday, 3 days", cst("2026-02-15 08:00"), 3, "2026-02-26"},
		{"last minute of Fri 13 Feb CST is still Fri", cst("2026-02-13 23:59"), 1, "2026-02-14"},
		{"00:30 CST on Sat 14 Feb is Saturday, though UTC says Friday", time.Date(2026, 2, 13, 16, 30, 0, 0, time.UTC), 1, "2026-02-24"},
		// National Day 2025: off Wed 1 – Wed 8 Oct (with 中秋), make-up Sun 28 Sep and Sat 11 Oct.
		{"Fri 26 Sep 2025, 1 day: the make-up Sunday", cst("2025-09-26 16:00"), 1, "2025-09-28"},
		{"Fri 26 Sep 2025, 3 days: Sun 28, Mon 29, Tue 30", cst("2025-09-26 16:00"), 3, "2025-09-30"},
		{"Fri 26 Sep 2025, 4 days: over the holiday to Thu 9 Oct", cst("2025-09-26 16:00"), 4, "2025-10-09"},
		{"Fri 26 Sep 2025, 6 days: the make-up Saturday 11 Oct", cst("2025-09-26 16:00"), 6, "2025-10-11"},
		{"Fri 26 Sep 2025, 7 days: Sun 12 Oct is off", cst("2025-09-26 16:00"), 7, "2025-10-13"},
		{"accepted on an ordinary Saturday, 1 day: the make-up Sunday", cst("2025-09-27 10:00"), 1, "2025-09-28"},
		{"accepted on 1 Oct 2025 at a 24-hour kiosk, 3 days", cst("2025-10-01 12:00"), 3, "2025-10-11"},
		{"a 20-day limit across the whole holiday", cst("2025-09-22 10:00"), 20, "2025-10-24"},
		// National Day 2026: 中秋 Fri 25 – Sun 27 Sep, 国庆 Thu 1 – Wed 7 Oct, make-up Sun 20 Sep and Sat 10 Oct.
		{"Fri 18 Sep 2026, 1 day: the make-up Sunday", cst("2026-09-18 10:00"), 1, "2026-09-20"},
		{"Fri 18 Sep 2026, 5 days: Sun 20, Mon 21 … Thu 24", cst("2026-09-18 10:00"), 5, "2026-09-24"},
		{"Fri 18 Sep 2026, 6 days: over 中秋 to Mon 28", cst("2026-09-18 10:00"), 6, "2026-09-28"},
		{"Fri 18 Sep 2026, 9 days: over 国庆 to Thu 8 Oct", cst("2026-09-18 10:00"), 9, "2026-10-08"},
		{"Fri 18 Sep 2026, 11 days: the make-up Saturday 10 Oct", cst("2026-09-18 10:00"), 11, "2026-10-10"},
		{"Wed 30 Sep 2026, 3 days: Thu 8, Fri 9, Sat 10 Oct", cst("2026-09-30 17:00"), 3, "2026-10-10"},
		// Across New Year: 元旦 2026 is Thu 1 – Sat 3 Jan, make-up Sun 4 Jan.
		{"New Year's Eve 2025, 1 day: the make-up Sunday 4 Jan 2026", cst("2025-12-31 10:00"), 1, "2026-01-04"},
		{"New Year's Eve 2025, 2 days", cst("2025-12-31 10:00"), 2, "2026-01-05"},
		// 0 days (即办件): the end of the day of acceptance, whatever day it is.
		{"0 days on a working day", cst("2026-02-13 10:00"), 0, "2026-02-13"},
		{"0 days on a holiday", cst("2026-02-17 10:00"), 0, "2026-02-17"},
		{"0 days in a year without data", cst("2031-05-06 10:00"), 0, "2031-05-06"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Deadline(tt.accepted, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			want := day(tt.want).End()
			if !got.Equal(want) {
				t.Errorf("Deadline(%s, %d) = %s, want %s", tt.accepted, tt.n, got.In(workday.CST), want)
			}
			if got.In(workday.CST).Format("15:04:05.000") != "23:59:59.999" || got.Location() != workday.CST {
				t.Errorf("deadline %s is not the end of a CST day", got)
			}
		})
	}
}

func TestYearsNotLoadedCountProvisionally(t *testing.T) {
	c := shipped(t)
	// 2027 is not shipped: weekends and the fixed-date holidays are days
	// off, nothing else (no 春节, no make-up days).
	tests := []struct {
		date string
		want bool
	}{
		{"2027-01-01", false},                        // 元旦, a Friday
		{"2027-01-02", false}, {"2027-01-03", false}, // a weekend
		{"2027-01-04", true},
		{"2027-02-08", true}, // in 春节 by any notice, but lunar: not provisionally
		{"2027-04-30", true},
		{"2027-05-01", false}, {"2027-05-02", false}, // 劳动节 (a weekend too)
		{"2028-05-01", false}, {"2028-05-02", false}, {"2028-05-03", true}, // Mon, Tue 劳动节; Wed
		{"2027-09-30", true},
		{"2027-10-01", false}, {"2027-10-02", false}, {"2027-10-03", false}, {"2027-10-04", true}, // Fri–Sun, Mon
		{"2029-10-01", false}, {"2029-10-02", false}, {"2029-10-03", false}, {"2029-10-04", true}, // Mon–Wed, Thu
		{"2024-12-31", true}, // before the shipped years too
	}
	for _, tt := range tests {
		if got, err := c.IsWorkday(day(tt.date)); err != nil || got != tt.want {
			t.Errorf("IsWorkday(%s) = %v, %v; want %v", tt.date, got, err, tt.want)
		}
	}

	// Wed 30 Dec 2026 + 1 is the last day of 2026, known; + 2 crosses 元旦
	// and the weekend to Monday 4 January 2027, provisionally.
	if d, err := c.Deadline(cst("2026-12-30 10:00"), 1); err != nil || !d.Equal(day("2026-12-31").End()) || c.Provisional(cst("2026-12-30 10:00"), d) {
		t.Fatalf("the last day of 2026 is known: %v %v", d, err)
	}
	d, err := c.Deadline(cst("2026-12-30 10:00"), 2)
	if err != nil || !d.Equal(day("2027-01-04").End()) {
		t.Fatalf("Deadline into 2027 = %v, %v; want the end of 2027-01-04", d, err)
	}
	if !c.Provisional(cst("2026-12-30 10:00"), d) {
		t.Error("a deadline counted on 2027 days must be provisional")
	}
	if left, err := c.WorkdaysLeft(cst("2026-12-30 10:00"), d); err != nil || left != 2 {
		t.Errorf("WorkdaysLeft = %d, %v; want 2", left, err)
	}
	if c.Provisional(cst("2026-12-31 23:00"), day("2026-12-31").End()) {
		t.Error("a 0-day limit on a known day counts no day")
	}

	loaded, err := workday.NewCalendar(append(mustEmbedded(t), mustParse(t, notice2027()))...)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := loaded.Deadline(cst("2026-12-30 10:00"), 2); err != nil || !d.Equal(day("2027-01-04").End()) || loaded.Provisional(cst("2026-12-30 10:00"), d) {
		t.Errorf("with the 2027 notice (元旦 1–3 January): %v, %v", d, err)
	}
	// Thu 4 Feb 2027 + 1: provisionally Friday; by the notice 春节 runs 5–13
	// February and Sunday 14 February is a make-up working day.
	if d, _ := c.Deadline(cst("2027-02-04 10:00"), 1); !d.Equal(day("2027-02-05").End()) {
		t.Errorf("provisionally: %v", d)
	}
	if d, _ := loaded.Deadline(cst("2027-02-04 10:00"), 1); !d.Equal(day("2027-02-14").End()) {
		t.Errorf("by the notice: %v", d)
	}
	if _, err := c.Deadline(cst("2026-03-02 10:00"), -1); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a negative limit: %v", err)
	}
}

func mustEmbedded(t *testing.T) []workday.Year {
	t.Helper()
	years, err := workday.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return years
}

func mustParse(t *testing.T, n workday.Notice) workday.Year {
	t.Helper()
	y, err := n.Parse()
	if err != nil {
		t.Fatal(err)
	}
	return y
}

func TestWorkdaysLeft(t *testing.T) {
	c := shipped(t)
	feb27 := day("2026-02-27").End() // Fri 13 Feb 2026 + 5 working days
	sep30 := day("2025-09-30").End() // Fri 26 Sep 2025 + 3 working days
	tests := []struct {
		name          string
		now, deadline time.Time
		want          int
	}{
		{"on the day of acceptance", cst("2026-02-13 10:00"), feb27, 5},
		{"on the make-up Saturday", cst("2026-02-14 09:00"), feb27, 4},
		{"during the holiday", cst("2026-02-20 12:00"), feb27, 4},
		{"the day before", cst("2026-02-26 18:00"), feb27, 1},
		{"on the deadline's day", cst("2026-02-27 08:00"), feb27, 0},
		{"its last millisecond", feb27, feb27, 0},
		{"overdue on the make-up Saturday after: one working day over", cst("2026-02-28 09:00"), feb27, -1},
		{"overdue on the Sunday after: still one", cst("2026-03-01 09:00"), feb27, -1},
		{"overdue on Monday: two", cst("2026-03-02 09:00"), feb27, -2},
		{"overdue into the holiday: no working day lost yet", cst("2025-10-05 10:00"), sep30, 0},
		{"overdue after the holiday", cst("2025-10-09 10:00"), sep30, -1},
		{"overdue to the make-up Saturday", cst("2025-10-11 10:00"), sep30, -3},
		{"overdue to the Sunday after it", cst("2025-10-12 10:00"), sep30, -3},
		{"overdue across New Year", cst("2026-01-05 10:00"), day("2025-12-30").End(), -3}, // 31 Dec, Sun 4 Jan, Mon 5 Jan
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.WorkdaysLeft(tt.now, tt.deadline)
			if err != nil || got != tt.want {
				t.Errorf("WorkdaysLeft(%s, %s) = %d, %v; want %d", tt.now, tt.deadline, got, err, tt.want)
			}
		})
	}
	if left, err := c.WorkdaysLeft(cst("2027-01-05 10:00"), day("2026-12-31").End()); err != nil || left != -2 {
		t.Errorf("overdue into 2027 (provisionally 4 and 5 January): %d, %v", left, err)
	}
}

// TestDeadlineAndWorkdaysLeftAgree checks the identity the workflow relies
// on, on every day of both years (and provisionally into 2027): on the day of acceptance the days left are
// the time limit, and one millisecond after the deadline the case is overdue.
func TestDeadlineAndWorkdaysLeftAgree(t *testing.T) {
	c := shipped(t)
	for d := day("2025-01-01"); d.Year < 2027; d = d.AddDays(1) {
		accepted := d.Start().Add(14 * time.Hour)
		for n := 0; n <= 30; n++ {
			deadline, err := c.Deadline(accepted, n)
			if err != nil {
				t.Fatal(err)
			}
			left, err := c.WorkdaysLeft(accepted, deadline)
			if err != nil || left != n {
				t.Fatalf("accepted %s, %d days: deadline %s, WorkdaysLeft %d, %v", d, n, deadline, left, err)
			}
			if n > 0 {
				if ok, _ := c.IsWorkday(workday.DateOf(deadline)); !ok {
					t.Fatalf("accepted %s, %d days: the deadline %s is not a working day", d, n, deadline)
				}
			}
		}
	}
}

func TestDateOfUsesChinaStandardTime(t *testing.T) {
	utc := time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC) // 00:00 on 1 Oct in CST
	if got := workday.DateOf(utc); got.String() != "2026-10-01" {
		t.Errorf("DateOf(%s) = %s", utc, got)
	}
	if got := day("2026-10-01").End().UTC().Format(time.RFC3339Nano); got != "2026-10-01T15:59:59.999Z" {
		t.Errorf("end of 1 Oct in UTC = %s", got)
	}
	if _, err := workday.ParseDate("2026-2-30"); err == nil {
		t.Error("2026-2-30 parsed")
	}
}

func BenchmarkDeadline(b *testing.B) {
	c := shipped(b)
	accepted := cst("2026-09-18 10:00")
	for b.Loop() {
		if _, err := c.Deadline(accepted, 20); err != nil {
			b.Fatal(err)
		}
	}
}
