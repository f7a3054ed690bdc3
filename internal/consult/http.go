package consult

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/org"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves 我要问、我要投诉: the API and the pages.
type Handler struct {
	svc    *Service
	logger *slog.Logger
	pages  *web.Renderer
}

// NewHandler returns the handler.
func NewHandler(svc *Service, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, template.FuncMap{"area": areaName, "viewIn": viewIn, "rateForm": rateForm, "statuses": func() []string { return []string{Open, Answered, Closed} }}, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, logger: logger, pages: pages}, nil
}

// langView is a consultation with the page's language, for the
// "consultation" partial.
type langView struct {
	Lang string
	V    View
}

func viewIn(lang string, v View) langView { return langView{lang, v} }

// rateArgs are what the "rate" partial needs: the form's action, and the
// query code when the rater holds one.
type rateArgs struct {
	Lang, CSRF, Action, Code string
	ID                       int64
}

func rateForm(lang, csrf, action, code string, id int64) rateArgs {
	return rateArgs{lang, csrf, action, code, id}
}

// areaName is a subject area's name in lang.
func areaName(lang, code string) string {
	for _, a := range Areas {
		if a.Code == code {
			return a.Name.In(lang)
		}
	}
	return ""
}

// Register adds the routes. Query codes travel only in request bodies,
// never in a URL that logs keep.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("POST /api/v1/consultations", authz.Public, h.apiSubmit)
	r.HandleFunc("POST /api/v1/consultations/track", authz.Public, h.apiTrack)
	r.HandleFunc("POST /api/v1/consultations/{id}/rating", authz.Public, h.apiRate)
	r.HandleFunc("GET /api/v1/me/consultations", authz.ActForOwn, h.apiMine)
	r.HandleFunc("GET /api/v1/staff/consultations", authz.SignedIn, h.apiStaff)
	r.HandleFunc("POST /api/v1/staff/consultations/{id}/answer", authz.ReviewTasks, h.apiAnswer)
	r.HandleFunc("POST /api/v1/staff/consultations/{id}/close", authz.ReviewTasks, h.apiClose)

	r.HandleFunc("GET /ask", authz.Public, h.askPage)
	r.HandleFunc("POST /ask", authz.Public, h.askPost)
	r.HandleFunc("GET /complain", authz.Public, h.complainPage)
	r.HandleFunc("POST /complain", authz.Public, h.complainPost)
	r.HandleFunc("GET /complain/track", authz.Public, h.trackPage)
	r.HandleFunc("POST /complain/track", authz.Public, h.trackPost)
	r.HandleFunc("POST /complain/track/rating", authz.Public, h.trackRate)
	r.HandleFunc("GET /me/consultations", authz.ActForOwn, h.minePage)
	r.HandleFunc("POST /me/consultations/{id}/rating", authz.ActForOwn, h.mineRate)
	r.HandleFunc("GET /workbench/consultations", authz.SignedIn, h.staffPage)
	r.HandleFunc("GET /workbench/consultations/{id}", authz.SignedIn, h.staffOnePage)
	r.HandleFunc("POST /workbench/consultations/{id}/answer", authz.ReviewTasks, h.staffAnswer)
	r.HandleFunc("POST /workbench/consultations/{id}/close", authz.ReviewTasks, h.staffClose)
	r.HandleFunc("POST /workbench/consultations/{id}/reveal", authz.PersonalDataRaw, h.staffReveal)
	r.HandleFunc("GET /admin/faq-suggestions", authz.CatalogManage, h.suggestionsPage)
	r.HandleFunc("POST /admin/faq-suggestions/dismiss", authz.CatalogManage, h.dismiss)
}

// address is the caller's address, for the limits on anonymous callers.
func address(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.Invalid, apperr.BadID, "the id must be a positive whole number")
	}
	return id, nil
}

// API.

func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, status, v)
}

func (h *Handler) apiSubmit(w http.ResponseWriter, r *http.Request) {
	var n NewConsultation
	if err := httpx.DecodeJSON(w, r, &n); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	rec, err := h.svc.Submit(r.Context(), authz.From(r.Context()), address(r), n)
	h.writeJSON(w, r, http.StatusCreated, rec, err)
}

type codeBody struct {
	Code   string `json:"code"`
	Rating string `json:"rating,omitempty"`
}

func (h *Handler) apiTrack(w http.ResponseWriter, r *http.Request) {
	var b codeBody
	if err := httpx.DecodeJSON(w, r, &b); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	v, err := h.svc.Track(r.Context(), address(r), b.Code)
	h.writeJSON(w, r, http.StatusOK, v, err)
}

func (h *Handler) apiRate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	var b codeBody
	if err == nil {
		err = httpx.DecodeJSON(w, r, &b)
	}
	var v View
	if err == nil {
		v, err = h.svc.Rate(r.Context(), authz.From(r.Context()), address(r), id, b.Code, b.Rating)
	}
	h.writeJSON(w, r, http.StatusOK, v, err)
}

func (h *Handler) apiMine(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Mine(r.Context(), authz.From(r.Context()))
	h.writeJSON(w, r, http.StatusOK, map[string]any{"consultations": list}, err)
}

func (h *Handler) apiStaff(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Staff(r.Context(), authz.From(r.Context()), Filter{Department: r.URL.Query().Get("department"), Status: r.URL.Query().Get("status")})
	h.writeJSON(w, r, http.StatusOK, map[string]any{"consultations": list}, err)
}

type answerBody struct {
	Text string `json:"text"`
}

func (h *Handler) apiAnswer(w http.ResponseWriter, r *http.Request) {
	h.apiStaffAction(w, r, h.svc.Answer)
}

func (h *Handler) apiClose(w http.ResponseWriter, r *http.Request) {
	h.apiStaffAction(w, r, h.svc.Close)
}

type staffAction func(ctx context.Context, p authz.Principal, id int64, text string) (View, error)

func (h *Handler) apiStaffAction(w http.ResponseWriter, r *http.Request, act staffAction) {
	id, err := pathID(r)
	var b answerBody
	if err == nil {
		err = httpx.DecodeJSON(w, r, &b)
	}
	var v View
	if err == nil {
		v, err = act(r.Context(), authz.From(r.Context()), id, b.Text)
	}
	h.writeJSON(w, r, http.StatusOK, v, err)
}

// Pages.

// fail shows an error as a page a person can act on.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) { h.pages.Fail(w, r, err) }

func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, title catalog.Text, data any) {
	h.pages.Render(w, r, http.StatusOK, name, title.In(web.Lang(w, r)), data)
}

// formData is what the /ask and /complain forms show again.
type formData struct {
	Step        string // ask: "" (the question), "match" (answers found, ask anyway)
	Matches     Matches
	Departments []org.Department
	Areas       []Area
	Form        NewConsultation
	SignedIn    bool
}

func (h *Handler) form(r *http.Request, n NewConsultation) (formData, error) {
	depts, err := h.svc.d.Org.Departments(r.Context())
	return formData{Departments: depts, Areas: Areas, Form: n, SignedIn: authz.From(r.Context()).SignedIn()}, err
}

// posted reads the form fields of a submission.
func posted(r *http.Request, kind string) NewConsultation {
	if kind == "" {
		kind = r.PostFormValue("kind")
	}
	return NewConsultation{Kind: kind, Text: r.PostFormValue("text"), ItemCode: r.PostFormValue("item"), Department: r.PostFormValue("department"),
		Area: r.PostFormValue("area"), Anonymous: r.PostFormValue("anonymous") == "yes",
		ContactName: r.PostFormValue("contact_name"), ContactPhone: r.PostFormValue("contact_phone")}
}

var (
	askTitle      = catalog.Text{Zh: "我要问", En: "Ask a question"}
	complainTitle = catalog.Text{Zh: "我要投诉 · 举报 · 建议", En: "Complain, report or suggest"}
	trackTitle    = catalog.Text{Zh: "查询办理情况", En: "Follow it up"}
	receiptTitle  = catalog.Text{Zh: "已提交", En: "Sent"}
)

func (h *Handler) askPage(w http.ResponseWriter, r *http.Request) {
	d, err := h.form(r, NewConsultation{Kind: Question})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "ask.html", askTitle, d)
}

// askPost first looks the question up in the catalogue (step "match"),
// then, asked anyway, sends it (step "send"). The question travels in the
// body, not in a URL that logs keep.
func (h *Handler) askPost(w http.ResponseWriter, r *http.Request) {
	n := posted(r, Question)
	if r.PostFormValue("step") == "send" {
		h.submit(w, r, n)
		return
	}
	d, err := h.form(r, n)
	if err == nil {
		d.Matches, err = h.svc.Match(r.Context(), n.Text)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Step = "match"
	h.render(w, r, "ask.html", askTitle, d)
}

func (h *Handler) complainPage(w http.ResponseWriter, r *http.Request) {
	d, err := h.form(r, NewConsultation{Kind: Complaint})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "complain.html", complainTitle, d)
}

func (h *Handler) complainPost(w http.ResponseWriter, r *http.Request) {
	h.submit(w, r, posted(r, ""))
}

// submit sends n and shows its query code, this once.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request, n NewConsultation) {
	rec, err := h.svc.Submit(r.Context(), authz.From(r.Context()), address(r), n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, "receipt.html", receiptTitle, rec)
}

type trackData struct {
	View  *View
	Code  string
	Rated bool
}

func (h *Handler) trackPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, "track.html", trackTitle, trackData{})
}

func (h *Handler) trackPost(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSpace(r.PostFormValue("code"))
	v, err := h.svc.Track(r.Context(), address(r), code)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, "track.html", trackTitle, trackData{View: &v, Code: code})
}

func (h *Handler) trackRate(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimSpace(r.PostFormValue("code"))
	v, err := h.svc.Rate(r.Context(), authz.From(r.Context()), address(r), 0, code, r.PostFormValue("rating"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, "track.html", trackTitle, trackData{View: &v, Code: code, Rated: true})
}

func (h *Handler) minePage(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Mine(r.Context(), authz.From(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "mine.html", catalog.Text{Zh: "我的咨询投诉", En: "My questions and complaints"}, list)
}

func (h *Handler) mineRate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		_, err = h.svc.Rate(r.Context(), authz.From(r.Context()), address(r), id, "", r.PostFormValue("rating"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/consultations#c-%d", id), http.StatusSeeOther)
}

type staffData struct {
	List        []View
	One         *View
	Department  string
	Status      string
	Departments []org.Department
	Supervisor  bool // reads every department, answers none
	CanReveal   bool // may see the contact in full, stating why
}

func (h *Handler) staffPage(w http.ResponseWriter, r *http.Request) {
	p := authz.From(r.Context())
	f := Filter{Department: r.URL.Query().Get("department"), Status: r.URL.Query().Get("status")}
	list, err := h.svc.Staff(r.Context(), p, f)
	var depts []org.Department
	if err == nil {
		depts, err = h.svc.d.Org.Departments(r.Context())
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := staffData{List: list, Department: f.Department, Status: f.Status, Departments: depts, Supervisor: !p.Can(authz.ReviewTasks)}
	if !d.Supervisor {
		d.Department = p.Department
	}
	h.render(w, r, "staff.html", catalog.Text{Zh: "咨询投诉办理", En: "Questions and complaints"}, d)
}

func (h *Handler) staffOnePage(w http.ResponseWriter, r *http.Request) {
	p := authz.From(r.Context())
	id, err := pathID(r)
	var v View
	if err == nil {
		v, err = h.svc.StaffOne(r.Context(), p, id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "staff_one.html", catalog.Text{Zh: "咨询投诉办理", En: "Questions and complaints"}, staffData{One: &v, Supervisor: !p.Can(authz.ReviewTasks), CanReveal: p.Can(authz.PersonalDataRaw)})
}

// staffReveal shows the consultation with the sender's contact in full.
func (h *Handler) staffReveal(w http.ResponseWriter, r *http.Request) {
	p := authz.From(r.Context())
	id, err := pathID(r)
	var v View
	if err == nil {
		v, err = h.svc.Reveal(r.Context(), p, id, r.PostFormValue("purpose"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, "staff_one.html", catalog.Text{Zh: "咨询投诉办理", En: "Questions and complaints"}, staffData{One: &v})
}

func (h *Handler) staffAnswer(w http.ResponseWriter, r *http.Request) {
	h.staffAction(w, r, h.svc.Answer)
}

func (h *Handler) staffClose(w http.ResponseWriter, r *http.Request) {
	h.staffAction(w, r, h.svc.Close)
}

func (h *Handler) staffAction(w http.ResponseWriter, r *http.Request, act staffAction) {
	id, err := pathID(r)
	if err == nil {
		_, err = act(r.Context(), authz.From(r.Context()), id, r.PostFormValue("text"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/workbench/consultations/%d", id), http.StatusSeeOther)
}

func (h *Handler) suggestionsPage(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Suggestions(r.Context(), authz.From(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "suggestions.html", catalog.Text{Zh: "常见问题建议", En: "Suggested FAQ entries"}, struct {
		List []FAQSuggestion
		Min  int
	}{list, FrequentAfter})
}

func (h *Handler) dismiss(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.Dismiss(r.Context(), authz.From(r.Context()), r.PostFormValue("item"), r.PostFormValue("key")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/faq-suggestions", http.StatusSeeOther)
}
