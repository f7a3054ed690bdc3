package loadtest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/demo"
	"yiwang/internal/identity"
	"yiwang/internal/loadtest"
	"yiwang/internal/store/storetest"
)

// BenchmarkSubmitService is one applicant's senior card through the
// application services on SQLite, as the site runs it without HTTP: Start
// (consent, the sources read, the draft saved), UpdateForm, and Submit (the
// machine decision, its record, the timeline, the notice). It reports the
// p50 and p99 of Start and of Submit, to measure what sealing the form, the
// decision record and the timeline costs (docs/BENCHMARKS.md).
func BenchmarkSubmitService(b *testing.B) {
	ctx := context.Background()
	db := storetest.SQLite(b)
	if _, err := demo.Seed(ctx, db, demo.Options{}); err != nil {
		b.Fatal(err)
	}
	svc, p := seniorCardService(b, db, identity.NewLimiterSubmissions(db, 1<<30))
	var starts, submits []time.Duration
	for b.Loop() {
		t0 := time.Now()
		a, err := svc.Drafts.Start(ctx, p, application.StartRequest{ItemCode: loadtest.SeniorCard})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := svc.Drafts.UpdateForm(ctx, p, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := svc.Drafts.Submit(ctx, p, a.ID, 0, ""); err != nil {
			b.Fatal(err)
		}
		starts, submits = append(starts, t1.Sub(t0)), append(submits, time.Since(t2))
	}
	for _, m := range []struct {
		name  string
		times []time.Duration
	}{{"start", starts}, {"submit", submits}} {
		slices.Sort(m.times)
		b.ReportMetric(float64(m.times[len(m.times)/2].Microseconds())/1000, m.name+"-p50-ms")
		b.ReportMetric(float64(m.times[len(m.times)*99/100].Microseconds())/1000, m.name+"-p99-ms")
	}
}
