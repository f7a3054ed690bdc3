package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/jobs"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// markArgs asks for a row to be written to settings: an effect we can count.
type markArgs struct {
	Key string `json:"key"`
}

func (markArgs) Kind() string { return "test_mark" }

type markWorker struct {
	river.WorkerDefaults[markArgs]
	db *store.DB
}

func (w *markWorker) Work(ctx context.Context, job *river.Job[markArgs]) error {
	return w.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)`,
			job.Args.Key, strconv.FormatInt(job.ID, 10), time.Now().UTC()); err != nil {
			return err
		}
		return jobs.CompleteTx(ctx, tx, job)
	})
}

// process is one yiwang process's view of the database: its own pool and queue.
func process(t *testing.T, dsn string) (*store.DB, *jobs.Queue) {
	t.Helper()
	return processWith(t, dsn, jobs.Config{PollInterval: 50 * time.Millisecond})
}

// processWith is process with the queue configured by cfg.
func processWith(t *testing.T, dsn string, cfg jobs.Config) (*store.DB, *jobs.Queue) {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	workers := jobs.NewWorkers()
	jobs.Register(workers, &markWorker{db: db})
	q, err := jobs.New(db, workers, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return db, q
}

func TestScheduledJobSurvivesRestartAndRunsExactlyOnce(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db1, q1 := process(t, dsn)
		if _, err := db1.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := q1.Start(ctx); err != nil {
			t.Fatal(err)
		}
		due := time.Now().Add(2 * time.Second)
		err := db1.InTx(ctx, func(tx *sql.Tx) error {
			_, err := q1.Enqueue(ctx, tx, markArgs{Key: "scheduled"}, &river.InsertOpts{ScheduledAt: due})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		rollback := errors.New("change abandoned")
		err = db1.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := q1.Enqueue(ctx, tx, markArgs{Key: "rolled-back"}, nil); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		// The process stops before the job is due, as in a restart.
		if err := q1.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		db1.Close()

		// Two processes come up and compete for the job.
		db2, q2 := process(t, dsn)
		defer db2.Close()
		db3, q3 := process(t, dsn)
		defer db3.Close()
		for _, q := range []*jobs.Queue{q2, q3} {
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer q.Stop(ctx)
		}
		if n := count(t, db2, `SELECT count(*) FROM settings WHERE key = 'scheduled'`); n != 0 && time.Now().Before(due) {
			t.Fatal("job ran before it was due")
		}
		deadline := time.Now().Add(20 * time.Second)
		for count(t, db2, `SELECT count(*) FROM settings WHERE key = 'scheduled'`) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("scheduled job never ran after the restart")
			}
			time.Sleep(50 * time.Millisecond)
		}
		var ranAt time.Time
		if err := db2.QueryRowContext(ctx, `SELECT updated_at FROM settings WHERE key = 'scheduled'`).Scan(&ranAt); err != nil {
			t.Fatal(err)
		}
		if ranAt.Before(due.Add(-10 * time.Millisecond)) {
			t.Errorf("job ran at %v, before it was due at %v", ranAt, due)
		}
		time.Sleep(500 * time.Millisecond) // several poll rounds for a duplicate to show
		if n := count(t, db2, `SELECT count(*) FROM settings WHERE key = 'scheduled'`); n != 1 {
			t.Errorf("job effect happened %d times, want exactly 1", n)
		}
		if n := count(t, db2, `SELECT count(*) FROM river_job`); n != 1 {
			t.Errorf("%d jobs in the queue, want 1: the rolled-back enqueue must vanish", n)
		}
		if n := count(t, db2, `SELECT count(*) FROM river_job WHERE state = 'completed'`); n != 1 {
			t.Errorf("job not marked completed")
		}
	})
}

// TestJobOfADeadProcessIsTriedAgain: a job left running by a process that
// died (SIGKILL, a crash) is tried again once it has been running longer
// than RescueAfter, not after River's default of an hour.
func TestJobOfADeadProcessIsTriedAgain(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, q := processWith(t, dsn, jobs.Config{PollInterval: 50 * time.Millisecond, RescueAfter: 2 * time.Second})
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := q.Enqueue(ctx, tx, markArgs{Key: "orphan"}, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// As the dead process left it: taken a minute ago, never finished.
		var taken any = time.Now().Add(-time.Minute).UTC()
		if db.Backend == store.SQLite {
			taken = taken.(time.Time).Format("2006-01-02 15:04:05.999") // River's SQLite time format
		}
		if _, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $1`, taken); err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(ctx)
		deadline := time.Now().Add(20 * time.Second)
		for count(t, db, `SELECT count(*) FROM settings WHERE key = 'orphan'`) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the dead process's job was never tried again")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

func count(t *testing.T, db *store.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
