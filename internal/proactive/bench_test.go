package proactive_test

import (
	"context"
	"testing"
	"time"

	"yiwang/internal/proactive"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

// BenchmarkSweepGrants measures granting: a sweep over a year in which 1,000
// residents turned 80, each granted the old-age allowance with the full
// record — the application, its decision record, the sealed licence, the
// hub record, the person's notices and the audit entries — in batched
// transactions. It reports grants per second of the acting stage (reading
// each person's data, deciding by the rules, writing), the figure of
// docs/BENCHMARKS.md "Proactive sweep".
//
//	go test ./internal/proactive/ -run '^$' -bench SweepGrants -benchtime 1x
func BenchmarkSweepGrants(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(backend.name, func(b *testing.B) {
			db := backend.open(b)
			f := setup(b, db, nil)
			ctx := context.Background()
			const people = 1000
			on := time.Date(2026, 12, 7, 0, 0, 0, 0, workday.CST)
			round := 0
			var granted int
			var acting time.Duration
			for b.Loop() {
				b.StopTimer()
				// Each round's people turn 80 in a year of their own, so no
				// round finds the last one's done.
				day := on.AddDate(round, 0, 0)
				for i := range people {
					f.person(b, 100+round*people+i, "钱老伯", day.AddDate(-80, 0, -i%365), "910102001001", true, "active")
				}
				round++
				b.StartTimer()
				rep, err := f.engine.Sweep(ctx, proactive.SweepRequest{On: day, Since: day.AddDate(-1, 0, 0), By: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				if rep.Granted != people {
					b.Fatalf("granted %d of %d: %+v", rep.Granted, people, rep)
				}
				granted += rep.Granted
				acting += rep.ActTook
			}
			b.ReportMetric(float64(granted)/acting.Seconds(), "grants/s")
		})
	}
}
