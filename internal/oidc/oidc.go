// Package oidc signs people in through an external OpenID Connect provider,
// such as a province's unified identity platform (统一身份认证).
//
// The flow is the authorization code flow with PKCE. Everything the callback
// needs to check the provider's answer (state, nonce, PKCE verifier and where
// to go afterwards) travels in one short-lived cookie sealed with AES-GCM, so
// any instance behind a load balancer can finish a sign-in that another one
// started, without a shared store. What happens to the person afterwards
// (finding or creating their account, the session) belongs to Accounts.
package oidc

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
)

// The paths the handler serves. The state cookie is scoped to their common
// parent, so the redirect URL registered with the provider must be
// CallbackPath on this site.
const (
	LoginPath    = "/auth/oidc/login"
	CallbackPath = "/auth/oidc/callback"
	cookiePath   = "/auth/oidc"
)

// CookieKeySize is the length of Config.CookieKey: an AES-256 key.
const CookieKeySize = 32

// Config is how to reach the provider and read what it says.
type Config struct {
	Issuer       string   // the provider's issuer URL, exactly as its discovery document states it
	ClientID     string   // yiwang's client ID at the provider
	ClientSecret string   // yiwang's client secret at the provider
	RedirectURL  string   // this site's callback as registered with the provider, ending in CallbackPath
	Scopes       []string // scopes to ask for; "openid" is always added; default openid and profile

	IDNumberClaim string // claim holding the identity card number; default "id_number"
	NameClaim     string // claim holding the person's name; default "name"
	LevelClaim    string // claim holding the real-name verification level; default "real_name_level"

	// CookieKey seals the sign-in state cookie; CookieKeySize random bytes.
	// Every instance serving the same site must use the same key, or a
	// sign-in that starts on one instance fails on another.
	CookieKey []byte

	// HTTPClient reaches the provider (discovery, signing keys, code
	// exchange), e.g. one trusting a government CA. The default gives up
	// after 10 seconds, so a slow provider cannot hold requests forever.
	HTTPClient *http.Client
}

// Identity is what the provider vouches for.
type Identity struct {
	Issuer, Subject string // together, the stable key to link an account to
	Name            string
	IDNumber        string // as the provider sent it; may be empty
	RealNameLevel   int    // from the level claim, 0 if absent
	Email           string // as the provider sent it; not necessarily verified
}

// Accounts signs a person in once the provider has vouched for them.
type Accounts interface {
	// SignIn finds or creates the account linked to id and starts a session,
	// writing the session cookie to w. It returns where to send the browser
	// next, a path on this site (anything else becomes "/"); an empty
	// redirect continues to the page the person asked for when they started
	// signing in (the login's ?next=).
	SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, id Identity) (redirect string, err error)
}

// Handler serves the login and callback routes for one provider.
type Handler struct {
	cfg      Config
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	aead     cipher.AEAD
	client   *http.Client
	secure   bool // the site is served over HTTPS, so the state cookie is Secure
	accounts Accounts
	logger   *slog.Logger
}

// New discovers the provider at cfg.Issuer and returns a handler for it.
// Configuration mistakes are apperr.Invalid; a provider that cannot be
// discovered is apperr.Unavailable.
func New(ctx context.Context, cfg Config, accounts Accounts, logger *slog.Logger) (*Handler, error) {
	cfg = cfg.withDefaults()
	redirect, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if accounts == nil || logger == nil {
		return nil, apperr.New(apperr.Internal, apperr.OIDCConfigInvalid, "oidc.New needs an Accounts and a logger")
	}
	block, err := aes.NewCipher(cfg.CookieKey)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, apperr.OIDCConfigInvalid, "the cookie key cannot be used")
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, apperr.OIDCConfigInvalid, "the cookie key cannot be used")
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	provider, err := gooidc.NewProvider(gooidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		var mismatch *gooidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, apperr.Wrap(err, apperr.Unavailable, apperr.OIDCDiscoveryFailed, fmt.Sprintf(
				"the OpenID Connect provider at %s names its issuer %q: check the issuer URL and set it to exactly that", cfg.Issuer, mismatch.Discovered))
		}
		return nil, apperr.Wrap(err, apperr.Unavailable, apperr.OIDCDiscoveryFailed, fmt.Sprintf(
			"cannot discover the OpenID Connect provider at %s: check the issuer URL and that this server can reach it", cfg.Issuer))
	}
	return &Handler{
		cfg: cfg,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  cfg.RedirectURL,
			Scopes:       cfg.Scopes,
		},
		verifier: provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID}),
		aead:     aead,
		client:   client,
		secure:   redirect.Scheme == "https",
		accounts: accounts,
		logger:   logger,
	}, nil
}

// Routes returns the handler's routes by ServeMux pattern. Both are public:
// they are how a person who is not signed in becomes signed in.
func (h *Handler) Routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET " + LoginPath:    h.Login,
		"GET " + CallbackPath: h.Callback,
	}
}

func (c Config) withDefaults() Config {
	if c.IDNumberClaim == "" {
		c.IDNumberClaim = "id_number"
	}
	if c.NameClaim == "" {
		c.NameClaim = "name"
	}
	if c.LevelClaim == "" {
		c.LevelClaim = "real_name_level"
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{gooidc.ScopeOpenID, "profile"}
	} else if !slices.Contains(c.Scopes, gooidc.ScopeOpenID) {
		// Without openid the provider answers with plain OAuth and no ID token.
		c.Scopes = append([]string{gooidc.ScopeOpenID}, c.Scopes...)
	}
	return c
}

// validate checks what can be checked without the network and returns the
// parsed redirect URL.
func (c Config) validate() (*url.URL, error) {
	invalid := func(format string, args ...any) error {
		return apperr.New(apperr.Invalid, apperr.OIDCConfigInvalid, format, args...)
	}
	if u, err := url.Parse(c.Issuer); c.Issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, invalid("the OpenID Connect issuer URL %q is not an http(s) URL: set it to the provider's issuer, e.g. https://tyrz.example.gov.cn", c.Issuer)
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return nil, invalid("the OpenID Connect client ID and secret are required: use the ones the provider issued to this site")
	}
	redirect, err := url.Parse(c.RedirectURL)
	if err != nil || (redirect.Scheme != "https" && redirect.Scheme != "http") || redirect.Host == "" || redirect.Path != CallbackPath {
		return nil, invalid("the OpenID Connect redirect URL %q must be this site's address followed by %s, e.g. https://zwfw.example.gov.cn%s", c.RedirectURL, CallbackPath, CallbackPath)
	}
	if len(c.CookieKey) != CookieKeySize {
		return nil, invalid("the OpenID Connect cookie key is %d bytes; it must be %d random bytes", len(c.CookieKey), CookieKeySize)
	}
	return redirect, nil
}

// Register adds the sign-in routes; both are public, as signing in must be.
func (h *Handler) Register(r *httpx.Router) {
	for pattern, f := range h.Routes() {
		r.HandleFunc(pattern, authz.Public, f)
	}
}
