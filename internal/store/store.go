// Package store opens the platform's database — embedded SQLite by default,
// PostgreSQL in production — and owns its schema.
//
// Both backends are reached through database/sql (modernc.org/sqlite and
// pgx/v5's stdlib adapter), so every domain package writes one set of queries
// with $1-style placeholders, which both drivers accept. Only the DDL differs,
// and it lives in migrations/sqlite and migrations/postgres.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"modernc.org/sqlite"

	"yiwang/internal/apperr"
)

// Backend names a kind of database.
type Backend string

// The supported backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// DB is an open, pinged database handle that knows its backend.
type DB struct {
	*sql.DB
	Backend Backend
	// Where describes the database for people and logs, without passwords.
	Where string
	// stmts is SQLite's statement cache, nil without one.
	stmts *stmtCacheConnector
}

// busyTimeout is how long a write waits for SQLite's write lock, at the
// gate (writegate.go) and then in SQLite's busy handler, before it is
// refused as busy.
const busyTimeout = 10 * time.Second

// DefaultFile is the SQLite file used when no database URL is configured.
const DefaultFile = "yiwang.db"

// Open connects to the database named by dsn. An empty dsn means the embedded
// SQLite file under dataDir, created if missing. "postgres://…" and
// "postgresql://…" select PostgreSQL; "sqlite:PATH" selects an SQLite file.
//
// Open fails with an apperr.Unavailable or apperr.Invalid error whose message
// says what is wrong and what to do.
func Open(ctx context.Context, dsn, dataDir string) (*DB, error) {
	switch {
	case dsn == "":
		return openSQLite(ctx, filepath.Join(dataDir, DefaultFile), stmtCacheSize)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"), stmtCacheSize)
	default:
		return nil, apperr.New(apperr.Invalid, apperr.BadDatabaseURL,
			"database URL %q is not understood: use postgres://user@host:5432/db or sqlite:PATH, or leave it empty for the embedded database", redact(dsn))
	}
}

// openSQLite opens the SQLite file at path, each connection keeping up to
// cacheSize statements prepared (see stmtCacheConnector); 0 keeps none.
func openSQLite(ctx context.Context, path string, cacheSize int) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, apperr.DataDir,
				fmt.Sprintf("cannot create the data directory %s: check its permissions or choose another with --data-dir", dir))
		}
	}
	// WAL lets readers run beside the one writer; every transaction takes the
	// write lock up front (_txlock=immediate) so the busy timeout applies
	// instead of a late SQLITE_BUSY when a reader tries to upgrade.
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	connector, err := sqlite.NewConnector("file:" + path + "?" + q.Encode())
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, apperr.BadDatabaseURL, "cannot open the SQLite database "+path)
	}
	var stmts *stmtCacheConnector
	if cacheSize > 0 {
		stmts = &stmtCacheConnector{Connector: connector, size: cacheSize}
		connector = stmts
	}
	sqlDB := sql.OpenDB(&gateConnector{Connector: connector, gate: make(chan struct{}, 1)})
	// Keep connections open: each new one re-runs the pragmas and rebuilds
	// SQLite's page cache, which under load cost more than the queries.
	// Their number stays unlimited: transactions wait for the write lock
	// holding a connection, and the one holding the lock may need another
	// to read, so a cap could leave it waiting behind them.
	sqlDB.SetMaxIdleConns(32)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{DB: sqlDB, Backend: SQLite, Where: "sqlite:" + path, stmts: stmts}
	if err := db.checkWritable(ctx); err != nil {
		sqlDB.Close()
		return nil, explainSQLite(err, path)
	}
	return db, nil
}

// checkWritable proves the SQLite file is a database we can write: a corrupt
// file, a directory or a read-only file fails here rather than mid-request.
func (db *DB) checkWritable(ctx context.Context) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE takes the write lock
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE IF NOT EXISTS yiwang_probe(x)"); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return err
	}
	return nil
}

func explainSQLite(err error, path string) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not a database"), strings.Contains(msg, "malformed"), strings.Contains(msg, "(26)"), strings.Contains(msg, "(11)"):
		return apperr.Wrap(err, apperr.Unavailable, apperr.DatabaseCorrupt,
			fmt.Sprintf("%s is not a readable SQLite database (corrupt, or another kind of file): restore it from a backup or move it away to start empty", path))
	case strings.Contains(msg, "readonly"), strings.Contains(msg, "read-only"), strings.Contains(msg, "(8)"):
		return apperr.Wrap(err, apperr.Unavailable, apperr.DatabaseReadOnly,
			fmt.Sprintf("%s cannot be written (read-only file or directory): give the yiwang user write access to it and its folder", path))
	case strings.Contains(msg, "unable to open"), strings.Contains(msg, "(14)"):
		return apperr.Wrap(err, apperr.Unavailable, apperr.DatabaseUnopenable,
			fmt.Sprintf("cannot open %s: check that the path is a file in a writable folder", path))
	}
	return apperr.Wrap(err, apperr.Unavailable, apperr.DatabaseUnavailable, "cannot use the SQLite database "+path)
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	sqlDB, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Invalid, apperr.BadDatabaseURL,
			fmt.Sprintf("database URL %s is malformed: expected postgres://user:password@host:5432/dbname", redact(dsn)))
	}
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(10)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{DB: sqlDB, Backend: Postgres, Where: redact(dsn)}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, apperr.Wrap(err, apperr.Unavailable, apperr.DatabaseUnreachable,
			fmt.Sprintf("cannot connect to PostgreSQL at %s: check that the server is running and that --db / YIWANG_DB is right", db.Where))
	}
	return db, nil
}

// redact hides the password in a database URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparseable URL)"
		}
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// InTx runs fn in a transaction, committing if fn returns nil and rolling back
// otherwise. Jobs enqueued through tx commit or vanish with it.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return explainBusy(fmt.Errorf("begin transaction: %w", err))
	}
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return explainBusy(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// explainBusy turns SQLite's "database is locked" — the write lock not had
// within the busy timeout, when writers queue up under overload — into a
// 503 that says nothing was saved and to retry, instead of an internal error.
func explainBusy(err error) error {
	var e interface{ Code() int }
	if errors.As(err, &e) && e.Code()&0xff == 5 { // SQLITE_BUSY and its extended codes
		return apperr.Wrap(err, apperr.Unavailable, apperr.DatabaseBusy, "the database is busy with other writes and this one was not saved; try again in a moment")
	}
	return err
}

// Ping checks that the database answers a query, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// RiverDriver returns the River job-queue driver for this backend.
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if db.Backend == Postgres {
		return riverdatabasesql.New(db.DB)
	}
	return riversqlite.New(db.DB)
}
