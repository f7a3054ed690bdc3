package application

import (
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
)

// The services share one core: setting it through any of them sets it for all.

// SetSample replaces the spot-check draw, for tests.
func (s Services) SetSample(f func() float64) { s.Drafts.sample = f }

// SetNow replaces the services' clock, for tests.
func (s Services) SetNow(f func() time.Time) { s.Drafts.now = f }

// SetWarningDays sets the working days left at which a deadline turns yellow.
func (s Services) SetWarningDays(n int) { s.Drafts.warnDays = n }

// CheckValue is checkValue, for the fuzz target.
func CheckValue(f catalog.Field, v any) *apperr.Words { return checkValue(f, v) }
