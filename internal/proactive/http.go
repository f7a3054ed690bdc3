package proactive

import (
	"log/slog"
	"net/http"
	"strconv"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
)

// Handler serves the sweeps to supervisors over the API.
type Handler struct {
	engine *Engine
	logger *slog.Logger
}

// NewHandler returns the proactive services' HTTP handler.
func NewHandler(e *Engine, logger *slog.Logger) *Handler { return &Handler{engine: e, logger: logger} }

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/supervision/proactive-sweeps", authz.Supervise, h.sweeps)
	r.HandleFunc("POST /api/v1/me/eligibility", authz.ActForOwn, h.eligibility)
}

// eligibility is 我能办 / 我能享 over the API: the items the caller (or the
// enterprise they act for) qualifies for now, and nearly does, on the
// consent the body gives.
func (h *Handler) eligibility(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Consent bool `json:"consent"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if !req.Consent {
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, apperr.ConsentRequired, "to judge which services you qualify for the platform reads your data; agree by sending \"consent\": true"))
		return
	}
	items, err := h.engine.apps.Eligible(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h *Handler) sweeps(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			httpx.WriteError(w, r, h.logger, apperr.New(apperr.Invalid, apperr.BadLimit, "limit is a whole number from 1 to 100"))
			return
		}
		limit = n
	}
	list, err := h.engine.Sweeps(r.Context(), authz.From(r.Context()), limit)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if list == nil {
		list = []Report{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"sweeps": list})
}
