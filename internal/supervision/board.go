package supervision

import (
	"cmp"
	"context"
	"slices"
	"time"

	"yiwang/internal/authz"
	"yiwang/internal/org"
)

// KindLabel names a kind for people.
type KindLabel struct {
	Kind   Kind
	Zh, En string
}

// Kinds are the kinds of finding in the board's order, with their labels.
var Kinds = []KindLabel{
	{Overdue, "超期办件", "Overdue applications"},
	{NearOverdue, "临近超期", "Nearly overdue"},
	{BadRating, "差评待整改", "Bad ratings to rectify"},
	{RectificationLate, "整改超期", "Rectifications late"},
	{ComplaintLate, "投诉举报超期", "Complaints past due"},
	{QuestionLate, "咨询建议超期", "Questions past due"},
	{SpotCheckLate, "抽查超期或未分派", "Spot checks late or unassigned"},
	{SpotCheckFailed, "抽查不合格（30日内）", "Spot checks failed (30 days)"},
	{MachineOff, "秒批已暂停", "Machine approval suspended"},
}

// Label is a kind's name in lang ("en" or Chinese).
func Label(k Kind, lang string) string {
	for _, l := range Kinds {
		if l.Kind == k {
			if lang == "en" {
				return l.En
			}
			return l.Zh
		}
	}
	return string(k)
}

// Board gathers what the watchers find, for supervisors.
type Board struct {
	watchers []Watcher
	org      *org.Store
	now      func() time.Time
}

// NewBoard returns the board over the watchers; org names the departments.
func NewBoard(directory *org.Store, watchers ...Watcher) *Board {
	return &Board{watchers: watchers, org: directory, now: time.Now}
}

// View is the board at a moment: one row per department with findings.
type View struct {
	At          time.Time       `json:"at"`
	Department  string          `json:"department,omitempty"` // the one department shown, if one was asked for
	Departments []DepartmentRow `json:"departments"`
	Totals      []Finding       `json:"totals"` // per kind over the departments shown, Department empty
}

// DepartmentRow is one department's findings, one per kind found.
type DepartmentRow struct {
	Code     string    `json:"code"`
	NameZh   string    `json:"name_zh"`
	NameEn   string    `json:"name_en"`
	Findings []Finding `json:"findings"`
	Total    int       `json:"total"`
}

// Cell is the row's finding of kind k (a zero Finding when none).
func (r DepartmentRow) Cell(k Kind) Finding {
	for _, f := range r.Findings {
		if f.Kind == k {
			return f
		}
	}
	return Finding{}
}

// Name is the department's name in lang.
func (r DepartmentRow) Name(lang string) string {
	if lang == "en" && r.NameEn != "" {
		return r.NameEn
	}
	return cmp.Or(r.NameZh, r.Code)
}

// Cell is the total of kind k.
func (v View) Cell(k Kind) Finding {
	for _, f := range v.Totals {
		if f.Kind == k {
			return f
		}
	}
	return Finding{}
}

// Look returns the board for a supervisor: every department's findings,
// or one department's when department is not empty. Departments with
// most findings come first.
func (b *Board) Look(ctx context.Context, p authz.Principal, department string) (View, error) {
	if err := authz.Require(p, authz.Supervise); err != nil {
		return View{}, err
	}
	return b.look(ctx, department)
}

func (b *Board) look(ctx context.Context, department string) (View, error) {
	v := View{At: b.now(), Department: department, Departments: []DepartmentRow{}, Totals: []Finding{}}
	rows := map[string]*DepartmentRow{}
	for _, w := range b.watchers {
		found, err := w.Findings(ctx, v.At)
		if err != nil {
			return View{}, err
		}
		for _, f := range found {
			if f.Count == 0 || (department != "" && f.Department != department) {
				continue
			}
			r, ok := rows[f.Department]
			if !ok {
				r = &DepartmentRow{Code: f.Department}
				rows[f.Department] = r
			}
			r.add(f)
		}
	}
	depts, err := b.org.Departments(ctx)
	if err != nil {
		return View{}, err
	}
	for _, d := range depts {
		if r, ok := rows[d.Code]; ok {
			r.NameZh, r.NameEn = d.NameZh, d.NameEn
		}
	}
	totals := map[Kind]*Finding{}
	for _, r := range rows {
		slices.SortFunc(r.Findings, func(a, b Finding) int { return cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)) })
		v.Departments = append(v.Departments, *r)
		for _, f := range r.Findings {
			t, ok := totals[f.Kind]
			if !ok {
				t = &Finding{Kind: f.Kind}
				totals[f.Kind] = t
			}
			t.Count += f.Count
			if !f.Oldest.IsZero() && (t.Oldest.IsZero() || f.Oldest.Before(t.Oldest)) {
				t.Oldest = f.Oldest
			}
		}
	}
	for _, l := range Kinds {
		if t, ok := totals[l.Kind]; ok {
			v.Totals = append(v.Totals, *t)
		}
	}
	slices.SortFunc(v.Departments, func(a, b DepartmentRow) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Code, b.Code))
	})
	return v, nil
}

// add counts f in the row, merging it with a finding of the same kind (two
// watchers may report one kind, e.g. suspended items and departments).
func (r *DepartmentRow) add(f Finding) {
	r.Total += f.Count
	for i := range r.Findings {
		if g := &r.Findings[i]; g.Kind == f.Kind {
			g.Count += f.Count
			if !f.Oldest.IsZero() && (g.Oldest.IsZero() || f.Oldest.Before(g.Oldest)) {
				g.Oldest = f.Oldest
			}
			return
		}
	}
	r.Findings = append(r.Findings, f)
}

func kindOrder(k Kind) int {
	return slices.IndexFunc(Kinds, func(l KindLabel) bool { return l.Kind == k })
}
