// Package oidctest runs an OpenID Connect provider inside a test, so the
// whole sign-in flow can be driven over real HTTP without a real 统一身份认证
// platform.
//
// The provider has one user and no login form: /authorize sends the browser
// straight back with a one-time code. It is strict where a real provider is
// (client credentials, one-time codes, redirect_uri, PKCE S256), and a Fault
// makes it misbehave in one chosen way so the relying party's checks can be
// tested.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// User is the person the provider signs in.
type User struct {
	Subject       string
	Name          string         // "name" claim, left out if empty
	IDNumber      string         // "id_number" claim, left out if empty
	RealNameLevel int            // "real_name_level" claim, left out if 0
	Email         string         // "email" claim, left out if empty
	Extra         map[string]any // further claims; they replace the ones above
}

// DefaultUser returns who signs in unless WithUser says otherwise.
func DefaultUser() User {
	return User{Subject: "user-1", Name: "张三", IDNumber: "11010519491231002X", RealNameLevel: 3}
}

// Fault is one way the provider misbehaves.
type Fault int

// The faults.
const (
	NoFault       Fault = iota
	Deny                // /authorize answers error=access_denied, as when the person declines
	WrongAudience       // the ID token is issued to another client
	WrongNonce          // the ID token carries a nonce other than the one asked for
	WrongIssuer         // the ID token names another issuer
	Expired             // the ID token expired an hour ago
	BadSignature        // the ID token is signed by a key that is not in the JWKS
	NoIDToken           // the token response has no id_token
)

// The client credentials the provider accepts unless WithClient says otherwise.
const (
	DefaultClientID     = "yiwang"
	DefaultClientSecret = "yiwang-test-secret"
)

// Option changes the provider, at Start or later through Set.
type Option func(*Provider)

// WithClient sets the client credentials the provider accepts.
func WithClient(id, secret string) Option {
	return func(p *Provider) { p.clientID, p.clientSecret = id, secret }
}

// WithUser sets who signs in from the next /authorize on.
func WithUser(u User) Option { return func(p *Provider) { p.user = u } }

// WithFault makes the provider misbehave; NoFault puts it right.
func WithFault(f Fault) Option { return func(p *Provider) { p.fault = f } }

// Provider is a running test provider. Its issuer is URL.
type Provider struct {
	URL string // issuer and base URL, e.g. http://127.0.0.1:41234

	key   *rsa.PrivateKey // the published signing key
	keyID string

	mu           sync.Mutex
	clientID     string
	clientSecret string
	user         User
	fault        Fault
	codes        map[string]grant
	rogue        *rsa.PrivateKey // signs BadSignature tokens under the published key's ID; made on first use
}

// grant is what an issued code stands for.
type grant struct {
	clientID, redirectURI string
	nonce, challenge      string
	user                  User
	expires               time.Time
}

// codeTTL is how long a code can be exchanged.
const codeTTL = time.Minute

// Start runs a provider until the test ends.
func Start(t testing.TB, opts ...Option) *Provider {
	t.Helper()
	p := &Provider{
		key:          newKey(t),
		keyID:        rand.Text(),
		clientID:     DefaultClientID,
		clientSecret: DefaultClientSecret,
		user:         DefaultUser(),
		codes:        map[string]grant{},
	}
	p.Set(opts...)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Set changes the provider while it runs.
func (p *Provider) Set(opts ...Option) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range opts {
		o(p)
	}
}

func newKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("oidctest: generating a signing key: %v", err)
	}
	return k
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "name", "id_number", "real_name_level", "email"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: p.keyID, Algorithm: string(jose.RS256), Use: "sig"},
	}})
}

// authorize checks the request as a real provider would, then, with no
// login form, redirects straight back with a code (or the Deny error).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	// Until client_id and redirect_uri are known good, errors cannot go back
	// to the client: a real provider shows them to the person instead.
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != p.clientID || err != nil || !redirect.IsAbs() {
		http.Error(w, "oidctest: unknown client_id or bad redirect_uri", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	if s := q.Get("state"); s != "" {
		back.Set("state", s)
	}
	switch {
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		back.Set("error", "invalid_scope")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		back.Set("error", "invalid_request")
		back.Set("error_description", "PKCE with S256 is required")
	case p.fault == Deny:
		back.Set("error", "access_denied")
		back.Set("error_description", "the user declined")
	default:
		code := rand.Text()
		p.codes[code] = grant{
			clientID: p.clientID, redirectURI: redirect.String(),
			nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
			user: p.user, expires: time.Now().Add(codeTTL),
		}
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token exchanges a code for tokens, checking everything RFC 6749 and
// RFC 7636 require of a confidential client.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// client_secret_basic form-encodes both before joining them.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if subtle.ConstantTimeCompare([]byte(id), []byte(p.clientID)) != 1 || subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		tokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	code := r.PostForm.Get("code")
	g, ok := p.codes[code]
	delete(p.codes, code) // one attempt per code, successful or not
	switch {
	case !ok || time.Now().After(g.expires):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case g.clientID != id:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code issued to another client")
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request")
		return
	case subtle.ConstantTimeCompare([]byte(s256(r.PostForm.Get("code_verifier"))), []byte(g.challenge)) != 1:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}

	resp := map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300}
	if p.fault != NoIDToken {
		idToken, err := p.idToken(g)
		if err != nil {
			tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		resp["id_token"] = idToken
	}
	writeJSON(w, http.StatusOK, resp)
}

// idToken signs the ID token for g, bent by the current fault.
func (p *Provider) idToken(g grant) (string, error) {
	now := time.Now()
	claims := map[string]any{
		"iss": p.URL, "sub": g.user.Subject, "aud": g.clientID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	for name, v := range map[string]any{"name": g.user.Name, "id_number": g.user.IDNumber, "email": g.user.Email} {
		if v != "" {
			claims[name] = v
		}
	}
	if g.user.RealNameLevel != 0 {
		claims["real_name_level"] = g.user.RealNameLevel
	}
	maps.Copy(claims, g.user.Extra)

	key := p.key
	switch p.fault {
	case WrongAudience:
		claims["aud"] = "some-other-client"
	case WrongNonce:
		claims["nonce"] = "not-the-nonce-" + rand.Text()
	case WrongIssuer:
		claims["iss"] = p.URL + "/elsewhere"
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case BadSignature:
		if p.rogue == nil {
			rogue, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return "", err
			}
			p.rogue = rogue
		}
		key = p.rogue
	}

	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: p.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// s256 is the PKCE S256 transform of a code verifier (RFC 7636 §4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func tokenError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // only maps and keys built here; they always encode
}
