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
	r.HandleFunc("GET /api/v1/halls", authz.Public, h.listHalls)
	r.HandleFunc("PUT /api/v1/admin/halls/{code}", authz.OrgManage, h.putHall)
	r.HandleFunc("PUT /api/v1/admin/halls/{code}/windows/{number}", authz.OrgManage, h.putWindow)
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

func (h *Handler) listHalls(w http.ResponseWriter, r *http.Request) {
	halls, err := h.store.Halls(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"halls": nonNil(halls)})
}

func (h *Handler) putHall(w http.ResponseWriter, r *http.Request) {
	var hall Hall
	if err := httpx.DecodeJSON(w, r, &hall); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	hall.Code = r.PathValue("code")
	if err := h.store.PutHall(r.Context(), hall); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.listHalls(w, r)
}

func (h *Handler) putWindow(w http.ResponseWriter, r *http.Request) {
	var win Window
	if err := httpx.DecodeJSON(w, r, &win); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	win.Number = r.PathValue("number")
	if err := h.store.PutWindow(r.Context(), r.PathValue("code"), win); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.listHalls(w, r)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
