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
			return n, apperr.New(apperr.Invalid, apperr.CalendarInvalid, "the calendar file is empty")
		}
		return n, apperr.Wrap(err, apperr.Invalid, apperr.CalendarInvalid, "the calendar file is not valid YAML of the expected shape (year, source, holidays, make_up_days)")
	}
	return n, nil
}

// problem is one problem of a year's arrangement in both languages: what it
// is about (a holiday, a make-up day, or nothing for the year as a whole)
// followed by what is wrong, each a format with the same arguments (the
// English one starts with its separator: a space or a colon).
func problem(what apperr.Words, zh, en string, args ...any) apperr.Detail {
	return apperr.Detail{Subject: what.En, Words: apperr.Words{
		Zh: what.Zh + fmt.Sprintf(zh, args...), En: strings.TrimSpace(what.En + fmt.Sprintf(en, args...))}}
}

// Parse checks a notice and returns its year, or an apperr.Invalid error
// whose message and details list every problem found.
func (n Notice) Parse() (Year, error) {
	var problems []apperr.Detail
	bad := func(what apperr.Words, zh, en string, args ...any) {
		problems = append(problems, problem(what, zh, en, args...))
	}
	date := func(what apperr.Words, s string) (Date, bool) {
		if s == "" {
			bad(what, "：缺少日期", ": the date is missing")
			return Date{}, false
		}
		d, err := ParseDate(s)
		if err != nil {
			bad(what, "：“%[1]s”不是按“年-月-日”写的日期，如2027-01-01", ": %[2]v", s, err)
			return Date{}, false
		}
		return d, true
	}
	y := Year{Year: n.Year, Source: strings.TrimSpace(n.Source)}
	for i, h := range n.Holidays {
		what := holidayLabel(i, h.Name)
		from, ok1 := date(apperr.Words{Zh: what.Zh + "的开始日期", En: what.En + " from"}, h.From)
		to, ok2 := date(apperr.Words{Zh: what.Zh + "的结束日期", En: what.En + " to"}, h.To)
		if ok1 && ok2 {
			y.Holidays = append(y.Holidays, Holiday{Name: strings.TrimSpace(h.Name), From: from, To: to})
		} else if strings.TrimSpace(h.Name) == "" {
			bad(what, "没有名称", " has no name")
		}
	}
	for i, m := range n.MakeUpDays {
		if d, ok := date(apperr.Words{Zh: fmt.Sprintf("第%d个调休上班日", i+1), En: fmt.Sprintf("make-up day %d", i+1)}, m.Date); ok {
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

func holidayLabel(i int, name string) apperr.Words {
	if name = strings.TrimSpace(name); name != "" {
		return apperr.Words{Zh: fmt.Sprintf("第%d个节假日（%s）", i+1, name), En: fmt.Sprintf("holiday %d (%s)", i+1, name)}
	}
	return apperr.Words{Zh: fmt.Sprintf("第%d个节假日", i+1), En: fmt.Sprintf("holiday %d", i+1)}
}

// weekdayZh names the days of the week as a notice does, Sunday first.
var weekdayZh = [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// check lists what is wrong with a year whose dates are already parsed.
func check(y Year) []apperr.Detail {
	var problems []apperr.Detail
	bad := func(what apperr.Words, zh, en string, args ...any) {
		problems = append(problems, problem(what, zh, en, args...))
	}
	var year apperr.Words // the arrangement as a whole
	if y.Year < MinYear || y.Year > MaxYear {
		bad(year, "年度须在%d至%d之间，不能是%d", "the year must be between %d and %d, not %d", MinYear, MaxYear, y.Year)
	}
	if strings.TrimSpace(y.Source) == "" {
		bad(year, "缺少依据：请写明日期所依据的国务院办公厅通知，如国办发明电〔2024〕12号",
			"the source is empty: name the State Council notice the dates come from, e.g. 国办发明电〔2024〕12号")
	}
	if len(y.Holidays) == 0 {
		bad(year, "没有节假日：每年都有法定节假日（元旦、春节、清明节、劳动节、端午节、中秋节、国庆节）",
			"there are no holidays: every year has statutory holidays (元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节)")
	}
	inYear := func(what apperr.Words, d Date, hintZh, hintEn string) {
		if d.Year != y.Year {
			bad(what, "%[1]s不在%[2]d年内：每年的日历只含本年的日期（%[3]s）", " %[1]s is not in %[2]d: a year holds only its own days (%[4]s)", d, y.Year, hintZh, hintEn)
		}
	}
	const splitZh, splitEn = "跨年的节假日请分别写入两个年度", "split a holiday that crosses New Year between the two years"
	holiday := map[Date]apperr.Words{} // day → label of the holiday that has it
	names := map[string]bool{}
	for _, h := range y.Holidays {
		what := apperr.Words{Zh: "节假日" + h.Name, En: "holiday " + h.Name}
		if h.Name == "" {
			what = apperr.Words{Zh: fmt.Sprintf("%s至%s的节假日", h.From, h.To), En: fmt.Sprintf("the holiday from %s to %s", h.From, h.To)}
			bad(what, "没有名称", " has no name")
		}
		names[h.Name] = true
		inYear(apperr.Words{Zh: what.Zh + "的开始日期", En: what.En + " from"}, h.From, splitZh, splitEn)
		inYear(apperr.Words{Zh: what.Zh + "的结束日期", En: what.En + " to"}, h.To, splitZh, splitEn)
		switch days := int(h.To.Start().Sub(h.From.Start()).Hours()/24) + 1; {
		case days < 1:
			bad(what, "的结束日期%[1]s早于开始日期%[2]s", " ends on %[1]s, before it starts on %[2]s", h.To, h.From)
			continue
		case days > maxHolidayDays:
			bad(what, "从%[2]s到%[3]s共%[1]d天：节假日不会超过%[4]d天，请核对日期", " runs %[1]d days, from %[2]s to %[3]s: no holiday is longer than %[4]d days (check the dates)", days, h.From, h.To, maxHolidayDays)
			continue
		}
		for d := h.From; d.Compare(h.To) <= 0; d = d.AddDays(1) {
			if other, ok := holiday[d]; ok {
				bad(what, "与%[1]s在%[3]s重叠", " overlaps %[2]s on %[3]s", other.Zh, other.En, d)
				break
			}
			holiday[d] = what
		}
	}
	seen := map[Date]bool{}
	for _, m := range y.MakeUpDays {
		what := apperr.Words{Zh: "调休上班日" + m.Date.String(), En: "make-up day " + m.Date.String()}
		inYear(apperr.Words{Zh: "调休上班日", En: "make-up day"}, m.Date, "请随其所在年度的日历导入", "load it with the calendar of its own year")
		if seen[m.Date] {
			bad(what, "重复列出", " is listed twice")
			continue
		}
		seen[m.Date] = true
		if !weekend(m.Date) {
			bad(what, "是%[1]s：调休上班日只能是星期六或星期日（工作日本来就要上班）",
				" is a %[2]s: a make-up working day is a Saturday or Sunday (weekdays are working days anyway)", weekdayZh[m.Date.Weekday()], m.Date.Weekday())
		}
		if h, ok := holiday[m.Date]; ok {
			bad(what, "同时是%[1]s的假日：同一天只能是节假日或调休上班日之一",
				" is also a day of %[2]s: a day is either a holiday or a make-up working day", h.Zh, h.En)
		}
		if m.For != "" && !names[m.For] {
			bad(what, "对应的“%[1]s”不是%[2]d年的节假日名称", " is for %[1]q, which is not the name of a holiday of %[2]d", m.For, y.Year)
		}
	}
	return problems
}

// invalidYear is the error listing every problem of a year's arrangement.
func invalidYear(year int, problems []apperr.Detail) error {
	slices.SortStableFunc(problems, func(a, b apperr.Detail) int { return cmp.Compare(rank(a.En), rank(b.En)) })
	what := "the calendar"
	if year != 0 {
		what = fmt.Sprintf("the %d calendar", year)
	}
	return apperr.New(apperr.Invalid, apperr.CalendarInvalid, "%s has %d problem(s), nothing was changed: %s", what, len(problems), apperr.JoinEnglish(problems)).
		WithDetails(problems)
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
