package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"yiwang/internal/apperr"
)

// argon2id parameters: OWASP's baseline (19 MiB, 2 passes, 1 lane), about
// 30 ms a hash on the development machine — slow for guessing, fine for a login.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	saltLen        = 16
)

// HashPassword returns an argon2id hash in PHC string format.
func HashPassword(password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches hash, in constant time.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 16 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// PasswordCheckWait is how long a sign-in waits for a free password check
// before it is told to try again: long enough for a burst, short enough
// that nobody stares at a spinner.
const PasswordCheckWait = 3 * time.Second

// Hasher runs password checks, at most a fixed number at once: each
// argon2id check holds argonMemoryKiB of memory, so unbounded parallel
// sign-ins would exhaust the process (150 of them once took it from 75 MB to
// 2.9 GB). It also counts the checks it made, for tests and measurements.
type Hasher struct {
	slots   chan struct{} // one token per check running
	wait    time.Duration // how long a check may queue for a slot
	dummy   string        // checked when there is no hash, so unknown names cost the same
	checks  atomic.Int64
	real    atomic.Int64 // checks against a real hash: guesses that could succeed
	running atomic.Int64
	peak    atomic.Int64
}

// NewHasher returns a hasher running at most n checks at once (n < 1: one
// per CPU), each waiting at most wait for its turn before it is refused.
func NewHasher(n int, wait time.Duration) *Hasher {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	dummy, err := HashPassword("not a real password, only for timing")
	if err != nil {
		panic(err) // a constant password of valid length: cannot fail
	}
	return &Hasher{slots: make(chan struct{}, n), wait: wait, dummy: dummy}
}

// Verify reports whether password matches hash. An empty hash (no such
// account, or no password set) is checked against a dummy hash and fails,
// so that it costs the same time as a real one. When no slot frees within
// the hasher's wait it answers 503 rather than queue without end.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if hash == "" {
		VerifyPassword(h.dummy, password)
		return false, nil
	}
	h.real.Add(1)
	return VerifyPassword(hash, password), nil
}

// Hash is HashPassword in one of the hasher's slots: registrations cost
// as much memory as sign-ins.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err // refused before it takes a slot
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password)
}

// acquire waits for a free slot, at most h.wait, and counts the hash about
// to run in it; release frees the slot.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
	case <-timer.C:
		return nil, apperr.New(apperr.Unavailable, apperr.SignInBusy, "too many sign-ins at once: try again in a few seconds")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	n := h.running.Add(1)
	for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
	}
	h.checks.Add(1)
	return func() { h.running.Add(-1); <-h.slots }, nil
}

// Stats returns how many checks the hasher made and the most that ran at once.
func (h *Hasher) Stats() (checks, peak int64) { return h.checks.Load(), h.peak.Load() }

// Guesses returns how many of the checks were against a real hash: the
// dummy checks that make an unknown name or a locked account take as long
// are not guesses, as they cannot succeed.
func (h *Hasher) Guesses() int64 { return h.real.Load() }

func checkPassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < 10:
		return apperr.New(apperr.Invalid, apperr.PasswordTooShort, "a password needs at least 10 characters")
	case len(password) > 200:
		return apperr.New(apperr.Invalid, apperr.PasswordTooLong, "a password may have at most 200 bytes")
	}
	return nil
}
