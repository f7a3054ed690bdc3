package rating

import (
	"context"
	"sort"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/store"
	"yiwang/internal/supervision"
	"yiwang/internal/workday"
)

// The periods the public figures cover, by when a rating was given.
const (
	ThisMonth = "month"
	ThisYear  = "year"
	AllTime   = "all"
)

// Figures are the public counts of a department or an item.
type Figures struct {
	Code     string  `json:"code"`
	NameZh   string  `json:"name_zh"`
	NameEn   string  `json:"name_en"`
	ByLevel  [5]int  `json:"by_level"` // ratings of 1 … 5 stars
	Total    int     `json:"total"`
	Bad      int     `json:"bad"`                // of 1 or 2 stars
	Resolved int     `json:"rectified"`          // bad ones whose rectification closed resolved
	Rate     float64 `json:"satisfaction_rate"`  // ratings of 4-5 / all (0 with none)
	Rectify  float64 `json:"rectification_rate"` // rectified / bad (0 with none)
}

// Summary is 好差评公开: the figures by department and by item for a period.
type Summary struct {
	Period      string    `json:"period"`
	Since       time.Time `json:"since,omitzero"` // zero for all time
	Total       Figures   `json:"total"`
	Departments []Figures `json:"departments"`
	Items       []Figures `json:"items"`
}

func (f *Figures) add(stars, n, resolved int) {
	f.ByLevel[stars-1] += n
	f.Total += n
	if stars <= BadStars {
		f.Bad += n
		f.Resolved += resolved
	}
}

func (f *Figures) rates() {
	if f.Total > 0 {
		f.Rate = float64(f.ByLevel[3]+f.ByLevel[4]) / float64(f.Total)
	}
	if f.Bad > 0 {
		f.Rectify = float64(f.Resolved) / float64(f.Bad)
	}
}

// since is the start, in China time, of the period that contains now.
func since(period string, now time.Time) (time.Time, error) {
	t := now.In(workday.CST)
	switch period {
	case ThisMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, workday.CST), nil
	case ThisYear:
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, workday.CST), nil
	case AllTime:
		return time.Time{}, nil
	}
	return time.Time{}, apperr.New(apperr.Invalid, apperr.BadPeriod, "the period is month (this month), year (this year) or all")
}

// Summary counts the ratings given in period (month, year or all; empty
// is year): by level, the satisfaction rate and the rectification rate,
// by department and by item. It holds no person's data.
func (s *Service) Summary(ctx context.Context, period string) (Summary, error) {
	if period == "" {
		period = ThisYear
	}
	from, err := since(period, s.now())
	if err != nil {
		return Summary{}, err
	}
	type row struct {
		department, nameZh, nameEn, item string
		stars, n, resolved               int
	}
	rows, err := store.All(ctx, s.DB, func(sc store.Scanner) (row, error) {
		var r row
		return r, sc.Scan(&r.department, &r.nameZh, &r.nameEn, &r.item, &r.stars, &r.n, &r.resolved)
	}, `SELECT r.department_code, d.name_zh, d.name_en, r.item_code, r.stars, COUNT(*),
		SUM(CASE WHEN x.status = 'closed' AND x.resolved THEN 1 ELSE 0 END)
		FROM ratings r JOIN departments d ON d.code = r.department_code LEFT JOIN rectifications x ON x.rating_id = r.id
		WHERE r.created_at >= $1 GROUP BY r.department_code, d.name_zh, d.name_en, r.item_code, r.stars`, from.UTC())
	if err != nil {
		return Summary{}, err
	}
	names, err := s.Catalog.Names(ctx)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Period: period, Since: from, Total: Figures{Code: "all", NameZh: "全部", NameEn: "All"}}
	depts, items := map[string]*Figures{}, map[string]*Figures{}
	for _, r := range rows {
		d := depts[r.department]
		if d == nil {
			d = &Figures{Code: r.department, NameZh: r.nameZh, NameEn: r.nameEn}
			depts[r.department] = d
		}
		it := items[r.item]
		if it == nil {
			it = &Figures{Code: r.item, NameZh: names[r.item].Zh, NameEn: names[r.item].In("en")}
			items[r.item] = it
		}
		for _, f := range []*Figures{&sum.Total, d, it} {
			f.add(r.stars, r.n, r.resolved)
		}
	}
	sum.Total.rates()
	sum.Departments, sum.Items = sorted(depts), sorted(items)
	return sum, nil
}

// sorted lists figures with their rates, most rated first.
func sorted(m map[string]*Figures) []Figures {
	out := []Figures{}
	for _, f := range m {
		f.rates()
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// Findings reports, per department, the bad ratings whose rectification
// is not closed and the rectifications past their deadline, for the
// supervisors' board (supervision.Watcher).
func (s *Service) Findings(ctx context.Context, now time.Time) ([]supervision.Finding, error) {
	type open struct {
		department string
		since      time.Time
	}
	scan := func(sc store.Scanner) (open, error) {
		var o open
		return o, sc.Scan(&o.department, &o.since)
	}
	// One row each, counted here: a MIN over a timestamp is text in SQLite.
	bad, err := store.All(ctx, s.DB, scan, `SELECT r.department_code, r.updated_at FROM ratings r LEFT JOIN rectifications x ON x.rating_id = r.id
		WHERE r.stars <= $1 AND (x.id IS NULL OR x.status <> 'closed') ORDER BY r.department_code, r.updated_at`, BadStars)
	if err != nil {
		return nil, err
	}
	late, err := store.All(ctx, s.DB, scan, `SELECT department_code, due_at FROM rectifications
		WHERE status <> 'closed' AND due_at < $1 ORDER BY department_code, due_at`, now.UTC())
	if err != nil {
		return nil, err
	}
	out := []supervision.Finding{}
	for _, g := range []struct {
		kind supervision.Kind
		rows []open
	}{{supervision.BadRating, bad}, {supervision.RectificationLate, late}} {
		for _, o := range g.rows {
			if n := len(out); n > 0 && out[n-1].Kind == g.kind && out[n-1].Department == o.department {
				out[n-1].Count++
				continue
			}
			out = append(out, supervision.Finding{Department: o.department, Kind: g.kind, Count: 1, Oldest: o.since, Link: ListLink(o.department)})
		}
	}
	return out, nil
}

// ListLink is the supervisors' list of a department's open rectifications.
func ListLink(department string) string {
	return "/workbench/rectifications?department=" + department
}

var _ supervision.Watcher = (*Service)(nil)
