package insight

import "testing"

// TestCounterPositions: the dashboard reads the counters by position, so
// a counter added to the list but not to the positions would shift every
// figure after it.
func TestCounterPositions(t *testing.T) {
	for pos, name := range map[int]string{cReceived: "received", cFinished: "finished", cOnTime: "on_time", cStatutoryDaysSum: "statutory_days_sum",
		cW0: "w0", cStops: "stops", cDaysLost: "days_lost"} {
		if counters[pos] != name {
			t.Errorf("counter %d is %s, not %s", pos, counters[pos], name)
		}
	}
	if len(counters) != cDaysLost+1 {
		t.Errorf("%d counters, the positions end at %d", len(counters), cDaysLost)
	}
}
