package identity

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/logging"
	"yiwang/internal/notify"
	"yiwang/internal/org"
	"yiwang/internal/pii"
	"yiwang/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// Handler serves sign-in, sign-out, the account page and the identity API.
type Handler struct {
	store   *Store
	limits  *Limiter
	logger  *slog.Logger
	secure  bool
	pages   *web.Renderer
	access  *pii.AccessLog
	oidcURL string // where "sign in with the unified identity platform" goes; empty if none
	// Org names a staff member's department on the account page (nil: the code is shown).
	Org *org.Store
	// Notices shows and changes, on the account page, how the account is
	// notified (the outbox; nil: the section is left out).
	Notices ChannelChooser
	demo    []DemoAccount
}

// ChannelChooser is the outbox's side of the account page: the channels an
// account chose beyond the inbox (notify.Outbox).
type ChannelChooser interface {
	Channels(ctx context.Context, p authz.Principal) (notify.Channels, error)
	SetChannels(ctx context.Context, p authz.Principal, ch notify.ChannelsChange) (notify.Channels, error)
}

// DemoAccount is a public demo sign-in, listed on the sign-in page of a demo
// database so that a person trying the platform need not read the console.
type DemoAccount struct {
	RoleZh, RoleEn string
	Login          string
	Password       string
}

// ShowDemoAccounts lists accounts on the sign-in page. Call it before serving:
// only a demo database has them.
func (h *Handler) ShowDemoAccounts(accounts []DemoAccount) { h.demo = accounts }

// NewHandler returns the identity HTTP handler. oidcLogin is the path of the
// OpenID Connect sign-in, or "" when none is configured.
func NewHandler(s *Store, limits *Limiter, logger *slog.Logger, secure bool, oidcLogin string) (*Handler, error) {
	sub, _ := fs.Sub(templateFS, "templates")
	pages, err := web.NewRenderer(sub, nil, logger)
	if err != nil {
		return nil, err
	}
	return &Handler{store: s, limits: limits, logger: logger, secure: secure, pages: pages, access: pii.NewAccessLog(s.db.DB), oidcURL: oidcLogin}, nil
}

// Register adds the identity routes.
func (h *Handler) Register(r *httpx.Router) {
	r.HandleFunc("POST /api/v1/session", authz.Public, h.apiLogin)
	r.HandleFunc("DELETE /api/v1/session", authz.SignedIn, h.apiLogout)
	r.HandleFunc("GET /api/v1/me", authz.SignedIn, h.apiMe)
	r.HandleFunc("PUT /api/v1/me/acting-for", authz.ActForOwn, h.apiActFor)
	r.HandleFunc("POST /api/v1/accounts", authz.Public, h.apiRegister)
	r.HandleFunc("POST /api/v1/identity-checks", authz.WindowIntake, h.apiVerifyInPerson)
	r.HandleFunc("GET /api/v1/me/authorisations", authz.ActForOwn, h.apiListAuthorisations)
	r.HandleFunc("POST /api/v1/me/authorisations", authz.ActForOwn, h.apiAuthorise)
	r.HandleFunc("DELETE /api/v1/me/authorisations/{id}", authz.ActForOwn, h.apiRevokeAuthorisation)
	r.HandleFunc("GET /api/v1/persons/{id}", authz.PersonalDataRaw, h.apiRevealPerson)
	r.HandleFunc("GET /api/v1/admin/pii-access", authz.PersonalAudit, h.apiAccessLog)
	r.HandleFunc("POST /api/v1/admin/accounts", authz.AccountsManage, h.apiCreateStaff)
	r.HandleFunc("GET /api/v1/admin/accounts/{id}", authz.AccountsManage, h.apiGetAccount)
	r.HandleFunc("POST /api/v1/admin/accounts/{id}/roles", authz.AccountsManage, h.apiGrantRole)
	r.HandleFunc("DELETE /api/v1/admin/accounts/{id}/roles/{role}", authz.AccountsManage, h.apiRevokeRole)
	r.HandleFunc("GET /api/v1/admin/tokens", authz.AccountsManage, h.apiListTokens)
	r.HandleFunc("POST /api/v1/admin/tokens", authz.AccountsManage, h.apiIssueToken)
	r.HandleFunc("DELETE /api/v1/admin/tokens/{id}", authz.AccountsManage, h.apiRevokeToken)
	r.HandleFunc("GET /login", authz.Public, h.loginPage)
	r.HandleFunc("POST /login", authz.Public, h.loginForm)
	r.HandleFunc("POST /logout", authz.SignedIn, h.logoutForm)
	r.HandleFunc("GET /me", authz.SignedIn, h.mePage)
	r.HandleFunc("POST /me/notification-channels", authz.SignedIn, h.chooseChannels)
}

// Me is the signed-in principal as the API shows it.
type Me struct {
	authz.Principal
	Person *Person `json:"person,omitempty"`
	CSRF   string  `json:"csrf_token,omitempty"`
}

func (h *Handler) me(r *http.Request) (Me, error) {
	p := authz.From(r.Context())
	m := Me{Principal: p, CSRF: web.CSRF(r.Context())}
	if p.Via == "token" {
		m.CSRF = ""
	}
	if p.PersonID != 0 {
		person, err := h.store.PersonByID(r.Context(), p.PersonID)
		if err != nil {
			return m, err
		}
		m.Person = &person
	}
	return m, nil
}

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// signIn checks credentials, starts a session and sets its cookie.
// Failed sign-ins are counted per address, and the limit is checked before
// any password is, so a flood from one address costs no hashing once over it.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, login, password string) (Session, error) {
	throttle := "sign-in:" + clientIP(r)
	if err := h.limits.Check(r.Context(), 0, throttle, signInLimit); err != nil {
		h.logger.WarnContext(r.Context(), "sign-in rate limit hit", "remote", r.RemoteAddr)
		return Session{}, err
	}
	a, err := h.store.Login(r.Context(), login, password)
	if err != nil {
		if err := h.limits.Record(r.Context(), 0, throttle, signInLimit); err != nil {
			return Session{}, err
		}
		reason := apperr.As(err).Code
		if l := LockedCause(err); l != nil {
			reason = l.Code // the log may say what the caller is not told
		}
		h.logger.WarnContext(r.Context(), "sign-in refused", "login", maskLogin(login), "reason", reason, "remote", r.RemoteAddr)
		return Session{}, err
	}
	if old, err := r.Cookie(SessionCookie); err == nil {
		h.store.EndSession(r.Context(), old.Value)
	}
	sess, err := h.store.StartSession(r.Context(), a.ID)
	if err != nil {
		return Session{}, err
	}
	setSessionCookie(w, sess.Token, h.secure)
	h.logger.InfoContext(r.Context(), "signed in", "account", a.ID, "kind", a.Kind)
	return sess, nil
}

// maskLogin keeps ID numbers out of logs: typed with spaces around them, or
// with a digit missing or too many, they are still somebody's number.
func maskLogin(login string) string {
	login = strings.TrimSpace(login)
	if len(login) == 18 || len(login) >= 15 && len(login) <= 20 && strings.Trim(login[:len(login)-1], "0123456789") == "" {
		return pii.MaskIDNumber(login)
	}
	return login
}

func (h *Handler) apiLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	sess, err := h.signIn(w, r, req.Login, req.Password)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	p, _, err := h.store.SessionPrincipal(r.Context(), sess.Token)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, Me{Principal: p, CSRF: sess.CSRF})
}

func (h *Handler) apiLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		h.store.EndSession(r.Context(), c.Value)
	}
	clearCookie(w, SessionCookie, h.secure)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) apiMe(w http.ResponseWriter, r *http.Request) {
	m, err := h.me(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, m)
}

func (h *Handler) apiActFor(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CreditCode string `json:"credit_code"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		httpx.WriteError(w, r, h.logger, apperr.New(apperr.Forbidden, apperr.PersonsOnly, "only a person signed in with a session can act for an enterprise"))
		return
	}
	e, err := h.store.ActFor(r.Context(), authz.From(r.Context()), c.Value, req.CreditCode)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"acting_for": e})
}

// apiVerifyInPerson records a window clerk's check of a person's identity
// card, raising their account to real-name level 3.
func (h *Handler) apiVerifyInPerson(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDNumber string `json:"id_number"`
		Name     string `json:"name"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	a, err := h.store.VerifyInPerson(r.Context(), authz.From(r.Context()), req.IDNumber, req.Name)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"real_name_level": a.RealNameLevel})
}

type registerRequest struct {
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Password string `json:"password"`
}

func (h *Handler) apiRegister(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if err := h.limits.Allow(r.Context(), 0, "register:"+clientIP(r), registrationLimit); err != nil {
		h.logger.WarnContext(r.Context(), "registration rate limit hit", "remote", r.RemoteAddr)
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	_, err := h.store.RegisterPerson(r.Context(), req.IDNumber, req.Name, req.Phone, req.Password)
	if e := apperr.As(err); e != nil && e.Code == apperr.AlreadyExists {
		// The holder is notified; the caller gets what a new account gets,
		// so registering does not tell whether an ID number has an account.
		h.logger.InfoContext(r.Context(), "registration for an existing account", "remote", r.RemoteAddr)
		err = nil
	}
	if err != nil {
		if e := apperr.As(err); e != nil && e.Kind == apperr.Invalid {
			h.logger.InfoContext(r.Context(), "registration refused", "reason", e.Code)
		}
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	lang := httpx.Lang(r)
	httpx.WriteJSON(w, http.StatusAccepted, registered{Next: "sign_in", Message: registeredWords.In(lang)})
}

// registered is the one answer to an accepted registration, whether it
// made an account or found one (whose holder is then notified).
type registered struct {
	Next    string `json:"next"`
	Message string `json:"message"`
}

var registeredWords = apperr.Words{
	Zh: "注册申请已受理。请用身份证号和密码登录；如果该身份证号此前已注册，账号持有人会收到通知，原密码不变。",
	En: "Registration received. Sign in with your ID number and password; if the ID number was registered before, its holder is notified and the old password stays.",
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}

func (h *Handler) apiListAuthorisations(w http.ResponseWriter, r *http.Request) {
	list, err := h.store.Authorisations(r.Context(), authz.From(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"authorisations": list})
}

func (h *Handler) apiAuthorise(w http.ResponseWriter, r *http.Request) {
	var req NewAuthorisation
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	a, err := h.store.Authorise(r.Context(), authz.From(r.Context()), req)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, a)
}

func idParam(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.Invalid, apperr.BadID, "the id in the address must be a positive whole number")
	}
	return id, nil
}

func (h *Handler) apiRevokeAuthorisation(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err == nil {
		err = h.store.RevokeAuthorisation(r.Context(), authz.From(r.Context()), id)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiRevealPerson shows staff a person with the ID number unmasked, only with
// a stated purpose, and logs the view.
func (h *Handler) apiRevealPerson(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	person, err := h.store.PersonByID(r.Context(), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	u, err := h.store.RevealPerson(r.Context(), id, authz.From(r.Context()), r.URL.Query().Get("purpose"), logging.RequestID(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"person": person, "unmasked": u})
}

func (h *Handler) apiAccessLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f pii.Filter
	f.StaffAccount, _ = strconv.ParseInt(q.Get("staff"), 10, 64)
	f.SubjectPerson, _ = strconv.ParseInt(q.Get("person"), 10, 64)
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	list, err := h.access.List(r.Context(), f)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if list == nil {
		list = []pii.Access{} // a list, as documented, even when empty
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"accesses": list})
}

func (h *Handler) apiCreateStaff(w http.ResponseWriter, r *http.Request) {
	var req NewStaff
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	a, err := h.store.CreateStaff(r.Context(), req, authz.From(r.Context()).AccountID)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, a)
}

func (h *Handler) apiGetAccount(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	a, err := h.store.Account(r.Context(), id)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a)
}

func (h *Handler) apiGrantRole(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	var req struct {
		Role authz.Role `json:"role"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	if err := h.store.GrantRole(r.Context(), id, req.Role, authz.From(r.Context()).AccountID); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	h.apiGetAccount(w, r)
}

func (h *Handler) apiRevokeRole(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err == nil {
		err = h.store.RevokeRole(r.Context(), id, authz.Role(r.PathValue("role")), authz.From(r.Context()).AccountID)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) apiListTokens(w http.ResponseWriter, r *http.Request) {
	list, err := h.store.Tokens(r.Context())
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"tokens": list})
}

func (h *Handler) apiIssueToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AccountID     int64              `json:"account_id"`
		Name          string             `json:"name"`
		Scopes        []authz.Permission `json:"scopes"`
		ExpiresInDays int                `json:"expires_in_days"`
	}
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	var exp time.Time
	if req.ExpiresInDays > 0 {
		exp = time.Now().AddDate(0, 0, req.ExpiresInDays)
	}
	secret, t, err := h.store.IssueToken(r.Context(), req.AccountID, req.Name, req.Scopes, exp, authz.From(r.Context()).AccountID)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
}

func (h *Handler) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r)
	if err == nil {
		err = h.store.RevokeToken(r.Context(), id, authz.From(r.Context()).AccountID)
	}
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// safeNext keeps redirects after sign-in on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/me"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/me"
	}
	return next
}

type loginPageData struct {
	Next, Login, Error string
	OIDC               string
	Demo               []DemoAccount
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	lang := web.Lang(w, r)
	h.pages.Render(w, r, http.StatusOK, "login.html", pick(lang, "登录", "Sign in"), loginPageData{Next: safeNext(r.URL.Query().Get("next")), OIDC: h.oidcURL, Demo: h.demo})
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	login, next := r.PostFormValue("login"), safeNext(r.PostFormValue("next"))
	if _, err := h.signIn(w, r, login, r.PostFormValue("password")); err != nil {
		lang := web.Lang(w, r)
		// One message for an unknown name, a wrong password and a locked
		// account: only the account's holder learns of a lock (notified).
		msg := pick(lang, "登录名或密码错误。连续输错多次后账号会暂时锁定。", "The sign-in name or password is wrong. After several failures in a row the account locks for a while.")
		if e := apperr.As(err); e == nil || e.Kind == apperr.Internal {
			httpx.WriteError(w, r, h.logger, err)
			return
		}
		status := httpx.StatusFor(apperr.KindOf(err))
		h.pages.Render(w, r, status, "login.html", pick(lang, "登录", "Sign in"), loginPageData{Next: next, Login: maskLogin(login), Error: msg, OIDC: h.oidcURL, Demo: h.demo})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logoutForm(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		h.store.EndSession(r.Context(), c.Value)
	}
	clearCookie(w, SessionCookie, h.secure)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (h *Handler) mePage(w http.ResponseWriter, r *http.Request) {
	h.renderMe(w, r, http.StatusOK, nil)
}

// chooseChannels chooses or stops email or SMS notices from the account
// page's form: an address typed chooses it, a stop button stops it. A
// refused address shows the page again with the reason.
func (h *Handler) chooseChannels(w http.ResponseWriter, r *http.Request) {
	if h.Notices == nil {
		httpx.NotFound(w, r)
		return
	}
	var ch notify.ChannelsChange
	empty := ""
	if v := strings.TrimSpace(r.PostFormValue("email")); v != "" {
		ch.Email = &v
	}
	if v := strings.TrimSpace(r.PostFormValue("sms")); v != "" {
		ch.SMS = &v
	}
	switch r.PostFormValue("stop") {
	case notify.ChannelEmail:
		ch.Email = &empty
	case notify.ChannelSMS:
		ch.SMS = &empty
	}
	if _, err := h.Notices.SetChannels(r.Context(), authz.From(r.Context()), ch); err != nil {
		if apperr.KindOf(err) != apperr.Invalid {
			httpx.WriteError(w, r, h.logger, err)
			return
		}
		h.renderMe(w, r, http.StatusBadRequest, err)
		return
	}
	http.Redirect(w, r, "/me?notices=saved#notices", http.StatusSeeOther)
}

// renderMe shows the account page; refused is the reason a change of
// channels was refused, shown next to its form.
func (h *Handler) renderMe(w http.ResponseWriter, r *http.Request, status int, refused error) {
	m, err := h.me(r)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	lang := web.Lang(w, r)
	words := RealNameLevelWords[m.RealNameLevel]
	page := struct {
		Me
		DepartmentName   string
		Level, NextLevel string // the real-name level in words, and how to raise it
		Channels         *notify.Channels
		Refused          string
		Saved            bool // the channels were just changed: the page says so
	}{Me: m, DepartmentName: m.Department, Level: pick(lang, words.Zh, words.En), NextLevel: pick(lang, words.NextZh, words.NextEn)}
	if h.Notices != nil {
		c, err := h.Notices.Channels(r.Context(), m.Principal)
		if err != nil {
			httpx.WriteError(w, r, h.logger, err)
			return
		}
		page.Channels = &c
	}
	if refused != nil {
		page.Refused = apperr.As(refused).Words().In(lang)
	} else {
		page.Saved = r.URL.Query().Get("notices") == "saved"
	}
	if h.Org != nil && m.Department != "" {
		if d, err := h.Org.Department(r.Context(), m.Department); err == nil {
			page.DepartmentName = pick(lang, d.NameZh, d.NameEn)
		}
	}
	h.pages.Render(w, r, status, "me.html", pick(lang, "我的账号", "My account"), page)
}

func pick(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}
