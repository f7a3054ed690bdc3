package application

import "time"

// SetSample replaces the spot-check draw, for tests.
func (s *Service) SetSample(f func() float64) { s.sample = f }

// SetNow replaces the service's clock, for tests.
func (s *Service) SetNow(f func() time.Time) { s.now = f }

// SetWarningDays sets the working days left at which a deadline turns yellow.
func (s *Service) SetWarningDays(n int) { s.warnDays = n }
