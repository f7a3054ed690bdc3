package oidc

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"yiwang/internal/apperr"
	"yiwang/internal/httpx"
)

// Login sends the browser to the provider. An optional ?next= path on this
// site is where the browser lands once signed in.
func (h *Handler) Login(w http.ResponseWriter, r *http.Request) {
	st := loginState{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
		Next:     safeNext(r.URL.Query().Get("next")),
		Expires:  time.Now().Add(stateTTL).Unix(),
	}
	value, err := seal(h.aead, st)
	if err != nil {
		httpx.WriteError(w, r, h.logger, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: stateCookie, Value: value, Path: cookiePath, MaxAge: int(stateTTL / time.Second),
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.oauth.AuthCodeURL(st.State, gooidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

// Callback finishes a sign-in: it checks the provider's answer against the
// state cookie, exchanges the code, verifies the ID token and hands the
// identity to Accounts.
func (h *Handler) Callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Cache-Control", "no-store")

	// The state is single-use whatever happens next: clearing it makes a
	// replayed callback fail the state check instead of trying again.
	cookie, cookieErr := r.Cookie(stateCookie)
	if cookieErr == nil {
		http.SetCookie(w, &http.Cookie{
			Name: stateCookie, Path: cookiePath, MaxAge: -1,
			HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode,
		})
	}

	// An error answer cannot sign anyone in, so it needs no state check to
	// be reported.
	if code := q.Get("error"); code != "" {
		h.fail(w, r, providerError(code), "provider_error", loggable(code), "provider_error_description", truncate(q.Get("error_description"), 200))
		return
	}

	if cookieErr != nil {
		h.fail(w, r, stateMismatch(errors.New("no state cookie (cookies blocked, another browser, or already used)")))
		return
	}
	st, err := unseal(h.aead, cookie.Value, time.Now())
	if err != nil {
		h.fail(w, r, stateMismatch(err))
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		h.fail(w, r, stateMismatch(errors.New("state parameter does not match the cookie")))
		return
	}

	code := q.Get("code")
	if code == "" {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.OIDCExchangeFailed,
			"the identity provider sent you back without a sign-in code; start signing in again"))
		return
	}
	ctx := gooidc.ClientContext(r.Context(), h.client)
	token, err := h.oauth.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		h.fail(w, r, exchangeFailed(err))
		return
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		h.fail(w, r, tokenInvalid(errors.New("the token response holds no id_token")))
		return
	}
	idToken, err := h.verifier.Verify(ctx, raw)
	if err != nil {
		h.fail(w, r, tokenInvalid(err))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(st.Nonce)) != 1 {
		h.fail(w, r, apperr.New(apperr.Unauthenticated, apperr.OIDCNonceMismatch,
			"the identity provider's answer belongs to a different sign-in; start signing in again"), "subject", idToken.Subject)
		return
	}
	id, err := h.identity(r, idToken)
	if err != nil {
		h.fail(w, r, tokenInvalid(err))
		return
	}

	redirect, err := h.accounts.SignIn(r.Context(), w, r, id)
	if err != nil {
		h.fail(w, r, err, "issuer", id.Issuer, "subject", id.Subject)
		return
	}
	target := st.Next
	if redirect != "" {
		if target = safeNext(redirect); target != redirect {
			h.logger.WarnContext(r.Context(), "accounts asked to redirect off the site after sign-in; sending to / instead", "redirect", redirect)
		}
	}
	h.logger.InfoContext(r.Context(), "signed in through OpenID Connect", "issuer", id.Issuer, "subject", id.Subject, "real_name_level", id.RealNameLevel)
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// fail logs why a sign-in failed and answers in the error shape. The log
// never holds the code or tokens.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, attrs ...any) {
	code := apperr.InternalError
	if e := apperr.As(err); e != nil {
		code = e.Code
	}
	h.logger.WarnContext(r.Context(), "OpenID Connect sign-in failed", append([]any{"code", code, "err", err}, attrs...)...)
	httpx.WriteError(w, r, h.logger, err)
}

func stateMismatch(cause error) error {
	return apperr.Wrap(cause, apperr.Invalid, apperr.OIDCStateMismatch,
		"this sign-in could not be matched to one started in this browser, or it took longer than 10 minutes; start signing in again")
}

func tokenInvalid(cause error) error {
	return apperr.Wrap(cause, apperr.Unauthenticated, apperr.OIDCTokenInvalid,
		"the identity provider's answer could not be verified, so you are not signed in; start signing in again, and if it keeps failing report it with the request ID")
}

// exchangeFailed tells a refused code (start again) from refused client
// credentials (our configuration) and a provider that could not be reached
// (try later).
func exchangeFailed(cause error) error {
	var re *oauth2.RetrieveError
	if errors.As(cause, &re) && re.Response != nil {
		switch {
		case re.ErrorCode == "invalid_client" || re.Response.StatusCode == http.StatusUnauthorized:
			// Ours to fix, not the person's: they see the request ID, the
			// log says what to check.
			return apperr.Wrap(cause, apperr.Internal, apperr.OIDCExchangeFailed,
				"the identity provider refused this site's client credentials: check the OpenID Connect client ID and secret")
		case re.Response.StatusCode < http.StatusInternalServerError:
			return apperr.Wrap(cause, apperr.Invalid, apperr.OIDCExchangeFailed,
				"the identity provider did not accept the sign-in code; start signing in again")
		}
	}
	return apperr.Wrap(cause, apperr.Unavailable, apperr.OIDCExchangeFailed,
		"the identity provider could not be reached to finish signing in; try again in a few minutes")
}

// providerError explains an error the provider sent back instead of a code.
func providerError(code string) error {
	if code == "access_denied" {
		return apperr.New(apperr.Forbidden, apperr.OIDCDenied,
			"you did not allow this site to use your identity from the identity provider, so you are not signed in; to sign in, start again and allow it")
	}
	return apperr.New(apperr.Unavailable, apperr.OIDCProviderError,
		"the identity provider could not sign you in (%s); try again in a few minutes", loggable(code))
}

// errorCode matches RFC 6749 error codes; anything else from the query
// string is not repeated back or logged verbatim.
var errorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

func loggable(code string) string {
	if errorCode.MatchString(code) {
		return code
	}
	return "unrecognised error"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// identity reads the claims the platform needs from a verified ID token.
func (h *Handler) identity(r *http.Request, t *gooidc.IDToken) (Identity, error) {
	if t.Subject == "" {
		return Identity{}, errors.New("the ID token has no subject")
	}
	var claims map[string]json.RawMessage
	if err := t.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("reading ID token claims: %w", err)
	}
	id := Identity{Issuer: t.Issuer, Subject: t.Subject}
	var bad []string
	str := func(name string) string {
		s, ok := claimString(claims[name])
		if !ok {
			bad = append(bad, name)
		}
		return s
	}
	id.Name = str(h.cfg.NameClaim)
	id.IDNumber = str(h.cfg.IDNumberClaim)
	id.Email = str("email")
	level, ok := claimLevel(claims[h.cfg.LevelClaim])
	if !ok {
		bad = append(bad, h.cfg.LevelClaim)
	}
	id.RealNameLevel = level
	if len(bad) > 0 {
		// Dropping an unreadable claim only ever lowers what the identity
		// vouches for, so the sign-in goes on.
		h.logger.WarnContext(r.Context(), "ignored ID token claims of an unexpected type", "claims", bad, "issuer", id.Issuer, "subject", id.Subject)
	}
	return id, nil
}

// claimString reads a string claim; numbers are kept as written, since some
// providers send identity card numbers as JSON numbers. An absent or null
// claim is "" and fine.
func claimString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// claimLevel reads a non-negative integer level, sent as a number or a
// numeric string. Absent is 0 and fine.
func claimLevel(raw json.RawMessage) (int, bool) {
	s, ok := claimString(raw)
	if !ok {
		return 0, false
	}
	if s == "" {
		return 0, len(raw) == 0 || bytes.Equal(raw, []byte("null"))
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
