package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/store"
)

// openCached opens a fresh SQLite file with a statement cache of size
// statements, on one connection so that every statement meets the same cache,
// holding a table t of the numbers 1 to 5.
func openCached(t testing.TB, size int) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLiteCache(ctx, filepath.Join(t.TempDir(), "cache.db"), size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	mustExec(t, db, `CREATE TABLE t (n INTEGER PRIMARY KEY, word TEXT, at TIMESTAMP)`)
	for n := 1; n <= 5; n++ {
		mustExec(t, db, `INSERT INTO t (n, word) VALUES ($1, $2)`, n, fmt.Sprint("w", n))
	}
	return db
}

func mustExec(t testing.TB, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func countRows(t testing.TB, q store.Querier, query string, args ...any) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// A query run again on a connection runs its prepared statement: SQLite's
// parser sees each text once. Time values still go through the driver's
// _time_format.
func TestStatementCacheReusesStatements(t *testing.T) {
	ctx := context.Background()
	db := openCached(t, store.StmtCacheSize)
	before := store.StatementsPrepared(db)
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	for n := 10; n < 15; n++ {
		mustExec(t, db, `INSERT INTO t (n, word, at) VALUES ($1, $2, $3)`, n, "again", at)
	}
	for range 3 {
		if got := countRows(t, db, `SELECT count(*) FROM t WHERE word = $1`, "again"); got != 5 {
			t.Fatalf("count = %d, want 5", got)
		}
	}
	if got := store.StatementsPrepared(db) - before; got != 2 {
		t.Errorf("prepared %d statements for 2 queries run 8 times", got)
	}
	var text string
	var back time.Time
	if err := db.QueryRowContext(ctx, `SELECT CAST(at AS TEXT), at FROM t WHERE n = $1`, 12).Scan(&text, &back); err != nil {
		t.Fatal(err)
	}
	if text != "2026-03-01 09:30:00+00:00" || !back.Equal(at) {
		t.Errorf("time stored as %q, read as %v", text, back)
	}
}

// Reading a query's rows while the same query runs for each of them, inside
// one transaction, gives both loops their own statement.
func TestStatementCacheNestedQueriesInTx(t *testing.T) {
	ctx := context.Background()
	db := openCached(t, store.StmtCacheSize)
	const query = `SELECT n FROM t WHERE n >= $1 ORDER BY n`
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		outer, err := tx.QueryContext(ctx, query, 1)
		if err != nil {
			return err
		}
		defer outer.Close()
		var seen []string
		for outer.Next() {
			var n int
			if err := outer.Scan(&n); err != nil {
				return err
			}
			inner, err := store.All(ctx, tx, store.Value[int], query, n)
			if err != nil {
				return err
			}
			seen = append(seen, fmt.Sprint(n, inner))
		}
		if err := outer.Err(); err != nil {
			return err
		}
		want := "1 [1 2 3 4 5]; 2 [2 3 4 5]; 3 [3 4 5]; 4 [4 5]; 5 [5]"
		if got := strings.Join(seen, "; "); got != want {
			t.Errorf("nested reads:\n got %s\nwant %s", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := store.All(ctx, db, store.Value[int], query, 4); err != nil || len(got) != 2 {
		t.Errorf("the query after the nested reads: %v, %v", got, err)
	}
}

// A statement that fails — a constraint, a row that cannot be read, a table
// dropped under it — leaves the cache answering correctly.
func TestStatementCacheSurvivesFailures(t *testing.T) {
	ctx := context.Background()
	db := openCached(t, store.StmtCacheSize)
	const insert = `INSERT INTO t (n, word) VALUES ($1, $2)`
	if _, err := db.ExecContext(ctx, insert, 1, "duplicate"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("duplicate key: err = %v", err)
	}
	mustExec(t, db, insert, 6, `"w6"`) // a JSON string
	if got := countRows(t, db, `SELECT count(*) FROM t`); got != 6 {
		t.Errorf("after a failed insert, count = %d, want 6", got)
	}

	// json_extract fails on the second row, once reading has begun.
	const extract = `SELECT json_extract(word, '$') FROM t WHERE n >= $1 ORDER BY n DESC`
	if _, err := store.All(ctx, db, store.Value[string], extract, 1); err == nil || !strings.Contains(err.Error(), "JSON") {
		t.Fatalf("reading malformed JSON: err = %v", err)
	}
	mustExec(t, db, `UPDATE t SET word = json_quote(word) WHERE NOT json_valid(word)`)
	if got, err := store.All(ctx, db, store.Value[string], extract, 5); err != nil || strings.Join(got, " ") != "w6 w5" {
		t.Errorf("the same query on good rows: %v, %v", got, err)
	}

	// The schema changes under a cached statement, then its table goes.
	const all = `SELECT * FROM t WHERE n = $1`
	if got := countRows(t, db, `SELECT count(*) FROM (`+all+`)`, 2); got != 1 {
		t.Fatalf("count = %d", got)
	}
	cols := func() ([]string, error) {
		rows, err := db.QueryContext(ctx, all, 2)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		return rows.Columns()
	}
	if _, err := cols(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `ALTER TABLE t ADD COLUMN extra TEXT`)
	if got, err := cols(); err != nil || len(got) != 4 {
		t.Errorf("columns after ALTER TABLE: %v, %v", got, err)
	}
	mustExec(t, db, `DROP TABLE t`)
	if _, err := cols(); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("query on a dropped table: err = %v", err)
	}
	mustExec(t, db, `CREATE TABLE t (n INTEGER PRIMARY KEY, word TEXT)`)
	mustExec(t, db, insert, 2, "new")
	if got, err := cols(); err != nil || len(got) != 2 {
		t.Errorf("columns of the new table: %v, %v", got, err)
	}
}

// A statement pushed out of a full cache while its rows are open is finalized
// only once they are closed.
func TestStatementCacheEvictsBusyStatementsWhenFree(t *testing.T) {
	ctx := context.Background()
	db := openCached(t, 2)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const query = `SELECT n FROM t ORDER BY n`
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int
	for i := 0; rows.Next(); i++ {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
		if i == 1 { // two other queries evict the open one
			countRows(t, conn, `SELECT count(*) FROM t WHERE n > $1`, n)
			countRows(t, conn, `SELECT count(*) FROM t WHERE n < $1`, n)
		}
	}
	if err := rows.Close(); err != nil || fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Errorf("rows read across an eviction: %v, %v", got, err)
	}
	before := store.StatementsPrepared(db)
	if got, err := store.All(ctx, conn, store.Value[int], query); err != nil || len(got) != 5 {
		t.Errorf("the evicted query again: %v, %v", got, err)
	}
	if got := store.StatementsPrepared(db) - before; got != 1 {
		t.Errorf("prepared %d statements for the evicted query, want 1", got)
	}
}

// Scripts, as migrations run them, go to the driver uncached and still run
// every statement.
func TestStatementCacheLeavesScriptsToTheDriver(t *testing.T) {
	db := openCached(t, store.StmtCacheSize)
	const script = `CREATE TABLE IF NOT EXISTS a (x INTEGER);
		CREATE TABLE IF NOT EXISTS b (y INTEGER);
		INSERT INTO a VALUES (1); INSERT INTO b VALUES (2);`
	before := store.StatementsPrepared(db)
	mustExec(t, db, script)
	mustExec(t, db, script)
	if got := store.StatementsPrepared(db) - before; got != 0 {
		t.Errorf("a script was cached: %d statements prepared", got)
	}
	if a, b := countRows(t, db, `SELECT count(*) FROM a`), countRows(t, db, `SELECT count(*) FROM b`); a != 2 || b != 2 {
		t.Errorf("after running the script twice: a has %d rows, b %d", a, b)
	}
}

// Many goroutines writing and reading through a pool of caching connections
// (run with -race).
func TestStatementCacheUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	db := openCached(t, store.StmtCacheSize)
	db.SetMaxOpenConns(0)
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				key := 1000 + w*rounds + i
				err := db.InTx(ctx, func(tx *sql.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO t (n, word) VALUES ($1, $2)`, key, fmt.Sprint("k", key)); err != nil {
						return err
					}
					var word string
					if err := tx.QueryRowContext(ctx, `SELECT word FROM t WHERE n = $1`, key).Scan(&word); err != nil {
						return err
					}
					if word != fmt.Sprint("k", key) {
						return fmt.Errorf("row %d reads %q", key, word)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				words, err := store.All(ctx, db, store.Value[string], `SELECT word FROM t WHERE n >= $1 AND n < $2 ORDER BY n`, 1000+w*rounds, key+1)
				if err != nil || len(words) != i+1 {
					t.Errorf("worker %d read %d of its %d rows: %v", w, len(words), i+1, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := countRows(t, db, `SELECT count(*) FROM t WHERE n >= 1000`); got != workers*rounds {
		t.Errorf("%d rows written, want %d", got, workers*rounds)
	}
}

// BenchmarkSQLiteStatements is a transaction of the usual shape, an INSERT
// of ten values and a SELECT by primary key, with each connection's
// statement cache and without it (docs/BENCHMARKS.md).
func BenchmarkSQLiteStatements(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"cached", store.StmtCacheSize}, {"uncached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.OpenSQLiteCache(ctx, filepath.Join(b.TempDir(), "bench.db"), bc.size)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			mustExec(b, db, `CREATE TABLE cases (id INTEGER PRIMARY KEY, item_code TEXT NOT NULL, applicant TEXT NOT NULL,
				status TEXT NOT NULL, channel TEXT NOT NULL, form TEXT NOT NULL, fee_cents INTEGER NOT NULL,
				visits INTEGER NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)`)
			now := time.Now()
			id := 0
			b.ReportAllocs()
			for b.Loop() {
				id++
				err := db.InTx(ctx, func(tx *sql.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO cases (id, item_code, applicant, status, channel, form, fee_cents, visits, created_at, updated_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
						id, "11310000000000000X4440100100001", "110101199001011234", "submitted", "web",
						`{"delivery":"electronic","phone":"13800000000"}`, 0, 0, now, now); err != nil {
						return err
					}
					var status, form string
					return tx.QueryRowContext(ctx, `SELECT status, form FROM cases WHERE id = $1`, id).Scan(&status, &form)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// SQLite carries out a PRAGMA, and reads the value it reports, while
// preparing it; it marks the statement to run once, so a cached PRAGMA is
// prepared again each time it runs and still takes effect.
func TestStatementCacheRunsPragmasAfresh(t *testing.T) {
	db := openCached(t, store.StmtCacheSize)
	for _, ms := range []int{50, 70, 50} {
		mustExec(t, db, fmt.Sprintf("PRAGMA busy_timeout = %d", ms))
		if got := countRows(t, db, "PRAGMA busy_timeout"); got != ms {
			t.Errorf("busy_timeout set to %d reads %d", ms, got)
		}
	}
}
