package simulate_test

import (
	"context"
	"slices"
	"testing"

	"yiwang/internal/simulate"
	"yiwang/internal/store"
)

// BenchmarkSimulate replays the senior card with its age lowered to 58 over
// the decisions of a 20,000-application demo history on SQLite, every one
// of them given a realistic senior card input (history above); it reports
// decisions replayed a second. docs/BENCHMARKS.md has the figures.
func BenchmarkSimulate(b *testing.B) {
	db, err := store.Open(context.Background(), "", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	p := protector(b)
	cases := history(b, db, p, 20_000)
	draft := seniorCardItem(b)
	draft.Rules = slices.Clone(draft.Rules)
	draft.Rules[0].Expr = "applicant.age >= 58"
	opt := simulate.Options{Item: seniorCard, Program: compile(b, draft), Since: cases[0].day}
	b.ResetTimer()
	for b.Loop() {
		rep, err := simulate.Run(context.Background(), db, p, opt)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Replayed != len(cases) {
			b.Fatalf("replayed %d, want %d", rep.Replayed, len(cases))
		}
	}
	b.ReportMetric(float64(len(cases)*b.N)/b.Elapsed().Seconds(), "decisions/s")
}
