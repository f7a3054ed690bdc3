// Package storetest runs a test against every database backend: SQLite always,
// PostgreSQL whenever YIWANG_TEST_DATABASE_URL is set. Each run gets a fresh,
// fully migrated database of its own, so tests never see each other's rows.
//
// Every domain package that touches the database writes its store tests with
// Each, which makes the whole test suite the shared store suite of DESIGN.md.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"yiwang/internal/store"
	"yiwang/internal/testenv"
)

// EnvPostgres names the variable holding the PostgreSQL test server's URL.
const EnvPostgres = "YIWANG_TEST_DATABASE_URL"

// Each runs fn as a subtest once per available backend, named after it.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	EachURL(t, func(t *testing.T, dsn string) { fn(t, Open(t, dsn)) })
}

// EachURL is Each for tests that open the database themselves, for example to
// simulate a restart: dsn names a fresh database that may be opened many times.
func EachURL(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run(string(store.SQLite), func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), store.DefaultFile)) })
	t.Run(string(store.Postgres), func(t *testing.T) { fn(t, PostgresURL(t)) })
}

// SQLite returns a migrated database in a fresh file under t.TempDir.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return Open(t, "")
}

// Postgres returns a migrated database in a fresh schema of the test server,
// dropped when the test ends. Without a server it skips the test — or fails
// it under CI=true, where a missing database is a broken build.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	return Open(t, PostgresURL(t))
}

// PostgresURL returns a URL to a fresh, empty schema on the test server.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		testenv.Missing(t, "PostgreSQL not configured: set %s to run this test on it", EnvPostgres)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "yt_" + randomHex(8)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create test schema on %s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens and migrates the database at dsn (empty: SQLite in a temporary
// folder), closing it when t ends. With EachURL's dsn it opens the same
// database again, as a restarted process would.
func Open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, t.TempDir())
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", db.Where, err)
	}
	// YIWANG_TEST_POOL1 gives each PostgreSQL test a pool of one connection,
	// so that code asking the pool for a second connection while it holds a
	// transaction hangs at once (the stall of a full pool, made certain); run
	// as in .ci/run. Set after migrating: the migration lock holds one.
	if os.Getenv("YIWANG_TEST_POOL1") != "" && db.Backend == store.Postgres {
		db.SetMaxOpenConns(1)
	}
	return db
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
