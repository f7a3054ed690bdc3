package identity

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/web"
)

// Cookie names.
const (
	SessionCookie = "yiwang_session"
	// csrfCookie carries the anonymous visitor's CSRF token (double submit),
	// so that forms posted before sign-in — the sign-in form itself — are
	// protected too.
	csrfCookie = "yiwang_csrf"
	// CSRFHeader is how API clients using a session echo its CSRF token.
	CSRFHeader = "X-CSRF-Token"
	// CSRFField is the hidden form field that carries it.
	CSRFField = "csrf_token"
)

// Middleware authenticates every request — by API token (Authorization:
// Bearer) or by session cookie — puts the principal in the context, and
// refuses state-changing requests that do not carry the CSRF token of the
// browser that sent them. secure marks cookies Secure (under TLS).
func (s *Store) Middleware(logger *slog.Logger, secure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			p := authz.Anonymous
			csrf := ""
			if auth := r.Header.Get("Authorization"); auth != "" {
				secret, ok := strings.CutPrefix(auth, "Bearer ")
				if !ok {
					httpx.WriteError(w, r, logger, apperr.New(apperr.Unauthenticated, apperr.BadAuthorization, "send the API token as Authorization: Bearer TOKEN"))
					return
				}
				tp, err := s.TokenPrincipal(ctx, secret)
				if err != nil {
					logger.WarnContext(ctx, "API token refused", "path", r.URL.Path, "reason", apperr.As(err).Code, "remote", r.RemoteAddr)
					httpx.WriteError(w, r, logger, err)
					return
				}
				next.ServeHTTP(w, r.WithContext(authz.With(ctx, tp)))
				return
			}
			if c, err := r.Cookie(SessionCookie); err == nil {
				sp, sessCSRF, err := s.SessionPrincipal(ctx, c.Value)
				if err != nil {
					// Forged, expired or signed out: drop it and carry on anonymously.
					logger.InfoContext(ctx, "session cookie refused", "remote", r.RemoteAddr)
					clearCookie(w, SessionCookie, secure)
				} else {
					p, csrf = sp, sessCSRF
				}
			}
			if !p.SignedIn() {
				csrf = anonymousCSRF(w, r, secure)
			}
			if unsafeMethod(r.Method) && needsCSRF(r, p) {
				if err := checkCSRF(r, csrf); err != nil {
					logger.WarnContext(ctx, "request without a valid CSRF token refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "account", p.AccountID)
					httpx.WriteError(w, r, logger, err)
					return
				}
			}
			ctx = authz.With(ctx, p)
			ctx = web.WithCSRF(ctx, csrf)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// needsCSRF: a signed-in browser always; an anonymous one for form posts. An
// anonymous JSON request cannot be forged cross-site without a CORS
// preflight, which this server never grants.
func needsCSRF(r *http.Request, p authz.Principal) bool {
	if p.SignedIn() {
		return true
	}
	ct := r.Header.Get("Content-Type")
	return !strings.HasPrefix(ct, "application/json")
}

func checkCSRF(r *http.Request, want string) error {
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
			got = r.PostFormValue(CSRFField)
		}
	}
	if got == "" {
		return apperr.New(apperr.Forbidden, apperr.CSRFMissing, "this request lacks its CSRF token: reload the page and try again (API clients send the %s header)", CSRFHeader)
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return apperr.New(apperr.Forbidden, apperr.CSRFMismatch, "the CSRF token does not match this browser's: reload the page and try again")
	}
	return nil
}

// anonymousCSRF returns the visitor's CSRF cookie, setting one if absent.
func anonymousCSRF(w http.ResponseWriter, r *http.Request, secure bool) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	token := newSecret("")
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	return token
}

// setSessionCookie hands a new session to the browser.
func setSessionCookie(w http.ResponseWriter, token string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxSession.Seconds())})
}

func clearCookie(w http.ResponseWriter, name string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}
