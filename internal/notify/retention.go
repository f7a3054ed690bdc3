package notify

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/jobs"
	"yiwang/internal/store"
)

// Retention prunes what delivery leaves behind once it is old
// (--notify-retention-days): the text of delivered email, SMS and webhook
// deliveries — copies of an in-app message, whose own text stays in the
// recipient's inbox — and the delivery log of delivered messages. Dead
// letters, and the log of anything not delivered, are never pruned: an
// administrator may still need to read and retry them.
type Retention struct {
	db    *store.DB
	days  int
	batch int
	now   func() time.Time
}

// NewRetention keeps delivered deliveries' text and log for days (0: for ever).
func NewRetention(db *store.DB, days int) *Retention {
	return &Retention{db: db, days: days, batch: PruneBatch, now: func() time.Time { return time.Now().UTC() }}
}

// PruneBatch is how many rows one statement prunes: each batch is its own
// short transaction, so pruning never holds the outbox for long.
const PruneBatch = 1000

// Pruned counts what one prune removed.
type Pruned struct {
	Bodies   int // delivered email, SMS and webhook deliveries whose text was cleared
	Attempts int // delivery-log entries deleted
}

// Prune clears the text of delivered external deliveries delivered before
// the retention period, and deletes delivery-log entries of delivered
// messages older than it, batch by batch until none is left.
func (r *Retention) Prune(ctx context.Context) (Pruned, error) {
	var p Pruned
	if r.days <= 0 {
		return p, nil
	}
	cutoff := r.now().AddDate(0, 0, -r.days)
	limit := strconv.Itoa(r.batch)
	steps := []struct {
		n     *int
		what  string
		query string
	}{
		{&p.Bodies, "delivered texts", `UPDATE outbox_messages SET body_zh = '', body_en = ''
			WHERE id IN (SELECT id FROM outbox_messages WHERE status = 'delivered' AND channel <> 'in_app' AND body_zh <> ''
				AND delivered_at < $1 ORDER BY id LIMIT ` + limit + `)`},
		{&p.Attempts, "delivery log", `DELETE FROM outbox_attempts
			WHERE id IN (SELECT a.id FROM outbox_attempts a JOIN outbox_messages m ON m.id = a.message_id
				WHERE a.at < $1 AND m.status = 'delivered' ORDER BY a.id LIMIT ` + limit + `)`},
	}
	for _, s := range steps {
		for {
			res, err := r.db.ExecContext(ctx, s.query, cutoff)
			if err != nil {
				return p, fmt.Errorf("notify: prune %s: %w", s.what, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return p, fmt.Errorf("notify: prune %s: %w", s.what, err)
			}
			*s.n += int(n)
			if n < int64(r.batch) {
				break
			}
		}
	}
	return p, nil
}

// PruneArgs is the durable job that prunes old delivery data. Each run first
// enqueues the next, so the schedule is a row in the database that survives
// restarts; a run is unique per slot, so processes starting at once make
// one chain.
type PruneArgs struct {
	Slot time.Time `json:"slot" river:"unique"`
}

// Kind names the job.
func (PruneArgs) Kind() string { return "notify_prune" }

// PruneEvery is how often old delivery data is pruned: hourly keeps each run
// small.
const PruneEvery = time.Hour

func pruneAt(at time.Time) (PruneArgs, *river.InsertOpts) {
	slot := at.UTC().Truncate(PruneEvery)
	return PruneArgs{Slot: slot}, &river.InsertOpts{ScheduledAt: slot, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Schedule makes sure a prune is due now, unless this period's ran or waits
// already; serve calls it at start. With no retention period it does nothing.
func (r *Retention) Schedule(ctx context.Context, q *jobs.Queue) error {
	if r.days <= 0 {
		return nil
	}
	return r.db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := pruneAt(r.now())
		_, err := q.Enqueue(ctx, tx, args, opts)
		return err
	})
}

// PruneWorker works PruneArgs jobs.
type PruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	r *Retention
}

// NewPruneWorker returns the worker; register it with jobs.Register.
func NewPruneWorker(r *Retention) *PruneWorker { return &PruneWorker{r: r} }

// Work schedules the next prune, committed first so that a failing prune
// cannot end the chain, then prunes. Pruning twice does no harm.
func (w *PruneWorker) Work(ctx context.Context, job *river.Job[PruneArgs]) error {
	if w.r.days <= 0 {
		return nil // retention was turned off since this run was scheduled: the chain ends
	}
	err := w.r.db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := pruneAt(w.r.now().Add(PruneEvery))
		_, err := jobs.EnqueueFromJob(ctx, tx, args, opts)
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.r.Prune(ctx)
	return err
}
