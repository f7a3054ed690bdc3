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
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"sweeps": list})
}
