package application

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/logging"
)

// Handler serves applications over the API.
type Handler struct {
	svc    Services
	logger *slog.Logger
}

// NewHandler returns the applications' HTTP handler.
func NewHandler(svc Services, logger *slog.Logger) *Handler {
	return &Handler{svc: svc, logger: logger}
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("POST /api/v1/applications", authz.ActForOwn, h.start)
	r.HandleFunc("POST /api/v1/submissions", authz.ActForOwn, h.apply)
	r.HandleFunc("GET /api/v1/applications", authz.ActForOwn, h.list)
	r.HandleFunc("GET /api/v1/applications/{id}", authz.ActForOwn, h.get)
	r.HandleFunc("PATCH /api/v1/applications/{id}/form", authz.ActForOwn, h.updateForm)
	r.HandleFunc("POST /api/v1/applications/{id}/submit", authz.ActForOwn, h.submit)
	r.HandleFunc("GET /api/v1/me/data-reads", authz.ActForOwn, h.dataReads)
	r.HandleFunc("GET /api/v1/admin/decisions/{id}", authz.DecisionTrace, h.decisionRecord)
	r.HandleFunc("PUT /api/v1/admin/catalog/items/{code}/machine-approval", authz.MachineSwitch, h.machineSwitch)
	r.HandleFunc("GET /api/v1/supervision/overdue", authz.OverdueView, h.overdue)
	r.HandleFunc("POST /api/v1/applications/{id}/correction", authz.ActForOwn, h.supplyCorrection)
	r.HandleFunc("POST /api/v1/applications/{id}/withdraw", authz.ActForOwn, h.withdraw)
	r.HandleFunc("POST /api/v1/applications/{id}/decline", authz.ActForOwn, h.decline)
	r.HandleFunc("GET /api/v1/tasks", authz.ReviewTasks, h.inbox)
	r.HandleFunc("POST /api/v1/tasks/{id}/claim", authz.ReviewTasks, h.taskClaim)
	r.HandleFunc("POST /api/v1/tasks/{id}/release", authz.ReviewTasks, h.taskRelease)
	r.HandleFunc("POST /api/v1/tasks/{id}/reassign", authz.ReviewTasks, h.taskReassign)
	r.HandleFunc("POST /api/v1/tasks/{id}/decision", authz.ReviewTasks, h.taskDecision)
	r.HandleFunc("POST /api/v1/tasks/{id}/correction", authz.ReviewTasks, h.taskCorrection)
	r.HandleFunc("POST /api/v1/tasks/{id}/special-procedure", authz.ReviewTasks, h.taskSpecialStart)
	r.HandleFunc("DELETE /api/v1/tasks/{id}/special-procedure", authz.ReviewTasks, h.taskSpecialEnd)
	r.HandleFunc("GET /api/v1/staff/applications/{id}", authz.SignedIn, h.staffApplication)
	r.HandleFunc("POST /api/v1/staff/applications/{id}/revoke", authz.Decide, h.revoke)
	r.HandleFunc("POST /api/v1/window/applications", authz.WindowIntake, h.intake)
	r.HandleFunc("PUT /api/v1/applications/{id}/materials/{material}", authz.SignedIn, h.uploadMaterial)
	r.HandleFunc("GET /api/v1/applications/{id}/materials/{material}", authz.SignedIn, h.downloadMaterial)
	r.HandleFunc("POST /api/v1/applications/{id}/materials/{material}/commitment", authz.ActForOwn, h.pledgeMaterial)
}

func (h *Handler) intake(w http.ResponseWriter, r *http.Request) {
	var req IntakeRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	a, err := h.svc.Drafts.Intake(r.Context(), authz.From(r.Context()), req)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, a)
}

// uploadMaterial takes the file as the request body, whatever its name or
// declared type: the store decides the type from the content.
func (h *Handler) uploadMaterial(w http.ResponseWriter, r *http.Request) {
	act[struct{}](h, w, r, nil, func(p authz.Principal, id, expect int64) (any, error) {
		return h.svc.Drafts.UploadMaterial(r.Context(), p, id, expect, r.PathValue("material"), r.Body, r.URL.Query().Get("verified") == "true")
	})
}

func (h *Handler) pledgeMaterial(w http.ResponseWriter, r *http.Request) {
	act[struct{}](h, w, r, nil, func(p authz.Principal, id, expect int64) (any, error) {
		return h.svc.Drafts.PledgeMaterial(r.Context(), p, id, expect, r.PathValue("material"))
	})
}

func (h *Handler) downloadMaterial(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	rc, f, err := h.svc.Drafts.OpenMaterial(r.Context(), authz.From(r.Context()), id, r.PathValue("material"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", f.MediaType)
	w.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
	w.Header().Set("Content-Disposition", "attachment")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if _, err := io.Copy(w, rc); err != nil {
		h.logger.WarnContext(r.Context(), "material download cut short", "application", id, "err", err)
	}
}

// ifMatch reads the revision the caller saw from If-Match ("3" or 3); none is 0.
func ifMatch(r *http.Request) (int64, error) {
	v := strings.Trim(strings.TrimPrefix(r.Header.Get("If-Match"), "W/"), `"`)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, apperr.New(apperr.Invalid, apperr.BadIfMatch, "If-Match must carry the application's revision, a positive whole number")
	}
	return n, nil
}

// act decodes a JSON body into req (when not nil), reads the id and If-Match
// and answers with what do returns.
func act[T any](h *Handler, w http.ResponseWriter, r *http.Request, req *T, do func(p authz.Principal, id, expect int64) (any, error)) {
	id, err := idOf(r)
	if err == nil && req != nil {
		err = httpx.DecodeJSON(w, r, req)
	}
	var expect int64
	if err == nil {
		expect, err = ifMatch(r)
	}
	var out any
	if err == nil {
		out, err = do(authz.From(r.Context()), id, expect)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

type reasonBody struct {
	Reason string `json:"reason"`
}

func (h *Handler) supplyCorrection(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Form map[string]any `json:"form"`
	}
	act(h, w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		return h.svc.Drafts.SupplyCorrection(r.Context(), p, id, expect, req.Form)
	})
}

func (h *Handler) withdraw(w http.ResponseWriter, r *http.Request) {
	var req reasonBody
	act(h, w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		return h.svc.Drafts.Withdraw(r.Context(), p, id, expect, req.Reason)
	})
}

func (h *Handler) decline(w http.ResponseWriter, r *http.Request) {
	var req reasonBody
	act(h, w, r, &req, func(p authz.Principal, id, _ int64) (any, error) {
		return h.svc.Drafts.Decline(r.Context(), p, id, req.Reason)
	})
}

func (h *Handler) inbox(w http.ResponseWriter, r *http.Request) {
	tasks, err := h.svc.Tasks.Inbox(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"tasks": tasks})
}

func (h *Handler) taskClaim(w http.ResponseWriter, r *http.Request) {
	act[struct{}](h, w, r, nil, func(p authz.Principal, id, _ int64) (any, error) { return nil, h.svc.Tasks.Claim(r.Context(), p, id) })
}

func (h *Handler) taskRelease(w http.ResponseWriter, r *http.Request) {
	act[struct{}](h, w, r, nil, func(p authz.Principal, id, _ int64) (any, error) { return nil, h.svc.Tasks.Release(r.Context(), p, id) })
}

func (h *Handler) taskReassign(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AccountID int64 `json:"account_id"`
	}
	act(h, w, r, &req, func(p authz.Principal, id, _ int64) (any, error) {
		return nil, h.svc.Tasks.Reassign(r.Context(), p, id, req.AccountID)
	})
}

func (h *Handler) taskDecision(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Outcome string   `json:"outcome"` // approve or reject
		Reasons []string `json:"reasons"`
		Note    string   `json:"note"`
	}
	act(h, w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		if req.Outcome != "approve" && req.Outcome != "reject" {
			return nil, apperr.New(apperr.Invalid, apperr.BadOutcome, "the outcome must be approve or reject, not %q", req.Outcome)
		}
		return h.svc.Tasks.DecideTask(r.Context(), p, id, expect, req.Outcome == "approve", req.Reasons, req.Note)
	})
}

func (h *Handler) taskCorrection(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Items []CorrectionItem `json:"items"`
	}
	act(h, w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		return h.svc.Tasks.RequestCorrection(r.Context(), p, id, expect, req.Items)
	})
}

func (h *Handler) taskSpecialStart(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Kind   string `json:"kind"`
		Reason string `json:"reason"`
	}
	act(h, w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		return h.svc.Tasks.StartSpecial(r.Context(), p, id, expect, req.Kind, req.Reason)
	})
}

func (h *Handler) taskSpecialEnd(w http.ResponseWriter, r *http.Request) {
	act[struct{}](h, w, r, nil, func(p authz.Principal, id, expect int64) (any, error) {
		return h.svc.Tasks.EndSpecial(r.Context(), p, id, expect, r.URL.Query().Get("note"))
	})
}

// staffApplication shows staff an application with its personal data
// masked; with ?purpose=… in full, the view written to the access log. A
// purpose given empty or too short is refused, not ignored.
func (h *Handler) staffApplication(w http.ResponseWriter, r *http.Request) {
	act[struct{}](h, w, r, nil, func(p authz.Principal, id, _ int64) (any, error) {
		if q := r.URL.Query(); q.Has("purpose") {
			return h.svc.Tasks.RevealApplication(r.Context(), p, id, q.Get("purpose"), logging.RequestID(r.Context()))
		}
		return h.svc.Tasks.StaffApplication(r.Context(), p, id)
	})
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	var req reasonBody
	act(h, w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		return h.svc.Tasks.Revoke(r.Context(), p, id, expect, req.Reason)
	})
}

// decisionRecord shows staff the whole trace of a machine decision.
func (h *Handler) decisionRecord(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	d, err := h.svc.Decisions.DecisionRecord(r.Context(), authz.From(r.Context()), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

// switchRequest turns machine approval off or on, saying why.
type switchRequest struct {
	Suspended bool   `json:"suspended"`
	Reason    string `json:"reason"`
}

func (h *Handler) machineSwitch(w http.ResponseWriter, r *http.Request) {
	var req switchRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	code := r.PathValue("code")
	if err := h.svc.Decisions.SetMachineSuspended(r.Context(), authz.From(r.Context()), code, req.Suspended, req.Reason); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.logger.InfoContext(r.Context(), "machine approval switched", "item", code, "suspended", req.Suspended, "by", authz.From(r.Context()).AccountID)
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"item_code": code, "machine_suspended": req.Suspended})
}

func (h *Handler) overdue(w http.ResponseWriter, r *http.Request) {
	b, err := h.svc.Deadlines.Overdue(r.Context(), authz.From(r.Context()), r.URL.Query().Get("department"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, b)
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	var req struct {
		StartRequest
		Consent bool `json:"consent"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if !req.Consent {
		httpx.WriteError(w, r, h.logger, consentRequired())
		return
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	a, err := h.svc.Drafts.Start(r.Context(), authz.From(r.Context()), req.StartRequest)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, a)
}

// apply answers a whole application in one call: started, filled,
// submitted and decided (Drafts.Apply).
func (h *Handler) apply(w http.ResponseWriter, r *http.Request) {
	var req ApplyRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	a, err := h.svc.Drafts.Apply(r.Context(), authz.From(r.Context()), req)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, a)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Drafts.Mine(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"applications": list})
}

func idOf(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.Invalid, apperr.BadID, "the application id must be a positive whole number")
	}
	return id, nil
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	a, err := h.svc.Drafts.Get(r.Context(), authz.From(r.Context()), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a)
}

func (h *Handler) updateForm(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	var values map[string]any
	if err := httpx.DecodeJSON(w, r, &values); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	a, err := h.svc.Drafts.UpdateForm(r.Context(), authz.From(r.Context()), id, values)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a)
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	expect, err := ifMatch(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	a, err := h.svc.Drafts.Submit(r.Context(), authz.From(r.Context()), id, expect, r.Header.Get("Idempotency-Key"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a)
}

func (h *Handler) dataReads(w http.ResponseWriter, r *http.Request) {
	reads, err := h.svc.Drafts.ReadsAboutMe(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"reads": reads})
}
