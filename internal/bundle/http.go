package bundle

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves the bundles' API and pages.
type Handler struct {
	svc    *Service
	logger *slog.Logger
	pages  *web.Renderer
}

// NewHandler returns the bundles' handler.
func NewHandler(svc *Service, logger *slog.Logger) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, template.FuncMap{"inputType": inputType}, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, logger: logger, pages: pages}, nil
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /api/v1/bundles", authz.Public, h.list)
	r.HandleFunc("GET /api/v1/bundles/{code}", authz.Public, h.get)
	r.HandleFunc("POST /api/v1/bundles/{code}/cases", authz.ActForOwn, h.submit)
	r.HandleFunc("GET /api/v1/bundle-cases", authz.ActForOwn, h.mine)
	r.HandleFunc("GET /api/v1/bundle-cases/{id}", authz.ActForOwn, h.getCase)
	r.HandleFunc("GET /bundles/{code}", authz.Public, h.guidePage)
	r.HandleFunc("GET /bundles/{code}/form", authz.ActForOwn, h.formPage)
	r.HandleFunc("POST /bundles/{code}", authz.ActForOwn, h.submitPage)
	r.HandleFunc("GET /me/bundles/{id}", authz.ActForOwn, h.casePage)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	bs, err := h.svc.List(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"bundles": bs})
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	var req SubmitRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	c, err := h.svc.Submit(r.Context(), authz.From(r.Context()), r.PathValue("code"), req)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, c)
}

func (h *Handler) mine(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Mine(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"cases": list})
}

// caseID reads the case id from the path.
func caseID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.Invalid, apperr.BadID, "the bundle case id must be a positive whole number")
	}
	return id, nil
}

func (h *Handler) getCase(w http.ResponseWriter, r *http.Request) {
	id, err := caseID(r)
	var c Case
	if err == nil {
		c, err = h.svc.Case(r.Context(), authz.From(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

// Pages.

func (h *Handler) title(w http.ResponseWriter, r *http.Request, t catalog.Text) string {
	return t.In(web.Lang(w, r))
}

// fail shows an error as a page a person can act on.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) { h.pages.Fail(w, r, err) }

type guideData struct {
	Definition
	SignedIn bool
}

// guidePage is the bundle's guide and the wizard's first step: what it
// joins, in which order, its time limit, and its questions.
func (h *Handler) guidePage(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "bundle.html", h.title(w, r, d.Name), guideData{Definition: d, SignedIn: authz.From(r.Context()).SignedIn()})
}

type formData struct {
	Definition
	Answers map[string]string
	Applies []catalog.Member
	Fields  []Field
	Pledges []catalog.Material
	Key     string
}

// answersOf reads the posted or queried answers to the bundle's questions.
func answersOf(r *http.Request, qs []catalog.Situation) map[string]string {
	out := map[string]string{}
	for _, q := range qs {
		if a := r.FormValue("situation_" + q.ID); a != "" {
			out[q.ID] = a
		}
	}
	return out
}

// formPage is the wizard's second step: the combined form of the members
// that apply, each field once, and the one consent.
func (h *Handler) formPage(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	answers := answersOf(r, d.Questions)
	if err := checkAnswers(d.Questions, answers); err != nil {
		h.fail(w, r, err)
		return
	}
	var key [16]byte
	rand.Read(key[:])
	h.pages.Render(w, r, http.StatusOK, "form.html", h.title(w, r, d.Name), formData{Definition: d, Answers: answers, Applies: d.Applies(answers),
		Fields: CombinedForm(d.Bundle, d.Items, answers), Pledges: Pledgeable(d.Bundle, d.Items, answers), Key: "web-" + hex.EncodeToString(key[:])})
}

// submitPage submits the wizard: the answers, the combined form and the consent.
func (h *Handler) submitPage(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Get(r.Context(), r.PathValue("code"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	answers := answersOf(r, d.Questions)
	form, problems := map[string]any{}, []apperr.Detail{}
	for _, f := range CombinedForm(d.Bundle, d.Items, answers) {
		if f.Auto {
			continue
		}
		v, ok, problem := f.ParsePosted(r.PostFormValue("f_" + f.ID))
		switch {
		case problem != nil:
			problems = append(problems, *problem)
		case ok:
			form[f.ID] = v
		}
	}
	if len(problems) > 0 {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.BadForm, "%d field(s) could not be read", len(problems)).WithDetails(problems))
		return
	}
	var pledges []string
	for _, m := range Pledgeable(d.Bundle, d.Items, answers) {
		if r.PostFormValue("pledge_"+m.ID) == "yes" {
			pledges = append(pledges, m.ID)
		}
	}
	c, err := h.svc.Submit(r.Context(), authz.From(r.Context()), d.Code, SubmitRequest{Answers: answers, Form: form, Pledges: pledges,
		Consent: r.PostFormValue("consent") == "yes", IdempotencyKey: r.PostFormValue("idempotency_key")})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/bundles/%d", c.ID), http.StatusSeeOther)
}

// casePage is the status page: one number, the aggregate status, the time
// limit, each member where it is (and why, when it stopped), the results
// together, and the merged timeline.
func (h *Handler) casePage(w http.ResponseWriter, r *http.Request) {
	id, err := caseID(r)
	var c Case
	if err == nil {
		c, err = h.svc.Case(r.Context(), authz.From(r.Context()), id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "case.html", h.title(w, r, c.Name), c)
}

// inputType is the HTML input type of a field type.
func inputType(fieldType string) string {
	switch fieldType {
	case "number":
		return "number"
	case "date":
		return "date"
	case "phone":
		return "tel"
	}
	return "text"
}
