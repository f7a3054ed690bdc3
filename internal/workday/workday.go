// Package workday is the working-day calendar (工作日) that statutory time
// limits are counted on: Saturdays, Sundays and the statutory holidays of the
// State Council's yearly notice are days off, except the make-up working days
// (调休上班) that the same notice moves onto a Saturday or Sunday.
//
// # Counting rule
//
// Dates are dates in China Standard Time (UTC+8). For an application accepted
// at any moment of day A, a time limit of N working days (N ≥ 1) runs out at
// the end — 23:59:59.999 CST — of the Nth working day after A: the day of
// acceptance never counts, counting starts on the next working day (受理次日起算),
// and acceptance on a weekend or holiday changes nothing. A limit of 0 (即办件,
// handled on the spot) runs out at the end of the day of acceptance itself.
//
// WorkdaysLeft counts the other way: the working days after today up to and
// including the deadline's day, so it is 0 on the last day and
// WorkdaysLeft(accepted, Deadline(accepted, n)) == n. Past the deadline it is
// minus the working days after the deadline's day up to and including today.
//
// A Calendar holds the years it was given. A day of another year — typically
// next year, before the State Council's notice is out or loaded — is counted
// provisionally (临时口径), so that a hall can go on accepting applications
// whose time limit reaches into it: Saturdays and Sundays are days off, and
// so are the fixed-date holidays of the national holiday regulation
// (全国年节及纪念日放假办法, as revised in 2024): 元旦 1 January, 劳动节 1–2 May
// and 国庆节 1–3 October. The lunar holidays (春节, 清明节, 端午节, 中秋节) are
// not days off provisionally, as only the notice places them, and there are
// no make-up working days. Provisional reports whether a count used such
// days, so that the deadline can be marked and counted again once the year
// is loaded.
//
// Years 2025 and 2026 ship in data/; later years are loaded by an
// administrator into the database, and Store joins both.
package workday

import (
	"fmt"
	"slices"
	"time"

	"yiwang/internal/apperr"
)

// CST is China Standard Time. It is a fixed zone, not Asia/Shanghai from the
// tz database: China has kept UTC+8 without daylight saving since 1991, and a
// fixed zone needs no zoneinfo files on the host (minimal container images
// have none, and time.LoadLocation would fail there).
var CST = time.FixedZone("CST", 8*60*60)

// Date is a calendar day in China Standard Time.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the day of t in China Standard Time.
func DateOf(t time.Time) Date {
	y, m, d := t.In(CST).Date()
	return Date{y, m, d}
}

// ParseDate reads a date written YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date written YYYY-MM-DD", s)
	}
	y, m, d := t.Date()
	return Date{y, m, d}, nil
}

// String writes d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// MarshalText writes d as YYYY-MM-DD, in JSON too.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Start is midnight at the beginning of d, CST.
func (d Date) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, CST) }

// End is the last millisecond of d, CST: 23:59:59.999. Milliseconds, not
// nanoseconds, so that the value survives a PostgreSQL timestamp (microsecond
// precision, which would round 23:59:59.999999999 up into the next day).
func (d Date) End() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 23, 59, 59, int(999*time.Millisecond), CST)
}

// AddDays returns the day n days after d (before it for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.Start().AddDate(0, 0, n)) }

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.Start().Weekday() }

// Compare returns -1, 0 or +1 as d is before, the same as or after o.
func (d Date) Compare(o Date) int { return d.Start().Compare(o.Start()) }

func weekend(d Date) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }

// Year is one year's arrangement of holidays and make-up working days.
type Year struct {
	Year       int         `json:"year"`
	Source     string      `json:"source"` // the notice it comes from, e.g. 国办发明电〔2024〕12号
	Holidays   []Holiday   `json:"holidays"`
	MakeUpDays []MakeUpDay `json:"make_up_days"`
	// Origin is "embedded" for the years shipped with yiwang and "loaded"
	// for years an administrator loaded (which replace embedded ones).
	Origin   string     `json:"origin"`
	LoadedBy string     `json:"loaded_by,omitempty"`
	LoadedAt *time.Time `json:"loaded_at,omitempty"`
}

// Holiday is a run of consecutive days off, e.g. 春节 2026-02-15 to 2026-02-23.
type Holiday struct {
	Name string `json:"name"`
	From Date   `json:"from"`
	To   Date   `json:"to"`
	Days int    `json:"days"`
}

// MakeUpDay is a Saturday or Sunday that is a working day (调休上班).
type MakeUpDay struct {
	Date Date   `json:"date"`
	For  string `json:"for,omitempty"` // the holiday it makes up for
}

// Calendar answers working-day questions for the years it holds. It never
// changes once built, so it is safe for concurrent use; Store swaps in a new
// one when a year is loaded.
type Calendar struct {
	years map[int]*yearDays
}

type yearDays struct {
	Year
	holiday map[Date]string // day off → holiday name
	makeUp  map[Date]bool
}

// NewCalendar builds a calendar of the given years, refusing an invalid year
// or a year given twice.
func NewCalendar(years ...Year) (*Calendar, error) {
	c := &Calendar{years: map[int]*yearDays{}}
	for _, y := range years {
		if problems := check(y); len(problems) > 0 {
			return nil, invalidYear(y.Year, problems)
		}
		if _, dup := c.years[y.Year]; dup {
			return nil, fmt.Errorf("the calendar is given year %d twice", y.Year)
		}
		yd := &yearDays{Year: y, holiday: map[Date]string{}, makeUp: map[Date]bool{}}
		for _, h := range y.Holidays {
			for d := h.From; d.Compare(h.To) <= 0; d = d.AddDays(1) {
				yd.holiday[d] = h.Name
			}
		}
		for _, m := range y.MakeUpDays {
			yd.makeUp[m.Date] = true
		}
		c.years[y.Year] = yd
	}
	return c, nil
}

// Known reports whether the calendar holds year.
func (c *Calendar) Known(year int) bool { _, ok := c.years[year]; return ok }

// Years lists the years the calendar holds, in order.
func (c *Calendar) Years() []int {
	ys := make([]int, 0, len(c.years))
	for y := range c.years {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	return ys
}

// Year returns the arrangement of year, if the calendar holds it.
func (c *Calendar) Year(year int) (Year, bool) {
	yd, ok := c.years[year]
	if !ok {
		return Year{}, false
	}
	return yd.Year, true
}

// IsWorkday reports whether d is a working day; a day of a year the calendar
// does not hold is counted provisionally (see the package documentation).
// The error is always nil since that rule exists; it stays in the signature
// so that callers written for the earlier, failing calendar keep compiling.
func (c *Calendar) IsWorkday(d Date) (bool, error) {
	yd, ok := c.years[d.Year]
	switch {
	case !ok:
		return provisionalWorkday(d), nil
	case yd.makeUp[d]:
		return true, nil
	case yd.holiday[d] != "":
		return false, nil
	}
	return !weekend(d), nil
}

// Deadline is the moment a time limit of n working days runs out for an
// application accepted at accepted: the end (23:59:59.999 CST) of the nth
// working day after the day of acceptance; for n = 0, the end of the day of
// acceptance. See the package documentation for the rule.
func (c *Calendar) Deadline(accepted time.Time, n int) (time.Time, error) {
	if n < 0 {
		return time.Time{}, apperr.New(apperr.Invalid, apperr.NegativeTimeLimit, "a time limit cannot be %d working days: give 0 or more", n)
	}
	d := DateOf(accepted)
	for counted := 0; counted < n; {
		d = d.AddDays(1)
		ok, err := c.IsWorkday(d)
		if err != nil {
			return time.Time{}, err
		}
		if ok {
			counted++
		}
	}
	return d.End(), nil
}

// WorkdaysLeft is how many working days remain from now until deadline: the
// working days after today up to and including the deadline's day (0 on the
// deadline's day itself). Once now is past the deadline it is negative: minus
// the working days after the deadline's day up to and including today — the
// working days over time, for accountability records. Just after a deadline
// that a weekend or holiday follows it is 0 although the case is overdue;
// whether a case is overdue is now.After(deadline).
func (c *Calendar) WorkdaysLeft(now, deadline time.Time) (int, error) {
	from, to, sign := DateOf(now), DateOf(deadline), 1
	if now.After(deadline) {
		from, to, sign = to, from, -1
	}
	n := 0
	for d := from.AddDays(1); d.Compare(to) <= 0; d = d.AddDays(1) {
		ok, err := c.IsWorkday(d)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return sign * n, nil
}

// Provisional reports whether counting the days after from's day up to and
// including to's day uses a day of a year the calendar does not hold: then a
// deadline so counted is provisional, and is counted again once the year is
// loaded.
func (c *Calendar) Provisional(from, to time.Time) bool {
	for y := DateOf(from).AddDays(1).Year; y <= DateOf(to).Year; y++ {
		if !c.Known(y) {
			return true
		}
	}
	return false
}

// fixedHolidays are the holidays of the national holiday regulation that
// fall on the same dates every year; the provisional rule keeps them.
var fixedHolidays = []struct {
	month    time.Month
	from, to int
}{
	{time.January, 1, 1}, // 元旦
	{time.May, 1, 2},     // 劳动节
	{time.October, 1, 3}, // 国庆节
}

// provisionalWorkday is the provisional rule for a day of a year without
// its notice: not a weekend and not a fixed-date holiday.
func provisionalWorkday(d Date) bool {
	if weekend(d) {
		return false
	}
	for _, h := range fixedHolidays {
		if d.Month == h.month && d.Day >= h.from && d.Day <= h.to {
			return false
		}
	}
	return true
}

// with is c with y added, or replacing the year it held: the calendar a
// load is about to make, for counting deadlines again inside its transaction.
func (c *Calendar) with(y Year) (*Calendar, error) {
	list := []Year{y}
	for year, yd := range c.years {
		if year != y.Year {
			list = append(list, yd.Year)
		}
	}
	return NewCalendar(list...)
}
