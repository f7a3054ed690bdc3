// Package portal serves the server-rendered pages people use, with templates
// and assets embedded in the binary. Pages are Chinese by default; ?lang=en
// (remembered in a cookie) switches to English.
package portal

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"yiwang/internal/httpx"
	"yiwang/internal/org"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Handler serves the portal pages.
type Handler struct {
	org    *org.Store
	logger *slog.Logger
	pages  *template.Template
}

// NewHandler parses the embedded templates.
func NewHandler(orgStore *org.Store, logger *slog.Logger) *Handler {
	pages := template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))
	return &Handler{org: orgStore, logger: logger, pages: pages}
}

// Register adds the portal's routes.
func (h *Handler) Register(r *httpx.Router) {
	static, _ := fs.Sub(staticFS, "static")
	r.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	r.HandleFunc("GET /{$}", h.home)
}

// lang picks the page language: ?lang= wins and is remembered; then the cookie.
func lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "zh" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && c.Value == "en" {
		return "en"
	}
	return "zh"
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	deps, err := h.org.Departments(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.render(w, r, "home.html", map[string]any{"Lang": lang(w, r), "Departments": deps})
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := h.pages.ExecuteTemplate(w, name, data); err != nil {
		h.logger.ErrorContext(r.Context(), "render page", "page", name, "err", err)
	}
}
