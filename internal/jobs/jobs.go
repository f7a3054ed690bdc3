// Package jobs runs the platform's durable background work — deadlines,
// sweeps, webhooks, licence issuance — on River, in the platform's own
// database.
//
// A job is enqueued with the *sql.Tx of the change that causes it, so both
// commit or neither does. A worker that finishes its effect with CompleteTx in
// the same transaction as the effect runs exactly once even across crashes.
// Domain packages define their job args and workers with River's types and
// register them with Register on the Workers passed to New.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"yiwang/internal/store"
)

// Config tunes the queue; zero values take defaults.
type Config struct {
	// PollInterval is how often workers look for due jobs (default 1s).
	// Neither backend is used with LISTEN/NOTIFY, so polling is the clock.
	PollInterval time.Duration
	// MaxWorkers bounds concurrent jobs in this process (default 10).
	MaxWorkers int
	// RescueAfter is how long a job may be running before it counts as
	// stuck and is tried again (default 5m): how a job whose process died
	// gets done. A job's context is cancelled after half of it, so a live
	// job is never taken for a stuck one.
	RescueAfter time.Duration
}

// Workers is the set of job kinds this process can work.
type Workers struct {
	river *river.Workers
	kinds []string
}

// NewWorkers returns an empty set.
func NewWorkers() *Workers { return &Workers{river: river.NewWorkers()} }

// Register adds the worker for jobs of kind T.
func Register[T river.JobArgs](ws *Workers, w river.Worker[T]) {
	river.AddWorker(ws.river, w)
	var args T
	ws.kinds = append(ws.kinds, args.Kind())
}

// Kinds lists the registered job kinds.
func (ws *Workers) Kinds() []string { return append([]string(nil), ws.kinds...) }

// Queue enqueues and works jobs.
type Queue struct {
	client  *river.Client[*sql.Tx]
	working bool
}

// New returns a queue on db that works the jobs of workers. With no workers
// registered the queue only enqueues, and Start and Stop do nothing.
func New(db *store.DB, workers *Workers, logger *slog.Logger, cfg Config) (*Queue, error) {
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxWorkers == 0 {
		cfg.MaxWorkers = 10
	}
	if cfg.RescueAfter == 0 {
		cfg.RescueAfter = 5 * time.Minute
	}
	// River's own default leaves a killed process's jobs for an hour.
	rc := &river.Config{Logger: logger.With("component", "jobs"), RescueStuckJobsAfter: cfg.RescueAfter, JobTimeout: cfg.RescueAfter / 2}
	working := len(workers.kinds) > 0
	if working {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}}
		rc.Workers = workers.river
		rc.FetchPollInterval = cfg.PollInterval
		rc.FetchCooldown = min(cfg.PollInterval, 100*time.Millisecond)
		rc.PollOnly = true // neither driver here listens for notifications
	}
	client, err := river.NewClient(db.RiverDriver(), rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: client, working: working}, nil
}

// Start begins working jobs until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return nil
	}
	return q.client.Start(ctx)
}

// Stop waits for running jobs to finish, or for ctx to end.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.working {
		return nil
	}
	return q.client.Stop(ctx)
}

// Finished is a job run this process ended, for metrics.
type Finished struct {
	Kind   string
	Run    time.Duration // time in the worker
	Failed bool          // the run returned an error (it may be retried)
}

// OnFinished calls f, on a goroutine of its own, for every job run this
// process finishes until ctx ends. A queue that only enqueues finishes none.
// Runs that end while f is behind by a thousand are not reported.
func (q *Queue) OnFinished(ctx context.Context, f func(Finished)) {
	if !q.working {
		return
	}
	events, cancel := q.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				if ev.Job == nil || ev.JobStats == nil {
					continue
				}
				f(Finished{Kind: ev.Job.Kind, Run: ev.JobStats.RunDuration, Failed: ev.Kind == river.EventKindJobFailed})
			}
		}
	}()
}

// Enqueue inserts a job inside tx: it exists only if tx commits.
func (q *Queue) Enqueue(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	res, err := q.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// CompleteTx marks the running job done inside tx, so the job's effect and its
// completion commit together and a retry never repeats a committed effect.
func CompleteTx[T river.JobArgs](ctx context.Context, tx *sql.Tx, job *river.Job[T]) error {
	_, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx, job)
	return err
}

// EnqueueFromJob inserts a job inside tx from within a running job's Work,
// on the queue working it: how a job reschedules itself, so that the next
// run is a row in the database rather than a timer in this process.
func EnqueueFromJob(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	client, err := river.ClientFromContextSafely[*sql.Tx](ctx)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	res, err := client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}
