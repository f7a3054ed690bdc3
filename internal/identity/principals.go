package identity

import (
	"sync"
	"time"

	"yiwang/internal/authz"
)

// RecheckEvery is how long a process answers a session or an API token from
// memory before it reads it from the database again — the same interval as
// catalog.RefreshEvery. A change made through the process itself (a
// sign-out, a disabled account, a role granted or revoked, a token or an
// authorisation revoked, a switch of the enterprise a session acts for)
// takes effect in it at once; one made through another process sharing the
// database, or the command line, takes effect here within RecheckEvery: a
// sign-out or a disabled account takes effect on the other processes within
// 2 s. Session expiry and the idle timeout are checked on every request,
// from the remembered times, so they hold to the second.
const RecheckEvery = 2 * time.Second

// maxRemembered bounds how many principals a Store keeps in memory. Only
// live sessions and tokens are remembered, never refusals, so a flood of
// forged cookies costs database reads (as before) but no memory.
const maxRemembered = 10_000

// principals remembers what live sessions and API tokens resolved to, by the
// hash of their secret. An entry is trusted until its recheck time; after it
// the next request reads the database again. Every change that affects a
// principal forgets the entries it touches, after it is written.
type principals struct {
	every time.Duration // how long an entry is trusted; RecheckEvery but in tests

	mu      sync.Mutex
	entries map[string]remembered
	// gen counts what was forgotten: a read that began before a change was
	// written and forgotten must not put back what it read (remember).
	gen uint64
}

// remembered is a session's or an API token's principal as read from the
// database, with the times checked on every request.
type remembered struct {
	p         authz.Principal
	csrf      string    // a session's CSRF token
	tokenID   int64     // an API token's id; 0 for a session
	recheckAt time.Time // read again from the database from then on
	expires   time.Time // the session's end or the token's expiry; zero: never
	lastSeen  time.Time // the session's last_seen_at or the token's last_used_at
}

func newPrincipals() *principals {
	return &principals{every: RecheckEvery, entries: map[string]remembered{}}
}

// principal returns the remembered principal; the enterprise it acts for is
// copied, so a handler changing it changes no other request's.
func (e remembered) principal() authz.Principal {
	p := e.p
	if p.ActingFor != nil {
		ent := *p.ActingFor
		p.ActingFor = &ent
	}
	return p
}

// get returns the entry for hash if it is still trusted at now; one no
// longer trusted is dropped, for the caller to read again.
func (c *principals) get(hash string, now time.Time) (remembered, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || !now.Before(e.recheckAt) {
		delete(c.entries, hash)
		return remembered{}, false
	}
	return e, true
}

// generation is taken before reading a principal from the database and
// handed to remember.
func (c *principals) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// remember keeps e for hash, read at now, unless something was forgotten
// since gen: then what was read may predate the change, and the next
// request reads again. A full cache first drops the entries past their
// recheck time, and when that frees less than a quarter of it, all of them:
// none is older than `every`, so that costs one database read per live
// session or token.
func (c *principals) remember(hash string, e remembered, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= maxRemembered {
		for h, old := range c.entries {
			if !now.Before(old.recheckAt) {
				delete(c.entries, h)
			}
		}
		if len(c.entries) > maxRemembered*3/4 {
			clear(c.entries)
		}
	}
	c.entries[hash] = e
}

// seen records that the session or token hash was used at now, as the
// database now records too.
func (c *principals) seen(hash string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[hash]; ok {
		e.lastSeen = now
		c.entries[hash] = e
	}
}

// forget drops the entry of one session or token, by its hash.
func (c *principals) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, hash)
}

// forgetWhere drops the entries match selects (nil: all of them).
func (c *principals) forgetWhere(match func(e remembered) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.entries {
		if match == nil || match(e) {
			delete(c.entries, h)
		}
	}
}

// size is how many entries are kept, for tests.
func (c *principals) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// forgetAccount drops every session and token of an account: its roles,
// real-name level or state changed.
func (s *Store) forgetAccount(id int64) {
	s.principals.forgetWhere(func(e remembered) bool { return e.p.AccountID == id })
}
