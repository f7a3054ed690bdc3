package kiosk

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/licence"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Idle is how long a kiosk page waits without a touch before it signs the
// person out; the session cookie itself lasts at most sessionMaxAge.
const (
	Idle          = 90 * time.Second
	sessionMaxAge = 10 * time.Minute
)

// Deps are what the kiosk needs.
type Deps struct {
	Auth       Authenticator
	Identities *identity.Store
	Drafts     *application.Drafts
	Catalog    *catalog.Store
	Licences   *licence.Service
	Secure     bool // mark cookies Secure (TLS)
	Logger     *slog.Logger
	// RatingToken is the 好差评 token of a finished application's applicant
	// (rating.Service.ApplicantToken); nil offers no rating.
	RatingToken func(ctx context.Context, applicationID int64) (string, error)
}

// Handler serves /kiosk.
type Handler struct {
	Deps
	pages *web.Renderer
}

// NewHandler parses the kiosk pages.
func NewHandler(d Deps) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, template.FuncMap{
		"idle": func() int { return int(Idle.Seconds()) },
	}, d.Logger)
	if err != nil {
		return nil, err
	}
	return &Handler{Deps: d, pages: pages}, nil
}

// Register adds the routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("GET /kiosk", authz.Public, h.home)
	r.HandleFunc("POST /kiosk/session", authz.Public, h.signIn)
	r.HandleFunc("POST /kiosk/signout", authz.Public, h.signOut)
	r.HandleFunc("GET /kiosk/items/{code}", authz.ActForOwn, h.item)
	r.HandleFunc("POST /kiosk/items/{code}", authz.ActForOwn, h.apply)
}

func pick(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

// homeData is the signed-in person's kiosk page.
type homeData struct {
	Name     string
	Licences []licence.Licence
	Items    []catalog.Item // the items the kiosk offers (Offered)
	Error    string
	Issued   *licence.Licence // the licence just issued, to print
	RateURL  string           // where to rate the application just decided, if it can be
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	h.show(w, r, http.StatusOK, "", nil, 0)
}

// show renders the sign-in page, or the signed-in person's page.
// show renders the kiosk's home with msg, the licence just issued and the
// way to rate the application decided (decided: its id, 0 for none).
func (h *Handler) show(w http.ResponseWriter, r *http.Request, status int, msg string, issued *licence.Licence, decided int64) {
	lang := web.Lang(w, r)
	p := authz.From(r.Context())
	if !p.Can(authz.ActForOwn) || p.PersonID == 0 {
		h.pages.Render(w, r, status, "signin.html", pick(lang, "自助终端", "Self-service kiosk"), map[string]string{"Error": msg})
		return
	}
	d := homeData{Name: p.Name, Error: msg, Issued: issued}
	if decided != 0 && h.RatingToken != nil {
		if token, err := h.RatingToken(r.Context(), decided); err == nil {
			d.RateURL = "/kiosk/rate/" + token
		}
	}
	hd, err := h.holder(r, p)
	if err != nil {
		httpx.WriteError(w, r, h.Logger, err)
		return
	}
	if d.Licences, err = h.Licences.ForHolder(r.Context(), hd); err != nil {
		httpx.WriteError(w, r, h.Logger, err)
		return
	}
	now := time.Now()
	d.Licences = slices.DeleteFunc(d.Licences, func(l licence.Licence) bool { return l.Status != licence.Valid || l.Expired(now) })
	if d.Items, err = h.offered(r); err != nil {
		httpx.WriteError(w, r, h.Logger, err)
		return
	}
	h.pages.Render(w, r, status, "home.html", pick(lang, "自助终端", "Self-service kiosk"), d)
}

func (h *Handler) holder(r *http.Request, p authz.Principal) (licence.Holder, error) {
	d, err := h.Identities.PersonDetails(r.Context(), h.Identities.DB(), p.PersonID)
	if err != nil {
		return licence.Holder{}, err
	}
	return licence.Holder{Kind: hub.Person, ID: d.IDNumber, Name: d.Name}, nil
}

// signIn checks the ID card and second factor and starts a short session.
// Reading the card at the kiosk checks the person against the population
// registry, so the account is raised to real-name level 2 if it was lower.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	lang := web.Lang(w, r)
	id, err := h.Auth.Authenticate(r.Context(), strings.TrimSpace(r.PostFormValue("id_number")), r.PostFormValue("pin"))
	if err != nil {
		e := apperr.As(err)
		if e == nil || e.Kind == apperr.Internal {
			httpx.WriteError(w, r, h.Logger, err)
			return
		}
		// The same words for every refusal: a stranger at the kiosk learns
		// neither that the person has an account nor that the PIN is locked.
		msg := pick(lang, "身份证号与密码不匹配。连续输错多次后密码会暂时锁定，可到窗口办理。", "The ID number and PIN do not match. After several wrong PINs the PIN locks for a while; a window can help.")
		reason := e.Code
		if cause := apperr.As(e.Err); cause != nil {
			reason = cause.Code // the lock, for the log only
		}
		h.Logger.WarnContext(r.Context(), "kiosk sign-in refused", "reason", reason, "remote", r.RemoteAddr)
		h.show(w, r, httpx.StatusFor(e.Kind), msg, nil, 0)
		return
	}
	acc, err := h.Identities.Account(r.Context(), id)
	if err == nil && acc.RealNameLevel < 2 {
		err = h.Identities.SetRealNameLevel(r.Context(), id, 2)
	}
	if err != nil {
		httpx.WriteError(w, r, h.Logger, err)
		return
	}
	if old, err := r.Cookie(identity.SessionCookie); err == nil {
		h.Identities.EndSession(r.Context(), old.Value)
	}
	sess, err := h.Identities.StartSession(r.Context(), id)
	if err != nil {
		httpx.WriteError(w, r, h.Logger, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: identity.SessionCookie, Value: sess.Token, Path: "/", HttpOnly: true, Secure: h.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionMaxAge.Seconds())})
	h.Logger.InfoContext(r.Context(), "kiosk sign-in", "account", id)
	http.Redirect(w, r, "/kiosk", http.StatusSeeOther)
}

// signOut ends the session: the person's button, or the idle timer.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(identity.SessionCookie); err == nil {
		h.Identities.EndSession(r.Context(), c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: identity.SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: h.Secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/kiosk", http.StatusSeeOther)
}
