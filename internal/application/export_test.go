package application

// SetSample replaces the spot-check draw, for tests.
func (s *Service) SetSample(f func() float64) { s.sample = f }
