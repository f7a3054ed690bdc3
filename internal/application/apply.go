package application

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/rules"
)

// consentFor is the consent of a's a read of subject was made under: the
// enterprise's for an enterprise's record, else the applicant's.
func (a *Application) consentFor(subject hub.Subject) int64 {
	if subject.Kind == hub.Enterprise && len(a.consents) > 1 {
		return a.consents[1]
	}
	return a.consentID
}

// ApplyRequest is a whole application in one call: what to apply for, the
// applicant's consent to read their data, and the fields they type; the
// platform fills in the rest (秒报), submits, and decides (秒批).
type ApplyRequest struct {
	StartRequest
	Consent bool           `json:"consent"`
	Form    map[string]any `json:"form"`
	// Pledges are the materials the applicant pledges (承诺) instead of
	// supplying, where the item allows a commitment for them; each is
	// signed with the application.
	Pledges []string `json:"pledges,omitempty"`
	// Combined marks a bundle's combined form and pledges (see PrepareApply).
	Combined bool `json:"-"`
}

// Apply starts, fills and submits an application in one call, for other
// systems, kiosks and the wizard's last step. Everything is worked out
// before the write: the sources are read once (for the form and for the
// rules together) and the decision made; then one transaction stores the
// consent, the reads' log, the application, its timeline, the decision and
// what its mode does next (for a machine approval: the licence, the hub
// record, the notifications and the audit entries). A refused call writes
// nothing.
//
// The Idempotency-Key is required: a retry with it answers the application
// as it is now and never applies twice.
func (s *Drafts) Apply(ctx context.Context, p authz.Principal, req ApplyRequest) (Application, error) {
	key := req.IdempotencyKey
	if key == "" {
		return Application{}, apperr.New(apperr.Invalid, apperr.IdempotencyKeyRequired, "send an Idempotency-Key header with a one-call application, so that a retry never applies twice")
	}
	if err := checkKey(key); err != nil {
		return Application{}, err
	}
	if !req.Consent {
		return Application{}, consentRequired()
	}
	if id, ok, err := s.remembered(ctx, p, key, "apply", req); err != nil || ok {
		if err != nil {
			return Application{}, err
		}
		return s.get(ctx, p, id)
	}
	pr, err := s.PrepareApply(ctx, p, req)
	if err != nil {
		return pr.Application(), err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := s.ApplyIn(ctx, tx, pr)
		return err
	})
	if errors.Is(err, errKeyTaken) {
		// A concurrent retry with the key applied first.
		if id, ok, lookErr := s.remembered(ctx, p, key, "apply", req); lookErr == nil && ok {
			return s.get(ctx, p, id)
		}
	}
	if err != nil {
		return Application{}, err
	}
	return s.get(ctx, p, pr.d.app.ID)
}

// Prepared is a one-call application worked out and not yet written: the
// draft filled from the sources, the form set, the decision made.
type Prepared struct {
	d        draft
	req      ApplyRequest
	fetched  []hub.Fetched
	decision *rules.Decision
	pledges  []catalog.Material // signed with the application
}

// pledge attaches the pledged materials as signed commitments (trust D,
// or the material's own level). A material the item does not let be
// pledged is refused, or, in a bundle's combined request, left to the
// members that do.
func (pr *Prepared) pledge(ids []string, combined bool) error {
	a := &pr.d.app
	for _, id := range ids {
		i := slices.IndexFunc(pr.d.materials, func(m catalog.Material) bool { return m.ID == id })
		ok := i >= 0 && slices.ContainsFunc(pr.d.materials[i].Sources, func(ms catalog.MaterialSource) bool { return ms.Commitment })
		if !ok {
			if combined {
				continue
			}
			return apperr.New(apperr.Invalid, apperr.NotAccepted, "「%s」 cannot be pledged: the item asks for the material itself, or does not ask for it", id)
		}
		m := pr.d.materials[i]
		j := slices.IndexFunc(a.Materials, func(am Material) bool { return am.ID == id })
		if a.Materials[j].Attached {
			continue
		}
		trust := m.Trust
		if trust == "" {
			trust = TrustCommitment
		}
		text := PledgeText(m)
		a.Materials[j].Attached, a.Materials[j].Source, a.Materials[j].Trust, a.Materials[j].Ref = true, "commitment", trust, digest(text)
		a.MaterialsAttached++
		pr.pledges = append(pr.pledges, m)
	}
	return nil
}

// Application is the prepared application as it will be saved (without an
// id); after ApplyIn, as it was saved.
func (pr *Prepared) Application() Application {
	if pr == nil {
		return Application{}
	}
	return pr.d.app
}

// PrepareApply works out everything of a one-call application that comes
// before its write, and writes nothing: it checks the applicant and the
// answers, reads the sources once (for the form and the rules), sets the
// form, checks it is complete and makes the machine's decision. With
// req.Combined the form is a bundle's combined form: values for fields the
// item does not ask, or that the sources filled and the item does not let
// the applicant change, are left out rather than refused.
func (s *Drafts) PrepareApply(ctx context.Context, p authz.Principal, req ApplyRequest) (*Prepared, error) {
	start := req.StartRequest
	if err := checkChannel(&start); err != nil {
		return nil, err
	}
	w, err := s.applicant(ctx, p)
	if err != nil {
		return nil, err
	}
	d, err := s.planDraft(ctx, w, start, "")
	if err != nil {
		return nil, err
	}
	it := d.version.Item
	prog, err := s.submissionRules(ctx, d.version, &d.need)
	if err != nil {
		return nil, err
	}
	records, statuses, fetched := s.fetchAll(ctx, w, d.creditCode, d.need, d.purpose)
	d.fill(records, statuses)
	d.compute(records, statuses, s.now())
	pr := &Prepared{d: d, req: req, fetched: fetched}
	a := &pr.d.app
	form := req.Form
	if req.Combined {
		form = settable(*a, pr.d.fields, req.Form)
	}
	if err := setForm(a, pr.d.fields, form); err != nil {
		return pr, err
	}
	if err := checkComplete(pr.d.fields, a.Form); err != nil {
		return pr, err
	}
	if err := pr.pledge(req.Pledges, req.Combined); err != nil {
		return pr, err
	}
	if err := s.readyToSubmit(ctx, *a, it); err != nil {
		return pr, err
	}
	now := s.now()
	a.CreatedAt, a.Revision = now, 1
	a.Mismatches = mismatches(*a, records, statuses)
	pr.decision = s.decideSubmission(*a, it, w, prog, records, statuses, now)
	return pr, nil
}

// settable keeps the values of form that a's fields let the applicant set.
func settable(a Application, fields []catalog.Field, form map[string]any) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		v, ok := form[f.ID]
		if !ok || f.Computed != nil {
			continue
		}
		if pv, ok := a.Provenance[f.ID]; ok && pv.Status == "filled" && !pv.Editable {
			continue
		}
		out[f.ID] = v
	}
	return out
}

// ApplyIn writes a prepared application in tx — its consent, the reads'
// log, the application, its timeline, the decision and what its mode does
// next — and returns its id. It remembers the request's idempotency key
// when it has one; a bundle's members have none, their bundle keeps it.
func (s *Drafts) ApplyIn(ctx context.Context, tx *sql.Tx, pr *Prepared) (int64, error) {
	ctx, audited := audit.Batched(ctx, tx)
	d, a, p := &pr.d, &pr.d.app, pr.d.w.p
	if err := s.grantConsents(ctx, tx, d); err != nil {
		return 0, err
	}
	if err := s.saveDraft(ctx, tx, a, p, 0); err != nil {
		return 0, err
	}
	for i := range pr.fetched {
		pr.fetched[i].Application, pr.fetched[i].Consent = a.ID, a.consentFor(pr.fetched[i].Subject)
	}
	if err := s.reader.LogReads(ctx, tx, pr.fetched); err != nil {
		return 0, err
	}
	for _, m := range pr.pledges {
		if _, err := s.sign(ctx, tx, a.ID, "material:"+m.ID, p, d.w.name, PledgeText(m)); err != nil {
			return 0, err
		}
	}
	if key := pr.req.IdempotencyKey; key != "" {
		if err := s.remember(ctx, tx, p, key, "apply", pr.req, a.ID); err != nil {
			return 0, err
		}
	}
	if err := s.submitIn(ctx, tx, d.w, a, d.version.Item, pr.decision, a.CreatedAt); err != nil {
		return 0, err
	}
	return a.ID, audited.Flush(ctx)
}
