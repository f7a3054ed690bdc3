package credit

import (
	"embed"
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

// Handler serves a person's credit and the departments' repair queues.
type Handler struct {
	svc    *Service
	logger *slog.Logger
	pages  *web.Renderer
}

// NewHandler returns the credit handler.
func NewHandler(svc *Service, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, nil, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, logger: logger, pages: pages}, nil
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/me/credit", authz.ActForOwn, h.mine)
	r.HandleFunc("POST /api/v1/me/credit/repairs", authz.ActForOwn, h.apply)
	r.HandleFunc("GET /me/credit", authz.ActForOwn, h.minePage)
	r.HandleFunc("POST /me/credit/repairs", authz.ActForOwn, h.applyPage)
	r.HandleFunc("GET /workbench/credit-repairs", authz.Decide, h.queuePage)
	r.HandleFunc("POST /workbench/credit-repairs/{id}", authz.Decide, h.decidePage)
}

func (h *Handler) mine(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Mine(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

func (h *Handler) apply(w http.ResponseWriter, r *http.Request) {
	var req RepairRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	rep, err := h.svc.Apply(r.Context(), authz.From(r.Context()), req)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, rep)
}

// fail shows an error as a page a person can act on.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) { h.pages.Fail(w, r, err) }

func pageTitle(r *http.Request, w http.ResponseWriter, zh, en string) string {
	if web.Lang(w, r) == "en" {
		return en
	}
	return zh
}

// minePage is 我的信用: level, lists, records, and a repair form for each
// record that may be repaired.
func (h *Handler) minePage(w http.ResponseWriter, r *http.Request) {
	v, err := h.svc.Mine(r.Context(), authz.From(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "mine.html", pageTitle(r, w, "我的信用", "My credit"), v)
}

func (h *Handler) applyPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PostFormValue("record_id"), 10, 64)
	if err != nil {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.BadID, "the record id must be a whole number"))
		return
	}
	if _, err := h.svc.Apply(r.Context(), authz.From(r.Context()), RepairRequest{RecordID: id, Statement: r.PostFormValue("statement"),
		Pledge: r.PostFormValue("pledge") == "yes"}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/me/credit", http.StatusSeeOther)
}

// queuePage is the department's repair queue.
func (h *Handler) queuePage(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Queue(r.Context(), authz.From(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "queue.html", pageTitle(r, w, "信用修复审核", "Credit repairs"), list)
}

func (h *Handler) decidePage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.BadID, "the repair id must be a positive whole number"))
		return
	}
	if _, err := h.svc.Decide(r.Context(), authz.From(r.Context()), id, r.PostFormValue("outcome") == "approve", r.PostFormValue("reason")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/workbench/credit-repairs", http.StatusSeeOther)
}
