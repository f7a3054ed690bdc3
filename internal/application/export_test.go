package application

import (
	"context"
	"database/sql"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
)

// The services share one core: setting it through any of them sets it for all.

// SetSample replaces the spot-check draw, for tests.
func (s Services) SetSample(f func() float64) { s.Drafts.sample = f }

// SetPick replaces the draw of a spot check's inspector, for tests.
func (s Services) SetPick(f func(n int) int) { s.Drafts.pick = f }

// SetNow replaces the services' clock, for tests.
func (s Services) SetNow(f func() time.Time) { s.Drafts.now = f }

// SetWarningDays sets the working days left at which a deadline turns yellow.
func (s Services) SetWarningDays(n int) { s.Drafts.warnDays = n }

// CheckValue is checkValue, for the fuzz target.
func CheckValue(f catalog.Field, v any) *apperr.Words { return checkValue(f, v) }

// DrawInspector draws a spot check's inspector of dept other than decider.
func (s Services) DrawInspector(ctx context.Context, dept string, decider int64) (int64, error) {
	var id int64
	err := s.Drafts.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.Drafts.drawInspector(ctx, tx, dept, decider)
		return err
	})
	return id, err
}
