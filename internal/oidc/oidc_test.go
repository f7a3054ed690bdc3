package oidc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/httpx"
	"yiwang/internal/oidc"
	"yiwang/internal/oidc/oidctest"
)

// fakeAccounts records who it signed in and starts a pretend session.
type fakeAccounts struct {
	mu       sync.Mutex
	calls    []oidc.Identity
	redirect string
	err      error
}

func (a *fakeAccounts) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, id oidc.Identity) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, id)
	if a.err != nil {
		return "", a.err
	}
	http.SetCookie(w, &http.Cookie{Name: "session", Value: "s-" + id.Subject, Path: "/", HttpOnly: true})
	return a.redirect, nil
}

func (a *fakeAccounts) Calls() []oidc.Identity {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// lockedBuffer collects log output written from server goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is the site (the Handler behind an httptest server) and the provider.
type env struct {
	idp      *oidctest.Provider
	app      *httptest.Server
	accounts *fakeAccounts
	logs     *lockedBuffer
}

func newEnv(t *testing.T, tweak func(*oidc.Config), opts ...oidctest.Option) *env {
	t.Helper()
	e := &env{idp: oidctest.Start(t, opts...), accounts: &fakeAccounts{}, logs: &lockedBuffer{}}
	mux := http.NewServeMux()
	e.app = httptest.NewServer(mux)
	t.Cleanup(e.app.Close)
	cfg := oidc.Config{
		Issuer:       e.idp.URL,
		ClientID:     oidctest.DefaultClientID,
		ClientSecret: oidctest.DefaultClientSecret,
		RedirectURL:  e.app.URL + oidc.CallbackPath,
		CookieKey:    newKey(),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	h, err := oidc.New(t.Context(), cfg, e.accounts, slog.New(slog.NewTextHandler(e.logs, nil)))
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	for pattern, f := range h.Routes() {
		mux.HandleFunc(pattern, f)
	}
	return e
}

func newKey() []byte {
	k := make([]byte, oidc.CookieKeySize)
	rand.Read(k)
	return k
}

// browser returns a client with its own cookies that follows redirects to
// the provider's /authorize and no others, so each step can be inspected.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/authorize" {
			return nil
		}
		return http.ErrUseLastResponse
	}}
}

func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// startLogin runs the login as far as the provider sending the browser back
// and returns the callback URL, not yet visited.
func (e *env) startLogin(t *testing.T, c *http.Client, next string) string {
	t.Helper()
	u := e.app.URL + oidc.LoginPath
	if next != "" {
		u += "?next=" + url.QueryEscape(next)
	}
	resp := get(t, c, u)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.app.URL+oidc.CallbackPath) {
		t.Fatalf("the provider answered %d, Location %q; want a redirect to the callback", resp.StatusCode, loc)
	}
	return loc
}

// signIn runs the whole flow and returns the callback's response.
func (e *env) signIn(t *testing.T, c *http.Client, next string) *http.Response {
	t.Helper()
	return get(t, c, e.startLogin(t, c, next))
}

// stateCookie returns the state cookie the browser would send to the callback.
func (e *env) stateCookie(c *http.Client) *http.Cookie {
	u, _ := url.Parse(e.app.URL + oidc.CallbackPath)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name != "session" {
			return ck
		}
	}
	return nil
}

func wantError(t *testing.T, resp *http.Response, status int, code string) httpx.ErrorDetail {
	t.Helper()
	var body httpx.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("status %d, body is not the error shape: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != status || body.Error.Code != code {
		t.Fatalf("got %d %s (%q), want %d %s", resp.StatusCode, body.Error.Code, body.Error.Message, status, code)
	}
	return body.Error
}

func TestSignInHandsTheVouchedIdentityToAccounts(t *testing.T) {
	e := newEnv(t, nil, oidctest.WithUser(oidctest.User{
		Subject: "3301-0042", Name: "李四", IDNumber: "33010219800101002X", RealNameLevel: 4, Email: "lisi@example.cn",
	}))
	c := browser(t)

	resp := e.signIn(t, c, "/services/jzz-001?tab=guide")

	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/services/jzz-001?tab=guide" {
		t.Fatalf("callback answered %d to %q, want 303 to the next page", resp.StatusCode, resp.Header.Get("Location"))
	}
	want := oidc.Identity{Issuer: e.idp.URL, Subject: "3301-0042", Name: "李四", IDNumber: "33010219800101002X", RealNameLevel: 4, Email: "lisi@example.cn"}
	if calls := e.accounts.Calls(); len(calls) != 1 || calls[0] != want {
		t.Fatalf("SignIn calls = %+v, want one with %+v", calls, want)
	}
	if ck := e.stateCookie(c); ck != nil {
		t.Errorf("state cookie %s is still set after the callback", ck.Name)
	}
	if !slices.ContainsFunc(resp.Cookies(), func(ck *http.Cookie) bool { return ck.Name == "session" }) {
		t.Errorf("the session cookie Accounts wrote did not reach the browser")
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
}

func TestLoginSetsAProtectedShortLivedStateCookie(t *testing.T) {
	e := newEnv(t, nil)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp := get(t, c, e.app.URL+oidc.LoginPath+"?next=/me")

	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), e.idp.URL+"/authorize?") {
		t.Fatalf("login answered %d to %q, want 302 to the provider", resp.StatusCode, resp.Header.Get("Location"))
	}
	auth, _ := url.Parse(resp.Header.Get("Location"))
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if auth.Query().Get(p) == "" {
			t.Errorf("the authorization request has no %s", p)
		}
	}
	if m := auth.Query().Get("code_challenge_method"); m != "S256" {
		t.Errorf("code_challenge_method = %q, want S256", m)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies, want 1", len(cookies))
	}
	ck := cookies[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/auth/oidc" || ck.MaxAge != 600 {
		t.Errorf("state cookie = %+v, want HttpOnly, SameSite=Lax, Path=/auth/oidc, Max-Age=600", ck)
	}
	if strings.Contains(ck.Value, auth.Query().Get("state")) || strings.Contains(ck.Value, "/me") {
		t.Errorf("the state cookie shows its contents: %s", ck.Value)
	}
}

func TestNextStaysOnTheSite(t *testing.T) {
	tests := []struct {
		name, next, accountsRedirect, want string
	}{
		{"no next", "", "", "/"},
		{"path", "/applications", "", "/applications"},
		{"path with query", "/search?q=%E8%90%BD%E6%88%B7", "", "/search?q=%E8%90%BD%E6%88%B7"},
		{"protocol-relative", "//evil.example", "", "/"},
		{"absolute", "https://evil.example", "", "/"},
		{"backslash", `/\evil`, "", "/"},
		{"tab", "/\t/evil.example", "", "/"},
		{"javascript", "javascript:alert(1)", "", "/"},
		{"relative", "evil.example", "", "/"},
		{"accounts chooses", "/applications", "/account/bind-phone", "/account/bind-phone"},
		{"accounts off-site", "/applications", "https://evil.example", "/"},
	}
	e := newEnv(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.accounts.mu.Lock()
			e.accounts.redirect = tt.accountsRedirect
			e.accounts.mu.Unlock()

			resp := e.signIn(t, browser(t), tt.next)

			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.want {
				t.Errorf("next %q: callback answered %d to %q, want %q", tt.next, resp.StatusCode, resp.Header.Get("Location"), tt.want)
			}
		})
	}
}

func TestCallbackRefusesStateNotStartedInThisBrowser(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, e *env, c *http.Client, callback string) (*http.Client, string)
	}{
		{"forged state", func(t *testing.T, e *env, c *http.Client, callback string) (*http.Client, string) {
			u, _ := url.Parse(callback)
			q := u.Query()
			q.Set("state", "FORGED")
			u.RawQuery = q.Encode()
			return c, u.String()
		}},
		{"no state", func(t *testing.T, e *env, c *http.Client, callback string) (*http.Client, string) {
			u, _ := url.Parse(callback)
			q := u.Query()
			q.Del("state")
			u.RawQuery = q.Encode()
			return c, u.String()
		}},
		{"missing cookie", func(t *testing.T, e *env, c *http.Client, callback string) (*http.Client, string) {
			return browser(t), callback // another browser, as in login CSRF
		}},
		{"tampered cookie", func(t *testing.T, e *env, c *http.Client, callback string) (*http.Client, string) {
			ck := e.stateCookie(c)
			b, err := base64.RawURLEncoding.DecodeString(ck.Value)
			if err != nil {
				t.Fatalf("state cookie is not base64url: %v", err)
			}
			b[len(b)/2] ^= 1
			u, _ := url.Parse(e.app.URL + oidc.CallbackPath)
			c.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/auth/oidc"}})
			return c, callback
		}},
		{"cookie from another site's key", func(t *testing.T, e *env, c *http.Client, callback string) (*http.Client, string) {
			other := newEnv(t, nil)
			oc := browser(t)
			other.startLogin(t, oc, "")
			u, _ := url.Parse(e.app.URL + oidc.CallbackPath)
			c.Jar.SetCookies(u, []*http.Cookie{{Name: e.stateCookie(c).Name, Value: other.stateCookie(oc).Value, Path: "/auth/oidc"}})
			return c, callback
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			c := browser(t)
			callback := e.startLogin(t, c, "/me")

			c, callback = tt.tamper(t, e, c, callback)
			resp := get(t, c, callback)

			detail := wantError(t, resp, http.StatusBadRequest, "oidc_state_mismatch")
			if !strings.Contains(detail.Message, "请重新登录") { // the words say what to do: sign in again
				t.Errorf("message %q does not tell the person what to do", detail.Message)
			}
			if calls := e.accounts.Calls(); len(calls) != 0 {
				t.Errorf("SignIn was called: %+v", calls)
			}
			if !strings.Contains(e.logs.String(), "oidc_state_mismatch") {
				t.Errorf("the failure was not logged:\n%s", e.logs)
			}
		})
	}
}

func TestReplayedCallbackFails(t *testing.T) {
	e := newEnv(t, nil)
	c := browser(t)
	callback := e.startLogin(t, c, "/me")

	if resp := get(t, c, callback); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback answered %d, want 303", resp.StatusCode)
	}
	wantError(t, get(t, c, callback), http.StatusBadRequest, "oidc_state_mismatch")
	if n := len(e.accounts.Calls()); n != 1 {
		t.Errorf("SignIn called %d times, want once", n)
	}
}

func TestProviderFailuresAreReportedAndNobodyIsSignedIn(t *testing.T) {
	tests := []struct {
		name   string
		fault  oidctest.Fault
		tweak  func(*oidc.Config)
		status int
		code   string
	}{
		{"denied consent", oidctest.Deny, nil, http.StatusForbidden, "oidc_denied"},
		{"wrong audience", oidctest.WrongAudience, nil, http.StatusUnauthorized, "oidc_token_invalid"},
		{"wrong nonce", oidctest.WrongNonce, nil, http.StatusUnauthorized, "oidc_nonce_mismatch"},
		{"wrong issuer", oidctest.WrongIssuer, nil, http.StatusUnauthorized, "oidc_token_invalid"},
		{"expired token", oidctest.Expired, nil, http.StatusUnauthorized, "oidc_token_invalid"},
		{"bad signature", oidctest.BadSignature, nil, http.StatusUnauthorized, "oidc_token_invalid"},
		{"no ID token", oidctest.NoIDToken, nil, http.StatusUnauthorized, "oidc_token_invalid"},
		{"wrong client secret", oidctest.NoFault, func(c *oidc.Config) { c.ClientSecret = "stale" }, http.StatusInternalServerError, "oidc_exchange_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.tweak, oidctest.WithFault(tt.fault))
			c := browser(t)

			resp := e.signIn(t, c, "/me")

			wantError(t, resp, tt.status, tt.code)
			if calls := e.accounts.Calls(); len(calls) != 0 {
				t.Errorf("SignIn was called: %+v", calls)
			}
			if ck := e.stateCookie(c); ck != nil {
				t.Errorf("state cookie is still set after a failed callback")
			}
			logs := e.logs.String()
			if !strings.Contains(logs, tt.code) {
				t.Errorf("the failure was not logged with its code:\n%s", logs)
			}
			if strings.Contains(logs, "eyJ") { // every JWT starts so
				t.Errorf("a token reached the log:\n%s", logs)
			}
		})
	}
}

func TestDeniedConsentSaysWhatHappened(t *testing.T) {
	e := newEnv(t, nil, oidctest.WithFault(oidctest.Deny))
	detail := wantError(t, e.signIn(t, browser(t), ""), http.StatusForbidden, "oidc_denied")
	if !strings.Contains(detail.Message, "没有同意") || !strings.Contains(detail.Message, "请重新开始") { // not allowed; start again
		t.Errorf("message %q does not explain the refusal and the way out", detail.Message)
	}
}

func TestOtherProviderErrorsAreNotDenials(t *testing.T) {
	e := newEnv(t, nil)
	c := browser(t)
	u, _ := url.Parse(e.startLogin(t, c, ""))
	q := u.Query()
	q.Del("code")
	q.Set("error", "temporarily_unavailable")
	q.Set("error_description", "<script>alert(1)</script>")
	u.RawQuery = q.Encode()

	detail := wantError(t, get(t, c, u.String()), http.StatusServiceUnavailable, "oidc_provider_error")
	if strings.Contains(detail.Message, "<script>") {
		t.Errorf("the provider's description was echoed: %q", detail.Message)
	}
}

func TestCallbackWithoutCodeFails(t *testing.T) {
	e := newEnv(t, nil)
	c := browser(t)
	u, _ := url.Parse(e.startLogin(t, c, ""))
	q := u.Query()
	q.Del("code")
	u.RawQuery = q.Encode()

	wantError(t, get(t, c, u.String()), http.StatusBadRequest, "oidc_exchange_failed")
}

func TestAccountsErrorsReachThePerson(t *testing.T) {
	e := newEnv(t, nil)
	e.accounts.mu.Lock()
	e.accounts.err = apperr.New(apperr.Forbidden, "account_locked", "this account is locked; call 12345 to unlock it")
	e.accounts.mu.Unlock()

	wantError(t, e.signIn(t, browser(t), ""), http.StatusForbidden, "account_locked")
}

func TestIdentityClaims(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*oidc.Config)
		extra map[string]any
		want  oidc.Identity
	}{
		{"renamed claims", func(c *oidc.Config) {
			c.IDNumberClaim, c.NameClaim, c.LevelClaim = "sfzh", "xm", "smdj"
		}, map[string]any{"sfzh": "44030519900101001X", "xm": "王五", "smdj": 2},
			oidc.Identity{Subject: "u", Name: "王五", IDNumber: "44030519900101001X", RealNameLevel: 2}},
		{"level as a string", nil, map[string]any{"real_name_level": "3"},
			oidc.Identity{Subject: "u", RealNameLevel: 3}},
		{"unreadable level counts as none", nil, map[string]any{"real_name_level": "high"},
			oidc.Identity{Subject: "u"}},
		{"negative level counts as none", nil, map[string]any{"real_name_level": -1},
			oidc.Identity{Subject: "u"}},
		{"ID number as a JSON number", nil, map[string]any{"id_number": json.Number("110105194912310021")},
			oidc.Identity{Subject: "u", IDNumber: "110105194912310021"}},
		{"nothing but the subject", nil, nil, oidc.Identity{Subject: "u"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.tweak, oidctest.WithUser(oidctest.User{Subject: "u", Extra: tt.extra}))

			if resp := e.signIn(t, browser(t), ""); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback answered %d, want 303", resp.StatusCode)
			}
			tt.want.Issuer = e.idp.URL
			if calls := e.accounts.Calls(); len(calls) != 1 || calls[0] != tt.want {
				t.Errorf("SignIn got %+v, want %+v", calls, tt.want)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	idp := oidctest.Start(t)
	h, err := oidc.New(t.Context(), oidc.Config{Issuer: idp.URL, ClientID: "c", ClientSecret: "s",
		RedirectURL: "https://zwfw.example.gov.cn/auth/oidc/callback", CookieKey: newKey()}, &fakeAccounts{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range h.Routes() {
		got = append(got, p)
	}
	slices.Sort(got)
	if want := []string{"GET /auth/oidc/callback", "GET /auth/oidc/login"}; !slices.Equal(got, want) {
		t.Errorf("Routes() = %v, want %v", got, want)
	}
}

func TestSecureSiteGetsASecureStateCookie(t *testing.T) {
	idp := oidctest.Start(t)
	h, err := oidc.New(t.Context(), oidc.Config{Issuer: idp.URL, ClientID: "c", ClientSecret: "s",
		RedirectURL: "https://zwfw.example.gov.cn/auth/oidc/callback", CookieKey: newKey()}, &fakeAccounts{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.Login(w, httptest.NewRequest("GET", oidc.LoginPath, nil))
	if c := w.Result().Cookies(); len(c) != 1 || !c[0].Secure {
		t.Errorf("cookies = %+v, want one Secure state cookie", c)
	}
}

func TestNewExplainsBadConfiguration(t *testing.T) {
	idp := oidctest.Start(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	good := func() oidc.Config {
		return oidc.Config{Issuer: idp.URL, ClientID: "c", ClientSecret: "s",
			RedirectURL: "https://zwfw.example.gov.cn/auth/oidc/callback", CookieKey: newKey()}
	}
	tests := []struct {
		name  string
		tweak func(*oidc.Config)
		kind  apperr.Kind
		says  []string
	}{
		{"short cookie key", func(c *oidc.Config) { c.CookieKey = c.CookieKey[:16] }, apperr.Invalid, []string{"16 bytes", "32"}},
		{"no issuer", func(c *oidc.Config) { c.Issuer = "" }, apperr.Invalid, []string{"issuer"}},
		{"no secret", func(c *oidc.Config) { c.ClientSecret = "" }, apperr.Invalid, []string{"secret"}},
		{"redirect elsewhere", func(c *oidc.Config) { c.RedirectURL = "https://zwfw.example.gov.cn/login/callback" }, apperr.Invalid, []string{"/auth/oidc/callback"}},
		{"unreachable issuer", func(c *oidc.Config) { c.Issuer = down.URL }, apperr.Unavailable, []string{down.URL, "check the issuer URL"}},
		{"issuer with a trailing slash", func(c *oidc.Config) { c.Issuer = idp.URL + "/" }, apperr.Unavailable, []string{idp.URL + "/", "check the issuer URL", `"` + idp.URL + `"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.tweak(&cfg)

			_, err := oidc.New(t.Context(), cfg, &fakeAccounts{}, slog.New(slog.DiscardHandler))

			e := apperr.As(err)
			if e == nil || e.Kind != tt.kind {
				t.Fatalf("err = %v, want kind %s", err, tt.kind)
			}
			for _, s := range tt.says {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q does not mention %q", e.Message, s)
				}
			}
		})
	}
}
