package oidctest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"yiwang/internal/oidc/oidctest"
)

const redirect = "http://app.example/auth/oidc/callback"

// authorize asks p for a code as a browser would and returns the redirect
// back to the client.
func authorize(t *testing.T, p *oidctest.Provider, verifier string, extra url.Values) *url.URL {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {oidctest.DefaultClientID}, "redirect_uri": {redirect},
		"scope": {"openid profile"}, "state": {"st"}, "nonce": {"nn"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(p.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/authorize answered %d, want 302", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// exchange posts a code to /token and returns the status and the OAuth error code.
func exchange(t *testing.T, p *oidctest.Provider, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(p.URL+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error   string `json:"error"`
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && strings.Count(body.IDToken, ".") != 2 {
		t.Errorf("id_token %q is not a compact JWS", body.IDToken)
	}
	return resp.StatusCode, body.Error
}

func TestTokenEndpointIsStrict(t *testing.T) {
	const verifier = "a-verifier-of-forty-three-characters-at-least-xx"
	tests := []struct {
		name   string
		change func(url.Values)
		status int
		err    string
	}{
		{"valid", func(url.Values) {}, http.StatusOK, ""},
		{"wrong secret", func(f url.Values) { f.Set("client_secret", "nope") }, http.StatusUnauthorized, "invalid_client"},
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", verifier+"x") }, http.StatusBadRequest, "invalid_grant"},
		{"no verifier", func(f url.Values) { f.Del("code_verifier") }, http.StatusBadRequest, "invalid_grant"},
		{"other redirect_uri", func(f url.Values) { f.Set("redirect_uri", "http://evil.example/cb") }, http.StatusBadRequest, "invalid_grant"},
		{"unknown code", func(f url.Values) { f.Set("code", "made-up") }, http.StatusBadRequest, "invalid_grant"},
		{"other grant", func(f url.Values) { f.Set("grant_type", "password") }, http.StatusBadRequest, "unsupported_grant_type"},
	}
	p := oidctest.Start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			back := authorize(t, p, verifier, nil)
			if back.Query().Get("state") != "st" || back.Query().Get("code") == "" {
				t.Fatalf("redirect back %s lacks the state or a code", back)
			}
			form := url.Values{
				"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")}, "redirect_uri": {redirect},
				"client_id": {oidctest.DefaultClientID}, "client_secret": {oidctest.DefaultClientSecret}, "code_verifier": {verifier},
			}
			tt.change(form)
			if status, e := exchange(t, p, form); status != tt.status || e != tt.err {
				t.Errorf("got %d %q, want %d %q", status, e, tt.status, tt.err)
			}
		})
	}
}

func TestCodesWorkOnce(t *testing.T) {
	const verifier = "another-verifier-of-forty-three-characters-xx"
	p := oidctest.Start(t)
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {authorize(t, p, verifier, nil).Query().Get("code")}, "redirect_uri": {redirect},
		"client_id": {oidctest.DefaultClientID}, "client_secret": {oidctest.DefaultClientSecret}, "code_verifier": {verifier},
	}
	if status, e := exchange(t, p, form); status != http.StatusOK {
		t.Fatalf("first exchange: %d %s", status, e)
	}
	if status, e := exchange(t, p, form); status != http.StatusBadRequest || e != "invalid_grant" {
		t.Errorf("second exchange: %d %q, want 400 invalid_grant", status, e)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	tests := []struct {
		name  string
		extra url.Values
		fault oidctest.Fault
		want  string
	}{
		{"deny", nil, oidctest.Deny, "access_denied"},
		{"no PKCE", url.Values{"code_challenge_method": {"plain"}}, oidctest.NoFault, "invalid_request"},
		{"no openid scope", url.Values{"scope": {"profile"}}, oidctest.NoFault, "invalid_scope"},
	}
	p := oidctest.Start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.Set(oidctest.WithFault(tt.fault))
			back := authorize(t, p, "v", tt.extra)
			if got := back.Query().Get("error"); got != tt.want || back.Query().Get("code") != "" || back.Query().Get("state") != "st" {
				t.Errorf("redirect back %s, want error=%s with the state and no code", back, tt.want)
			}
		})
	}
}
