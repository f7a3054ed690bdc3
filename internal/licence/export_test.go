package licence

import "time"

// SetNow fixes the service's clock, for expiry and golden tests.
func (s *Service) SetNow(now func() time.Time) { s.now = now }

// EmbeddedLicence is embeddedLicence, for the fuzz target.
func EmbeddedLicence(pdf []byte) ([]byte, error) { return embeddedLicence(pdf) }
