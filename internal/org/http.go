package org

import (
	"log/slog"
	"net/http"

	"yiwang/internal/authz"
	"yiwang/internal/httpx"
)

// Handler serves the directory over the API.
type Handler struct {
	store  *Store
	logger *slog.Logger
}

// NewHandler returns the directory's HTTP handler.
func NewHandler(store *Store, logger *slog.Logger) *Handler {
	return &Handler{store: store, logger: logger}
}

// Register adds the directory's routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/regions", authz.Public, h.listRegions)
	r.HandleFunc("GET /api/v1/departments", authz.Public, h.listDepartments)
	r.HandleFunc("GET /api/v1/departments/{code}", authz.Public, h.getDepartment)
}

func (h *Handler) listRegions(w http.ResponseWriter, r *http.Request) {
	regions, err := h.store.Regions(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"regions": nonNil(regions)})
}

func (h *Handler) listDepartments(w http.ResponseWriter, r *http.Request) {
	deps, err := h.store.Departments(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"departments": nonNil(deps)})
}

func (h *Handler) getDepartment(w http.ResponseWriter, r *http.Request) {
	d, err := h.store.Department(r.Context(), r.PathValue("code"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
