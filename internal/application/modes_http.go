package application

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// ModesHandler serves the approval modes: the applicant's commitment,
// co-parties and deferrals, the co-parties' invitations, the public notices
// of filings and objections to them, and the staff's inspections and
// objection reviews. See docs/WORKFLOW.md, "Approval modes".
type ModesHandler struct {
	svc    *Modes
	pages  *web.Renderer
	logger *slog.Logger
}

// NewModesHandler returns the approval modes' HTTP handler.
func NewModesHandler(svc *Modes, logger *slog.Logger) (*ModesHandler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, nil, logger)
	if err != nil {
		return nil, err
	}
	return &ModesHandler{svc: svc, pages: pages, logger: logger}, nil
}

// Register adds the routes.
func (m *ModesHandler) Register(r *httpx.Router) {
	r.HandleFunc("POST /api/v1/applications/{id}/commitment", authz.ActForOwn, m.sign)
	r.HandleFunc("PUT /api/v1/applications/{id}/parties", authz.ActForOwn, m.nameParties)
	r.HandleFunc("POST /api/v1/applications/{id}/parties/confirm", authz.ActForOwn, m.confirm)
	r.HandleFunc("POST /api/v1/applications/{id}/parties/refuse", authz.ActForOwn, m.refuse)
	r.HandleFunc("GET /api/v1/me/invitations", authz.ActForOwn, m.invitations)
	r.HandleFunc("POST /api/v1/applications/{id}/materials/{material}/deferral", authz.SignedIn, m.deferral)
	r.HandleFunc("GET /api/v1/notices", authz.Public, m.notices)
	r.HandleFunc("POST /api/v1/notices/{id}/objections", authz.SignedIn, m.object)
	r.HandleFunc("POST /api/v1/tasks/{id}/inspection", authz.Inspect, m.inspection)
	r.HandleFunc("POST /api/v1/tasks/{id}/objection-review", authz.ReviewTasks, m.objectionReview)
	r.HandleFunc("GET /notices", authz.Public, m.noticesPage)
	r.HandleFunc("POST /notices/{id}/objections", authz.SignedIn, m.objectForm)
	r.HandleFunc("GET /me/invitations", authz.ActForOwn, m.invitationsPage)
	r.HandleFunc("POST /me/invitations/{id}/confirm", authz.ActForOwn, m.confirmForm)
	r.HandleFunc("POST /me/invitations/{id}/refuse", authz.ActForOwn, m.refuseForm)
}

func (m *ModesHandler) h() *Handler { return &Handler{logger: m.logger} }

func (m *ModesHandler) sign(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	act(m.h(), w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		return m.svc.SignCommitment(r.Context(), p, id, expect, req.Text)
	})
}

func (m *ModesHandler) nameParties(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OwnRole string         `json:"own_role"`
		Parties []PartyRequest `json:"parties"`
	}
	act(m.h(), w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		return m.svc.NameParties(r.Context(), p, id, expect, req.OwnRole, req.Parties)
	})
}

func (m *ModesHandler) confirm(w http.ResponseWriter, r *http.Request) {
	act[struct{}](m.h(), w, r, nil, func(p authz.Principal, id, _ int64) (any, error) {
		return m.svc.AnswerInvitation(r.Context(), p, id, true, "")
	})
}

func (m *ModesHandler) refuse(w http.ResponseWriter, r *http.Request) {
	var req reasonBody
	act(m.h(), w, r, &req, func(p authz.Principal, id, _ int64) (any, error) {
		return m.svc.AnswerInvitation(r.Context(), p, id, false, req.Reason)
	})
}

func (m *ModesHandler) invitations(w http.ResponseWriter, r *http.Request) {
	list, err := m.svc.Invitations(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, m.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"invitations": list})
}

func (m *ModesHandler) deferral(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Due string `json:"due"` // YYYY-MM-DD
	}
	act(m.h(), w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		return m.svc.DeferMaterial(r.Context(), p, id, expect, r.PathValue("material"), req.Due)
	})
}

func (m *ModesHandler) notices(w http.ResponseWriter, r *http.Request) {
	list, err := m.svc.Notices(r.Context())
	if err != nil {
		httpx.WriteError(w, r, m.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"notices": list})
}

func (m *ModesHandler) object(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reasons string `json:"reasons"`
	}
	act(m.h(), w, r, &req, func(p authz.Principal, id, _ int64) (any, error) {
		return m.svc.Object(r.Context(), p, id, req.Reasons)
	})
}

func (m *ModesHandler) inspection(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Result string `json:"result"` // truthful or false
		Note   string `json:"note"`
	}
	act(m.h(), w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		if req.Result != "truthful" && req.Result != "false" {
			return nil, apperr.New(apperr.Invalid, apperr.BadResult, "the result must be truthful or false, not %q", req.Result)
		}
		return m.svc.RecordInspection(r.Context(), p, id, expect, req.Result == "truthful", req.Note)
	})
}

func (m *ModesHandler) objectionReview(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Outcome string   `json:"outcome"` // clear or uphold
		Reasons []string `json:"reasons"`
	}
	act(m.h(), w, r, &req, func(p authz.Principal, id, expect int64) (any, error) {
		if req.Outcome != "clear" && req.Outcome != "uphold" {
			return nil, apperr.New(apperr.Invalid, apperr.BadOutcome, "the outcome must be clear or uphold, not %q", req.Outcome)
		}
		return m.svc.ReviewObjection(r.Context(), p, id, expect, req.Outcome == "uphold", req.Reasons)
	})
}

// noticesData is what the public notices page shows.
type noticesData struct {
	Notices []Notice
	Viewer  authz.Principal // who looks: a person may object, but not to their own filings
	Done    bool
	Error   string
}

// SignedIn reports whether a person looks, who may object.
func (d noticesData) SignedIn() bool { return d.Viewer.PersonID != 0 }

func (m *ModesHandler) noticesPage(w http.ResponseWriter, r *http.Request) {
	m.renderNotices(w, r, http.StatusOK, r.URL.Query().Get("objected") == "1", "")
}

func (m *ModesHandler) renderNotices(w http.ResponseWriter, r *http.Request, status int, done bool, problem string) {
	list, err := m.svc.Notices(r.Context())
	if err != nil {
		httpx.WriteError(w, r, m.logger, err)
		return
	}
	title := "备案公示"
	if web.Lang(w, r) == "en" {
		title = "Filings on public notice"
	}
	m.pages.Render(w, r, status, "notices.html", title, noticesData{Notices: list, Viewer: authz.From(r.Context()), Done: done, Error: problem})
}

func (m *ModesHandler) objectForm(w http.ResponseWriter, r *http.Request) {
	id, err := idOf(r)
	if err == nil {
		_, err = m.svc.Object(r.Context(), authz.From(r.Context()), id, r.PostFormValue("reasons"))
	}
	if err != nil {
		m.renderNotices(w, r, formStatus(err), false, m.formProblem(w, r, err))
		return
	}
	http.Redirect(w, r, "/notices?objected=1", http.StatusSeeOther)
}

// invitationsData is what the invitations page shows.
type invitationsData struct {
	Invitations []Invitation
	Error       string
}

func (m *ModesHandler) invitationsPage(w http.ResponseWriter, r *http.Request) {
	m.renderInvitations(w, r, http.StatusOK, "")
}

func (m *ModesHandler) renderInvitations(w http.ResponseWriter, r *http.Request, status int, problem string) {
	list, err := m.svc.Invitations(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, m.logger, err)
		return
	}
	title := "我的邀请"
	if web.Lang(w, r) == "en" {
		title = "My invitations"
	}
	m.pages.Render(w, r, status, "invitations.html", title, invitationsData{Invitations: list, Error: problem})
}

func (m *ModesHandler) confirmForm(w http.ResponseWriter, r *http.Request) { m.answerForm(w, r, true) }
func (m *ModesHandler) refuseForm(w http.ResponseWriter, r *http.Request)  { m.answerForm(w, r, false) }

func (m *ModesHandler) answerForm(w http.ResponseWriter, r *http.Request, confirm bool) {
	id, err := idOf(r)
	if err == nil {
		_, err = m.svc.AnswerInvitation(r.Context(), authz.From(r.Context()), id, confirm, r.PostFormValue("reason"))
	}
	if err != nil {
		m.renderInvitations(w, r, formStatus(err), m.formProblem(w, r, err))
		return
	}
	http.Redirect(w, r, "/me/invitations", http.StatusSeeOther)
}

// formStatus and formProblem turn a form's failure into the page's status
// and message; an internal error is logged and shown as a plain apology.
func formStatus(err error) int {
	if e := apperr.As(err); e != nil {
		return httpx.StatusFor(e.Kind)
	}
	return http.StatusInternalServerError
}

func (m *ModesHandler) formProblem(w http.ResponseWriter, r *http.Request, err error) string {
	if e := apperr.As(err); e != nil && e.Kind != apperr.Internal {
		return web.ErrorText(web.Lang(w, r), e)
	}
	m.logger.ErrorContext(r.Context(), "form failed", "path", r.URL.Path, "err", err)
	return "出了点问题，请稍后再试 / Something went wrong; please try again later"
}
