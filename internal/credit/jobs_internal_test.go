package credit

import (
	"testing"
	"time"

	"yiwang/internal/workday"
)

// TestRecomputeIsDailyAtThreeChinaTime: the next run is today's 03:00 China
// time while it is still ahead, else tomorrow's — whatever zone the clock is in.
func TestRecomputeIsDailyAtThreeChinaTime(t *testing.T) {
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 1, 2, 59, 0, 0, workday.CST), "2026-03-01"},
		{time.Date(2026, 3, 1, 3, 0, 0, 0, workday.CST), "2026-03-02"},
		{time.Date(2026, 2, 28, 20, 0, 0, 0, time.UTC), "2026-03-02"}, // 04:00 on 1 March in China
	} {
		args, opts := recomputeAt(c.at)
		at := opts.ScheduledAt.In(workday.CST)
		if args.Day != c.want || at.Format(time.DateOnly) != c.want || at.Hour() != RecomputeHour || at.Minute() != 0 {
			t.Errorf("after %v: %s at %v, want %s 03:00", c.at, args.Day, at, c.want)
		}
	}
}
