// Package portal serves the citizen-facing home page. Other domains serve
// their own pages (catalogue guides, search) through the shared web layout.
package portal

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"

	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/org"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the portal pages.
type Handler struct {
	org    *org.Store
	logger *slog.Logger
	pages  *web.Renderer
}

// NewHandler parses the embedded templates.
func NewHandler(orgStore *org.Store, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, nil, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{org: orgStore, logger: logger, pages: pages}, nil
}

// Register adds the portal's routes, including the shared static assets.
func (h *Handler) Register(r *httpx.Router) {
	r.Handle("GET /static/", authz.Public, web.Static())
	r.HandleFunc("GET /{$}", authz.Public, h.home)
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	deps, err := h.org.Departments(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	title := map[bool]string{true: "Home", false: "首页"}[web.Lang(w, r) == "en"]
	h.pages.Render(w, r, http.StatusOK, "home.html", title, deps)
}
