package loadtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"yiwang/internal/store"
)

// Floor writes what a submission commits in its transaction — the
// application row set to submitted and a decisions row holding a record of
// real size — straight to the database: no HTTP, no sessions, no source
// reads, no rules. It is the floor under `yiwang bench run`: the share of
// it that a run achieves says how much of an application's cost is
// everything but storing it.
//
// Its drafts are copies of one real submitted application, and what it
// submits copies that application's decision (the record as stored,
// sealed). The rows it writes are for measuring only: Measure removes them,
// and a caller of Drafts removes them with Remove.
type Floor struct {
	db       *store.DB
	template int64 // the submitted application copied
	version  int64
	outcome  string
	rules    string // the rules digest
	inputs   string // the inputs digest
	record   string // the decision record as stored (sealed)
	tookNS   int64
	// mismatches as Submit stores them: sealed, like the record.
	mismatches string
}

// NewFloor finds in db the latest application of item submitted at or
// after since with a machine decision — an approval if there is one, the
// decision most applications get, so that runs copy alike — and returns a
// Floor copying it. A database without one is most likely not the one the
// server loaded: the error says so.
func NewFloor(ctx context.Context, db *store.DB, item string, since time.Time) (*Floor, error) {
	f := &Floor{db: db}
	for _, outcome := range []string{"approve", ""} {
		err := db.QueryRowContext(ctx, `SELECT a.id, a.mismatches, d.outcome, d.version_id, d.rules_digest, d.inputs_digest, d.record, d.took_ns
			FROM applications a JOIN decisions d ON d.application_id = a.id
			WHERE a.item_code = $1 AND a.submitted_at >= $2 AND d.actor = 'machine' AND ($3 = '' OR d.outcome = $3)
			ORDER BY a.id DESC LIMIT 1`, item, since.UTC(), outcome).
			Scan(&f.template, &f.mismatches, &f.outcome, &f.version, &f.rules, &f.inputs, &f.record, &f.tookNS)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("the application to copy for the floor: %w", err)
		}
	}
	return nil, fmt.Errorf("%s holds no application of %s decided by machine since %s: is it the database of the server loaded?",
		db.Where, item, since.Format("2006-01-02 15:04:05"))
}

// String says what the floor copies, for people.
func (f *Floor) String() string {
	return fmt.Sprintf("copies of application %d (%s, decision record of %s bytes) in %s", f.template, f.outcome, Grouped(len(f.record)), f.db.Where)
}

// draftColumns are the columns a draft copies from the template; the others
// take their defaults: no number, no submission, no decision.
const draftColumns = `item_code, version_id, account_id, person_id, enterprise_id, answers, form, provenance, materials, mismatches,
	consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, updated_at`

// Drafts makes n drafts copying the template, a few thousand a
// transaction, and returns their ids. On an error it returns the ids of
// the drafts committed before it, for Remove.
func (f *Floor) Drafts(ctx context.Context, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	for len(ids) < n {
		batch := make([]int64, 0, min(n-len(ids), 2000))
		err := f.db.InTx(ctx, func(tx *sql.Tx) error {
			for len(batch) < cap(batch) {
				var id int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO applications (status, `+draftColumns+`)
					SELECT 'draft', `+draftColumns+` FROM applications WHERE id = $1 RETURNING id`, f.template).Scan(&id); err != nil {
					return fmt.Errorf("copy application %d for the floor: %w", f.template, err)
				}
				batch = append(batch, id)
			}
			return nil
		})
		if err != nil {
			return ids, err
		}
		ids = append(ids, batch...)
	}
	return ids, nil
}

// Submit writes what a submission writes for draft id in its transaction,
// with the same statements: the row set to submitted, and the decision.
func (f *Floor) Submit(ctx context.Context, id int64) error {
	now := time.Now().UTC()
	return f.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE applications SET status = 'submitted', mismatches = $1, submitted_at = $2, updated_at = $2 WHERE id = $3 AND status = 'draft'`, f.mismatches, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("application %d was not a draft", id)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO decisions (application_id, outcome, version_id, rules_digest, inputs_digest, record, took_ns, actor, decided_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, f.outcome, f.version, f.rules, f.inputs, f.record, f.tookNS, "machine", now)
		return err
	})
}

// Remove deletes the applications ids, made by Drafts, and their
// decisions, in one transaction.
func (f *Floor) Remove(ctx context.Context, ids []int64) error {
	return f.db.InTx(ctx, func(tx *sql.Tx) error {
		for chunk := range slices.Chunk(ids, 500) {
			marks := make([]string, len(chunk))
			args := make([]any, len(chunk))
			for i, id := range chunk {
				marks[i], args[i] = fmt.Sprintf("$%d", i+1), id
			}
			in := strings.Join(marks, ", ")
			if _, err := tx.ExecContext(ctx, `DELETE FROM decisions WHERE application_id IN (`+in+`)`, args...); err != nil {
				return fmt.Errorf("remove the floor's decisions: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM applications WHERE id IN (`+in+`)`, args...); err != nil {
				return fmt.Errorf("remove the floor's applications: %w", err)
			}
		}
		return nil
	})
}

// FloorResult is what Measure measured.
type FloorResult struct {
	Where   string // the database, for people
	Workers int
	Submits int64
	// Took is the time spent submitting: making the drafts and removing
	// the rows are not counted.
	Took time.Duration
}

// Rate is submissions a second.
func (r FloorResult) Rate() float64 {
	if r.Took <= 0 {
		return 0
	}
	return float64(r.Submits) / r.Took.Seconds()
}

// Measure submits drafts with workers writers, each taking the next draft
// as soon as it has written one (closed loop), for about d of submitting.
// It goes in rounds — drafts made, submitted (timed), and every row of the
// round removed — so that the tables do not grow while it measures and an
// interrupted measure leaves no more than one round behind. Even when ctx
// is cancelled it removes what it wrote before it returns.
func (f *Floor) Measure(ctx context.Context, workers int, d time.Duration) (FloorResult, error) {
	res := FloorResult{Where: f.db.Where, Workers: workers}
	n := 100 * workers // the first round; the others are sized by the rate so far
	for res.Took < d {
		ids, err := f.Drafts(ctx, n)
		var took time.Duration
		if err == nil {
			took, err = f.submitAll(ctx, ids, workers)
		}
		if rmErr := f.Remove(context.WithoutCancel(ctx), ids); rmErr != nil {
			err = errors.Join(err, rmErr)
		}
		if err != nil {
			return FloorResult{}, err
		}
		res.Submits += int64(len(ids))
		res.Took += took
		// A little more than the rest of d, in rounds long enough that the
		// last writers of a round, finishing alone, weigh little, and short
		// enough that their drafts are made quickly.
		left := (d - res.Took).Seconds()
		n = min(max(int(1.1*res.Rate()*left)+1, 20*workers), 20_000)
	}
	return res, nil
}

// submitAll submits the drafts ids with workers writers and returns how
// long it took.
func (f *Floor) submitAll(ctx context.Context, ids []int64, workers int) (time.Duration, error) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make([]error, workers)
	)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(ids)); i = next.Add(1) - 1 {
				if err := f.Submit(ctx, ids[i]); err != nil {
					errs[w] = err
					next.Store(int64(len(ids))) // the others stop too
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}
