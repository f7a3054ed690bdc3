package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"yiwang/internal/audit"
	"yiwang/internal/pii"
	"yiwang/internal/seal"
	"yiwang/internal/store"
)

// Target is where a backup is restored to.
type Target struct {
	// DSN is the database: "" for the SQLite file in DataDir, sqlite:PATH,
	// or a postgres:// URL, whose search_path (public without one) must be
	// the schema the backup was taken from.
	DSN string
	// DataDir holds the SQLite file when DSN is "".
	DataDir string
	// BlobDir is the disk store's folder, which receives the materials
	// (<data dir>/blobs).
	BlobDir string
}

// RestoreOptions say how to restore.
type RestoreOptions struct {
	Key      pii.Key // the data key; its fingerprint must be the backup's
	Force    bool    // replace a database that holds tables
	PGBin    string  // the folder of pg_dump and pg_restore; empty: PATH
	Progress Progress
}

// Restored is what a restore brought back and found.
type Restored struct {
	Manifest
	Where     string       // the restored database, without its password
	Materials int64        // materials copied or found in place
	Audit     audit.Report // the audit trail verified after the restore
}

// ErrNotEmpty is the refusal to overwrite a database that holds tables.
var ErrNotEmpty = errors.New("the target database is not empty")

// Restore restores the backup in src into t. It refuses before writing
// anything when the key is not the backup's, when this binary does not
// know the backup's schema (a newer one, or another migration of the same
// number), when materials are missing from the backup, or when the target database holds tables and
// opts.Force is not set. The database is checked against the manifest —
// schema version, key fingerprint, audit tip, the rows of every table —
// before it is put in place (SQLite) or as soon as it is committed, in one
// transaction (PostgreSQL); the materials are checked against their names
// as they are copied, before the database appears, so that a restore cut
// off leaves no database that lacks its files. The audit trail is verified
// last; its findings are in the result.
func Restore(ctx context.Context, src string, t Target, opts RestoreOptions) (Restored, error) {
	m, err := ReadManifest(src)
	r := Restored{Manifest: m}
	if err != nil {
		return r, err
	}
	backend, err := targetBackend(t.DSN)
	if err != nil {
		return r, err
	}
	if backend != m.Backend {
		return r, fmt.Errorf("%s holds a %s backup: restore it to a %s database (%s)", src, m.Backend, m.Backend, howToName(m.Backend))
	}
	protector, err := pii.NewProtector(opts.Key)
	if err != nil {
		return r, err
	}
	if m.DataKeyFingerprint != "" && m.DataKeyFingerprint != protector.Fingerprint() {
		return r, pii.Mismatch("the backed-up database")
	}
	ms, err := store.Migrations(m.Backend)
	if err != nil {
		return r, err
	}
	if m.SchemaVersion > len(ms) {
		return r, fmt.Errorf("the backup's schema is at migration %d, this yiwang knows %d: restore it with the yiwang that made it (%s) or a newer one", m.SchemaVersion, len(ms), m.Yiwang)
	}
	if v := m.SchemaVersion; v > 0 && ms[v-1].Checksum != m.SchemaChecksum {
		return r, fmt.Errorf("the backup's migration %04d is not this yiwang's %04d_%s (it was changed after release): restore it with the yiwang that made it (%s)", v, v, ms[v-1].Name, m.Yiwang)
	}
	if m.Blobs.Store == "fs" {
		if err := r.checkMaterials(src); err != nil {
			return r, err
		}
	}
	switch m.Backend {
	case store.SQLite:
		err = r.restoreSQLite(ctx, src, t, opts)
	default:
		err = r.restorePostgres(ctx, src, t, opts)
	}
	return r, err
}

func targetBackend(dsn string) (store.Backend, error) {
	switch {
	case dsn == "", strings.HasPrefix(dsn, "sqlite:"):
		return store.SQLite, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return store.Postgres, nil
	}
	return "", errors.New("the database URL is not understood: use postgres://user@host:5432/db or sqlite:PATH, or leave it empty for the SQLite file in --data-dir")
}

func howToName(b store.Backend) string {
	if b == store.Postgres {
		return "--db postgres://…"
	}
	return "--data-dir NEW, without --db"
}

// checkMaterials makes sure the backup holds every material its manifest
// counts, before anything is written.
func (r *Restored) checkMaterials(src string) error {
	list, _, err := listBlobs(filepath.Join(src, r.Blobs.Dir))
	if err != nil {
		return fmt.Errorf("list the backup's materials: %w", err)
	}
	if int64(len(list)) != r.Blobs.Files {
		return fmt.Errorf("the backup holds %d materials, its manifest %d: files are missing from %s; restore from another backup", len(list), r.Blobs.Files, filepath.Join(src, r.Blobs.Dir))
	}
	return nil
}

// copyMaterials copies the backup's materials into the target's store.
func (r *Restored) copyMaterials(ctx context.Context, src string, t Target, progress Progress) error {
	if r.Blobs.Store != "fs" {
		return nil // in an object store, which keeps them itself
	}
	if t.BlobDir == "" {
		return errors.New("the backup holds materials: name the folder to restore them to")
	}
	n, _, err := copyBlobs(ctx, filepath.Join(src, r.Blobs.Dir), t.BlobDir, progress)
	r.Materials = n
	return err
}

// verify compares the restored database with the manifest and verifies
// its audit trail.
func (r *Restored) verify(ctx context.Context, db *store.DB, key pii.Key) error {
	got, err := readSnapshot(ctx, db, db.Backend)
	if err != nil {
		return fmt.Errorf("read the restored database: %w", err)
	}
	if diff := r.differences(got); len(diff) > 0 {
		return fmt.Errorf("the restored database is not what the backup's manifest describes: %s", strings.Join(diff, "; "))
	}
	ring, err := seal.NewKeyring(db, key)
	if err != nil {
		return err
	}
	if r.Audit, err = audit.Verify(ctx, db, ring); err != nil {
		return fmt.Errorf("verify the restored audit trail: %w", err)
	}
	return nil
}

// restoreSQLite copies the database file next to its place, checks its
// checksum and content, copies the materials, and then renames it into
// place.
func (r *Restored) restoreSQLite(ctx context.Context, src string, t Target, opts RestoreOptions) error {
	path := filepath.Join(t.DataDir, store.DefaultFile)
	if t.DSN != "" {
		path = strings.TrimPrefix(strings.TrimPrefix(t.DSN, "sqlite:"), "//")
	}
	r.Where = "sqlite:" + path
	tables, err := sqliteTables(path)
	if err != nil && !opts.Force {
		return err
	}
	if tables > 0 && !opts.Force {
		return fmt.Errorf("%w: %s holds %d tables; restore into a new --data-dir, or give --force to replace it", ErrNotEmpty, path, tables)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".restoring"
	total := r.Database.Bytes
	sum, _, err := copyFile(ctx, filepath.Join(src, r.Database.Name), tmp, func(done int64) { opts.Progress.report(StepDatabaseBytes, done, total) })
	if err != nil {
		return fmt.Errorf("copy the database: %w", err)
	}
	defer os.Remove(tmp) // gone by the rename when all went well
	if sum != r.Database.SHA256 {
		return fmt.Errorf("the backup's %s is damaged (its SHA-256 is not the manifest's): restore from another backup", r.Database.Name)
	}
	raw, err := openSQLiteCopy(tmp)
	if err != nil {
		return err
	}
	err = r.verify(ctx, &store.DB{DB: raw, Backend: store.SQLite, Where: r.Where}, opts.Key)
	raw.Close()
	if err != nil {
		return err
	}
	if err := r.copyMaterials(ctx, src, t, opts.Progress); err != nil {
		return err
	}
	// A journal left by the database being replaced would be applied to
	// the restored one.
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the old database's %s: %w", path+suffix, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// sqliteTables counts the tables in the SQLite file at path: 0 when there
// is no file.
func sqliteTables(path string) (int, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	db, err := openSQLiteCopy(path)
	if err == nil {
		defer db.Close()
	}
	var n int
	if err == nil {
		err = db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("%s is there but is no readable SQLite database (%v): move it away, or give --force to replace it", path, err)
	}
	return n, nil
}

// restorePostgres restores the dump into the target's schema, which must
// be the one the backup was taken from (pg_restore cannot rename it).
func (r *Restored) restorePostgres(ctx context.Context, src string, t Target, opts RestoreOptions) error {
	tools, conn, err := pgSetup(opts.PGBin, t.DSN)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, t.DSN, t.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	r.Where = db.Where
	schema := conn.schema
	if schema == "" {
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(current_schema(), 'public')`).Scan(&schema); err != nil {
			return err
		}
	}
	if schema != r.Schema {
		return fmt.Errorf("the backup holds the PostgreSQL schema %q, the target URL names %q: pg_restore cannot rename a schema, so give a URL whose search_path is %s (none for public) on a new or empty database", r.Schema, schema, r.Schema)
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&tables); err != nil {
		return err
	}
	if tables > 0 && !opts.Force {
		return fmt.Errorf("%w: schema %s of %s holds %d tables; restore into a new database (createdb), or give --force to drop the schema and replace it", ErrNotEmpty, schema, r.Where, tables)
	}
	file := filepath.Join(src, r.Database.Name)
	sum, _, err := hashFile(file)
	if err != nil {
		return err
	}
	if sum != r.Database.SHA256 {
		return fmt.Errorf("the backup's %s is damaged (its SHA-256 is not the manifest's): restore from another backup", r.Database.Name)
	}
	if err := r.copyMaterials(ctx, src, t, opts.Progress); err != nil {
		return err
	}
	if tables > 0 {
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+quoteIdent(schema)+` CASCADE`); err != nil {
			return fmt.Errorf("drop schema %s to replace it: %w", schema, err)
		}
	}
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+quoteIdent(schema)); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	if err := conn.pgRestore(ctx, tools, file, int64(len(r.Tables)), opts.Progress); err != nil {
		return err
	}
	return r.verify(ctx, db, opts.Key)
}
