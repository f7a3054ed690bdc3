package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"yiwang/internal/blob"

	"yiwang/internal/backup"
	"yiwang/internal/config"
	"yiwang/internal/loadtest"
	"yiwang/internal/logging"
	"yiwang/internal/store"
)

const backupSummary = `Back up the platform while it serves: yiwang backup DEST

Writes into the new or empty folder DEST a consistent copy of the database —
SQLite: VACUUM INTO, one snapshot that writers go on beside; PostgreSQL:
pg_dump in custom format, in a snapshot exported by this command (pg_dump and
pg_restore of the server's major version must be on PATH or in --pg-bin) —
then the uploaded materials (blobs/ in --data-dir, each checked against its
SHA-256 name), and last manifest.json: when, from where, the schema version,
the rows of every table, the audit trail's tip and the data key's
fingerprint. The data key is NOT in the backup: keep it apart (see
docs/DEPLOY.md, "Backup and restore").`

const restoreSummary = `Restore a backup into a new place: yiwang restore SRC

SQLite: into the SQLite file of --data-dir (or --db sqlite:PATH); PostgreSQL:
into --db postgres://… — a new database (createdb), whose URL names the
backup's schema in search_path if it was not public. The materials go to
blobs/ in --data-dir. The data key must be the backup's: --data-key,
YIWANG_DATA_KEY, or the data.key file put into --data-dir first; another
key is refused before anything is written. A database that holds tables is
refused unless --force. The restored database is checked against the
manifest (schema version, key fingerprint, audit tip, rows of every table)
and its audit trail verified. Run it with no server on the target.`

func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("backup", flag.ContinueOnError)
	pgBin := flags.String("pg-bin", "", "folder holding pg_dump and pg_restore (default: found on PATH)")
	cfg, rest, err := config.Parse(flags, "backup", backupSummary, folderLast(args), 1, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if len(rest) != 1 {
		return usageError{errors.New("name the folder to write the backup to, e.g. yiwang backup /backup/yiwang-2026-12-01")}
	}
	dest := rest[0]
	opts := backup.Options{DSN: cfg.DB, BlobDir: blobDir(cfg), PGBin: *pgBin, Yiwang: versionString()}
	if cfg.BlobURL != "" {
		// The bucket keeps the materials by its own replication and versioning.
		bucket, endpoint, err := blob.S3Where(cfg.BlobURL)
		if err != nil {
			return err
		}
		opts.BlobDir, opts.ObjectStore = "", &backup.Blobs{Store: "s3", Bucket: bucket, Endpoint: endpoint}
	}
	db, err := store.Open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	progress, done := stepProgress(stderr)
	opts.Progress = progress
	m, err := backup.Create(ctx, db, dest, opts)
	done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s as of %s: schema version %d, %s rows in %d tables, audit trail at entry %d; %s materials (%s bytes) from %s; to %s in %s\n",
		m.Source, m.TakenAt.Format("2006-01-02 15:04:05 UTC"), m.SchemaVersion, loadtest.Grouped(m.Rows()), len(m.Tables), m.Audit.Seq,
		loadtest.Grouped(m.Blobs.Files), loadtest.Grouped(m.Blobs.Bytes), blobDir(cfg), dest, m.Took)
	fmt.Fprintln(stdout, "the data key is not in the backup: keep it apart from it (YIWANG_DATA_KEY's secret store, or a copy of data.key) — restore needs it")
	return nil
}

func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("restore", flag.ContinueOnError)
	force := flags.Bool("force", false, "replace a database that holds tables (SQLite: the file; PostgreSQL: the schema, dropped)")
	pgBin := flags.String("pg-bin", "", "folder holding pg_dump and pg_restore (default: found on PATH)")
	cfg, rest, err := config.Parse(flags, "restore", restoreSummary, folderLast(args), 1, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if len(rest) != 1 {
		return usageError{errors.New("name the backup folder to restore, e.g. yiwang restore /backup/yiwang-2026-12-01 --data-dir ./restored")}
	}
	src := rest[0]
	if cfg.DataKey == "" {
		// loadKey would make a new key, which can read nothing of the backup.
		if _, err := os.Stat(filepath.Join(cfg.DataDir, keyFile)); errors.Is(err, fs.ErrNotExist) {
			return usageError{fmt.Errorf("restore needs the data key the backup was made with: set YIWANG_DATA_KEY or --data-key, or put the %s kept apart into %s first", keyFile, cfg.DataDir)}
		}
	}
	key, err := loadKey(cfg.DataKey, cfg.DataDir, logging.New(stderr, "text", 0))
	if err != nil {
		return err
	}
	progress, done := stepProgress(stderr)
	r, err := backup.Restore(ctx, src, backup.Target{DSN: cfg.DB, DataDir: cfg.DataDir, BlobDir: blobDir(cfg)},
		backup.RestoreOptions{Key: key, Force: *force, PGBin: *pgBin, Progress: progress})
	done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s (taken %s from %s) into %s: schema version %d, %s rows in %d tables as the manifest counts them; %s materials in %s\n",
		src, r.TakenAt.Format("2006-01-02 15:04:05 UTC"), r.Source, r.Where, r.SchemaVersion, loadtest.Grouped(r.Rows()), len(r.Tables),
		loadtest.Grouped(r.Materials), blobDir(cfg))
	if err := reportAudit(stdout, r.Audit); err != nil {
		return fmt.Errorf("restored, but the audit trail does not verify — so it was in the backup: %w", err)
	}
	fmt.Fprintf(stdout, "next: start 'yiwang serve' on it with the same data key; it migrates the schema if this yiwang is newer\n")
	return nil
}

// folderLast lets the folder come first, as in yiwang restore SRC
// --data-dir NEW: the flag package stops at the first argument that is
// not a flag.
func folderLast(args []string) []string {
	if len(args) > 1 && !strings.HasPrefix(args[0], "-") {
		return append(slices.Clone(args[1:]), args[0])
	}
	return args
}

// stepProgress shows a progress bar for each step of a long command
// (database, materials) on w; done ends the last one.
func stepProgress(w io.Writer) (p backup.Progress, done func()) {
	var mu sync.Mutex
	var bar *progress
	var step string
	p = func(s string, n, total int64) {
		mu.Lock()
		if s != step || bar == nil {
			if bar != nil {
				bar.end()
			}
			bar, step = newProgress(w, s), s
		}
		b := bar
		mu.Unlock()
		b.update(int(n), int(total))
	}
	return p, func() {
		mu.Lock()
		defer mu.Unlock()
		if bar != nil {
			bar.end()
		}
	}
}
