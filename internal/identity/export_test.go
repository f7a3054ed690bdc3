package identity

import "time"

// SetNow makes the store read the time from f, so tests can move the clock.
func (s *Store) SetNow(f func() time.Time) { s.now = f }

// SetNow makes the limiter read the time from f.
func (l *Limiter) SetNow(f func() time.Time) { l.now = f }

// SetRecheckEvery changes how long the store trusts what it remembers of a
// session or token (RecheckEvery) and forgets what it remembers; 0 reads
// the database on every call.
func (s *Store) SetRecheckEvery(d time.Duration) {
	s.principals.forgetWhere(nil)
	s.principals.every = d
}

// Remembered is how many sessions and tokens the store keeps in memory.
func (s *Store) Remembered() int { return s.principals.size() }

// RegisteredAgentTTL is how long the registry's word lets an agent act.
const RegisteredAgentTTL = registeredAgentTTL
