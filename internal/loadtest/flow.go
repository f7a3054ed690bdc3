package loadtest

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Flows: how the tool makes an application.
const (
	// FlowThreeRequest is what the portal does: start the application (秒报
	// prefill), fill what the registries did not, submit.
	FlowThreeRequest = "three-request"
	// FlowOneCall is what another government system does: one
	// POST /api/v1/submissions with an Idempotency-Key, answered 201 with
	// the decided application.
	FlowOneCall = "one-call"
)

// oneCallKeys numbers the Idempotency-Keys of the one-call flow; the
// process's start time keeps them apart from an earlier run's.
type oneCallKeys struct {
	prefix string
	n      atomic.Int64
}

func (k *oneCallKeys) next() string {
	return k.prefix + strconv.FormatInt(k.n.Add(1), 10)
}

// applyInOneCall makes one application as s in one submission call: the
// situation answers, consent, and the fields no registry fills. The call is
// timed as the submit of the three-request flow is.
func (r *runner) applyInOneCall(s *session, due time.Time) {
	measured := !due.Before(r.measureFrom)
	body := map[string]any{"item_code": r.opts.Item, "consent": true, "form": r.plan.unsourced(s.Login)}
	if len(r.plan.answers) > 0 {
		body["answers"] = r.plan.answers
	}
	var done struct {
		ID       int64     `json:"id"`
		Decision *decision `json:"decision"`
	}
	t := time.Now()
	code, err := r.cs[s.srv].callWith(r.ctx, s, "POST", "/api/v1/submissions", map[string]string{"Idempotency-Key": r.keys.next()}, body, http.StatusCreated, &done)
	r.submitted(s, measured, "submission", code, err, done.ID, done.Decision, time.Since(t), due)
}

// unsourced returns values for the required fields no registry fills:
// without a draft to look at, what the server prefills is left to it.
func (p plan) unsourced(login string) map[string]any {
	prefilled := map[string]any{}
	for _, f := range p.fields {
		if f.Prefill != nil && f.Prefill.Source != "" {
			prefilled[f.ID] = true
		}
	}
	return p.fill(prefilled, login)
}

func newOneCallKeys() *oneCallKeys {
	return &oneCallKeys{prefix: fmt.Sprintf("bench-%d-", time.Now().UnixNano())}
}
