package simulate

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the simulations' API and pages.
type Handler struct {
	svc    *Service
	logger *slog.Logger
	pages  *web.Renderer
}

// NewHandler returns the handler.
func NewHandler(svc *Service, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, template.FuncMap{"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }}, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, logger: logger, pages: pages}, nil
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("POST /api/v1/admin/catalog/items/{code}/simulations", authz.CatalogManage, h.start)
	r.HandleFunc("GET /api/v1/admin/simulations/{id}", authz.CatalogManage, h.get)
	r.HandleFunc("POST /admin/catalog/{code}/simulations", authz.CatalogManage, h.startPage)
	r.HandleFunc("GET /admin/simulations/{id}", authz.CatalogManage, h.page)
}

// StartRequest is the body of a start.
type StartRequest struct {
	VersionID int64  `json:"version_id"`
	Since     string `json:"since"`
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	var req StartRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	id, err := h.svc.Start(r.Context(), authz.From(r.Context()), r.PathValue("code"), req.VersionID, req.Since)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, map[string]any{"id": id})
}

func (h *Handler) load(r *http.Request) (Simulation, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return Simulation{}, apperr.New(apperr.NotFound, apperr.SimulationNotFound, "no simulation has the id %q", r.PathValue("id"))
	}
	return h.svc.Get(r.Context(), id)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	m, err := h.load(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, m)
}

// startPage is the item admin page's form: the version by its number.
func (h *Handler) startPage(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	n, err := strconv.Atoi(r.FormValue("version"))
	if err != nil {
		h.pages.Fail(w, r, apperr.New(apperr.Invalid, apperr.BadVersion, "the version is a whole number"))
		return
	}
	v, err := h.svc.catalog.Version(r.Context(), code, n)
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	id, err := h.svc.Start(r.Context(), authz.From(r.Context()), code, v.ID, r.FormValue("since"))
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/simulations/%d", id), http.StatusSeeOther)
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	m, err := h.load(r)
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	title := "规则变更模拟"
	if web.Lang(w, r) == "en" {
		title = "Rule-change simulation"
	}
	h.pages.Render(w, r, http.StatusOK, "simulation.html", title, m)
}
