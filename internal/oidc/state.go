package oidc

import (
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"time"
)

// stateCookie holds the sealed loginState between login and callback.
const stateCookie = "yiwang_oidc"

// stateTTL bounds how long a person may spend at the provider.
const stateTTL = 10 * time.Minute

// stateAAD binds sealed values to this use, so nothing else sealed with the
// same key can be passed off as sign-in state.
var stateAAD = []byte("yiwang/oidc/state/v1")

// loginState is what the callback must know about the login that started it.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"` // PKCE code verifier
	Next     string `json:"r"` // where to go after signing in; already checked by safeNext
	Expires  int64  `json:"e"` // Unix seconds; the cookie's own Max-Age is up to the browser
}

// seal encrypts and authenticates st for the cookie.
func seal(aead cipher.AEAD, st loginState) (string, error) {
	plain, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nil, nil, plain, stateAAD)), nil
}

// Why unsealing failed, for the log; the person sees one message for all.
var (
	errStateMalformed = errors.New("state cookie is not valid base64")
	errStateForged    = errors.New("state cookie does not authenticate (forged, or sealed with another key)")
	errStateExpired   = errors.New("state cookie has expired")
)

// unseal reverses seal, refusing anything tampered with or expired at now.
func unseal(aead cipher.AEAD, value string, now time.Time) (loginState, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return loginState{}, errStateMalformed
	}
	plain, err := aead.Open(nil, nil, sealed, stateAAD)
	if err != nil {
		return loginState{}, errStateForged
	}
	var st loginState
	if err := json.Unmarshal(plain, &st); err != nil || st.State == "" || st.Nonce == "" || st.Verifier == "" {
		return loginState{}, errStateForged
	}
	if !now.Before(time.Unix(st.Expires, 0)) {
		return loginState{}, errStateExpired
	}
	return st, nil
}

// maxNext keeps the state cookie well under browsers' 4 KB limit.
const maxNext = 1024

// safeNext returns next if it is a path on this site, and "/" otherwise, so
// the login cannot be used to send people to another site after they sign in
// (an open redirect).
func safeNext(next string) string {
	if next == "" || len(next) > maxNext || next[0] != '/' {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		// Browsers read a backslash as a slash ("/\evil" is "//evil") and
		// drop tabs and newlines ("/\t/evil" is "//evil").
		if b := next[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return "/"
		}
	}
	if len(next) > 1 && next[1] == '/' {
		return "/" // "//host" is another site
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
