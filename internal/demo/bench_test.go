package demo_test

import (
	"context"
	"testing"

	"yiwang/internal/hub"
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
