package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"yiwang/internal/store"
)

// Options say what a backup copies besides the database.
type Options struct {
	// DSN is the database URL the platform runs on; pg_dump connects with it.
	DSN string
	// BlobDir is the disk store's folder (<data dir>/blobs), copied; empty
	// when the materials are in an object store.
	BlobDir string
	// ObjectStore names the object store holding the materials instead
	// (Store, Bucket, Endpoint): recorded, not copied — its own replication
	// and versioning keep them.
	ObjectStore *Blobs
	PGBin       string // the folder of pg_dump and pg_restore; empty: PATH
	Yiwang      string // this binary's version, recorded in the manifest
	Progress    Progress
}

// Create copies db and the materials into the folder dest, which must be
// new or empty, while the platform keeps serving: the database copy is one
// snapshot, and the materials are copied after it. A material is stored
// before the row naming it commits and is never deleted, so every material
// the snapshot names is in the copy (with perhaps a few uploaded since).
// The manifest is written last; a backup cut off leaves none and restore
// refuses it. On failure Create removes what it wrote.
func Create(ctx context.Context, db *store.DB, dest string, opts Options) (m Manifest, err error) {
	began := time.Now()
	tables, err := store.Tables(ctx, db, db.Backend)
	if err != nil {
		return m, fmt.Errorf("read the database %s: %w", db.Where, err)
	}
	if !slices.Contains(tables, "schema_migrations") {
		return m, fmt.Errorf("the database %s has no schema yet: run 'yiwang migrate' (or start 'yiwang serve') before backing it up", db.Where)
	}
	made, err := prepareDest(dest, opts.BlobDir)
	if err != nil {
		return m, err
	}
	defer func() {
		if err != nil {
			removeWritten(dest, made)
		}
	}()
	m = Manifest{Format: Format, Yiwang: opts.Yiwang, Backend: db.Backend, Source: db.Where}
	switch db.Backend {
	case store.SQLite:
		err = m.copySQLite(ctx, db, dest, opts.Progress)
	case store.Postgres:
		err = m.dumpPostgres(ctx, db, dest, opts)
	default:
		err = fmt.Errorf("cannot back up a %s database", db.Backend)
	}
	if err != nil {
		return m, err
	}
	switch {
	case opts.ObjectStore != nil:
		m.Blobs = *opts.ObjectStore
	case opts.BlobDir != "":
		m.Blobs = Blobs{Store: "fs", Dir: BlobsDir}
		if m.Blobs.Files, m.Blobs.Bytes, err = copyBlobs(ctx, opts.BlobDir, filepath.Join(dest, BlobsDir), opts.Progress); err != nil {
			return m, err
		}
	}
	m.Took = time.Since(began).Round(time.Millisecond).String()
	return m, m.write(dest)
}

// prepareDest makes sure dest is a new or empty folder outside the
// materials it will copy, creating it if needed; made says it did.
func prepareDest(dest, blobDir string) (made bool, err error) {
	entries, err := os.ReadDir(dest)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dest, 0o700); err != nil {
			return false, fmt.Errorf("cannot create the backup folder %s: %w", dest, err)
		}
		made = true
	case err != nil:
		return false, fmt.Errorf("cannot use %s as the backup folder: %w", dest, err)
	case len(entries) > 0:
		return false, fmt.Errorf("%s is not empty: give a new folder for each backup, e.g. one named after the day", dest)
	}
	if blobDir != "" {
		if rel, err := filepath.Rel(absolute(blobDir), absolute(dest)); err == nil && !strings.HasPrefix(rel, "..") {
			if made {
				os.Remove(dest)
			}
			return false, fmt.Errorf("%s is inside the materials folder %s: put the backup elsewhere", dest, blobDir)
		}
	}
	return made, nil
}

func absolute(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// removeWritten undoes a backup that failed: the folder if Create made
// it, otherwise what it put into it.
func removeWritten(dest string, made bool) {
	if made {
		os.RemoveAll(dest)
		return
	}
	for _, name := range []string{SQLiteFile, PostgresFile, BlobsDir, ManifestFile + ".part"} {
		os.RemoveAll(filepath.Join(dest, name))
	}
}

// copySQLite copies the database with VACUUM INTO: one read transaction,
// so a consistent snapshot that writers go on beside (WAL). The copy is
// compacted and in rollback-journal mode, one self-contained file; the
// manifest's snapshot is read from the copy itself.
func (m *Manifest) copySQLite(ctx context.Context, db *store.DB, dest string, progress Progress) error {
	file := filepath.Join(dest, SQLiteFile)
	var pages, pageSize int64
	if err := db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return err
	}
	stop := watchSize(file, pages*pageSize, progress)
	m.TakenAt = time.Now().UTC()
	_, err := db.ExecContext(ctx, `VACUUM INTO $1`, file)
	stop()
	if err != nil {
		return fmt.Errorf("copy the SQLite database: %w", err)
	}
	if err := os.Chmod(file, 0o600); err != nil { // it holds sealed personal data
		return err
	}
	if err := syncFile(file); err != nil {
		return err
	}
	copyDB, err := openSQLiteCopy(file)
	if err != nil {
		return err
	}
	defer copyDB.Close()
	if m.Snapshot, err = readSnapshot(ctx, copyDB, store.SQLite); err != nil {
		return err
	}
	m.Database.Name = SQLiteFile
	m.Database.SHA256, m.Database.Bytes, err = hashFile(file)
	return err
}

// openSQLiteCopy opens a copied database file read-only: reading it
// leaves no journal or WAL files beside it.
func openSQLiteCopy(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("the copy %s cannot be read: %w", path, err)
	}
	return db, nil
}

// watchSize reports the growth of a file being written towards total
// bytes until stop is called.
func watchSize(path string, total int64, progress Progress) (stop func()) {
	if progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if fi, err := os.Stat(path); err == nil {
					progress(StepDatabaseBytes, min(fi.Size(), total), total)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		progress(StepDatabaseBytes, total, total)
	}
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// dumpPostgres dumps the current schema with pg_dump in a snapshot this
// process exports from a repeatable-read transaction, and reads the
// manifest's snapshot in that same transaction while pg_dump runs: the
// counts are those of the rows in the dump.
func (m *Manifest) dumpPostgres(ctx context.Context, db *store.DB, dest string, opts Options) error {
	tools, conn, err := pgSetup(opts.PGBin, opts.DSN)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin the backup's snapshot: %w", err)
	}
	defer tx.Rollback()
	var snapshot string
	if err := tx.QueryRowContext(ctx, `SELECT pg_export_snapshot(), current_schema(), now()`).Scan(&snapshot, &m.Schema, &m.TakenAt); err != nil {
		return fmt.Errorf("export the backup's snapshot: %w", err)
	}
	m.TakenAt = m.TakenAt.UTC()
	var tables int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`).Scan(&tables); err != nil {
		return err
	}
	file := filepath.Join(dest, PostgresFile)
	dumpCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	dumped := make(chan error, 1)
	go func() { dumped <- conn.pgDump(dumpCtx, tools, snapshot, m.Schema, file, tables, opts.Progress) }()
	if m.Snapshot, err = readSnapshot(ctx, tx, store.Postgres); err != nil {
		cancel()
		<-dumped
		return err
	}
	if err := <-dumped; err != nil {
		return err
	}
	if err := os.Chmod(file, 0o600); err != nil {
		return err
	}
	if err := syncFile(file); err != nil {
		return err
	}
	m.Database.Name = PostgresFile
	m.Database.SHA256, m.Database.Bytes, err = hashFile(file)
	return err
}
