package supervision

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"

	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the board to supervisors, as a page and over the API.
type Handler struct {
	board  *Board
	alerts *Alerts
	logger *slog.Logger
	pages  *web.Renderer
}

// NewHandler returns the board's handler.
func NewHandler(board *Board, alerts *Alerts, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, template.FuncMap{"kindLabel": func(k Kind, lang string) string { return Label(k, lang) }}, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{board: board, alerts: alerts, logger: logger, pages: pages}, nil
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/supervision/board", authz.Supervise, h.get)
	r.HandleFunc("POST /api/v1/supervision/board/{department}/alert", authz.Supervise, h.alert)
	r.HandleFunc("GET /workbench/supervision", authz.Supervise, h.page)
	r.HandleFunc("POST /workbench/supervision/{department}/alert", authz.Supervise, h.alertForm)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	v, err := h.board.Look(r.Context(), authz.From(r.Context()), r.URL.Query().Get("department"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

func (h *Handler) alert(w http.ResponseWriter, r *http.Request) {
	a, err := h.alerts.Send(r.Context(), authz.From(r.Context()), r.PathValue("department"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a)
}

// boardPage is what the board's page shows.
type boardPage struct {
	View
	Kinds   []KindLabel
	Alerted *Alerted // the alert just sent, if the page follows one
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v, err := h.board.Look(r.Context(), authz.From(r.Context()), q.Get("department"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := boardPage{View: v, Kinds: Kinds}
	if dept := q.Get("alerted"); dept != "" {
		heads := 1
		if q.Get("heads") == "0" {
			heads = 0
		}
		d.Alerted = &Alerted{Department: dept, Heads: heads}
	}
	h.pages.Render(w, r, http.StatusOK, "board.html", pick(web.Lang(w, r), "电子监察", "E-supervision"), d)
}

func (h *Handler) alertForm(w http.ResponseWriter, r *http.Request) {
	dept := r.PathValue("department")
	a, err := h.alerts.Send(r.Context(), authz.From(r.Context()), dept)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	heads := "1"
	if a.Heads == 0 {
		heads = "0"
	}
	http.Redirect(w, r, "/workbench/supervision?alerted="+url.QueryEscape(dept)+"&heads="+heads, http.StatusSeeOther)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) { h.pages.Fail(w, r, err) }

func pick(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}
