package httpconn

import "time"

// SetNow makes the breaker read the time from f, so tests can end a
// cooldown without waiting for it. Call it before the connector is used.
func (c *Connector) SetNow(f func() time.Time) { c.now = f }
