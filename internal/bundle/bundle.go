// Package bundle runs bundles (一件事一次办): several service items applied
// for behind one combined form, one consent, one submission and one number.
//
// A bundle is a catalogue file (catalog.Bundle). Submitting it makes a bundle
// case; each member that applies under the answers is an application of
// its own item, made through the application services (PrepareApply,
// ApplyIn) under that item's own rules, decision record and approval mode.
// Members that need nothing from another are submitted with the case, in
// the same transaction; a member that needs another's result (the seal
// filing needs the new company's credit code) waits, and the advance job
// (a durable job in the same database, enqueued with the case) submits it
// once every member it comes after is approved, or marks it failed with
// the reason when one of them was not. The case's status and timeline are
// its members' merged; its time limit is counted in working days.
package bundle

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/identity"
	"yiwang/internal/licence"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// Deps are what the bundle service needs.
type Deps struct {
	DB         *store.DB
	Catalog    *catalog.Store
	Drafts     *application.Drafts
	Identities *identity.Store
	Licences   *licence.Service // the licence that shows the enterprise a member established
	Protector  *pii.Protector
	Queue      application.Enqueuer
	// Retry is how long the advance job waits before looking again at
	// members still waiting (default 30s).
	Retry time.Duration
	Now   func() time.Time
}

// Service submits bundle cases and shows them.
type Service struct {
	d Deps
}

// New returns the bundle service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Retry == 0 {
		d.Retry = 30 * time.Second
	}
	return &Service{d: d}
}

// Member states, as stored.
const (
	Waiting   = "waiting"   // for the members it comes after
	Submitted = "submitted" // its application says the rest
	Skipped   = "skipped"   // does not apply under the answers
	Failed    = "failed"    // was not submitted: see its reason
)

// SubmitRequest is a bundle application: the answers to the bundle's and
// its members' questions, the combined form, and the one consent.
type SubmitRequest struct {
	Answers map[string]string `json:"answers"`
	Form    map[string]any    `json:"form"`
	// Pledges are the materials pledged (承诺) once for every member that
	// lets them be pledged.
	Pledges []string `json:"pledges,omitempty"`
	Consent bool     `json:"consent"`
	// IdempotencyKey makes a retried submission return the first case.
	IdempotencyKey string `json:"-"`
}

// Questions are everything the wizard asks before the form: the bundle's
// own situations (which members apply), then its members' situations,
// each once.
func Questions(b catalog.Bundle, items map[string]catalog.Item) []catalog.Situation {
	out := slices.Clone(b.Situations)
	for _, m := range b.Members {
		for _, s := range items[m.Item].Situations {
			if !slices.ContainsFunc(out, func(x catalog.Situation) bool { return x.ID == s.ID }) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Field is a field of the combined form: asked once, for every member
// that has a field with its id.
type Field struct {
	catalog.Field
	Members []string `json:"members"` // member ids
	// Auto: filled by the platform from government data or from a
	// member's result, never typed in the combined form.
	Auto bool `json:"auto"`
}

// CombinedForm is the combined form of the members that apply under
// answers: each field once, in member order. A field one member fills from
// a source and another asks is asked; a field every member fills from a
// source is marked Auto.
func CombinedForm(b catalog.Bundle, items map[string]catalog.Item, answers map[string]string) []Field {
	var out []Field
	at := map[string]int{}
	for _, m := range b.Applies(answers) {
		for _, f := range items[m.Item].Form {
			if !f.When.Matches(answers) || f.Type == "file" {
				continue
			}
			auto := f.Computed != nil || (f.Prefill != nil && !f.Prefill.Editable)
			if i, ok := at[f.ID]; ok {
				out[i].Members = append(out[i].Members, m.ID)
				if !auto && out[i].Auto {
					out[i].Field, out[i].Auto = f, false
				}
				continue
			}
			at[f.ID] = len(out)
			out = append(out, Field{Field: f, Members: []string{m.ID}, Auto: auto})
		}
	}
	return out
}

// memberAnswers are a member item's answers out of the case's.
func memberAnswers(it catalog.Item, answers map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range it.Situations {
		if a, ok := answers[s.ID]; ok {
			out[s.ID] = a
		}
	}
	return out
}

// items returns the items in service of the bundle's members, by code.
func (s *Service) items(ctx context.Context, b catalog.Bundle) (map[string]catalog.Item, error) {
	out := map[string]catalog.Item{}
	for _, m := range b.Members {
		v, err := s.d.Catalog.Current(ctx, m.Item)
		if err != nil {
			return nil, fmt.Errorf("member %s of %s: %w", m.ID, b.Code, err)
		}
		out[m.Item] = v.Item
	}
	return out, nil
}

// Definition is a bundle with its members' items in service, for the wizard.
type Definition struct {
	catalog.Bundle
	Items     map[string]catalog.Item `json:"items"`
	Questions []catalog.Situation     `json:"questions"`
}

// Get returns the bundle with code and its members' items.
func (s *Service) Get(ctx context.Context, code string) (Definition, error) {
	b, err := s.d.Catalog.Bundle(ctx, code)
	if err != nil {
		return Definition{}, err
	}
	items, err := s.items(ctx, b)
	if err != nil {
		return Definition{}, err
	}
	return Definition{Bundle: b, Items: items, Questions: Questions(b, items)}, nil
}

// List returns the catalogue's bundles.
func (s *Service) List(ctx context.Context) ([]catalog.Bundle, error) {
	bs, err := s.d.Catalog.Bundles(ctx)
	if bs == nil {
		bs = []catalog.Bundle{}
	}
	return bs, err
}

// checkAnswers insists each question has one of its answers.
func checkAnswers(qs []catalog.Situation, answers map[string]string) error {
	var problems []apperr.Detail
	for _, q := range qs {
		a := answers[q.ID]
		if !slices.ContainsFunc(q.Answers, func(x catalog.Answer) bool { return x.Value == a }) {
			problems = append(problems, apperr.Detail{Subject: q.ID, Words: apperr.Words{Zh: "请回答：" + q.Question.Zh, En: "Answer: " + q.Question.In("en")}})
		}
	}
	for k := range answers {
		if !slices.ContainsFunc(qs, func(q catalog.Situation) bool { return q.ID == k }) {
			problems = append(problems, apperr.Detail{Subject: k, Words: apperr.Words{Zh: fmt.Sprintf("本“一件事”没有“%s”这一问题。", k), En: fmt.Sprintf("The bundle asks no question %q.", k)}})
		}
	}
	if len(problems) > 0 {
		return apperr.New(apperr.Invalid, apperr.BadAnswers, "the answers are incomplete or wrong").WithDetails(problems)
	}
	return nil
}

// Submit submits a bundle: every member that applies and comes after no
// other is prepared first — its sources read, its form set from the
// combined form, its machine decision made — and then one transaction
// writes the case, those members' applications (each through its item's
// own approval mode) and the advance job for the members that wait. A
// member refused before the write (its form incomplete, the applicant not
// entitled) refuses the whole submission, saying which member and why,
// and nothing is written.
func (s *Service) Submit(ctx context.Context, p authz.Principal, code string, req SubmitRequest) (Case, error) {
	if err := authz.Require(p, authz.ActForOwn); err != nil {
		return Case{}, err
	}
	if req.IdempotencyKey != "" {
		if id, ok, err := s.remembered(ctx, s.d.DB, p, req.IdempotencyKey); err != nil || ok {
			if err != nil {
				return Case{}, err
			}
			return s.Case(ctx, p, id)
		}
	}
	def, err := s.Get(ctx, code)
	if err != nil {
		return Case{}, err
	}
	b := def.Bundle
	if (b.Target == "enterprise") != (p.ActingFor != nil) {
		if b.Target == "enterprise" {
			return Case{}, apperr.New(apperr.Forbidden, apperr.EnterpriseItem, "「%s」 is applied for by an enterprise: act for your enterprise first", b.Name.Zh)
		}
		return Case{}, apperr.New(apperr.Forbidden, apperr.PersonItem, "「%s」 is applied for by a person for themselves: stop acting for %s first", b.Name.Zh, p.ActingFor.Name)
	}
	if !req.Consent {
		return Case{}, apperr.New(apperr.Invalid, apperr.ConsentRequired,
			"to fill the forms for you the platform reads your data from government sources; agree by sending \"consent\": true")
	}
	if req.Answers == nil {
		req.Answers = map[string]string{}
	}
	if req.Form == nil {
		req.Form = map[string]any{}
	}
	if err := checkAnswers(def.Questions, req.Answers); err != nil {
		return Case{}, err
	}
	applies := b.Applies(req.Answers)
	var first []*application.Prepared
	var firstIDs []string
	for _, m := range applies {
		if len(after(m, applies)) > 0 {
			continue
		}
		pr, err := s.d.Drafts.PrepareApply(ctx, p, s.memberRequest(def.Items[m.Item], req.Answers, req.Form, req.Pledges))
		if err != nil {
			return Case{}, memberError(def.Items[m.Item], err)
		}
		first, firstIDs = append(first, pr), append(firstIDs, m.ID)
	}
	form, err := json.Marshal(sealedForm{Form: req.Form, Pledges: req.Pledges})
	if err != nil {
		return Case{}, err
	}
	answers, _ := json.Marshal(req.Answers)
	sealed, err := s.d.Protector.SealFor(string(form), "bundle_cases.form")
	if err != nil {
		return Case{}, err
	}
	definition, _ := json.Marshal(b)
	now := s.d.Now()
	deadline, err := s.d.Drafts.Deadline(ctx, now, b.TimeLimit.PromisedDays)
	if err != nil {
		return Case{}, err
	}
	var enterprise any
	if p.ActingFor != nil {
		enterprise = p.ActingFor.ID
	}
	var id int64
	var key any
	if req.IdempotencyKey != "" {
		key = req.IdempotencyKey
	}
	err = s.d.DB.InTx(ctx, func(tx *sql.Tx) error {
		prefix := "YJ-" + now.In(workday.CST).Format("20060102")
		n, err := s.d.Drafts.Sequence(ctx, tx, prefix)
		if err != nil {
			return err
		}
		number := fmt.Sprintf("%s-%06d", prefix, n)
		if err := tx.QueryRowContext(ctx, `INSERT INTO bundle_cases (number, bundle_code, definition, account_id, person_id, enterprise_id, answers, form, submitted_at, deadline, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING id`,
			number, b.Code, string(definition), p.AccountID, p.PersonID, enterprise, string(answers), sealed, now, deadline, key).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errKeyTaken
			}
			return fmt.Errorf("save bundle case: %w", err)
		}
		waiting := false
		for i, m := range b.Members {
			state, app := Skipped, any(nil)
			switch {
			case slices.Contains(firstIDs, m.ID):
				appID, err := s.d.Drafts.ApplyIn(ctx, tx, first[slices.Index(firstIDs, m.ID)])
				if err != nil {
					return memberError(def.Items[m.Item], err)
				}
				state, app = Submitted, appID
			case slices.ContainsFunc(applies, func(x catalog.Member) bool { return x.ID == m.ID }):
				state, waiting = Waiting, true
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO bundle_members (case_id, member_id, position, item_code, state, application_id, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, m.ID, i, m.Item, state, app, now); err != nil {
				return fmt.Errorf("save bundle member %s: %w", m.ID, err)
			}
		}
		if waiting {
			return s.enqueue(ctx, tx, id, time.Time{})
		}
		return nil
	})
	if errors.Is(err, errKeyTaken) {
		// A concurrent retry with the key submitted first.
		if first, ok, lookErr := s.remembered(ctx, s.d.DB, p, req.IdempotencyKey); lookErr == nil && ok {
			return s.Case(ctx, p, first)
		}
	}
	if err != nil {
		return Case{}, err
	}
	return s.Case(ctx, p, id)
}

// sealedForm is what bundle_cases.form holds, sealed: the combined form
// and the pledges, for the members submitted later.
type sealedForm struct {
	Form    map[string]any `json:"form"`
	Pledges []string       `json:"pledges"`
}

// Pledgeable are the materials of the members that apply under answers
// that the applicant may pledge, each once (by id).
func Pledgeable(b catalog.Bundle, items map[string]catalog.Item, answers map[string]string) []catalog.Material {
	var out []catalog.Material
	for _, m := range b.Applies(answers) {
		for _, mat := range items[m.Item].Materials {
			if mat.When.Matches(answers) && slices.ContainsFunc(mat.Sources, func(ms catalog.MaterialSource) bool { return ms.Commitment }) &&
				!slices.ContainsFunc(out, func(x catalog.Material) bool { return x.ID == mat.ID }) {
				out = append(out, mat)
			}
		}
	}
	return out
}

// errKeyTaken: a concurrent submission with the same key committed first.
var errKeyTaken = errors.New("idempotency key taken by a concurrent request")

// memberRequest is the one-call application of a member item.
func (s *Service) memberRequest(it catalog.Item, answers map[string]string, form map[string]any, pledges []string) application.ApplyRequest {
	return application.ApplyRequest{StartRequest: application.StartRequest{ItemCode: it.Code, Answers: memberAnswers(it, answers), Channel: "web"},
		Consent: true, Form: form, Pledges: pledges, Combined: true}
}

// memberError names the member an error is about.
func memberError(it catalog.Item, err error) error {
	e := apperr.As(err)
	if e == nil {
		return err
	}
	ds, _ := e.Details.([]apperr.Detail)
	details := make([]apperr.Detail, 0, len(ds)+1)
	details = append(details, apperr.Detail{Subject: it.Code, Words: apperr.Words{Zh: "「" + it.Name.Zh + "」未能提交：", En: "「" + it.Name.In("en") + "」 could not be submitted:"}})
	details = append(details, ds...)
	named := *e
	named.Message = it.Name.In("en") + ": " + e.Message
	return named.WithDetails(details)
}

// after are the members m comes after that apply too.
func after(m catalog.Member, applies []catalog.Member) []string {
	var out []string
	for _, a := range m.After {
		if slices.ContainsFunc(applies, func(x catalog.Member) bool { return x.ID == a }) {
			out = append(out, a)
		}
	}
	return out
}

// AdvanceArgs is the job that submits a case's waiting members once the
// members they come after are approved.
type AdvanceArgs struct {
	CaseID int64 `json:"case_id"`
}

// Kind names the job.
func (AdvanceArgs) Kind() string { return "bundle_advance" }

func (s *Service) enqueue(ctx context.Context, tx *sql.Tx, caseID int64, at time.Time) error {
	if s.d.Queue == nil {
		return errors.New("no job queue to advance the bundle")
	}
	_, err := s.d.Queue.Enqueue(ctx, tx, AdvanceArgs{CaseID: caseID}, &river.InsertOpts{ScheduledAt: at, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// succeeded reports whether an application's status counts as its member
// done with a result the next member may use.
func succeeded(status string) bool {
	return status == "approved" || status == "licence_issued" || status == "delivered"
}

// ended reports whether an application ended without approval.
func ended(status string) bool {
	return status == "rejected" || status == "not_accepted" || status == "withdrawn" || status == "revoked"
}

// Advance looks at a case's waiting members: one whose predecessors are all
// approved is submitted, each in its own transaction, so that one refused
// member does not hold back the others; one with a predecessor that ended
// without approval (or failed) is marked failed with the reason. It
// reports whether members still wait. It is safe to run again after a
// crash: a member is submitted only while its row still says waiting.
func (s *Service) Advance(ctx context.Context, caseID int64) (bool, error) {
	// Members approved at once (秒批) free the members after them in the
	// same run: look again while a pass changes something.
	for {
		still, changed, err := s.advanceOnce(ctx, caseID)
		if err != nil || !still || !changed {
			return still, err
		}
	}
}

// advanceOnce is one pass of Advance over the waiting members; changed
// says whether it submitted or failed any.
func (s *Service) advanceOnce(ctx context.Context, caseID int64) (still, changed bool, err error) {
	c, err := s.load(ctx, s.d.DB, caseID)
	if err != nil {
		return false, false, err
	}
	progress, err := s.progress(ctx, c)
	if err != nil {
		return false, false, err
	}
	byID := map[string]memberRow{}
	for _, m := range c.rows {
		byID[m.id] = m
	}
	for _, m := range c.rows {
		if m.state != Waiting {
			continue
		}
		def, _ := c.def.Member(m.id)
		ready, blocked := true, ""
		for _, a := range def.After {
			pre, ok := byID[a]
			switch {
			case !ok || pre.state == Skipped:
				continue
			case pre.state == Failed || (pre.state == Submitted && ended(progress[pre.app].Status)):
				blocked = a
			case pre.state == Submitted && succeeded(progress[pre.app].Status):
				continue
			}
			ready = false
		}
		if blocked != "" {
			name := c.itemName(byID[blocked].item)
			err := s.fail(ctx, caseID, m.id, apperr.Words{Zh: "前序事项「" + name.Zh + "」未获通过，本事项未提交。", En: "「" + name.In("en") + "」, which this needs, was not approved, so this was not submitted."})
			if err != nil {
				return false, false, err
			}
			changed = true
			continue
		}
		if !ready {
			still = true
			continue
		}
		if err := s.submitMember(ctx, c, m); err != nil {
			return false, false, err
		}
		changed = true
	}
	return still, changed, nil
}

// submitMember submits a waiting member as the case's applicant, checked
// now; a refusal (the applicant no longer entitled, the form incomplete)
// marks it failed with the reason.
func (s *Service) submitMember(ctx context.Context, c *stored, m memberRow) error {
	refused := func(err error) error {
		e := apperr.As(err)
		if e == nil || e.Kind == apperr.Internal || e.Kind == apperr.Unavailable {
			return err // tried again by the job
		}
		words := e.Words()
		ds, _ := e.Details.([]apperr.Detail)
		for _, d := range ds {
			words.Zh += d.Zh
			words.En += " " + d.En
		}
		return s.fail(ctx, c.id, m.id, words)
	}
	def, _ := c.def.Member(m.id)
	enterprise := c.enterpriseID
	if def.ActsFor != "" {
		var err error
		if enterprise, err = s.established(ctx, c, def.ActsFor); err != nil {
			return refused(err)
		}
	}
	p, err := s.d.Identities.ApplicantPrincipal(ctx, c.accountID, enterprise)
	if err != nil {
		return refused(err)
	}
	v, err := s.d.Catalog.Current(ctx, m.item)
	if err != nil {
		return refused(err)
	}
	pr, err := s.d.Drafts.PrepareApply(ctx, p, s.memberRequest(v.Item, c.answers, c.form, c.pledges))
	if err != nil {
		return refused(err)
	}
	return s.d.DB.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE bundle_members SET updated_at = $1 WHERE case_id = $2 AND member_id = $3 AND state = 'waiting'`, s.d.Now(), c.id, m.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another run submitted it
		}
		appID, err := s.d.Drafts.ApplyIn(ctx, tx, pr)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE bundle_members SET state = 'submitted', application_id = $1, updated_at = $2 WHERE case_id = $3 AND member_id = $4`,
			appID, s.d.Now(), c.id, m.id)
		return err
	})
}

// established is the enterprise the approved member of case c set up: the
// holder of its licence.
func (s *Service) established(ctx context.Context, c *stored, member string) (int64, error) {
	i := slices.IndexFunc(c.rows, func(r memberRow) bool { return r.id == member })
	if i < 0 || c.rows[i].app == 0 {
		return 0, fmt.Errorf("member %s of case %d has no application", member, c.id)
	}
	l, err := s.d.Licences.ByApplication(ctx, c.rows[i].app)
	if err != nil {
		return 0, err
	}
	e, err := s.d.Identities.EnterpriseByCode(ctx, l.Content.Holder.ID)
	if err != nil {
		return 0, err
	}
	return e.ID, nil
}

// fail marks a waiting member failed with the reason.
func (s *Service) fail(ctx context.Context, caseID int64, member string, why apperr.Words) error {
	_, err := s.d.DB.ExecContext(ctx, `UPDATE bundle_members SET state = 'failed', reason_zh = $1, reason_en = $2, updated_at = $3
		WHERE case_id = $4 AND member_id = $5 AND state = 'waiting'`, why.Zh, why.En, s.d.Now(), caseID, member)
	return err
}

// AdvanceWorker works the advance job: while members wait it looks again
// after the service's Retry.
type AdvanceWorker struct {
	river.WorkerDefaults[AdvanceArgs]
	svc *Service
}

// NewAdvanceWorker returns the worker; register it with jobs.Register.
func NewAdvanceWorker(svc *Service) *AdvanceWorker { return &AdvanceWorker{svc: svc} }

// Work advances the case, and snoozes while members still wait.
func (w *AdvanceWorker) Work(ctx context.Context, job *river.Job[AdvanceArgs]) error {
	still, err := w.svc.Advance(ctx, job.Args.CaseID)
	if err != nil {
		return err
	}
	if still {
		return river.JobSnooze(w.svc.d.Retry)
	}
	return nil
}
