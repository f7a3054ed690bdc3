package application

import (
	"log/slog"
	"net/http"
	"strconv"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
)

// Handler serves applications over the API.
type Handler struct {
	svc    *Service
	logger *slog.Logger
}

// NewHandler returns the applications' HTTP handler.
func NewHandler(svc *Service, logger *slog.Logger) *Handler {
	return &Handler{svc: svc, logger: logger}
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("POST /api/v1/applications", authz.ActForOwn, h.start)
	r.HandleFunc("GET /api/v1/applications", authz.ActForOwn, h.list)
	r.HandleFunc("GET /api/v1/applications/{id}", authz.ActForOwn, h.get)
	r.HandleFunc("PATCH /api/v1/applications/{id}/form", authz.ActForOwn, h.updateForm)
	r.HandleFunc("POST /api/v1/applications/{id}/submit", authz.ActForOwn, h.submit)
	r.HandleFunc("GET /api/v1/me/data-reads", authz.ActForOwn, h.dataReads)
	r.HandleFunc("GET /api/v1/admin/decisions/{id}", authz.DecisionTrace, h.decisionRecord)
	r.HandleFunc("PUT /api/v1/admin/catalog/items/{code}/machine-approval", authz.MachineSwitch, h.machineSwitch)
	r.HandleFunc("GET /api/v1/admin/spot-checks", authz.Supervise, h.spotChecks)
}

// decisionRecord shows staff the whole trace of a machine decision.
func (h *Handler) decisionRecord(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	d, err := h.svc.DecisionRecord(r.Context(), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

func (h *Handler) machineSwitch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Suspended bool   `json:"suspended"`
		Reason    string `json:"reason"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	code := r.PathValue("code")
	if err := h.svc.SetMachineSuspended(r.Context(), authz.From(r.Context()), code, req.Suspended, req.Reason); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.logger.InfoContext(r.Context(), "machine approval switched", "item", code, "suspended", req.Suspended, "by", authz.From(r.Context()).AccountID)
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"item_code": code, "machine_suspended": req.Suspended})
}

func (h *Handler) spotChecks(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.SpotChecks(r.Context(), r.URL.Query().Get("status"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"spot_checks": list})
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ItemCode string            `json:"item_code"`
		Answers  map[string]string `json:"answers"`
		Consent  bool              `json:"consent"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if !req.Consent {
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, "consent_required",
			"to fill the form for you the platform reads your data from government sources; agree by sending \"consent\": true"))
		return
	}
	a, err := h.svc.Start(r.Context(), authz.From(r.Context()), req.ItemCode, req.Answers)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, a)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Mine(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"applications": list})
}

func idOf(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.Invalid, "bad_id", "the application id must be a positive whole number")
	}
	return id, nil
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	a, err := h.svc.Get(r.Context(), authz.From(r.Context()), id)
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
	a, err := h.svc.UpdateForm(r.Context(), authz.From(r.Context()), id, values)
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
	a, err := h.svc.Submit(r.Context(), authz.From(r.Context()), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a)
}

func (h *Handler) dataReads(w http.ResponseWriter, r *http.Request) {
	reads, err := h.svc.ReadsAboutMe(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"reads": reads})
}
