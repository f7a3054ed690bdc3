package credit

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/jobs"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// RecomputeArgs is the daily recompute of every subject with a record, due
// at RecomputeHour China time: records fade with age, so levels and lists
// change without new records. Each run enqueues the next day's first; a
// day's run is unique, so processes starting together make one chain.
type RecomputeArgs struct {
	Day string `json:"day" river:"unique"`
}

// Kind implements river.JobArgs.
func (RecomputeArgs) Kind() string { return "credit_recompute" }

// RecomputeHour is when, China time, the daily recompute runs.
const RecomputeHour = 3

// recomputeAt is the next daily recompute due after at.
func recomputeAt(at time.Time) (RecomputeArgs, *river.InsertOpts) {
	local := at.In(workday.CST)
	due := time.Date(local.Year(), local.Month(), local.Day(), RecomputeHour, 0, 0, 0, workday.CST)
	if !due.After(local) {
		due = due.AddDate(0, 0, 1)
	}
	return RecomputeArgs{Day: due.Format(time.DateOnly)}, &river.InsertOpts{ScheduledAt: due, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Schedule makes sure the next daily recompute is due: serve calls it at
// start, which also restarts a chain that was lost.
func Schedule(ctx context.Context, db *store.DB, q *jobs.Queue) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := recomputeAt(time.Now())
		_, err := q.Enqueue(ctx, tx, args, opts)
		return err
	})
}

// RecomputeWorker works RecomputeArgs jobs.
type RecomputeWorker struct {
	river.WorkerDefaults[RecomputeArgs]
	s *Service
}

// NewRecomputeWorker returns the worker; register it with jobs.Register.
func NewRecomputeWorker(s *Service) *RecomputeWorker { return &RecomputeWorker{s: s} }

// Timeout lets a recompute over many subjects run its course.
func (w *RecomputeWorker) Timeout(*river.Job[RecomputeArgs]) time.Duration { return time.Hour }

// Work schedules the next day's run, committed first so that a failing
// run cannot end the chain, then recomputes.
func (w *RecomputeWorker) Work(ctx context.Context, job *river.Job[RecomputeArgs]) error {
	on, err := time.ParseInLocation(time.DateOnly, job.Args.Day, workday.CST)
	if err != nil {
		return err
	}
	err = w.s.db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := recomputeAt(on.Add(RecomputeHour*time.Hour + time.Minute))
		_, err := jobs.EnqueueFromJob(ctx, tx, args, opts)
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.s.RecomputeAll(ctx)
	return err
}
