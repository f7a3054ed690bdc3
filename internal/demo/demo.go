// Package demo fills an empty database with a demonstration government: the
// bundled demo catalogue (catalog/), with its fictional city and district
// (region codes in the unused 91 range), departments and items, published —
// so that a fresh `yiwang serve` shows a working platform. Everything it
// creates is fictional and marked as demo.
package demo

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	democatalog "yiwang/catalog"
	"yiwang/internal/catalog"
	"yiwang/internal/store"
)

// The settings rows that record the demo's state.
const (
	seededKey = "demo_seeded_at" // written once seeding has finished: this is a demo database
	claimKey  = "demo_seeding"   // held by the process seeding now; its value: "EXPIRY TOKEN"
)

// seedLockKey serialises the "is it empty? then claim it" check on PostgreSQL
// (the migration lock is another key). SQLite's BEGIN IMMEDIATE does the same.
const seedLockKey = 0x79697764656d6f // "yiwdemo"

// Outcome says what Seed found and did.
type Outcome int

const (
	Declined Outcome = iota // the database holds data of its own: no demo data, no demo accounts
	Skipped                 // an empty PostgreSQL database, and --demo was not given
	Seeded                  // this call seeded it
	Present                 // it is a demo database, seeded earlier or by another process meanwhile
)

// Options say where demo data may go and what else to write with it.
type Options struct {
	// OnPostgres allows seeding an empty PostgreSQL database (--demo). The
	// embedded SQLite database is seeded whenever it is empty.
	OnPostgres bool
	// Fill writes the demo data beyond the catalogue (accounts, registries).
	// Like the catalogue import, every step must be idempotent: a seed cut
	// short by a crash is done again from the start on the next start.
	Fill func(ctx context.Context) error
	// Lease is how long a claim to seed lasts without being renewed before
	// another process takes it over (its owner died); 30 s if zero.
	Lease time.Duration
}

// Seed fills db with demo data if it holds nothing else. Deciding that the
// database is empty and claiming it happen in one transaction, so of several
// processes starting at once exactly one seeds; the others wait for it and
// then report Present. The seeding process renews its claim while it works;
// the "seeded" marker is written last.
func Seed(ctx context.Context, db *store.DB, opts Options) (Outcome, error) {
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	for {
		token := rand.Text() // names this attempt's claim
		outcome, err := claim(ctx, db, opts, token)
		if err != nil {
			return outcome, fmt.Errorf("demo data: %w", err)
		}
		switch outcome {
		case claimed:
			if err := fillHoldingClaim(ctx, db, opts, token); err != nil {
				return Declined, fmt.Errorf("demo data: %w", err)
			}
			return Seeded, nil
		case busy:
			// Another process is seeding: wait for it to finish or to die.
			select {
			case <-ctx.Done():
				return outcome, ctx.Err()
			case <-time.After(opts.Lease / 10):
			}
		default:
			return outcome, nil
		}
	}
}

// States of the claim besides the Outcomes.
const (
	claimed Outcome = -1 - iota // this process holds the claim and must seed
	busy                        // another process holds a live claim
)

// claim decides, in one transaction, whether db is a demo database, someone
// else's, or empty, and if it is empty (or its seeder died) claims it.
func claim(ctx context.Context, db *store.DB, opts Options, token string) (outcome Outcome, err error) {
	now := time.Now().UTC()
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if db.Backend == store.Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(seedLockKey)); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, seededKey).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			outcome = Present
			return nil
		}
		var held string
		switch err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, claimKey).Scan(&held); {
		case errors.Is(err, sql.ErrNoRows):
			// Nobody has claimed it: only an empty database may be.
			if db.Backend == store.Postgres && !opts.OnPostgres {
				outcome = Skipped
				return nil
			}
			if own, err := hasOwnData(ctx, tx); err != nil || own {
				outcome = Declined
				return err
			}
		case err != nil:
			return err
		default:
			// A claim means the demo began here; a live one is left to its owner.
			expiry, _, _ := strings.Cut(held, " ")
			if t, err := time.Parse(time.RFC3339Nano, expiry); err == nil && now.Before(t) {
				outcome = busy
				return nil
			}
		}
		outcome = claimed
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, claimKey, claimValue(now, opts.Lease, token), now)
		return err
	})
	return outcome, err
}

// claimValue says until when token holds the claim.
func claimValue(now time.Time, lease time.Duration, token string) string {
	return now.Add(lease).Format(time.RFC3339Nano) + " " + token
}

// fillHoldingClaim seeds while renewing the claim, then marks the database
// seeded. If the claim is lost (this process stalled past its lease and
// another took over), it stops with an error rather than seed twice at once.
func fillHoldingClaim(ctx context.Context, db *store.DB, opts Options, token string) error {
	fillCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	renewed := make(chan struct{})
	go func() {
		renewClaim(fillCtx, db, opts.Lease, token, stop)
		close(renewed)
	}()
	err := seedCatalogue(fillCtx, db)
	if err == nil && opts.Fill != nil {
		err = opts.Fill(fillCtx)
	}
	stop(nil)
	<-renewed
	if err != nil {
		return err
	}
	if cause := context.Cause(fillCtx); !errors.Is(cause, context.Canceled) {
		return cause // the claim was lost
	}
	now := time.Now().UTC()
	return db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = $1 AND value LIKE $2`, claimKey, "% "+token)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, errors.New("another process took over seeding"))
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)`, seededKey, now.Format(time.RFC3339), now)
		return err
	})
}

// renewClaim pushes the claim's expiry forward every third of the lease
// until ctx ends. Losing the claim cancels the seeding through stop.
func renewClaim(ctx context.Context, db *store.DB, lease time.Duration, token string, stop context.CancelCauseFunc) {
	tick := time.NewTicker(lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now().UTC()
		res, err := db.ExecContext(ctx, `UPDATE settings SET value = $1, updated_at = $2 WHERE key = $3 AND value LIKE $4`,
			claimValue(now, lease, token), now, claimKey, "% "+token)
		if err != nil {
			continue // a busy database: try again at the next tick, the lease has room
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			stop(errors.New("the claim to seed was lost to another process"))
			return
		}
	}
}

// seedCatalogue imports and publishes the bundled demo catalogue.
func seedCatalogue(ctx context.Context, db *store.DB) error {
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		return err
	}
	c, problems := schemas.LoadFS(democatalog.Demo)
	if len(problems) > 0 {
		return fmt.Errorf("the bundled demo catalogue has %d problem(s), the first: %s", len(problems), problems[0])
	}
	cs := catalog.NewStore(db)
	if _, err := cs.Import(ctx, c, Actor); err != nil {
		return fmt.Errorf("seed demo catalogue: %w", err)
	}
	if _, err := cs.PublishAllDrafts(ctx, Actor); err != nil {
		return fmt.Errorf("publish demo catalogue: %w", err)
	}
	return nil
}

// hasOwnData reports whether a database nobody has claimed for the demo
// holds any data at all: an administrator's directory or catalogue,
// accounts, people, applications (migrations write none of these tables).
func hasOwnData(ctx context.Context, tx *sql.Tx) (bool, error) {
	for _, table := range []string{"regions", "departments", "catalog_versions", "accounts", "persons", "enterprises", "applications", "halls"} {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+table+` LIMIT 1) t`).Scan(&n); err != nil || n > 0 {
			return n > 0, err
		}
	}
	return false, nil
}

// Actor is who demo data is recorded as created by.
const Actor = "system:demo"
