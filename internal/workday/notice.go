package workday

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"yiwang/internal/apperr"
)

// Notice is a year's arrangement as an administrator writes it, in a file or
// an API request, copied from the State Council's notice. Dates are text so
// that every bad one can be reported at once; Parse turns it into a Year.
type Notice struct {
	Year       int             `json:"year,omitempty" yaml:"year"`
	Source     string          `json:"source" yaml:"source"`
	Holidays   []NoticeHoliday `json:"holidays" yaml:"holidays"`
	MakeUpDays []NoticeMakeUp  `json:"make_up_days" yaml:"make_up_days"`
}

// NoticeHoliday is a holiday as written: a name and its first and last day.
type NoticeHoliday struct {
	Name string `json:"name" yaml:"name"`
	From string `json:"from" yaml:"from"`
	To   string `json:"to" yaml:"to"`
}

// NoticeMakeUp is a make-up working day as written, with the holiday it is for.
type NoticeMakeUp struct {
	Date string `json:"date" yaml:"date"`
	For  string `json:"for,omitempty" yaml:"for"`
}

// Limits on what a year may hold; outside them an entry is surely a typo.
const (
	MinYear        = 2000
	MaxYear        = 2200
	maxHolidayDays = 15 // the longest run so far was 10 days (春节 2020, extended)
)

// ParseYAML reads a notice file (see data/2026.yaml), refusing unknown keys
// so that a misspelt one is not silently ignored.
func ParseYAML(b []byte) (Notice, error) {
	var n Notice
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return n, apperr.New(apperr.Invalid, "calendar_invalid", "the calendar file is empty")
		}
		return n, apperr.Wrap(err, apperr.Invalid, "calendar_invalid", "the calendar file is not valid YAML of the expected shape (year, source, holidays, make_up_days)")
	}
	return n, nil
}

// Parse checks a notice and returns its year, or an apperr.Invalid error
// whose message and details list every problem found.
func (n Notice) Parse() (Year, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	date := func(what, s string) (Date, bool) {
		if s == "" {
			bad("%s: the date is missing", what)
			return Date{}, false
		}
		d, err := ParseDate(s)
		if err != nil {
			bad("%s: %v", what, err)
			return Date{}, false
		}
		return d, true
	}
	y := Year{Year: n.Year, Source: strings.TrimSpace(n.Source)}
	for i, h := range n.Holidays {
		what := holidayLabel(i, h.Name)
		from, ok1 := date(what+" from", h.From)
		to, ok2 := date(what+" to", h.To)
		if ok1 && ok2 {
			y.Holidays = append(y.Holidays, Holiday{Name: strings.TrimSpace(h.Name), From: from, To: to})
		} else if strings.TrimSpace(h.Name) == "" {
			bad("%s has no name", what)
		}
	}
	for i, m := range n.MakeUpDays {
		if d, ok := date(fmt.Sprintf("make-up day %d", i+1), m.Date); ok {
			y.MakeUpDays = append(y.MakeUpDays, MakeUpDay{Date: d, For: strings.TrimSpace(m.For)})
		}
	}
	problems = append(problems, check(y)...)
	if len(problems) > 0 {
		return Year{}, invalidYear(n.Year, problems)
	}
	slices.SortFunc(y.Holidays, func(a, b Holiday) int { return a.From.Compare(b.From) })
	slices.SortFunc(y.MakeUpDays, func(a, b MakeUpDay) int { return a.Date.Compare(b.Date) })
	for i := range y.Holidays {
		h := &y.Holidays[i]
		h.Days = int(h.To.Start().Sub(h.From.Start()).Hours()/24) + 1
	}
	return y, nil
}

// Notice turns y back into the form an administrator writes.
func (y Year) Notice() Notice {
	n := Notice{Year: y.Year, Source: y.Source, Holidays: []NoticeHoliday{}, MakeUpDays: []NoticeMakeUp{}}
	for _, h := range y.Holidays {
		n.Holidays = append(n.Holidays, NoticeHoliday{Name: h.Name, From: h.From.String(), To: h.To.String()})
	}
	for _, m := range y.MakeUpDays {
		n.MakeUpDays = append(n.MakeUpDays, NoticeMakeUp{Date: m.Date.String(), For: m.For})
	}
	return n
}

func holidayLabel(i int, name string) string {
	if name = strings.TrimSpace(name); name != "" {
		return fmt.Sprintf("holiday %d (%s)", i+1, name)
	}
	return fmt.Sprintf("holiday %d", i+1)
}

// check lists what is wrong with a year whose dates are already parsed.
func check(y Year) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if y.Year < MinYear || y.Year > MaxYear {
		bad("the year must be between %d and %d, not %d", MinYear, MaxYear, y.Year)
	}
	if strings.TrimSpace(y.Source) == "" {
		bad("the source is empty: name the State Council notice the dates come from, e.g. 国办发明电〔2024〕12号")
	}
	if len(y.Holidays) == 0 {
		bad("there are no holidays: every year has statutory holidays (元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节)")
	}
	inYear := func(what string, d Date, hint string) {
		if d.Year != y.Year {
			bad("%s %s is not in %d: a year holds only its own days (%s)", what, d, y.Year, hint)
		}
	}
	const split = "split a holiday that crosses New Year between the two years"
	holiday := map[Date]string{} // day → label of the holiday that has it
	names := map[string]bool{}
	for _, h := range y.Holidays {
		what := "holiday " + h.Name
		if h.Name == "" {
			what = fmt.Sprintf("the holiday from %s to %s", h.From, h.To)
			bad("%s has no name", what)
		}
		names[h.Name] = true
		inYear(what+" from", h.From, split)
		inYear(what+" to", h.To, split)
		switch days := int(h.To.Start().Sub(h.From.Start()).Hours()/24) + 1; {
		case days < 1:
			bad("%s ends on %s, before it starts on %s", what, h.To, h.From)
			continue
		case days > maxHolidayDays:
			bad("%s runs %d days, from %s to %s: no holiday is longer than %d days (check the dates)", what, days, h.From, h.To, maxHolidayDays)
			continue
		}
		for d := h.From; d.Compare(h.To) <= 0; d = d.AddDays(1) {
			if other, ok := holiday[d]; ok {
				bad("%s overlaps %s on %s", what, other, d)
				break
			}
			holiday[d] = what
		}
	}
	seen := map[Date]bool{}
	for _, m := range y.MakeUpDays {
		what := "make-up day " + m.Date.String()
		inYear("make-up day", m.Date, "load it with the calendar of its own year")
		if seen[m.Date] {
			bad("%s is listed twice", what)
			continue
		}
		seen[m.Date] = true
		if !weekend(m.Date) {
			bad("%s is a %s: a make-up working day is a Saturday or Sunday (weekdays are working days anyway)", what, m.Date.Weekday())
		}
		if h, ok := holiday[m.Date]; ok {
			bad("%s is also a day of %s: a day is either a holiday or a make-up working day", what, h)
		}
		if m.For != "" && !names[m.For] {
			bad("%s is for %q, which is not the name of a holiday of %d", what, m.For, y.Year)
		}
	}
	return problems
}

// invalidYear is the error listing every problem of a year's arrangement.
func invalidYear(year int, problems []string) error {
	slices.SortStableFunc(problems, func(a, b string) int { return cmp.Compare(rank(a), rank(b)) })
	what := "the calendar"
	if year != 0 {
		what = fmt.Sprintf("the %d calendar", year)
	}
	return apperr.New(apperr.Invalid, "calendar_invalid", "%s has %d problem(s), nothing was changed: %s", what, len(problems), strings.Join(problems, "; ")).
		WithDetails(map[string][]string{"problems": problems})
}

// rank orders problems: the year first, then holidays, then make-up days.
func rank(p string) int {
	switch {
	case strings.HasPrefix(p, "holiday"):
		return 1
	case strings.HasPrefix(p, "make-up"):
		return 2
	}
	return 0
}
