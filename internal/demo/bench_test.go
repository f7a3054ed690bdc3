package demo_test

import (
	"context"
	"testing"

	"yiwang/internal/demo"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/store/storetest"
)

// BenchmarkWrite generates and stores 20,000 persons and 2,000 enterprises
// in SQLite: the path of 'yiwang demo generate', at a fiftieth of the size
// the goal is set for. Profile it with -cpuprofile.
func BenchmarkWrite(b *testing.B) {
	p := protector(b)
	for b.Loop() {
		b.StopTimer()
		db := storetest.SQLite(b)
		b.StartTimer()
		stats, err := newGenerator(b, 20_000, 2_000, 1, testDay).Write(context.Background(), db, hub.NewBuiltin(db, p), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(stats.Total())/stats.Elapsed.Seconds(), "records/s")
	}
}

// BenchmarkMake makes the records of 2,000 persons without sealing or
// storing them.
func BenchmarkMake(b *testing.B) {
	g := newGenerator(b, 2_000, 200, 1, testDay)
	for b.Loop() {
		for i := range 2_000 {
			g.Person(i)
		}
		for j := range 200 {
			g.Enterprise(j)
		}
	}
}

// BenchmarkHistory writes a history of 20,000 applications into a seeded
// SQLite demo database: the path of 'yiwang demo history', at a fiftieth of
// the million the lists are measured on. Profile it with -cpuprofile.
func BenchmarkHistory(b *testing.B) {
	ctx := context.Background()
	p := protector(b)
	for b.Loop() {
		b.StopTimer()
		db := storetest.SQLite(b)
		if _, err := demo.Seed(ctx, db, demo.Options{}); err != nil {
			b.Fatal(err)
		}
		if err := demo.SeedAccounts(ctx, db, identity.NewStore(db, p)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		stats, err := demo.WriteHistory(ctx, db, p, demo.HistoryOptions{Applications: 20_000, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(stats.Total())/stats.Elapsed.Seconds(), "rows/s")
	}
}
