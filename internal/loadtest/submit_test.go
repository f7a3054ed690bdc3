package loadtest_test

import (
	"context"
	"fmt"
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

// BenchmarkApplyService is the one-call application (Drafts.Apply) of the
// senior card with everything serve keeps: consent, source reads and their
// log, the decision record, the timeline, the SM2-sealed licence, the
// notice and the audit entries; on SQLite, and on PostgreSQL when
// YIWANG_TEST_DATABASE_URL is set. One goroutine: ns/op is the whole cost of
// one application, database included.
func BenchmarkApplyService(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			db := storetest.SQLite(b)
			if backend == "postgres" {
				db = storetest.Postgres(b)
			}
			if _, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true}); err != nil {
				b.Fatal(err)
			}
			svc, p := seniorCardServices(b, db, identity.NewLimiterSubmissions(db, 1<<30), true)
			n := 0
			for b.Loop() {
				n++
				if n%20 == 0 {
					// A person makes a few applications a day, not thousands:
					// the submission limit's window of the benchmark's one
					// applicant is emptied so that it counts as few as theirs.
					b.StopTimer()
					if _, err := db.ExecContext(ctx, `DELETE FROM rate_events`); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				a, err := svc.Drafts.Apply(ctx, p, application.ApplyRequest{StartRequest: application.StartRequest{ItemCode: loadtest.SeniorCard, IdempotencyKey: fmt.Sprint("bench-", n)},
					Consent: true, Form: map[string]any{"delivery": "electronic"}})
				if err != nil {
					b.Fatal(err)
				}
				if a.Status != "licence_issued" && a.Status != "rejected" && a.Status != "accepted" {
					b.Fatalf("application %d is %s", a.ID, a.Status)
				}
			}
		})
	}
}
