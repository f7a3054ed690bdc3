// Package ops is what an operator watches besides HTTP traffic: background
// jobs, deadline lights, machine decisions, calls to departments' data
// sources and the database pool, as Prometheus metrics.
//
// What the database already knows (jobs waiting, lights, decisions) is read
// when /metrics is scraped rather than counted as it happens: the figures
// then hold for the whole platform, however many processes share the
// database, and the domain packages need no metrics code. What only happens
// in this process (a job's run time, a call to a source) is observed here.
package ops

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"yiwang/internal/hub"
	"yiwang/internal/jobs"
	"yiwang/internal/store"
)

// scrapeTimeout bounds the queries of one scrape, so a slow database makes
// the scrape fail rather than pile up.
const scrapeTimeout = 5 * time.Second

// Metrics collects the platform's operational metrics. Register it once on
// the server's registry.
type Metrics struct {
	db      *store.DB
	dbStats prometheus.Collector
	runs    *prometheus.HistogramVec
	calls   *prometheus.HistogramVec
	errors  *prometheus.CounterVec
	sources map[string]breaker // source → its connector's breaker

	jobsDesc, stepsDesc, decisionsDesc, breakerDesc, scrapeErrDesc *prometheus.Desc
}

// breaker is a connector that reports its circuit state (httpconn.Connector).
type breaker interface {
	State(source string) string
}

// New returns the metrics of the platform on db.
func New(db *store.DB) *Metrics {
	return &Metrics{
		db:      db,
		dbStats: collectors.NewDBStatsCollector(db.DB, string(db.Backend)),
		runs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "yiwang_job_run_seconds",
			Help:    "Time background jobs worked by this process ran, by job kind and outcome (completed or failed).",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 9), // 5 ms … 5.5 min
		}, []string{"kind", "outcome"}),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "yiwang_source_call_seconds",
			Help:    "Time calls to departments' data sources took, retries included, by source.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"source"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yiwang_source_call_errors_total",
			Help: "Calls to departments' data sources that failed (unavailable or malformed; not-found answers are not errors), by source.",
		}, []string{"source"}),
		sources:       map[string]breaker{},
		jobsDesc:      prometheus.NewDesc("yiwang_jobs", "Background jobs in the database by kind and state: queued (waiting to run or to be retried), running, failed (given up after their last attempt).", []string{"kind", "state"}, nil),
		stepsDesc:     prometheus.NewDesc("yiwang_deadline_steps", "Open steps whose deadline the last sweep lit yellow (few working days left) or red (overdue).", []string{"light"}, nil),
		decisionsDesc: prometheus.NewDesc("yiwang_decisions_total", "Decisions the rules made at submission (秒批, and the checks of the other modes), by outcome: approve, reject or manual.", []string{"outcome"}, nil),
		breakerDesc:   prometheus.NewDesc("yiwang_source_breaker_open", "Circuit breaker of a data source read over HTTP: 0 closed, 1 open (calls refused), 0.5 half-open (the next call is a trial).", []string{"source"}, nil),
		scrapeErrDesc: prometheus.NewDesc("yiwang_metrics_query_errors", "Database queries behind these metrics that failed in this scrape.", nil, nil),
	}
}

// Sources wraps each connector so its calls are timed and counted, and
// remembers the connectors that have a circuit breaker. The hub reads
// through the wrapped connectors. Call it while wiring, before the first
// scrape: scrapes read what it remembers without a lock.
func (m *Metrics) Sources(conns map[string]hub.Connector) map[string]hub.Connector {
	if conns == nil {
		return nil
	}
	out := make(map[string]hub.Connector, len(conns))
	for source, c := range conns {
		out[source] = timed{c, m}
		if b, ok := c.(breaker); ok {
			m.sources[source] = b
		}
	}
	return out
}

// timed is a connector whose calls are observed.
type timed struct {
	hub.Connector
	m *Metrics
}

func (t timed) Fetch(ctx context.Context, source string, subject hub.Subject, fields []string) (hub.Record, error) {
	start := time.Now()
	rec, err := t.Connector.Fetch(ctx, source, subject, fields)
	t.m.calls.WithLabelValues(source).Observe(time.Since(start).Seconds())
	if err != nil && !errors.Is(err, hub.ErrNotFound) {
		t.m.errors.WithLabelValues(source).Inc()
	}
	return rec, err
}

// JobFinished records a job this process worked; pass it to jobs.Queue.OnFinished.
func (m *Metrics) JobFinished(f jobs.Finished) {
	outcome := "completed"
	if f.Failed {
		outcome = "failed"
	}
	m.runs.WithLabelValues(f.Kind, outcome).Observe(f.Run.Seconds())
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.dbStats.Describe(ch)
	m.runs.Describe(ch)
	m.calls.Describe(ch)
	m.errors.Describe(ch)
	for _, d := range []*prometheus.Desc{m.jobsDesc, m.stepsDesc, m.decisionsDesc, m.breakerDesc, m.scrapeErrDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it reads the database's figures
// now, at scrape time.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.dbStats.Collect(ch)
	m.runs.Collect(ch)
	m.calls.Collect(ch)
	m.errors.Collect(ch)
	sources := make([]string, 0, len(m.sources))
	for s := range m.sources {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	for _, s := range sources {
		ch <- prometheus.MustNewConstMetric(m.breakerDesc, prometheus.GaugeValue, breakerValue[m.sources[s].State(s)], s)
	}

	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	failed := 0
	for _, q := range []struct {
		desc  *prometheus.Desc
		typ   prometheus.ValueType
		query string
	}{
		{m.jobsDesc, prometheus.GaugeValue, jobsQuery},
		{m.stepsDesc, prometheus.GaugeValue, stepsQuery},
		{m.decisionsDesc, prometheus.CounterValue, decisionsQuery},
	} {
		if err := m.count(ctx, ch, q.desc, q.typ, q.query); err != nil {
			failed++
		}
	}
	ch <- prometheus.MustNewConstMetric(m.scrapeErrDesc, prometheus.GaugeValue, float64(failed))
}

var breakerValue = map[string]float64{"closed": 0, "half-open": 0.5, "open": 1}

// count sends one metric per row of query, whose columns are the labels
// then the count.
func (m *Metrics) count(ctx context.Context, ch chan<- prometheus.Metric, desc *prometheus.Desc, typ prometheus.ValueType, query string) error {
	rows, err := m.db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		labels := make([]string, len(cols)-1)
		var n int64
		dest := make([]any, len(cols))
		for i := range labels {
			dest[i] = &labels[i]
		}
		dest[len(labels)] = &n
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(desc, typ, float64(n), labels...)
	}
	return rows.Err()
}

// jobsQuery counts River's jobs by kind in the three states an operator
// acts on; completed and cancelled jobs are left out.
const jobsQuery = `
SELECT kind, CASE WHEN state = 'running' THEN 'running' WHEN state = 'discarded' THEN 'failed' ELSE 'queued' END AS s, COUNT(*)
FROM river_job
WHERE state IN ('available', 'scheduled', 'retryable', 'pending', 'running', 'discarded')
GROUP BY kind, s
ORDER BY kind, s`

// stepsQuery counts open steps by the worst light the deadline sweep gave them.
const stepsQuery = `
SELECT CASE WHEN EXISTS (SELECT 1 FROM deadline_warnings r WHERE r.subject = 'task' AND r.subject_id = t.id AND r.light = 'red') THEN 'red' ELSE 'yellow' END AS light, COUNT(*)
FROM tasks t
WHERE t.status IN ('open', 'claimed')
  AND EXISTS (SELECT 1 FROM deadline_warnings w WHERE w.subject = 'task' AND w.subject_id = t.id)
GROUP BY light
ORDER BY light`

// decisionsQuery counts the rules' decisions at submission by outcome.
const decisionsQuery = `SELECT outcome, COUNT(*) FROM decisions GROUP BY outcome ORDER BY outcome`
