package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestMigrateIsIdempotentAndReportsStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		again, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if len(again) != 0 {
			t.Errorf("second migrate applied %d migrations, want 0", len(again))
		}
		status, riverApplied, riverLatest, err := db.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if store.Pending(status) != 0 {
			t.Errorf("pending after migrate = %d", store.Pending(status))
		}
		if riverApplied == 0 || riverApplied != riverLatest {
			t.Errorf("job queue schema at %d, latest %d", riverApplied, riverLatest)
		}
		// The schema is usable: the foundation tables exist.
		if _, err := db.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, CURRENT_TIMESTAMP)`, "k", "v"); err != nil {
			t.Fatalf("insert into settings: %v", err)
		}
	})
}

func TestMigrateRefusesNewerOrEditedSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1`); err != nil {
			t.Fatal(err)
		}
		_, err := db.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
			t.Errorf("edited migration: err = %v", err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', 'x', CURRENT_TIMESTAMP)`); err != nil {
			t.Fatal(err)
		}
		_, err = db.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "run a newer yiwang") {
			t.Errorf("newer schema: err = %v", err)
		}
	})
}

func TestInTxRollsBackOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, CURRENT_TIMESTAMP)`, "half", "done"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx err = %v, want boom", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, "half").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("rolled-back row is visible")
		}
	})
}

// TestBusyDatabaseAsksToRetry: a write that cannot have SQLite's write lock
// within the busy timeout (writers queued under overload) is refused as busy,
// a 503 saying to retry, not an internal error.
func TestBusyDatabaseAsksToRetry(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "yiwang.db")
	holder, err := store.Open(ctx, "sqlite:"+path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	waiter, err := store.Open(ctx, "sqlite:"+path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	waiter.SetMaxOpenConns(1) // the one connection the pragma below sets
	if _, err := waiter.ExecContext(ctx, "PRAGMA busy_timeout = 50"); err != nil {
		t.Fatal(err)
	}
	lock, err := holder.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	err = waiter.InTx(ctx, func(tx *sql.Tx) error { return nil })
	if e := apperr.As(err); e == nil || e.Kind != apperr.Unavailable || e.Code != apperr.DatabaseBusy {
		t.Fatalf("a write behind another's lock: %v, want unavailable database_busy", err)
	}
	lock.Rollback()
	if err := waiter.InTx(ctx, func(tx *sql.Tx) error { return nil }); err != nil {
		t.Errorf("once the lock is free: %v", err)
	}
}

func TestOpenExplainsBadDatabases(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, []byte(strings.Repeat("this is not sqlite ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	readOnlyDir := filepath.Join(dir, "ro")
	if _, err := store.Open(ctx, "sqlite:"+filepath.Join(readOnlyDir, "x.db"), ""); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(readOnlyDir, "x.db"), 0o400); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(readOnlyDir, "x.db-wal"))
	os.Remove(filepath.Join(readOnlyDir, "x.db-shm"))
	if err := os.Chmod(readOnlyDir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(readOnlyDir, 0o700) })

	tests := []struct {
		name, dsn, code, want string
	}{
		{"corrupt file", "sqlite:" + corrupt, "database_corrupt", "restore it from a backup"},
		{"unknown scheme", "mysql://root@localhost/x", "bad_database_url", "not understood"},
		{"unreachable postgres", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "database_unreachable", "check that the server is running"},
	}
	if os.Geteuid() != 0 { // root writes through file modes
		tests = append(tests, struct{ name, dsn, code, want string }{"read-only file", "sqlite:" + filepath.Join(readOnlyDir, "x.db"), "database_read_only", "write access"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(ctx, tt.dsn, dir)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			e := apperr.As(err)
			if e == nil || e.Code != apperr.Code(tt.code) || !strings.Contains(e.Message, tt.want) {
				t.Errorf("Open error = %v, want code %s mentioning %q", err, tt.code, tt.want)
			}
			if strings.Contains(err.Error(), "nobody:") {
				t.Errorf("error leaks credentials: %v", err)
			}
		})
	}
}

// TestWritersWaitTheirTurn: on SQLite a process's writers queue for the
// write lock in the process, so a writer behind a long one gives up when its
// caller stops waiting (not after the busy timeout), and many writers at
// once all commit.
func TestWritersWaitTheirTurn(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "yiwang.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE counted (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- db.InTx(ctx, func(tx *sql.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := db.InTx(short, func(tx *sql.Tx) error { return nil }); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("a writer whose caller gave up behind another: %v after %s, want the deadline at once", err, time.Since(start))
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			errs <- db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO counted (n) VALUES (1)`)
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM counted`).Scan(&n); err != nil || n != 64 {
		t.Errorf("64 writers at once committed %d rows (%v)", n, err)
	}
}
