// Package backup takes a consistent copy of a running platform — its
// database and its uploaded materials — into a folder, and restores such a
// folder into a fresh place, checking on the way that it brought back what
// was copied.
//
// A backup folder holds the database (SQLite: a VACUUM INTO copy;
// PostgreSQL: a pg_dump archive in custom format, taken in an exported
// snapshot), the materials of the disk store under blobs/ (or, for an
// object store, only the bucket's name: its own versioning keeps it), and
// manifest.json, written last, which says what the copy is: when, from
// where, the schema version, the row count of every table, the audit
// trail's tip and the data key's fingerprint. The data key itself is never
// in a backup: whoever holds both could read every person's data.
package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"yiwang/internal/audit"
	"yiwang/internal/store"
)

// Format names the layout of a backup folder; restore refuses another.
const Format = "yiwang-backup/1"

// The names inside a backup folder.
const (
	ManifestFile = "manifest.json"
	SQLiteFile   = "database.sqlite"
	PostgresFile = "database.pgdump"
	BlobsDir     = "blobs"
)

// Manifest describes a backup: restore checks the copy against it, and an
// operator reads it to know what a folder holds.
type Manifest struct {
	Format   string        `json:"format"`
	TakenAt  time.Time     `json:"taken_at"` // when the snapshot was taken
	Took     string        `json:"took"`
	Yiwang   string        `json:"yiwang"` // the binary that made it
	Backend  store.Backend `json:"backend"`
	Source   string        `json:"source"`           // the database, without its password
	Schema   string        `json:"schema,omitempty"` // PostgreSQL: the schema dumped
	Database File          `json:"database"`
	Blobs    Blobs         `json:"blobs"`
	Snapshot
}

// Snapshot is what the database held at the moment of the copy; a restore
// reads the same from what it brought back and compares.
type Snapshot struct {
	SchemaVersion      int              `json:"schema_version"` // the newest migration applied
	SchemaChecksum     string           `json:"schema_checksum"`
	DataKeyFingerprint string           `json:"data_key_fingerprint"` // "" if no process had started on it
	Audit              audit.Tip        `json:"audit"`
	Tables             map[string]int64 `json:"tables"` // rows in every table
}

// Rows is the number of rows in all tables.
func (s Snapshot) Rows() int64 {
	var n int64
	for _, rows := range s.Tables {
		n += rows
	}
	return n
}

// File is one file of the backup and its checksum.
type File struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Blobs says where the uploaded materials are: copied into the backup
// (store "fs", Files and Bytes counted), or kept by an object store whose
// bucket is named here and which keeps them by its own replication and
// versioning.
type Blobs struct {
	Store    string `json:"store"`              // fs, s3
	Dir      string `json:"dir,omitempty"`      // fs: the folder inside the backup
	Files    int64  `json:"files"`              // fs: materials copied
	Bytes    int64  `json:"bytes"`              // fs: their size
	Bucket   string `json:"bucket,omitempty"`   // s3
	Endpoint string `json:"endpoint,omitempty"` // s3
}

// ReadManifest reads the manifest of the backup folder dir and refuses a
// folder that is no complete backup of this format.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return m, fmt.Errorf("%s does not exist: give the folder 'yiwang backup' wrote", dir)
		}
		return m, fmt.Errorf("%s has no %s: it is not a backup, or one that did not finish", dir, ManifestFile)
	}
	if err != nil {
		return m, fmt.Errorf("read the backup's manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s is damaged (%v): restore from another backup", filepath.Join(dir, ManifestFile), err)
	}
	if m.Format != Format {
		return m, fmt.Errorf("%s is a backup of format %q; this yiwang reads %q: restore it with the yiwang that made it (%s)", dir, m.Format, Format, m.Yiwang)
	}
	return m, nil
}

// write puts the manifest into dir, whole or not at all: its presence is
// what marks a finished backup.
func (m Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSynced(filepath.Join(dir, ManifestFile), append(b, '\n'))
}
