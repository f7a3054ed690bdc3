package rules

import (
	"time"
	"yiwang/internal/workday"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// dayOf returns the calendar day of t in China Standard Time, as midnight
// UTC of that day — the form every date takes in rules, so that
// getFullYear(), getMonth() and getDate() give the day without a time zone.
func dayOf(t time.Time) time.Time {
	y, m, d := t.In(workday.CST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// parseDay reads a YYYY-MM-DD date as midnight UTC of that day.
func parseDay(s string) (time.Time, error) {
	return time.Parse(time.DateOnly, s)
}

// yearsBetween is the number of whole years from a to b, counted as ages
// are: a birthday on 29 February is reached on 1 March in other years.
// Negative when b is before a.
func yearsBetween(a, b time.Time) int64 {
	if b.Before(a) {
		return -yearsBetween(b, a)
	}
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	n := int64(by - ay)
	if bm < am || (bm == am && bd < ad) {
		n--
	}
	return n
}

// daysBetween is the number of calendar days from a to b (UTC dates), so
// that it does not depend on the time of day either carries.
func daysBetween(a, b time.Time) int64 {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	da := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	return int64(db.Sub(da) / (24 * time.Hour))
}

// addYears is the day n years after t, as anniversaries fall: 29
// February moves to 28 February in a year that has none, so a validity
// never runs into the next month.
func addYears(t time.Time, n int64) time.Time {
	y, m, d := t.UTC().Date()
	out := time.Date(y+int(n), m, d, 0, 0, 0, 0, time.UTC)
	if out.Month() != m {
		out = time.Date(y+int(n), m+1, 0, 0, 0, 0, 0, time.UTC) // the last day of the month
	}
	return out
}

// dateFunctions are the helpers rule authors use for dates; see
// docs/RULES.md.
func dateFunctions() []cel.EnvOption {
	ts := func(v ref.Val) (time.Time, bool) {
		t, ok := v.(types.Timestamp)
		return t.Time, ok
	}
	between := func(f func(a, b time.Time) int64) func(l, r ref.Val) ref.Val {
		return func(l, r ref.Val) ref.Val {
			a, ok1 := ts(l)
			b, ok2 := ts(r)
			if !ok1 || !ok2 {
				return types.NewErr("expects two timestamps")
			}
			return types.Int(f(a, b))
		}
	}
	return []cel.EnvOption{
		cel.Function("years_between",
			cel.Overload("years_between_timestamp_timestamp", []*cel.Type{cel.TimestampType, cel.TimestampType}, cel.IntType,
				cel.BinaryBinding(between(yearsBetween)))),
		cel.Function("days_between",
			cel.Overload("days_between_timestamp_timestamp", []*cel.Type{cel.TimestampType, cel.TimestampType}, cel.IntType,
				cel.BinaryBinding(between(daysBetween)))),
		cel.Function("add_years",
			cel.Overload("add_years_timestamp_int", []*cel.Type{cel.TimestampType, cel.IntType}, cel.TimestampType,
				cel.BinaryBinding(func(l, r ref.Val) ref.Val {
					t, ok := ts(l)
					n, isInt := r.(types.Int)
					if !ok || !isInt {
						return types.NewErr("add_years expects a timestamp and a number of years")
					}
					if n < -1000 || n > 1000 {
						return types.NewErr("add_years: %d years is out of range", int64(n))
					}
					return types.Timestamp{Time: addYears(t, int64(n))}
				}))),
		cel.Function("date",
			cel.Overload("date_string", []*cel.Type{cel.StringType}, cel.TimestampType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, ok := v.(types.String)
					if !ok {
						return types.NewErr("date expects a string")
					}
					t, err := parseDay(string(s))
					if err != nil {
						return types.NewErr("date(%q): write the date as YYYY-MM-DD", string(s))
					}
					return types.Timestamp{Time: t}
				}))),
	}
}
