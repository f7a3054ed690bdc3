package simulate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/jobs"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// Service starts simulations from the administration and works them as
// durable jobs; each is a row of simulations with its progress and report.
type Service struct {
	db        *store.DB
	protector *pii.Protector
	catalog   *catalog.Store
	queue     *jobs.Queue
}

// New returns the service.
func New(db *store.DB, protector *pii.Protector, cat *catalog.Store, queue *jobs.Queue) *Service {
	return &Service{db: db, protector: protector, catalog: cat, queue: queue}
}

// Simulation is one requested replay and, when done, its report.
type Simulation struct {
	ID         int64      `json:"id"`
	Item       string     `json:"item_code"`
	VersionID  int64      `json:"version_id"`
	Version    int        `json:"version"`
	Since      string     `json:"since"`
	Status     string     `json:"status"` // queued, running, done, failed
	Done       int64      `json:"done"`
	Total      int64      `json:"total"`
	Report     *Report    `json:"report,omitempty"`
	Error      string     `json:"error,omitempty"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Start records a simulation of version versionID of the item code over the
// decisions since the day, and enqueues its job in the same transaction.
func (s *Service) Start(ctx context.Context, p authz.Principal, code string, versionID int64, since string) (int64, error) {
	if !p.Can(authz.CatalogManage) {
		return 0, apperr.New(apperr.Forbidden, apperr.PermissionDenied, "only catalogue administrators simulate rule changes")
	}
	if _, err := workday.ParseDate(since); err != nil {
		return 0, apperr.New(apperr.Invalid, apperr.BadSince, "since %q is not a day YYYY-MM-DD", since)
	}
	v, err := s.catalog.VersionByID(ctx, versionID)
	if err != nil {
		return 0, err
	}
	if v.ItemCode != code {
		return 0, apperr.New(apperr.Invalid, apperr.VersionNotOfItem, "version %d is not one of item %s", versionID, code)
	}
	if _, problems := rules.Compile(v.Item); len(problems) > 0 {
		return 0, apperr.New(apperr.Invalid, apperr.RulesDoNotCompile, "the rules of %s v%d do not compile", code, v.Version)
	}
	by := fmt.Sprintf("%s:%d", p.Kind, p.AccountID)
	var id int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO simulations (item_code, version_id, since, status, created_by, created_at)
			VALUES ($1, $2, $3, 'queued', $4, $5) RETURNING id`, code, versionID, since, by, time.Now().UTC()).Scan(&id); err != nil {
			return err
		}
		if _, err := s.queue.Enqueue(ctx, tx, RunArgs{ID: id}, &river.InsertOpts{MaxAttempts: 3}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.ParseActor(by), Action: "catalog.simulate", ObjectKind: "catalog_item", ObjectID: code,
			Detail: map[string]any{"simulation": id, "version": v.Version, "since": since}})
	})
	return id, err
}

// Get returns a simulation.
func (s *Service) Get(ctx context.Context, id int64) (Simulation, error) {
	var m Simulation
	var result string
	var finished sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT s.id, s.item_code, s.version_id, v.version, s.since, s.status, s.done_count, s.total_count, s.result, s.error, s.created_by, s.created_at, s.finished_at
		FROM simulations s JOIN catalog_versions v ON v.id = s.version_id WHERE s.id = $1`, id).
		Scan(&m.ID, &m.Item, &m.VersionID, &m.Version, &m.Since, &m.Status, &m.Done, &m.Total, &result, &m.Error, &m.CreatedBy, &m.CreatedAt, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return m, apperr.New(apperr.NotFound, apperr.SimulationNotFound, "no simulation has the id %d", id)
	}
	if err != nil {
		return m, err
	}
	if finished.Valid {
		m.FinishedAt = &finished.Time
	}
	if result != "" {
		m.Report = &Report{}
		if err := json.Unmarshal([]byte(result), m.Report); err != nil {
			return m, fmt.Errorf("simulation %d: unreadable report: %w", id, err)
		}
	}
	return m, nil
}

// run works a simulation: running, its progress about every second, then
// done with the report or failed with the error.
func (s *Service) run(ctx context.Context, id int64) error {
	m, err := s.Get(ctx, id)
	if err != nil || m.Status == "done" {
		return err
	}
	v, err := s.catalog.VersionByID(ctx, m.VersionID)
	if err != nil {
		return err
	}
	p, problems := rules.Compile(v.Item)
	day, err := workday.ParseDate(m.Since)
	if len(problems) > 0 || err != nil {
		return s.finish(ctx, id, nil, fmt.Errorf("the rules do not compile or the day is wrong"))
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE simulations SET status = 'running' WHERE id = $1`, id); err != nil {
		return err
	}
	var mu sync.Mutex
	last := time.Time{}
	progress := func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < time.Second && done < total {
			return
		}
		last = time.Now()
		// Progress is only shown: a failed write is not worth stopping for.
		_, _ = s.db.ExecContext(ctx, `UPDATE simulations SET done_count = $1, total_count = $2 WHERE id = $3`, done, total, id)
	}
	rep, err := Run(ctx, s.db, s.protector, Options{Item: m.Item, Program: p, Since: day, Progress: progress})
	if err != nil && ctx.Err() != nil {
		return err // the job is tried again
	}
	return s.finish(ctx, id, &rep, err)
}

func (s *Service) finish(ctx context.Context, id int64, rep *Report, failed error) error {
	status, result, msg := "done", "", ""
	if failed != nil {
		status, msg = "failed", failed.Error()
	} else {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		result = string(b)
	}
	n := int64(0)
	if rep != nil {
		n = int64(rep.Replayed + rep.Unreadable)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE simulations SET status = $1, result = $2, error = $3, done_count = $4, total_count = $4, finished_at = $5 WHERE id = $6`,
		status, result, msg, n, time.Now().UTC(), id)
	return err
}

// RunArgs is the job that works one simulation.
type RunArgs struct {
	ID int64 `json:"id"`
}

// Kind implements river.JobArgs.
func (RunArgs) Kind() string { return "rule_simulation" }

// RunWorker works RunArgs jobs.
type RunWorker struct {
	river.WorkerDefaults[RunArgs]
	s *Service
}

// NewRunWorker returns the worker; register it with jobs.Register.
func NewRunWorker(s *Service) *RunWorker { return &RunWorker{s: s} }

// Timeout lets a replay of a million decisions run its course.
func (w *RunWorker) Timeout(*river.Job[RunArgs]) time.Duration { return 30 * time.Minute }

// Work implements river.Worker.
func (w *RunWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	return w.s.run(ctx, job.Args.ID)
}
