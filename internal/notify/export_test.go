package notify

import "time"

// SetClock and SetBatch let tests prune at a chosen time in small batches.
func (r *Retention) SetClock(now func() time.Time) { r.now = now }
func (r *Retention) SetBatch(n int)                { r.batch = n }
