package bundle

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/store"
)

// Case is a bundle case as its applicant sees it.
type Case struct {
	ID           int64             `json:"id"`
	Number       string            `json:"number"`
	BundleCode   string            `json:"bundle_code"`
	Name         catalog.Text      `json:"name"`
	Status       string            `json:"status"` // in_progress, needs_correction, done, partly_refused
	Answers      map[string]string `json:"answers"`
	SubmittedAt  time.Time         `json:"submitted_at"`
	Deadline     time.Time         `json:"deadline"` // end of the bundle's last promised working day
	PromisedDays int               `json:"promised_days"`
	Overdue      bool              `json:"overdue"` // past the deadline and not done
	Members      []MemberView      `json:"members"`
	Timeline     []Entry           `json:"timeline"`
}

// MemberView is one member of a case.
type MemberView struct {
	ID       string       `json:"id"`
	ItemCode string       `json:"item_code"`
	ItemName catalog.Text `json:"item_name"`
	After    []string     `json:"after,omitempty"`
	// State: waiting, submitted, skipped or failed (see the constants).
	State string `json:"state"`
	// Reason says why a failed member was not submitted.
	Reason        *catalog.Text `json:"reason,omitempty"`
	Note          *catalog.Text `json:"note,omitempty"`
	ApplicationID int64         `json:"application_id,omitempty"`
	Number        string        `json:"number,omitempty"`
	Status        string        `json:"status,omitempty"`  // the application's
	Reasons       []string      `json:"reasons,omitempty"` // why it was rejected, not accepted or sent back
}

// Entry is one line of a case's timeline: a member application's event.
type Entry struct {
	At     time.Time    `json:"at"`
	Member string       `json:"member"`
	Item   catalog.Text `json:"item"`
	Action string       `json:"action"`
	To     string       `json:"to"`
	Actor  string       `json:"actor_kind"`
}

// stored is a case as its rows hold it.
type stored struct {
	id, accountID, personID, enterpriseID int64
	number                                string
	def                                   catalog.Bundle
	answers                               map[string]string
	form                                  map[string]any
	pledges                               []string
	submittedAt, deadline                 time.Time
	rows                                  []memberRow
	names                                 map[string]catalog.Text
}

type memberRow struct {
	id, item, state    string
	app                int64
	reasonZh, reasonEn string
}

func (c *stored) itemName(code string) catalog.Text {
	if n, ok := c.names[code]; ok {
		return n
	}
	return catalog.Text{Zh: code}
}

// load reads case id, opening its sealed form.
func (s *Service) load(ctx context.Context, q store.Querier, id int64) (*stored, error) {
	c := &stored{id: id}
	var def, answers, form string
	var ent sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT number, definition, account_id, person_id, enterprise_id, answers, form, submitted_at, deadline FROM bundle_cases WHERE id = $1`, id).
		Scan(&c.number, &def, &c.accountID, &c.personID, &ent, &answers, &form, &c.submittedAt, &c.deadline)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, authz.NotYours("bundle")
	}
	if err != nil {
		return nil, err
	}
	c.enterpriseID = ent.Int64
	if err := json.Unmarshal([]byte(def), &c.def); err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(answers), &c.answers)
	plain, err := s.d.Protector.OpenFor(form, "bundle_cases.form")
	if err != nil {
		return nil, err
	}
	var sf sealedForm
	if err := json.Unmarshal([]byte(plain), &sf); err != nil {
		return nil, err
	}
	c.form, c.pledges = sf.Form, sf.Pledges
	c.rows, err = store.All(ctx, q, func(r store.Scanner) (memberRow, error) {
		var m memberRow
		var app sql.NullInt64
		err := r.Scan(&m.id, &m.item, &m.state, &app, &m.reasonZh, &m.reasonEn)
		m.app = app.Int64
		return m, err
	}, `SELECT member_id, item_code, state, application_id, reason_zh, reason_en FROM bundle_members WHERE case_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, err
	}
	names, err := s.d.Catalog.Names(ctx)
	if err != nil {
		return nil, err
	}
	c.names = names
	return c, nil
}

// progress reads where the case's submitted members stand.
func (s *Service) progress(ctx context.Context, c *stored) (map[int64]application.Progress, error) {
	var ids []int64
	for _, m := range c.rows {
		if m.app != 0 {
			ids = append(ids, m.app)
		}
	}
	return s.d.Drafts.ProgressOf(ctx, s.d.DB, ids)
}

// mayView reports whether p may see case c: its applicant's account, or
// whoever acts now for its enterprise.
func mayView(p authz.Principal, c *stored) bool {
	if c.enterpriseID != 0 {
		return p.ActingFor != nil && p.ActingFor.ID == c.enterpriseID
	}
	return p.AccountID == c.accountID || (p.PersonID != 0 && p.PersonID == c.personID)
}

// Case returns a case its applicant may see; anyone else gets not-found.
func (s *Service) Case(ctx context.Context, p authz.Principal, id int64) (Case, error) {
	if err := authz.Require(p, authz.ActForOwn); err != nil {
		return Case{}, err
	}
	c, err := s.load(ctx, s.d.DB, id)
	if err != nil {
		return Case{}, err
	}
	if !mayView(p, c) {
		return Case{}, authz.NotYours("bundle")
	}
	return s.view(ctx, c, func(appID int64) ([]application.Event, error) {
		a, err := s.d.Drafts.Get(ctx, p, appID)
		return a.Timeline, err
	})
}

// view puts a case together: its members, the aggregate status and the
// merged timeline (from timeline, nil for none).
func (s *Service) view(ctx context.Context, c *stored, timeline func(int64) ([]application.Event, error)) (Case, error) {
	progress, err := s.progress(ctx, c)
	if err != nil {
		return Case{}, err
	}
	out := Case{ID: c.id, Number: c.number, BundleCode: c.def.Code, Name: c.def.Name, Answers: c.answers, SubmittedAt: c.submittedAt,
		Deadline: c.deadline, PromisedDays: c.def.TimeLimit.PromisedDays, Members: []MemberView{}, Timeline: []Entry{}}
	for _, m := range c.rows {
		def, _ := c.def.Member(m.id)
		mv := MemberView{ID: m.id, ItemCode: m.item, ItemName: c.itemName(m.item), After: def.After, State: m.state, Note: def.Note, ApplicationID: m.app}
		if m.state == Failed {
			mv.Reason = &catalog.Text{Zh: m.reasonZh, En: m.reasonEn}
		}
		if pr, ok := progress[m.app]; ok {
			mv.Number, mv.Status, mv.Reasons = pr.Number, pr.Status, pr.Reasons
		}
		out.Members = append(out.Members, mv)
		if m.app != 0 && timeline != nil {
			events, err := timeline(m.app)
			if err != nil {
				return Case{}, err
			}
			for _, e := range events {
				out.Timeline = append(out.Timeline, Entry{At: e.At, Member: m.id, Item: mv.ItemName, Action: e.Action, To: e.To, Actor: e.ActorKind})
			}
		}
	}
	slices.SortStableFunc(out.Timeline, func(a, b Entry) int { return a.At.Compare(b.At) })
	out.Status = Aggregate(out.Members)
	out.Overdue = (out.Status == InProgress || out.Status == NeedsCorrection) && s.d.Now().After(c.deadline)
	return out, nil
}

// Aggregate statuses of a case.
const (
	InProgress      = "in_progress"      // 办理中
	NeedsCorrection = "needs_correction" // 部分需补正
	Done            = "done"             // 已办结
	PartlyRefused   = "partly_refused"   // 部分未通过
)

// Aggregate is a case's status from its members': a correction asked of
// any member comes first; while any member waits or is under way the case
// is in progress; once all are through, it is done, or partly refused when
// some member was refused, not accepted, withdrawn or never submitted.
func Aggregate(ms []MemberView) string {
	running, correction, refused := false, false, false
	for _, m := range ms {
		switch {
		case m.State == Skipped:
		case m.State == Failed:
			refused = true
		case m.State == Waiting:
			running = true
		case m.Status == "correction_requested":
			correction = true
		case ended(m.Status):
			refused = true
		case !succeeded(m.Status):
			running = true
		}
	}
	switch {
	case correction:
		return NeedsCorrection
	case running:
		return InProgress
	case refused:
		return PartlyRefused
	}
	return Done
}

// Summary is a case in a list.
type Summary struct {
	ID          int64        `json:"id"`
	Number      string       `json:"number"`
	Name        catalog.Text `json:"name"`
	SubmittedAt time.Time    `json:"submitted_at"`
}

// Mine lists the cases the principal may see, newest first.
func (s *Service) Mine(ctx context.Context, p authz.Principal) ([]Summary, error) {
	if err := authz.Require(p, authz.ActForOwn); err != nil {
		return nil, err
	}
	scan := func(r store.Scanner) (Summary, error) {
		var x Summary
		var def string
		err := r.Scan(&x.ID, &x.Number, &def, &x.SubmittedAt)
		var b catalog.Bundle
		json.Unmarshal([]byte(def), &b)
		x.Name = b.Name
		return x, err
	}
	var out []Summary
	var err error
	if p.ActingFor != nil {
		out, err = store.All(ctx, s.d.DB, scan, `SELECT id, number, definition, submitted_at FROM bundle_cases WHERE enterprise_id = $1 ORDER BY id DESC LIMIT 100`, p.ActingFor.ID)
	} else {
		out, err = store.All(ctx, s.d.DB, scan, `SELECT id, number, definition, submitted_at FROM bundle_cases WHERE account_id = $1 AND enterprise_id IS NULL ORDER BY id DESC LIMIT 100`, p.AccountID)
	}
	if out == nil {
		out = []Summary{}
	}
	return out, err
}

// remembered finds the case the account submitted with key.
func (s *Service) remembered(ctx context.Context, q store.Querier, p authz.Principal, key string) (int64, bool, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM bundle_cases WHERE account_id = $1 AND idempotency_key = $2`, p.AccountID, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// Around is the bundle around a member application, for staff who may see
// that application: the case's number, name, status and members (item,
// state, number, status), without the applicant's form or timeline.
type Around struct {
	Case
	Member string `json:"member"` // the member the application is
}

// AroundApplication returns the bundle the application is a member of;
// ok is false when it is in none. The caller has checked that the staff
// member may see the application.
func (s *Service) AroundApplication(ctx context.Context, applicationID int64) (Around, bool, error) {
	var caseID int64
	var member string
	err := s.d.DB.QueryRowContext(ctx, `SELECT case_id, member_id FROM bundle_members WHERE application_id = $1`, applicationID).Scan(&caseID, &member)
	if errors.Is(err, sql.ErrNoRows) {
		return Around{}, false, nil
	}
	if err != nil {
		return Around{}, false, err
	}
	c, err := s.load(ctx, s.d.DB, caseID)
	if err != nil {
		return Around{}, false, err
	}
	v, err := s.view(ctx, c, nil)
	if err != nil {
		return Around{}, false, err
	}
	v.Answers = nil
	return Around{Case: v, Member: member}, true, nil
}
