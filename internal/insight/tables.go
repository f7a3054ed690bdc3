package insight

import (
	"fmt"
	"strconv"
	"time"

	"yiwang/internal/web"
)

// Table is one of the dashboard's tables, as the page, the CSV and the
// Excel export all show it: the same words, the same figures.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string // the first cell of a row names it
}

// column is one figure of a row.
type column struct {
	zh, en string
	value  func(Figures, string) string
}

func count(f func(Figures) int64) func(Figures, string) string {
	return func(x Figures, _ string) string { return strconv.FormatInt(f(x), 10) }
}

func rate(f func(Figures) float64) func(Figures, string) string {
	return func(x Figures, _ string) string { return strconv.FormatFloat(f(x), 'f', 1, 64) }
}

var columns = []column{
	{"收件", "Received", count(func(f Figures) int64 { return f.Received })},
	{"办结", "Finished", count(func(f Figures) int64 { return f.Finished })},
	{"准予", "Approved", count(func(f Figures) int64 { return f.Approved })},
	{"不予许可", "Rejected", count(func(f Figures) int64 { return f.Rejected })},
	{"不予受理", "Not accepted", count(func(f Figures) int64 { return f.NotAccepted })},
	{"网办率（%）", "Online (%)", rate(func(f Figures) float64 { return f.OnlineRate })},
	{"零跑动率（%）", "Zero visits (%)", rate(func(f Figures) float64 { return f.ZeroVisitRate })},
	{"最多跑一次率（%）", "One visit (%)", rate(func(f Figures) float64 { return f.OneVisitRate })},
	{"秒批率（%）", "Machine-approved (%)", rate(func(f Figures) float64 { return f.MachineRate })},
	{"按时办结率（%）", "On time (%)", rate(func(f Figures) float64 { return f.OnTimeRate })},
	{"平均用时（工作日）", "Mean working days", rate(func(f Figures) float64 { return f.MeanDays })},
	{"用时中位数（工作日）", "Median working days", func(f Figures, lang string) string { return daysText(f.MedianDays, lang) }},
	{"九成办结用时（工作日）", "90% finished within (working days)", func(f Figures, lang string) string { return daysText(f.P90Days, lang) }},
	{"平均承诺时限（工作日）", "Mean promised limit (working days)", rate(func(f Figures) float64 { return f.PromisedDays })},
	{"平均法定时限（工作日）", "Mean statutory limit (working days)", rate(func(f Figures) float64 { return f.StatutoryDays })},
	{"补正与特别程序（次）", "Corrections and special procedures", count(func(f Figures) int64 { return f.Stops })},
	{"暂停计时（工作日）", "Working days paused", count(func(f Figures) int64 { return f.DaysLost })},
	{"免提交材料（份）", "Materials not asked for", count(func(f Figures) int64 { return f.MaterialsSaved })},
	{"免填写字段（项）", "Fields prefilled", count(func(f Figures) int64 { return f.FieldsPrefilled })},
}

// Tables are the dashboard's tables in lang: by period, by department
// and by channel, each ending with the total.
func (d Dashboard) Tables(lang string) []Table {
	header := func(first string) []string {
		h := []string{first}
		for _, c := range columns {
			h = append(h, pick(lang, c.zh, c.en))
		}
		return h
	}
	row := func(name string, f Figures) []string {
		r := []string{name}
		for _, c := range columns {
			r = append(r, c.value(f, lang))
		}
		return r
	}
	table := func(title, first string, rows []Row, name func(Row) string) Table {
		t := Table{Title: title, Header: header(first)}
		for _, r := range rows {
			t.Rows = append(t.Rows, row(name(r), r.Figures))
		}
		t.Rows = append(t.Rows, row(pick(lang, "合计", "Total"), d.Total.Figures))
		return t
	}
	waits := Table{Title: pick(lang, "办理瓶颈：平均等待最久的环节", "Bottlenecks: the steps with the longest mean wait"),
		Header: []string{pick(lang, "环节", "Step"), pick(lang, "部门", "Department"), pick(lang, "办结环节数", "Steps done"), pick(lang, "平均等待（小时）", "Mean wait (hours)")}}
	for _, b := range d.Bottlenecks {
		waits.Rows = append(waits.Rows, []string{pick(lang, b.NameZh, b.NameEn), pick(lang, b.DeptZh, b.DeptEn), strconv.FormatInt(b.Done, 10), strconv.FormatFloat(b.MeanHours, 'f', 1, 64)})
	}
	return []Table{
		table(pick(lang, "按时间", "By period"), pick(lang, "时间", "Period"), d.Periods, func(r Row) string { return periodName(d.Filter.Period, r.Key, lang) }),
		table(pick(lang, "按部门", "By department"), pick(lang, "部门", "Department"), d.Departments, func(r Row) string { return r.Name(lang) }),
		table(pick(lang, "按办理渠道", "By channel"), pick(lang, "渠道", "Channel"), d.Channels, func(r Row) string { return web.Label(lang, "channel", r.Key) }),
		waits,
	}
}

// daysText writes a bucket's bound of working days: "≤ 3", or "> 30".
func daysText(days int, lang string) string {
	if days == MoreThan {
		return fmt.Sprintf("> %d", Buckets[len(Buckets)-2])
	}
	return fmt.Sprintf("≤ %d", days)
}

// periodName names the period starting on day key.
func periodName(period, key, lang string) string {
	t, err := time.Parse(time.DateOnly, key)
	if err != nil {
		return key
	}
	switch period {
	case "year":
		return t.Format(pick(lang, "2006年", "2006"))
	case "month":
		return t.Format(pick(lang, "2006年1月", "Jan 2006"))
	case "week":
		return t.Format(pick(lang, "2006-01-02 起一周", "week of 2006-01-02"))
	}
	return key
}
