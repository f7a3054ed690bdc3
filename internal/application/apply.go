package application

import (
	"context"
	"database/sql"
	"errors"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/hub"
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
	start := req.StartRequest
	if err := checkChannel(&start); err != nil {
		return Application{}, err
	}
	w, err := s.applicant(ctx, p)
	if err != nil {
		return Application{}, err
	}
	d, err := s.planDraft(ctx, w, start, "")
	if err != nil {
		return Application{}, err
	}
	it := d.version.Item
	prog, err := s.submissionRules(ctx, d.version, &d.need)
	if err != nil {
		return Application{}, err
	}
	records, statuses, fetched := s.fetchAll(ctx, w, d.creditCode, d.need, d.purpose)
	d.fill(records, statuses)
	d.compute(records, statuses, s.now())
	a := &d.app
	if err := setForm(a, d.fields, req.Form); err != nil {
		return *a, err
	}
	if err := checkComplete(d.fields, a.Form); err != nil {
		return *a, err
	}
	if err := s.readyToSubmit(ctx, *a, it); err != nil {
		return *a, err
	}
	now := s.now()
	a.CreatedAt, a.Revision = now, 1
	a.Mismatches = mismatches(*a, records, statuses)
	decision := s.decideSubmission(*a, it, w, prog, records, statuses, now)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		ctx, audited := audit.Batched(ctx, tx)
		if err := s.grantConsents(ctx, tx, &d); err != nil {
			return err
		}
		if err := s.saveDraft(ctx, tx, a, p, 0); err != nil {
			return err
		}
		for i := range fetched {
			fetched[i].Application, fetched[i].Consent = a.ID, a.consentFor(fetched[i].Subject)
		}
		if err := s.reader.LogReads(ctx, tx, fetched); err != nil {
			return err
		}
		if err := s.remember(ctx, tx, p, key, "apply", req, a.ID); err != nil {
			return err
		}
		if err := s.submitIn(ctx, tx, w, a, it, decision, now); err != nil {
			return err
		}
		return audited.Flush(ctx)
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
	return s.get(ctx, p, a.ID)
}
