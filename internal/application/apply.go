package application

import (
	"context"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
)

// ApplyRequest is a whole application in one call: what to apply for, the
// applicant's consent to read their data, and the fields they type; the
// platform fills in the rest (秒报), submits, and decides (秒批).
type ApplyRequest struct {
	StartRequest
	Consent bool           `json:"consent"`
	Form    map[string]any `json:"form"`
}

// Apply starts, fills and submits an application in one call, for other
// systems, kiosks and the wizard's last step. The Idempotency-Key is
// required: a retry with it answers the application as it is now and never
// applies twice; a retry after a refusal (a field missing, say) goes on from
// the draft the first call left, with the same key and request.
func (s *Drafts) Apply(ctx context.Context, p authz.Principal, req ApplyRequest) (Application, error) {
	key := req.IdempotencyKey
	if key == "" {
		return Application{}, apperr.New(apperr.Invalid, apperr.IdempotencyKeyRequired, "send an Idempotency-Key header with a one-call application, so that a retry never applies twice")
	}
	if len(key) > maxApplyKey {
		return Application{}, apperr.New(apperr.Invalid, apperr.BadIdempotencyKey, "an Idempotency-Key of a one-call application has at most %d characters", maxApplyKey)
	}
	if err := checkKey(key); err != nil {
		return Application{}, err
	}
	if !req.Consent {
		return Application{}, consentRequired()
	}
	start := req.StartRequest
	start.IdempotencyKey = key + ":start"
	a, err := s.Start(ctx, p, start)
	if err != nil || a.Status != "draft" {
		return a, err // refused, or a retry of one submitted already
	}
	if len(req.Form) > 0 {
		if a, err = s.UpdateForm(ctx, p, a.ID, req.Form); err != nil {
			return a, err
		}
	}
	return s.Submit(ctx, p, a.ID, a.Revision, key+applyStep)
}

// maxApplyKey leaves room in the stored keys for the steps' marks.
const maxApplyKey = maxKey - 10

// applyStep marks the submission of a one-call application among the keys
// the caller's Idempotency-Key stands for (its start has ":start").
const applyStep = ":submit"
