package insight

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// Service answers the dashboard's questions from the rollups.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// NewService returns the dashboard service.
func NewService(db *store.DB) *Service { return &Service{db: db, now: time.Now} }

// Periods are what figures can be grouped by.
var Periods = []string{"day", "week", "month", "year"}

// Filter is what a dashboard view shows: the days from From to To (China
// time, both included) grouped by Period, narrowed to one department,
// item, region or channel where given.
type Filter struct {
	Period     string `json:"period"`
	From       string `json:"from"`
	To         string `json:"to"`
	Department string `json:"department,omitempty"`
	Item       string `json:"item,omitempty"`
	Region     string `json:"region,omitempty"`
	Channel    string `json:"channel,omitempty"`
}

// Figures are the counts of a period or a group, and the rates and
// working days derived from them.
type Figures struct {
	Received        int64 `json:"received"`
	Online          int64 `json:"online"` // received on the web or a phone
	ZeroVisit       int64 `json:"zero_visit"`
	OneVisit        int64 `json:"one_visit"`
	MaterialsSaved  int64 `json:"materials_saved"`  // 免提交
	FieldsPrefilled int64 `json:"fields_prefilled"` // 免填写
	Finished        int64 `json:"finished"`
	Approved        int64 `json:"approved"`
	Rejected        int64 `json:"rejected"`
	NotAccepted     int64 `json:"not_accepted"`
	MachineApproved int64 `json:"machine_approved"`
	OnTime          int64 `json:"on_time"`
	Late            int64 `json:"late"`
	Stops           int64 `json:"stops"`     // corrections and special procedures ended
	DaysLost        int64 `json:"days_lost"` // working days their clocks were stopped

	// Rates in percent, to one decimal; 0 when there is nothing to divide.
	OnlineRate    float64 `json:"online_rate"`
	ZeroVisitRate float64 `json:"zero_visit_rate"`
	OneVisitRate  float64 `json:"one_visit_rate"`
	MachineRate   float64 `json:"machine_rate"` // of the finished
	OnTimeRate    float64 `json:"on_time_rate"`
	// Working days from submission to decision: the mean, and the upper
	// bounds of the histogram buckets holding the median and the 90th
	// percentile (MoreThan: beyond the last bound, 30).
	MeanDays      float64 `json:"mean_days"`
	MedianDays    int     `json:"median_days"`
	P90Days       int     `json:"p90_days"`
	PromisedDays  float64 `json:"promised_days"`  // the mean promised limit of the finished
	StatutoryDays float64 `json:"statutory_days"` // the mean statutory limit of the finished

	workdays, promised, statutory int64
	hist                          [10]int64
}

// MoreThan stands for "more than the last bucket's bound" in MedianDays and P90Days.
const MoreThan = -1

// Row is the figures of one period or one group.
type Row struct {
	Key    string `json:"key"` // the period's first day, or the group's code
	NameZh string `json:"name_zh,omitempty"`
	NameEn string `json:"name_en,omitempty"`
	Figures
}

// Name is the row's name in lang: a department's, or its key.
func (r Row) Name(lang string) string {
	if lang == "en" && r.NameEn != "" {
		return r.NameEn
	}
	return cmp.Or(r.NameZh, r.Key)
}

// Named is a department or an item a view can be narrowed to.
type Named struct {
	Code   string `json:"code"`
	NameZh string `json:"name_zh"`
	NameEn string `json:"name_en"`
}

// Dashboard is one view.
type Dashboard struct {
	Filter      Filter `json:"filter"`
	Total       Row    `json:"total"`
	Periods     []Row  `json:"periods"`
	Departments []Row  `json:"departments"`
	Channels    []Row  `json:"channels"`
	// Bottlenecks are the steps where applications waited longest.
	Bottlenecks []Bottleneck `json:"bottlenecks"`
	// The departments and items the viewer may narrow the view to.
	DepartmentChoices []Named `json:"department_choices"`
	ItemChoices       []Named `json:"item_choices"`
}

// ParseFilter checks a view's filter, filling the defaults: by month over
// the last twelve months up to today.
func (s *Service) ParseFilter(f Filter) (Filter, error) {
	f.Period = cmp.Or(f.Period, "month")
	if !slices.Contains(Periods, f.Period) {
		return f, apperr.New(apperr.Invalid, apperr.BadInsightPeriod, "period must be one of %s, not %q", strings.Join(Periods, ", "), f.Period)
	}
	today := s.now().In(workday.CST)
	f.To = cmp.Or(f.To, today.Format(time.DateOnly))
	to, err := time.Parse(time.DateOnly, f.To)
	if err != nil {
		return f, apperr.New(apperr.Invalid, apperr.BadInsightRange, "to must be a date YYYY-MM-DD, not %q", f.To)
	}
	f.From = cmp.Or(f.From, to.AddDate(-1, 0, 1).Format(time.DateOnly))
	from, err := time.Parse(time.DateOnly, f.From)
	if err != nil || from.After(to) || to.Sub(from) > 10*366*24*time.Hour {
		return f, apperr.New(apperr.Invalid, apperr.BadInsightRange, "from must be a date YYYY-MM-DD not after to and at most ten years before it, not %q", f.From)
	}
	return f, nil
}

// View returns the dashboard for f as p may see it: a supervisor any
// department, a department head their own only.
func (s *Service) View(ctx context.Context, p authz.Principal, f Filter) (Dashboard, error) {
	if err := authz.Require(p, authz.InsightView); err != nil {
		return Dashboard{}, err
	}
	f, err := s.ParseFilter(f)
	if err != nil {
		return Dashboard{}, err
	}
	if own := p.InsightDepartment(); own != "" {
		if f.Department != "" && f.Department != own {
			return Dashboard{}, apperr.New(apperr.Forbidden, apperr.InsightOtherDept, "a department head sees their own department's figures (%s) only", own)
		}
		f.Department = own
	}
	d, err := s.view(ctx, f)
	if err != nil {
		return d, err
	}
	if d.Bottlenecks, err = s.bottlenecks(ctx, f); err != nil {
		return d, err
	}
	return d, s.name(ctx, &d, p.InsightDepartment())
}

// name fills the departments' names and the choices of the filter form.
func (s *Service) name(ctx context.Context, d *Dashboard, own string) error {
	scan := func(row store.Scanner) (Named, error) {
		var n Named
		return n, row.Scan(&n.Code, &n.NameZh, &n.NameEn)
	}
	depts, err := store.All(ctx, s.db, scan, `SELECT code, name_zh, name_en FROM departments WHERE $1 = '' OR code = $1 ORDER BY code`, own)
	if err != nil {
		return err
	}
	for i, r := range d.Departments {
		for _, n := range depts {
			if n.Code == r.Key {
				d.Departments[i].NameZh, d.Departments[i].NameEn = n.NameZh, n.NameEn
			}
		}
	}
	d.DepartmentChoices = depts
	d.ItemChoices, err = store.All(ctx, s.db, scan, `SELECT i.code, v.name_zh, v.name_en FROM catalog_items i
		JOIN catalog_versions v ON v.item_code = i.code AND v.version = i.current_version
		WHERE $1 = '' OR i.department_code = $1 ORDER BY i.code`, own)
	if d.ItemChoices == nil {
		d.ItemChoices = []Named{}
	}
	if d.DepartmentChoices == nil {
		d.DepartmentChoices = []Named{}
	}
	return err
}

// view reads the rollups of f, one row per day (or month), department
// and channel, and folds them into the periods and groups.
func (s *Service) view(ctx context.Context, f Filter) (Dashboard, error) {
	d := Dashboard{Filter: f, Total: Row{Key: "total"}}
	periods, departments, channels := map[string]*Figures{}, map[string]*Figures{}, map[string]*Figures{}
	var periodOrder []string
	fold := func(day, dept, channel string, v []int64) {
		key := periodOf(f.Period, day)
		if _, ok := periods[key]; !ok {
			periods[key] = &Figures{}
			periodOrder = append(periodOrder, key)
		}
		for _, g := range []struct {
			m map[string]*Figures
			k string
		}{{departments, dept}, {channels, channel}} {
			if g.m[g.k] == nil {
				g.m[g.k] = &Figures{}
			}
			g.m[g.k].add(v, channel)
		}
		periods[key].add(v, channel)
		d.Total.add(v, channel)
	}
	for _, seg := range segments(f) {
		if err := s.read(ctx, seg, f, fold); err != nil {
			return d, err
		}
	}
	d.Total.derive()
	d.Periods = rowsOf(periods, periodOrder)
	d.Departments = rowsOf(departments, sortedKeys(departments))
	d.Channels = rowsOf(channels, sortedKeys(channels))
	return d, nil
}

// segment is a range of days one rollup table answers.
type segment struct{ table, from, to string }

// segments splits f's days between the tables: the whole months from
// insight_monthly when the view needs no days, items or regions, the days
// before and after them from insight_daily.
func segments(f Filter) []segment {
	all := []segment{{"insight_daily", f.From, f.To}}
	if (f.Period != "month" && f.Period != "year") || f.Item != "" || f.Region != "" {
		return all
	}
	from, err1 := time.Parse(time.DateOnly, f.From)
	to, err2 := time.Parse(time.DateOnly, f.To)
	if err1 != nil || err2 != nil {
		return all
	}
	first := from.AddDate(0, 0, 1-from.Day()) // the first whole month's first day
	if !first.Equal(from) {
		first = first.AddDate(0, 1, 0)
	}
	after := to.AddDate(0, 0, 1)
	after = after.AddDate(0, 0, 1-after.Day()) // the day after the last whole month
	if !first.Before(after) {
		return all
	}
	var out []segment
	if from.Before(first) {
		out = append(out, segment{"insight_daily", f.From, first.AddDate(0, 0, -1).Format(time.DateOnly)})
	}
	out = append(out, segment{"insight_monthly", first.Format(time.DateOnly), after.AddDate(0, 0, -1).Format(time.DateOnly)})
	if !after.After(to) {
		out = append(out, segment{"insight_daily", after.Format(time.DateOnly), f.To})
	}
	return out
}

// read sums the rows of seg that f selects by day, department and
// channel, oldest first, and gives each to fold.
func (s *Service) read(ctx context.Context, seg segment, f Filter, fold func(day, dept, channel string, v []int64)) error {
	where := []string{"day >= $1", "day <= $2"}
	args := []any{seg.from, seg.to}
	for _, c := range []struct{ column, value string }{{"department", f.Department}, {"item_code", f.Item}, {"region", f.Region}, {"channel", f.Channel}} {
		if c.value != "" {
			args = append(args, c.value)
			where = append(where, fmt.Sprintf("%s = $%d", c.column, len(args)))
		}
	}
	sums := make([]string, len(counters))
	for i, c := range counters {
		sums[i] = "SUM(" + c + ")"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT day, department, channel, `+strings.Join(sums, ", ")+`
		FROM `+seg.table+` WHERE `+strings.Join(where, " AND ")+` GROUP BY day, department, channel ORDER BY day`, args...)
	if err != nil {
		return fmt.Errorf("insight: read the rollups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, dept, channel string
		v := make([]int64, len(counters))
		dest := []any{&day, &dept, &channel}
		for i := range v {
			dest = append(dest, &v[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fold(day, dept, channel, v)
	}
	return rows.Err()
}

// periodOf is the first day of the period of day.
func periodOf(period, day string) string {
	switch period {
	case "month":
		return day[:7] + "-01"
	case "year":
		return day[:4] + "-01-01"
	case "week":
		t, _ := time.Parse(time.DateOnly, day)
		return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7)).Format(time.DateOnly) // Monday
	}
	return day
}

func sortedKeys(m map[string]*Figures) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func rowsOf(m map[string]*Figures, keys []string) []Row {
	out := make([]Row, 0, len(keys))
	for _, k := range keys {
		m[k].derive()
		out = append(out, Row{Key: k, Figures: *m[k]})
	}
	return out
}

// add adds one rollup row's sums, in the order of counters.
func (f *Figures) add(v []int64, channel string) {
	f.Received += v[cReceived]
	if channel == "web" || channel == "mobile" {
		f.Online += v[cReceived]
	}
	f.ZeroVisit += v[cZeroVisit]
	f.OneVisit += v[cOneVisit]
	f.MaterialsSaved += v[cMaterialsSaved]
	f.FieldsPrefilled += v[cFieldsPrefilled]
	f.Finished += v[cFinished]
	f.Approved += v[cApproved]
	f.Rejected += v[cRejected]
	f.NotAccepted += v[cNotAccepted]
	f.MachineApproved += v[cMachineApproved]
	f.OnTime += v[cOnTime]
	f.Late += v[cLate]
	f.workdays += v[cWorkdaysSum]
	f.promised += v[cPromisedDaysSum]
	f.statutory += v[cStatutoryDaysSum]
	for i := range f.hist {
		f.hist[i] += v[cW0+i]
	}
	f.Stops += v[cStops]
	f.DaysLost += v[cDaysLost]
}

// The positions of the counters, as listed in counters.
const (
	cReceived = iota
	cZeroVisit
	cOneVisit
	cMaterialsSaved
	cFieldsPrefilled
	cFinished
	cApproved
	cRejected
	cNotAccepted
	cMachineApproved
	cOnTime
	cLate
	cWorkdaysSum
	cPromisedDaysSum
	cStatutoryDaysSum
	cW0
	cStops    = cW0 + 10
	cDaysLost = cStops + 1
)

// derive computes the rates and working days from the counts.
func (f *Figures) derive() {
	f.OnlineRate = percent(f.Online, f.Received)
	f.ZeroVisitRate = percent(f.ZeroVisit, f.Received)
	f.OneVisitRate = percent(f.OneVisit, f.Received)
	f.MachineRate = percent(f.MachineApproved, f.Finished)
	f.OnTimeRate = percent(f.OnTime, f.Finished)
	f.MeanDays = ratio(f.workdays, f.Finished)
	f.PromisedDays = ratio(f.promised, f.Finished)
	f.StatutoryDays = ratio(f.statutory, f.Finished)
	f.MedianDays, f.P90Days = f.quantile(0.5), f.quantile(0.9)
}

// quantile is the upper bound of the histogram bucket that holds the q-th
// quantile of working days taken (MoreThan past the last bound).
func (f *Figures) quantile(q float64) int {
	var total int64
	for _, n := range f.hist {
		total += n
	}
	if total == 0 {
		return 0
	}
	var seen int64
	for i, n := range f.hist {
		seen += n
		if float64(seen) >= q*float64(total) {
			return Buckets[i]
		}
	}
	return MoreThan
}

func percent(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n*1000/of) / 10
}

func ratio(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n*10/of) / 10
}
