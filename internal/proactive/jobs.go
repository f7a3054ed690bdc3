package proactive

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/jobs"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// DailyArgs is the daily sweep of one day, due at SweepHour China time.
// Each run enqueues the next day's before it sweeps, so the schedule is a
// row in the database that survives restarts; a day's sweep is unique, so
// processes starting at once, or a retry, make no second chain.
type DailyArgs struct {
	Day string `json:"day" river:"unique"`
}

// Kind implements river.JobArgs.
func (DailyArgs) Kind() string { return "proactive_sweep" }

// SweepHour is when, China time, a day's sweep runs: early, so the
// offers and grants are there when people wake.
const SweepHour = 2

// EventsEvery is how often the registry events are acted on.
const EventsEvery = 10 * time.Minute

// EventsArgs acts on the pending registry events of one period.
type EventsArgs struct {
	Slot time.Time `json:"slot" river:"unique"`
}

// Kind implements river.JobArgs.
func (EventsArgs) Kind() string { return "proactive_events" }

// dailyAt is the next daily sweep due after at.
func dailyAt(at time.Time) (DailyArgs, *river.InsertOpts) {
	local := at.In(workday.CST)
	due := time.Date(local.Year(), local.Month(), local.Day(), SweepHour, 0, 0, 0, workday.CST)
	if !due.After(local) {
		due = due.AddDate(0, 0, 1)
	}
	return DailyArgs{Day: day(due)}, &river.InsertOpts{ScheduledAt: due, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func eventsAt(at time.Time) (EventsArgs, *river.InsertOpts) {
	slot := at.UTC().Truncate(EventsEvery)
	return EventsArgs{Slot: slot}, &river.InsertOpts{ScheduledAt: slot, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Schedule makes sure the next daily sweep and an events run are due:
// serve calls it at start, which also restarts a chain that was lost.
func Schedule(ctx context.Context, db *store.DB, q *jobs.Queue) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := dailyAt(time.Now())
		if _, err := q.Enqueue(ctx, tx, args, opts); err != nil {
			return err
		}
		ev, evOpts := eventsAt(time.Now())
		_, err := q.Enqueue(ctx, tx, ev, evOpts)
		return err
	})
}

// DailyWorker works DailyArgs jobs.
type DailyWorker struct {
	river.WorkerDefaults[DailyArgs]
	e *Engine
}

// NewDailyWorker returns the worker; register it with jobs.Register.
func NewDailyWorker(e *Engine) *DailyWorker { return &DailyWorker{e: e} }

// Timeout lets a sweep over a large registry run its course.
func (w *DailyWorker) Timeout(*river.Job[DailyArgs]) time.Duration { return time.Hour }

// Work schedules the next day's sweep, committed first so that a failing
// sweep cannot end the chain, then sweeps the day.
func (w *DailyWorker) Work(ctx context.Context, job *river.Job[DailyArgs]) error {
	on, err := ParseDay(job.Args.Day)
	if err != nil {
		return err
	}
	err = w.e.db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := dailyAt(on.Add(SweepHour*time.Hour + time.Minute))
		_, err := jobs.EnqueueFromJob(ctx, tx, args, opts)
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.e.Sweep(ctx, SweepRequest{On: on, By: "schedule"})
	return err
}

// EventsWorker works EventsArgs jobs.
type EventsWorker struct {
	river.WorkerDefaults[EventsArgs]
	e *Engine
}

// NewEventsWorker returns the worker; register it with jobs.Register.
func NewEventsWorker(e *Engine) *EventsWorker { return &EventsWorker{e: e} }

// Work schedules the next run, then acts on the pending events, a
// thousand at a time until none is left, and forgets handled ones older
// than KeepEvents.
func (w *EventsWorker) Work(ctx context.Context, job *river.Job[EventsArgs]) error {
	err := w.e.db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := eventsAt(time.Now().Add(EventsEvery))
		_, err := jobs.EnqueueFromJob(ctx, tx, args, opts)
		return err
	})
	if err != nil {
		return err
	}
	for {
		rep, err := w.e.Events(ctx, 1000)
		if err != nil {
			return err
		}
		if rep.ID == 0 {
			break
		}
	}
	_, err = w.e.ForgetEvents(ctx, time.Now().Add(-KeepEvents))
	return err
}

// KeepEvents is how long a handled registry event is kept: long enough to
// see what a sweep acted on, not for ever (its subject is personal data).
const KeepEvents = 90 * 24 * time.Hour

// ForgetEvents deletes handled registry events older than before, a
// thousand a statement, and returns how many.
func (e *Engine) ForgetEvents(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		res, err := e.db.ExecContext(ctx, `DELETE FROM registry_events WHERE id IN
			(SELECT id FROM registry_events WHERE handled_at IS NOT NULL AND handled_at < $1 ORDER BY id LIMIT 1000)`, before)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		if total += int(n); n < 1000 {
			return total, nil
		}
	}
}
