package ops_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	"yiwang/internal/hub"
	"yiwang/internal/jobs"
	"yiwang/internal/ops"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

type waitArgs struct{}

func (waitArgs) Kind() string { return "ops_test_wait" }

type runArgs struct{ Fail bool }

func (runArgs) Kind() string { return "ops_test_run" }

type runWorker struct{ river.WorkerDefaults[runArgs] }

func (runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	if job.Args.Fail {
		return errors.New("failed on purpose")
	}
	return nil
}

// source is a connector with a breaker: it answers with err.
type source struct {
	err   error
	state string
}

func (s source) Fetch(context.Context, string, hub.Subject, []string) (hub.Record, error) {
	return nil, s.err
}
func (s source) State(string) string { return s.state }

// scrape returns /metrics as text for a registry holding only m.
func scrape(t *testing.T, m *ops.Metrics) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func enqueue(t *testing.T, db *store.DB, q *jobs.Queue, args river.JobArgs, opts *river.InsertOpts) {
	t.Helper()
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *sql.Tx) error { _, err := q.Enqueue(ctx, tx, args, opts); return err }); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsReadJobsSourcesAndPool(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := ops.New(db)
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))

		// Two jobs nobody works stay queued.
		idle, err := jobs.New(db, jobs.NewWorkers(), logger, jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		enqueue(t, db, idle, waitArgs{}, nil)
		enqueue(t, db, idle, waitArgs{}, nil)

		// A worked job that succeeds and one that fails for good.
		workers := jobs.NewWorkers()
		jobs.Register(workers, runWorker{})
		q, err := jobs.New(db, workers, logger, jobs.Config{PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		finished := make(chan jobs.Finished, 2)
		q.OnFinished(ctx, func(f jobs.Finished) { m.JobFinished(f); finished <- f })
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Stop(context.Background()) })
		enqueue(t, db, q, runArgs{}, nil)
		enqueue(t, db, q, runArgs{Fail: true}, &river.InsertOpts{MaxAttempts: 1})
		for range 2 {
			select {
			case <-finished:
			case <-time.After(20 * time.Second):
				t.Fatal("the jobs were not worked")
			}
		}

		// A source that is down with its breaker open, and one that has no record.
		conns := m.Sources(map[string]hub.Connector{
			"population": source{err: fmt.Errorf("timeout: %w", hub.ErrUnavailable), state: "open"},
			"enterprise": source{err: hub.ErrNotFound, state: "closed"},
		})
		for _, s := range []string{"population", "enterprise"} {
			conns[s].Fetch(ctx, s, hub.Subject{}, nil)
		}

		var body string
		deadline := time.Now().Add(10 * time.Second)
		// River marks the failed job discarded just after it reports it, and
		// delivers the finished events to OnFinished on its own goroutine.
		settled := func(body string) bool {
			return strings.Contains(body, `yiwang_jobs{kind="ops_test_run",state="failed"} 1`) &&
				strings.Contains(body, `yiwang_job_run_seconds_count{kind="ops_test_run",outcome="completed"} 1`) &&
				strings.Contains(body, `yiwang_job_run_seconds_count{kind="ops_test_run",outcome="failed"} 1`)
		}
		for {
			body = scrape(t, m)
			if settled(body) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, want := range []string{
			`yiwang_jobs{kind="ops_test_wait",state="queued"} 2`,
			`yiwang_jobs{kind="ops_test_run",state="failed"} 1`,
			`yiwang_job_run_seconds_count{kind="ops_test_run",outcome="completed"} 1`,
			`yiwang_job_run_seconds_count{kind="ops_test_run",outcome="failed"} 1`,
			`yiwang_source_call_seconds_count{source="population"} 1`,
			`yiwang_source_call_seconds_count{source="enterprise"} 1`,
			`yiwang_source_call_errors_total{source="population"} 1`,
			`yiwang_source_breaker_open{source="population"} 1`,
			`yiwang_source_breaker_open{source="enterprise"} 0`,
			`go_sql_open_connections{db_name="` + string(db.Backend) + `"}`,
			`go_sql_wait_count_total{db_name="` + string(db.Backend) + `"}`,
			`yiwang_metrics_query_errors 0`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(body, `yiwang_source_call_errors_total{source="enterprise"}`) {
			t.Error("a record not found counts as a source error")
		}
		if t.Failed() {
			t.Logf("metrics:\n%s", body)
		}
	})
}
