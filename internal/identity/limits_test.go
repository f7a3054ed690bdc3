package identity_test

import (
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/identity"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		lim := identity.NewLimiter(db)
		lim.SetNow(f.clock.Now)
		three := identity.Limit{N: 3, Window: time.Hour, What: "test actions"}

		allow := func(account int64, action string) error { return lim.Allow(f.ctx, account, action, three) }

		// Three actions ten minutes apart are allowed…
		for i := 0; i < 3; i++ {
			if err := allow(7, "submit"); err != nil {
				t.Fatalf("action %d: %v", i+1, err)
			}
			f.clock.Advance(10 * time.Minute)
		}
		// …the fourth, at 30 minutes, is not: the first leaves the window in 30 minutes.
		err := allow(7, "submit")
		e := wantErr(t, "fourth action", err, apperr.TooMany, "rate_limited")
		if !strings.Contains(e.Message, "at most 3 test actions") || !strings.Contains(e.Message, "try again in 30m") {
			t.Errorf("message %q should give the limit and say to try again in 30 minutes", e.Message)
		}
		// A refused action does not count: retrying does not push the time back.
		f.clock.Advance(20*time.Minute + 20*time.Second)
		e = wantErr(t, "fifth action", allow(7, "submit"), apperr.TooMany, "rate_limited")
		if !strings.Contains(e.Message, "try again in 10m") {
			t.Errorf("message %q should say to try again in 10 minutes", e.Message)
		}

		// Other accounts and other actions are counted on their own.
		for _, other := range []struct {
			account int64
			action  string
		}{{8, "submit"}, {7, "register"}, {0, "register:192.0.2.1"}, {0, "register:192.0.2.2"}} {
			if err := allow(other.account, other.action); err != nil {
				t.Errorf("account %d, action %q is limited by account 7's submissions: %v", other.account, other.action, err)
			}
		}

		// Once the first action has left the window, one more is allowed…
		f.clock.Advance(9*time.Minute + 41*time.Second) // 60m01s after the first
		if err := allow(7, "submit"); err != nil {
			t.Fatalf("action after the window moved on: %v", err)
		}
		// …but only one: the second and third are still in it.
		wantErr(t, "action right after", allow(7, "submit"), apperr.TooMany, "rate_limited")

		// An hour after the last, everything is forgotten.
		f.clock.Advance(time.Hour + time.Second)
		for i := 0; i < 3; i++ {
			if err := allow(7, "submit"); err != nil {
				t.Fatalf("action %d in a fresh window: %v", i+1, err)
			}
		}
	})
}

func TestLimiterRetryTimeIsNeverTooEarly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		lim := identity.NewLimiter(db)
		lim.SetNow(f.clock.Now)
		one := identity.Limit{N: 1, Window: time.Hour, What: "test actions"}
		if err := lim.Allow(f.ctx, 1, "act", one); err != nil {
			t.Fatal(err)
		}
		// 30m20s remain: the message rounds up, never down, so that trying
		// again when told works.
		f.clock.Advance(29*time.Minute + 40*time.Second)
		e := wantErr(t, "second action", lim.Allow(f.ctx, 1, "act", one), apperr.TooMany, "rate_limited")
		if !strings.Contains(e.Message, "try again in 31m") {
			t.Errorf("message %q should say to try again in 31 minutes", e.Message)
		}
		// With 20 s left it says a minute, not zero.
		f.clock.Advance(30 * time.Minute)
		e = wantErr(t, "third action", lim.Allow(f.ctx, 1, "act", one), apperr.TooMany, "rate_limited")
		if !strings.Contains(e.Message, "try again in 1m") {
			t.Errorf("message %q should say to try again in 1 minute", e.Message)
		}
		f.clock.Advance(time.Minute)
		if err := lim.Allow(f.ctx, 1, "act", one); err != nil {
			t.Errorf("action after the time the message gave: %v", err)
		}

		// Three actions 10 minutes apart under a limit of three, then the
		// limit lowered to two: a place frees when the second of them
		// leaves the window (in 40m), not the first (in 30m).
		three, two := identity.Limit{N: 3, Window: time.Hour, What: "test actions"}, identity.Limit{N: 2, Window: time.Hour, What: "test actions"}
		for i := range 3 {
			if err := lim.Allow(f.ctx, 2, "act", three); err != nil {
				t.Fatalf("action %d: %v", i+1, err)
			}
			f.clock.Advance(10 * time.Minute)
		}
		e = wantErr(t, "an action over the lowered limit", lim.Allow(f.ctx, 2, "act", two), apperr.TooMany, "rate_limited")
		if !strings.Contains(e.Message, "try again in 40m") {
			t.Errorf("message %q should say to try again in 40 minutes", e.Message)
		}
	})
}
