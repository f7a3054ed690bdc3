package identity

import "time"

// SetNow makes the store read the time from f, so tests can move the clock.
func (s *Store) SetNow(f func() time.Time) { s.now = f }

// SetNow makes the limiter read the time from f.
func (l *Limiter) SetNow(f func() time.Time) { l.now = f }
