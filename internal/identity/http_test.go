package identity_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/identity"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// syncBuffer collects log output written from the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// site is the identity handler behind its middleware, served over HTTP.
type site struct {
	*fixture
	srv    *httptest.Server
	client *http.Client
	logs   *syncBuffer
}

func newSite(t *testing.T, db *store.DB, secure bool) *site {
	t.Helper()
	f := newFixture(t, db)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	limiter := identity.NewLimiter(db)
	limiter.SetNow(f.clock.Now)
	h, err := identity.NewHandler(f.ids, limiter, logger, secure, "")
	if err != nil {
		t.Fatal(err)
	}
	router := httpx.NewRouter(logger)
	h.Register(router)
	srv := httptest.NewServer(f.ids.Middleware(logger, secure)(router))
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &site{fixture: f, srv: srv, client: client, logs: logs}
}

// request is one HTTP request to the site.
type request struct {
	method, path string
	json         any        // a JSON body, if not nil
	form         url.Values // a form body, if not nil
	cookies      []*http.Cookie
	header       map[string]string
}

// response is what came back.
type response struct {
	status  int
	body    string
	header  http.Header
	cookies []*http.Cookie
}

func (s *site) do(t *testing.T, r request) response {
	t.Helper()
	var body io.Reader
	ct := ""
	switch {
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			t.Fatal(err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	case r.form != nil:
		body, ct = strings.NewReader(r.form.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest(r.method, s.srv.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	for _, c := range r.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, body: string(b), header: res.Header, cookies: res.Cookies()}
}

// code returns the error code of an API error response.
func (r response) code() string {
	var e httpx.ErrorBody
	json.Unmarshal([]byte(r.body), &e)
	return e.Error.Code
}

// cookie returns the last cookie named name the response sets: the one the
// browser keeps.
func (r response) cookie(name string) *http.Cookie {
	var last *http.Cookie
	for _, c := range r.cookies {
		if c.Name == name {
			last = c
		}
	}
	return last
}

// want checks the status and, for errors, the code.
func (r response) want(t *testing.T, what string, status int, code string) {
	t.Helper()
	if r.status != status || code != "" && r.code() != code {
		t.Fatalf("%s: %d %s, want %d %s", what, r.status, strings.TrimSpace(r.body), status, code)
	}
}

// wantCleared checks that the response tells the browser to drop cookie name.
func (r response) wantCleared(t *testing.T, what, name string) {
	t.Helper()
	if c := r.cookie(name); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("%s: the %s cookie is not cleared (Set-Cookie %v)", what, name, r.header.Values("Set-Cookie"))
	}
}

// wantSignIn checks that a request was refused for want of signing in: an
// API route answers 401 sign_in_required, a page may instead send the
// browser to the sign-in page.
func (r response) wantSignIn(t *testing.T, what, path string) {
	t.Helper()
	if !strings.HasPrefix(path, "/api/") && r.status == http.StatusSeeOther {
		if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
			t.Fatalf("%s: redirected to %q, want the sign-in page", what, loc)
		}
		return
	}
	r.want(t, what, http.StatusUnauthorized, "sign_in_required")
}

// browser is a signed-in API client: its session cookie and CSRF token.
type browser struct {
	session *http.Cookie
	csrf    string
}

func (s *site) signIn(t *testing.T, login string) browser {
	t.Helper()
	res := s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": login, "password": password}})
	res.want(t, "sign in as "+login, http.StatusOK, "")
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal([]byte(res.body), &me); err != nil || me.CSRF == "" {
		t.Fatalf("sign-in response %s has no CSRF token", res.body)
	}
	c := res.cookie(identity.SessionCookie)
	if c == nil || c.Value == "" {
		t.Fatalf("sign-in set no session cookie: %v", res.header.Values("Set-Cookie"))
	}
	return browser{session: c, csrf: me.CSRF}
}

func TestHTTPSignIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, secure := range []bool{false, true} {
			name := map[bool]string{false: "plain HTTP", true: "behind TLS"}[secure]
			t.Run(name, func(t *testing.T) {
				s := newSite(t, db, secure)
				staff := s.staff(t, "clerk."+map[bool]string{false: "a", true: "b"}[secure], authz.Clerk)

				res := s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": staff.Username, "password": password}})
				res.want(t, "good credentials", http.StatusOK, "")
				var me struct {
					AccountID  int64        `json:"account_id"`
					Kind       string       `json:"kind"`
					Roles      []authz.Role `json:"roles"`
					Department string       `json:"department"`
					Via        string       `json:"via"`
					CSRF       string       `json:"csrf_token"`
				}
				if err := json.Unmarshal([]byte(res.body), &me); err != nil {
					t.Fatal(err)
				}
				if me.AccountID != staff.ID || me.Kind != "staff" || me.Department != testDept || me.Via != "session" || me.CSRF == "" ||
					len(me.Roles) != 1 || me.Roles[0] != authz.Clerk {
					t.Errorf("sign-in response = %s", res.body)
				}
				c := res.cookie(identity.SessionCookie)
				if c == nil {
					t.Fatalf("no session cookie in %v", res.header.Values("Set-Cookie"))
				}
				if !strings.HasPrefix(c.Value, "ys_") || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure || c.MaxAge != 12*3600 {
					t.Errorf("session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/, Secure=%v, Max-Age 12h", c, secure)
				}
				for _, other := range res.cookies {
					if !other.HttpOnly || other.Secure != secure || other.SameSite != http.SameSiteLaxMode {
						t.Errorf("cookie %s = %+v; want HttpOnly, SameSite=Lax, Secure=%v", other.Name, other, secure)
					}
				}
				// The cookie signs the browser in.
				s.do(t, request{method: "GET", path: "/api/v1/me", cookies: []*http.Cookie{c}}).want(t, "me with the new cookie", http.StatusOK, "")

				bad := s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": staff.Username, "password": "wrong-password-1"}})
				bad.want(t, "wrong password", http.StatusUnauthorized, "bad_credentials")
				unknown := s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": "nobody.here", "password": password}})
				unknown.want(t, "unknown user", http.StatusUnauthorized, "bad_credentials")
				var b1, b2 httpx.ErrorBody
				json.Unmarshal([]byte(bad.body), &b1)
				json.Unmarshal([]byte(unknown.body), &b2)
				if b1.Error.Message != b2.Error.Message {
					t.Errorf("wrong password says %q, unknown user %q: they must not differ", b1.Error.Message, b2.Error.Message)
				}
				for _, r := range []response{bad, unknown} {
					if r.cookie(identity.SessionCookie) != nil {
						t.Errorf("a refused sign-in set a session cookie: %v", r.header.Values("Set-Cookie"))
					}
				}
			})
		}
	})
}

func TestHTTPSignInReplacesTheOldSession(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		s.staff(t, "clerk", authz.Clerk)
		first := s.signIn(t, "clerk")
		// Signing in again from the same browser ends the session it had.
		res := s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": "clerk", "password": password},
			cookies: []*http.Cookie{first.session}, header: map[string]string{identity.CSRFHeader: first.csrf}})
		res.want(t, "second sign-in", http.StatusOK, "")
		second := res.cookie(identity.SessionCookie)
		if second == nil || second.Value == first.session.Value {
			t.Fatalf("second sign-in kept the session: %v", res.header.Values("Set-Cookie"))
		}
		s.do(t, request{method: "GET", path: "/api/v1/me", cookies: []*http.Cookie{first.session}}).want(t, "me with the old cookie", http.StatusUnauthorized, "sign_in_required")
		s.do(t, request{method: "GET", path: "/api/v1/me", cookies: []*http.Cookie{second}}).want(t, "me with the new cookie", http.StatusOK, "")
	})
}

func TestHTTPMeShowsOnlyTheMaskedIDNumber(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		id := idNumberEndingInX(t, "19600315")
		person := s.person(t, id, "张三")
		masked := id[:4] + strings.Repeat("*", 10) + id[14:]
		b := s.signIn(t, strings.ToLower(id))

		res := s.do(t, request{method: "GET", path: "/api/v1/me", cookies: []*http.Cookie{b.session}})
		res.want(t, "GET /api/v1/me", http.StatusOK, "")
		var me struct {
			AccountID int64  `json:"account_id"`
			Kind      string `json:"kind"`
			CSRF      string `json:"csrf_token"`
			Person    *struct {
				ID       int64  `json:"id"`
				Name     string `json:"name"`
				IDNumber string `json:"id_number"`
			} `json:"person"`
		}
		if err := json.Unmarshal([]byte(res.body), &me); err != nil {
			t.Fatal(err)
		}
		if me.AccountID != person.ID || me.Kind != "person" || me.CSRF != b.csrf || me.Person == nil ||
			me.Person.IDNumber != masked || me.Person.Name != "张三" {
			t.Errorf("me = %s; want person 张三 with ID number %s and the session's CSRF token", res.body, masked)
		}

		page := s.do(t, request{method: "GET", path: "/me", cookies: []*http.Cookie{b.session}})
		page.want(t, "GET /me", http.StatusOK, "")
		if !strings.Contains(page.body, masked) || !strings.Contains(page.body, "张三") {
			t.Errorf("the account page does not show the masked number %s", masked)
		}
		// The real-name level in words, with how to raise it.
		if !strings.Contains(page.body, "一级：自行注册") || !strings.Contains(page.body, "自助终端凭身份证登录") || !strings.Contains(page.body, "窗口") {
			t.Errorf("the account page does not say the real-name level and how to raise it")
		}
		for what, body := range map[string]string{"GET /api/v1/me": res.body, "GET /me": page.body} {
			for _, clear := range []string{id, strings.ToLower(id), id[:17], id[6:14]} {
				if strings.Contains(body, clear) {
					t.Errorf("%s shows %q in clear", what, clear)
				}
			}
		}
		// Anonymous visitors have no account page.
		s.do(t, request{method: "GET", path: "/api/v1/me"}).want(t, "anonymous me", http.StatusUnauthorized, "sign_in_required")
	})
}

func TestHTTPLogsKeepIDNumbersOut(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		id := idNumber(t, "19600315", "123")
		s.person(t, id, "张三")
		for _, login := range []string{id, strings.ToLower(id), " " + id + " ", id + "\n"} {
			s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": login, "password": "wrong-password-1"}}).
				want(t, "wrong password", http.StatusUnauthorized, "bad_credentials")
		}
		// A typing mistake is still somebody's number.
		for _, login := range []string{wrongCheck(id), id[:17], id + "1", " " + id[:17] + " "} {
			s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": login, "password": password}}).
				want(t, "mistyped ID number", http.StatusUnauthorized, "bad_credentials")
		}
		// Staff usernames are logged as they are, to trace attacks.
		s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": "no.such.clerk", "password": password}}).
			want(t, "unknown staff", http.StatusUnauthorized, "bad_credentials")
		logs := s.logs.String()
		if !strings.Contains(logs, "sign-in refused") {
			t.Fatalf("no refusal logged: %s", logs)
		}
		if strings.Contains(logs, id[:14]) {
			t.Errorf("the log shows the ID number in clear:\n%s", logs)
		}
		if !strings.Contains(logs, "login=no.such.clerk") {
			t.Errorf("the log does not name the unknown staff login:\n%s", logs)
		}
	})
}

func TestHTTPCSRFForSignedInRequests(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		s.person(t, idNumber(t, "19600315", "123"), "张三")
		b := s.signIn(t, idNumber(t, "19600315", "123"))
		other := s.signIn(t, idNumber(t, "19600315", "123")) // the same person in another browser
		authorisation := map[string]any{"agent_id_number": idNumber(t, "19920708", "234"), "agent_name": "李四", "expires_at": s.clock.Now().Add(time.Hour)}

		tests := []struct {
			name, method, path string
			json               any
			csrf               string
			code               string
		}{
			{"sign-out without the token", "DELETE", "/api/v1/session", nil, "", "csrf_missing"},
			{"JSON POST without the token", "POST", "/api/v1/me/authorisations", authorisation, "", "csrf_missing"},
			{"PUT without the token", "PUT", "/api/v1/me/acting-for", map[string]string{"credit_code": ""}, "", "csrf_missing"},
			{"sign-out with a wrong token", "DELETE", "/api/v1/session", nil, "wrong-token", "csrf_mismatch"},
			{"sign-out with another browser's token", "DELETE", "/api/v1/session", nil, other.csrf, "csrf_mismatch"},
			{"JSON POST with another browser's token", "POST", "/api/v1/me/authorisations", authorisation, other.csrf, "csrf_mismatch"},
			{"the session cookie as the token", "DELETE", "/api/v1/session", nil, b.session.Value, "csrf_mismatch"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := request{method: tt.method, path: tt.path, json: tt.json, cookies: []*http.Cookie{b.session}}
				if tt.csrf != "" {
					r.header = map[string]string{identity.CSRFHeader: tt.csrf}
				}
				s.do(t, r).want(t, tt.method+" "+tt.path, http.StatusForbidden, tt.code)
				// Nothing happened: still signed in.
				s.do(t, request{method: "GET", path: "/api/v1/me", cookies: []*http.Cookie{b.session}}).want(t, "me afterwards", http.StatusOK, "")
			})
		}
		if n := s.count(t, "authorisations", ""); n != 0 {
			t.Errorf("%d authorisations created by refused requests", n)
		}

		// With its own token the browser signs out; the cookie is cleared
		// and, replayed, signs nobody in.
		res := s.do(t, request{method: "DELETE", path: "/api/v1/session", cookies: []*http.Cookie{b.session}, header: map[string]string{identity.CSRFHeader: b.csrf}})
		res.want(t, "sign-out with the token", http.StatusNoContent, "")
		res.wantCleared(t, "sign-out", identity.SessionCookie)
		replay := s.do(t, request{method: "GET", path: "/api/v1/me", cookies: []*http.Cookie{b.session}})
		replay.want(t, "me with a signed-out cookie", http.StatusUnauthorized, "sign_in_required")
		replay.wantCleared(t, "replayed cookie", identity.SessionCookie)
		// The other browser is still signed in.
		s.do(t, request{method: "GET", path: "/api/v1/me", cookies: []*http.Cookie{other.session}}).want(t, "the other browser", http.StatusOK, "")
	})
}

func TestHTTPForgedSessionCookieIsDropped(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		forged := &http.Cookie{Name: identity.SessionCookie, Value: "ys_garbagegarbagegarbagegarbagegarbagegarbage"}
		for _, tt := range []struct {
			name, path string
			status     int
			code       string
		}{
			{"protected API route", "/api/v1/me", http.StatusUnauthorized, "sign_in_required"},
			{"protected page", "/me", http.StatusUnauthorized, "sign_in_required"},
			{"public page", "/login", http.StatusOK, ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res := s.do(t, request{method: "GET", path: tt.path, cookies: []*http.Cookie{forged}})
				if tt.code == "sign_in_required" {
					res.wantSignIn(t, "GET "+tt.path+" with a forged cookie", tt.path)
				} else {
					res.want(t, "GET "+tt.path+" with a forged cookie", tt.status, tt.code)
				}
				res.wantCleared(t, "forged cookie", identity.SessionCookie)
			})
		}
		// An anonymous JSON sign-in still works with the forged cookie present.
		s.staff(t, "clerk", authz.Clerk)
		res := s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": "clerk", "password": password}, cookies: []*http.Cookie{forged}})
		res.want(t, "sign-in with a forged cookie", http.StatusOK, "")
		if c := res.cookie(identity.SessionCookie); c == nil || c.Value == forged.Value || c.Value == "" {
			t.Errorf("sign-in with a forged cookie set %v", res.header.Values("Set-Cookie"))
		}
	})
}

var csrfFieldRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func TestHTTPFormSignIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		id := idNumber(t, "19600315", "123")
		s.person(t, id, "张三")

		// The sign-in page hands out the anonymous CSRF cookie and field.
		page := s.do(t, request{method: "GET", path: "/login?next=/me"})
		page.want(t, "GET /login", http.StatusOK, "")
		csrfCookie := page.cookie("yiwang_csrf")
		m := csrfFieldRE.FindStringSubmatch(page.body)
		if csrfCookie == nil || m == nil || m[1] != csrfCookie.Value || !csrfCookie.HttpOnly || csrfCookie.SameSite != http.SameSiteLaxMode {
			t.Fatalf("sign-in page: CSRF cookie %+v, field %v; want the same token in both", csrfCookie, m)
		}
		// Coming back, the browser keeps its token.
		again := s.do(t, request{method: "GET", path: "/login", cookies: []*http.Cookie{csrfCookie}})
		if again.cookie("yiwang_csrf") != nil || !strings.Contains(again.body, csrfCookie.Value) {
			t.Errorf("the CSRF token changed on a second visit: %v", again.header.Values("Set-Cookie"))
		}

		form := func(next string, withField bool, pw string) url.Values {
			v := url.Values{"login": {id}, "password": {pw}, "next": {next}}
			if withField {
				v.Set("csrf_token", csrfCookie.Value)
			}
			return v
		}
		refused := []struct {
			name    string
			form    url.Values
			cookies []*http.Cookie
			code    string
		}{
			{"no token at all", form("/me", false, password), nil, "csrf_missing"},
			{"cookie but no field", form("/me", false, password), []*http.Cookie{csrfCookie}, "csrf_missing"},
			{"field but no cookie", form("/me", true, password), nil, "csrf_mismatch"},
			{"field and another browser's cookie", form("/me", true, password), []*http.Cookie{{Name: "yiwang_csrf", Value: strings.Repeat("b", 43)}}, "csrf_mismatch"},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				res := s.do(t, request{method: "POST", path: "/login", form: tt.form, cookies: tt.cookies})
				res.want(t, "POST /login", http.StatusForbidden, tt.code)
				if res.cookie(identity.SessionCookie) != nil {
					t.Error("a refused form sign-in set a session cookie")
				}
			})
		}

		t.Run("wrong password", func(t *testing.T) {
			res := s.do(t, request{method: "POST", path: "/login", form: form("/me", true, "wrong-password-1"), cookies: []*http.Cookie{csrfCookie}})
			if res.status != http.StatusUnauthorized || !strings.Contains(res.body, `role="alert"`) {
				t.Errorf("wrong password: %d, want 401 and the form again with an error", res.status)
			}
			if strings.Contains(res.body, id[:17]) || !strings.Contains(res.body, id[:4]+"**********") {
				t.Error("the form does not show the login masked")
			}
			if res.cookie(identity.SessionCookie) != nil {
				t.Error("a wrong password set a session cookie")
			}
		})

		redirects := []struct{ next, want string }{
			{"/me/applications?tab=open", "/me/applications?tab=open"},
			{"//evil.example", "/me"},
			{"//evil.example/me", "/me"},
			{"https://evil.example/", "/me"},
			{`/\evil.example`, "/me"},
			{"evil.example", "/me"},
			{"", "/me"},
		}
		for _, tt := range redirects {
			t.Run("next="+tt.next, func(t *testing.T) {
				res := s.do(t, request{method: "POST", path: "/login", form: form(tt.next, true, password), cookies: []*http.Cookie{csrfCookie}})
				res.want(t, "POST /login", http.StatusSeeOther, "")
				if loc := res.header.Get("Location"); loc != tt.want {
					t.Errorf("redirect to %q, want %q", loc, tt.want)
				}
				c := res.cookie(identity.SessionCookie)
				if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
					t.Fatalf("form sign-in set %v", res.header.Values("Set-Cookie"))
				}
				s.do(t, request{method: "GET", path: "/me", cookies: []*http.Cookie{c}}).want(t, "GET /me after the form sign-in", http.StatusOK, "")
			})
		}
	})
}

func TestHTTPFormSignOut(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		s.staff(t, "clerk", authz.Clerk)
		b := s.signIn(t, "clerk")
		// The account page's sign-out form carries the session's token.
		page := s.do(t, request{method: "GET", path: "/me", cookies: []*http.Cookie{b.session}})
		m := csrfFieldRE.FindStringSubmatch(page.body)
		if m == nil || m[1] != b.csrf {
			t.Fatalf("the account page's form has CSRF field %v, want the session's %q", m, b.csrf)
		}
		s.do(t, request{method: "POST", path: "/logout", form: url.Values{}, cookies: []*http.Cookie{b.session}}).
			want(t, "sign-out form without the field", http.StatusForbidden, "csrf_missing")
		res := s.do(t, request{method: "POST", path: "/logout", form: url.Values{"csrf_token": {m[1]}}, cookies: []*http.Cookie{b.session}})
		res.want(t, "sign-out form", http.StatusSeeOther, "")
		res.wantCleared(t, "sign-out form", identity.SessionCookie)
		s.do(t, request{method: "GET", path: "/me", cookies: []*http.Cookie{b.session}}).wantSignIn(t, "GET /me after signing out", "/me")
	})
}

func TestHTTPBearerTokens(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		system, err := s.ids.CreateSystem(s.ctx, "records-bureau", []authz.Role{authz.SysAdmin, authz.Applicant}, 0)
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := s.ids.IssueToken(s.ctx, system.ID, "sync", []authz.Permission{authz.ActForOwn}, s.clock.Now().Add(24*time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		revoked, tok, err := s.ids.IssueToken(s.ctx, system.ID, "old", []authz.Permission{authz.ActForOwn}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ids.RevokeToken(s.ctx, tok.ID, 0); err != nil {
			t.Fatal(err)
		}
		bearer := func(v string) map[string]string { return map[string]string{"Authorization": v} }

		res := s.do(t, request{method: "GET", path: "/api/v1/me", header: bearer("Bearer " + secret)})
		res.want(t, "me by token", http.StatusOK, "")
		if !strings.Contains(res.body, `"kind":"system"`) || !strings.Contains(res.body, `"via":"token"`) || strings.Contains(res.body, "csrf_token") {
			t.Errorf("me by token = %s; want a system principal via token and no CSRF token", res.body)
		}
		// Token requests need no CSRF token; they are judged on their scope.
		s.do(t, request{method: "PUT", path: "/api/v1/me/acting-for", json: map[string]string{"credit_code": ""}, header: bearer("Bearer " + secret)}).
			want(t, "PUT acting-for by token", http.StatusForbidden, "persons_only")
		// The account's sys_admin role is outside the token's scope.
		s.do(t, request{method: "GET", path: "/api/v1/admin/tokens", header: bearer("Bearer " + secret)}).
			want(t, "admin route outside the scope", http.StatusForbidden, "permission_denied")
		// A token never sets or needs cookies.
		if len(res.cookies) != 0 {
			t.Errorf("a token request set cookies: %v", res.header.Values("Set-Cookie"))
		}

		for _, tt := range []struct{ name, auth, code string }{
			{"revoked", "Bearer " + revoked, "token_revoked"},
			{"garbage", "Bearer garbage", "bad_token"},
			{"not a bearer token", "Basic " + secret, "bad_authorization"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s.do(t, request{method: "GET", path: "/api/v1/me", header: bearer(tt.auth)}).want(t, tt.name, http.StatusUnauthorized, tt.code)
			})
		}

		s.clock.Advance(24*time.Hour + time.Second)
		s.do(t, request{method: "GET", path: "/api/v1/me", header: bearer("Bearer " + secret)}).want(t, "expired token", http.StatusUnauthorized, "token_expired")
	})
}

func TestHTTPSelfRegistration(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		register := func(id, name string) response {
			return s.do(t, request{method: "POST", path: "/api/v1/accounts",
				json: map[string]string{"id_number": id, "name": name, "phone": "13800000001", "password": password}})
		}
		good := idNumber(t, "19600315", "123")
		bad := wrongCheck(good)

		res := register(bad, "张三")
		res.want(t, "malformed ID number", http.StatusBadRequest, "bad_id_number")
		if strings.Contains(res.body, bad[:17]) {
			t.Errorf("the error repeats the ID number: %s", res.body)
		}

		res = register(good, "张三")
		res.want(t, "registration", http.StatusAccepted, "")
		if strings.Contains(res.body, good[:17]) {
			t.Errorf("registration response = %s", res.body)
		}
		s.signIn(t, good)
		a, err := s.ids.Login(s.ctx, good, password)
		if err != nil {
			t.Fatal(err)
		}
		if a.Kind != "person" || a.RealNameLevel != 1 || len(a.Roles) != 1 || a.Roles[0] != authz.Applicant {
			t.Errorf("the registered account = %+v", a)
		}

		// Registering again answers the same: nobody learns the number has an account.
		if again := register(good, "张三"); again.status != res.status || again.body != res.body {
			t.Errorf("second registration: %d %s, want what the first got: %d %s", again.status, again.body, res.status, res.body)
		}

		// Five attempts from this address so far, whatever their outcome,
		// counting these two.
		register(idNumber(t, "19920708", "234"), "李四").want(t, "fourth registration", http.StatusAccepted, "")
		register(idNumber(t, "19880101", "345"), "王五").want(t, "fifth registration", http.StatusAccepted, "")
		sixth := idNumber(t, "19700101", "456")
		res = register(sixth, "赵六")
		res.want(t, "sixth registration within the hour", http.StatusTooManyRequests, "rate_limited")
		if !regexp.MustCompile(`请\d+分钟后再试`).MatchString(res.body) {
			t.Errorf("the refusal does not say when to retry: %s", res.body)
		}
		if _, err := s.ids.PersonByIDNumber(s.ctx, s.ids.DB(), sixth); err == nil {
			t.Error("a rate-limited registration created the person")
		}

		s.clock.Advance(time.Hour + time.Second)
		register(sixth, "赵六").want(t, "registration an hour later", http.StatusAccepted, "")
	})
}

// One address may fail 60 sign-ins a minute (signing in counts nothing);
// the 61st attempt is refused before any password is checked, and the next
// minute it may sign in again.
func TestHTTPSignInThrottledPerAddress(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		s.staff(t, "clerk", authz.Clerk)
		signIn := func(pw string) response {
			return s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": "clerk", "password": pw}})
		}
		for range 70 {
			signIn(password).want(t, "right password", http.StatusOK, "")
		}
		for i := 0; i < 60; i++ {
			if res := signIn("wrong-password-1"); res.status == http.StatusTooManyRequests && res.code() == "rate_limited" {
				t.Fatalf("sign-in %d throttled; want 60 a minute", i+1)
			}
		}
		before, _ := s.ids.Passwords().Stats()
		signIn(password).want(t, "61st sign-in within the minute", http.StatusTooManyRequests, "rate_limited")
		if after, _ := s.ids.Passwords().Stats(); after != before {
			t.Errorf("the throttled sign-in checked a password")
		}
		s.clock.Advance(2 * time.Minute) // past the throttle and the one-minute lock
		signIn(password).want(t, "a minute later", http.StatusOK, "")
	})
}

// TestAnswersDoNotTellWhetherAnAccountExists: an unknown name, a wrong
// password and a locked account get the same status, code and words, from
// the API and the sign-in page alike; only the holder learns of the lock.
func TestAnswersDoNotTellWhetherAnAccountExists(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, false)
		told := &toldHolders{}
		s.ids.SetNotifier(told)
		s.staff(t, "clerk", authz.Clerk)
		holder := idNumber(t, "19600315", "123")
		acc := s.person(t, holder, "张三")
		type answer struct {
			status        int
			code, message string
		}
		api := func(login, pw string) answer {
			res := s.do(t, request{method: "POST", path: "/api/v1/session", json: map[string]string{"login": login, "password": pw}})
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			json.Unmarshal([]byte(res.body), &body)
			return answer{res.status, body.Error.Code, body.Error.Message}
		}
		page := func(login, pw string) answer {
			csrf := strings.Repeat("c", 43)
			res := s.do(t, request{method: "POST", path: "/login", form: url.Values{"login": {login}, "password": {pw}, "csrf_token": {csrf}},
				cookies: []*http.Cookie{{Name: "yiwang_csrf", Value: csrf}}})
			m := regexp.MustCompile(`(?s)<p[^>]*class="[^"]*error[^"]*"[^>]*>(.*?)</p>`).FindStringSubmatch(res.body)
			if m == nil {
				return answer{status: res.status, message: "no error shown"}
			}
			return answer{status: res.status, message: m[1]}
		}
		for _, login := range []string{"clerk", holder} {
			unknown := "nobody.here"
			if login == holder {
				unknown = idNumber(t, "19700101", "456")
			}
			wantAPI, wantPage := api(unknown, "wrong-password-1"), page(unknown, "wrong-password-1")
			if wantAPI.status != http.StatusUnauthorized || wantAPI.code != "bad_credentials" {
				t.Fatalf("an unknown name: %+v", wantAPI)
			}
			for i := 1; i <= 6; i++ { // the fifth locks the account; the sixth finds it locked
				what := fmt.Sprintf("%s, wrong password %d", login, i)
				if got := api(login, "wrong-password-1"); got != wantAPI {
					t.Errorf("%s: %+v, want what an unknown name gets: %+v", what, got, wantAPI)
				}
			}
			if got := api(login, password); got != wantAPI {
				t.Errorf("%s locked, right password: %+v, want what an unknown name gets: %+v", login, got, wantAPI)
			}
			if got := page(login, password); got != wantPage {
				t.Errorf("%s locked, the sign-in page: %+v, want what an unknown name gets: %+v", login, got, wantPage)
			}
			if got := page(login, "wrong-password-1"); got != wantPage {
				t.Errorf("%s locked, wrong password on the sign-in page: %+v, want %+v", login, got, wantPage)
			}
		}
		// The holder (and the clerk) were told of the lock, once each.
		var toHolder int
		for _, m := range told.to {
			if m.AccountID == acc.ID && m.Kind == notify.AccountSecurity {
				toHolder++
			}
		}
		if len(told.to) != 2 || toHolder != 1 {
			t.Errorf("the holders were told %+v, want one message each", told.to)
		}
	})
}
