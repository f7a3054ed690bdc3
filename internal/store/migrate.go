package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrationFS embed.FS

// Migration is one numbered, forward-only schema change.
type Migration struct {
	Version  int
	Name     string
	SQL      string
	Checksum string
}

// MigrationStatus tells whether a migration has been applied, and when.
type MigrationStatus struct {
	Migration
	AppliedAt *time.Time
}

// Migrations returns the embedded migrations for backend, in order.
func Migrations(backend Backend) ([]Migration, error) {
	dir := path.Join("migrations", string(backend))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %s/%s: name must be NNNN_description.sql", dir, e.Name())
		}
		body, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body), Checksum: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations for %s must be numbered 1, 2, 3…; found %04d at position %d", backend, m.Version, i+1)
		}
	}
	return ms, nil
}

func (db *DB) createMigrationTable(ctx context.Context) error {
	ts := "TIMESTAMP"
	if db.Backend == Postgres {
		ts = "TIMESTAMPTZ"
	}
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	checksum   TEXT NOT NULL,
	applied_at `+ts+` NOT NULL
)`)
	if err != nil {
		return explainWrite(db, err, "create the schema_migrations table")
	}
	return nil
}

// Migrate applies every pending migration, each in its own transaction, then
// River's job-queue migrations. It is safe to run from several processes at
// once: on PostgreSQL an advisory lock lets one migrate while the others wait.
// It returns the migrations it applied.
func (db *DB) Migrate(ctx context.Context) ([]Migration, error) {
	return db.migrateTo(ctx, math.MaxInt)
}

// migrateTo is Migrate up to and including version last: the upgrade tests
// fill a database as an older release left it, then migrate the rest.
func (db *DB) migrateTo(ctx context.Context, last int) ([]Migration, error) {
	ms, err := Migrations(db.Backend)
	if err != nil {
		return nil, err
	}
	ms = slices.DeleteFunc(ms, func(m Migration) bool { return m.Version > last })
	if db.Backend == Postgres {
		unlock, err := db.advisoryLock(ctx)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	if err := db.createMigrationTable(ctx); err != nil {
		return nil, err
	}
	applied, err := db.appliedMigrations(ctx, db.DB)
	if err != nil {
		return nil, err
	}
	if err := checkApplied(ms, applied); err != nil {
		return nil, err
	}
	var done []Migration
	for _, m := range ms {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			// Another process may have applied it since we looked.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %04d_%s failed: %w", m.Version, m.Name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)`,
				m.Version, m.Name, m.Checksum, time.Now().UTC())
			return err
		})
		if err != nil {
			return done, err
		}
		done = append(done, m)
	}
	rm, err := rivermigrate.New(db.RiverDriver(), nil)
	if err != nil {
		return done, err
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return done, fmt.Errorf("job queue migrations: %w", err)
	}
	return done, nil
}

// MigrationStatus lists every known migration and whether it is applied, plus
// the job queue's applied and latest versions.
func (db *DB) MigrationStatus(ctx context.Context) (ours []MigrationStatus, riverApplied, riverLatest int, err error) {
	ms, err := Migrations(db.Backend)
	if err != nil {
		return nil, 0, 0, err
	}
	if err := db.createMigrationTable(ctx); err != nil {
		return nil, 0, 0, err
	}
	applied, err := db.appliedMigrations(ctx, db.DB)
	if err != nil {
		return nil, 0, 0, err
	}
	for _, m := range ms {
		s := MigrationStatus{Migration: m}
		if a, ok := applied[m.Version]; ok {
			s.AppliedAt = &a.at
		}
		ours = append(ours, s)
	}
	rm, err := rivermigrate.New(db.RiverDriver(), nil)
	if err != nil {
		return nil, 0, 0, err
	}
	all := rm.AllVersions()
	riverLatest = all[len(all)-1].Version
	existing, err := rm.ExistingVersions(ctx)
	if err != nil {
		// Before the first migration River's own table does not exist yet.
		return ours, 0, riverLatest, nil
	}
	if len(existing) > 0 {
		riverApplied = existing[len(existing)-1].Version
	}
	return ours, riverApplied, riverLatest, nil
}

// SchemaVersion is the newest of our migrations applied to the database q
// reads, and its checksum: 0 and "" before the first. A backup records it
// in its snapshot, so that a restore can tell whether this binary knows the
// schema it brings back.
func SchemaVersion(ctx context.Context, q Querier) (version int, checksum string, err error) {
	err = q.QueryRowContext(ctx, `SELECT version, checksum FROM schema_migrations ORDER BY version DESC LIMIT 1`).Scan(&version, &checksum)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return version, checksum, err
}

// Tables lists the database's tables — ours, River's and the migration
// table — by name: on PostgreSQL those of the current schema (the URL's
// search_path), on SQLite all but SQLite's own.
func Tables(ctx context.Context, q Querier, backend Backend) ([]string, error) {
	query := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`
	if backend == Postgres {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	return All(ctx, q, Value[string], query)
}

// Pending reports how many of our migrations are not yet applied.
func Pending(status []MigrationStatus) int {
	n := 0
	for _, s := range status {
		if s.AppliedAt == nil {
			n++
		}
	}
	return n
}

type appliedMigration struct {
	checksum string
	at       time.Time
}

func (db *DB) appliedMigrations(ctx context.Context, q Querier) (map[int]appliedMigration, error) {
	type row struct {
		version int
		applied appliedMigration
	}
	rows, err := All(ctx, q, func(s Scanner) (row, error) {
		var r row
		err := s.Scan(&r.version, &r.applied.checksum, &r.applied.at)
		return r, err
	}, `SELECT version, checksum, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	out := make(map[int]appliedMigration, len(rows))
	for _, r := range rows {
		out[r.version] = r.applied
	}
	return out, nil
}

// checkApplied refuses a database migrated by a newer binary, or one whose
// applied migrations were edited afterwards: forward-only means a released
// migration never changes.
func checkApplied(ms []Migration, applied map[int]appliedMigration) error {
	for v := range applied {
		if v > len(ms) {
			return fmt.Errorf("the database schema is at version %d but this yiwang knows only %d migrations: run a newer yiwang against it", v, len(ms))
		}
	}
	for _, m := range ms {
		if a, ok := applied[m.Version]; ok && a.checksum != m.Checksum {
			return fmt.Errorf("migration %04d_%s was changed after it was applied: released migrations are immutable; add a new migration instead", m.Version, m.Name)
		}
	}
	return nil
}

// migrationLockKey identifies yiwang's migration advisory lock on PostgreSQL.
const migrationLockKey = 0x7969_7761_6e67 // "yiwang"

func (db *DB) advisoryLock(ctx context.Context) (unlock func(), err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockKey)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLockKey))
		conn.Close()
	}, nil
}

func explainWrite(db *DB, err error, what string) error {
	if db.Backend == SQLite {
		return explainSQLite(err, strings.TrimPrefix(db.Where, "sqlite:"))
	}
	return fmt.Errorf("%s: %w", what, err)
}
