package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"testing"
	"time"
)

func newAEAD(t *testing.T, firstKeyByte byte) cipher.AEAD {
	t.Helper()
	key := make([]byte, CookieKeySize)
	key[0] = firstKeyByte
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

func TestUnsealRefusesWhatLoginDidNotSealJustNow(t *testing.T) {
	aead := newAEAD(t, 0)
	now := time.Unix(1_700_000_000, 0)
	st := loginState{State: "s", Nonce: "n", Verifier: "v", Next: "/me", Expires: now.Add(stateTTL).Unix()}
	sealed, err := seal(aead, st)
	if err != nil {
		t.Fatal(err)
	}
	other, err := seal(newAEAD(t, 1), st)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value string
		at    time.Time
		want  error
	}{
		{"fresh", sealed, now, nil},
		{"just before expiry", sealed, now.Add(stateTTL - time.Second), nil},
		{"expired", sealed, now.Add(stateTTL), errStateExpired},
		{"another key", other, now, errStateForged},
		{"truncated", sealed[:len(sealed)-4], now, errStateForged},
		{"not base64", "!!" + sealed, now, errStateMalformed},
		{"empty", "", now, errStateForged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unseal(aead, tt.value, tt.at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && got != st {
				t.Errorf("unsealed %+v, want %+v", got, st)
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/applications/42", "/applications/42"},
		{"/search?q=落户#top", "/search?q=落户#top"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"https://evil.example", "/"},
		{"/\\evil", "/"},
		{"/a\\b", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example/path", "/"},
		{"/" + string(make([]byte, maxNext)), "/"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
