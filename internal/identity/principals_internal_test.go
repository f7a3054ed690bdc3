package identity

import (
	"strconv"
	"testing"
	"time"

	"yiwang/internal/authz"
)

// The cache never holds more than maxRemembered entries, whatever arrives.
func TestRememberedIsBounded(t *testing.T) {
	c := newPrincipals()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 3 * maxRemembered {
		e := remembered{p: authz.Principal{AccountID: int64(i)}, recheckAt: now.Add(c.every)}
		c.remember(strconv.Itoa(i), e, c.generation(), now)
		if c.size() > maxRemembered {
			t.Fatalf("%d entries after %d remembered", c.size(), i+1)
		}
	}
	// The newest is kept.
	if _, ok := c.get(strconv.Itoa(3*maxRemembered-1), now); !ok {
		t.Error("the entry just remembered is gone")
	}
	// Entries past their recheck time make room before fresh ones go.
	later := now.Add(c.every)
	c.remember("fresh", remembered{recheckAt: later.Add(c.every)}, c.generation(), later)
	if n := c.size(); n != 1 {
		t.Errorf("%d entries after a full cache of stale ones took a fresh one, want 1", n)
	}
}

// What a read found is not remembered when something was forgotten while
// it read: the read may predate the change.
func TestRememberAfterForgetIsDropped(t *testing.T) {
	c := newPrincipals()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	gen := c.generation()
	c.forget("another")
	c.remember("h", remembered{recheckAt: now.Add(c.every)}, gen, now)
	if _, ok := c.get("h", now); ok {
		t.Error("an entry read before a change was remembered after it")
	}
	c.remember("h", remembered{recheckAt: now.Add(c.every)}, c.generation(), now)
	if _, ok := c.get("h", now); !ok {
		t.Error("an entry read after the change was not remembered")
	}
	if _, ok := c.get("h", now.Add(c.every)); ok {
		t.Error("an entry is trusted at its recheck time")
	}
}
