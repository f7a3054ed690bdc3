package workday

import "time"

// SetClock makes s read the time from now, for tests of its refresh.
func SetClock(s *Store, now func() time.Time) { s.now = now }
