package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"yiwang/internal/audit"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestPGConnKeepsThePasswordOffTheCommandLine: pg_dump gets the URL
// without the password (it goes in PGPASSWORD) and without pgx's run-time
// settings, which libpq refuses; search_path names the schema.
func TestPGConnKeepsThePasswordOffTheCommandLine(t *testing.T) {
	tests := []struct {
		dsn, url, password, schema string
	}{
		{"postgres://yiwang:s3cret@db:5432/yiwang?sslmode=require", "postgres://yiwang@db:5432/yiwang?sslmode=require", "s3cret", ""},
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=yt_1&pool_max_conns=4", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "", "yt_1"},
		{"postgresql://u@h/d?search_path=%22Site%22,public&application_name=x", "postgresql://u@h/d?application_name=x", "", "Site"},
	}
	for _, tt := range tests {
		c, err := parsePGConn(tt.dsn)
		if err != nil || c.url != tt.url || c.password != tt.password || c.schema != tt.schema {
			t.Errorf("parsePGConn(%q) = %+v, %v; want url %q, password %q, schema %q", tt.dsn, c, err, tt.url, tt.password, tt.schema)
		}
	}
}

// TestRestoreListLeavesTheSchemaOut: the schema is created before
// pg_restore runs (public exists in every database), so its entries in
// the archive's list are left out, and nothing else is.
func TestRestoreListLeavesTheSchemaOut(t *testing.T) {
	for line, out := range map[string]bool{
		"4; 2615 2200 SCHEMA - public pg_database_owner":            true,
		"3349; 0 0 COMMENT - SCHEMA public pg_database_owner":       true,
		"6; 2615 115990 SCHEMA - yt_1 postgres":                     true,
		"3350; 0 0 ACL - SCHEMA yt_1 postgres":                      true,
		"215; 1259 115987 TABLE public applications postgres":       false,
		"3342; 0 115987 TABLE DATA public applications postgres":    false,
		"230; 1255 116001 FUNCTION public freeze_versions() yiwang": false,
	} {
		if schemaEntry.MatchString(line) != out {
			t.Errorf("%q left out: %v, want %v", line, !out, out)
		}
	}
}

// TestCopyBlobsChecksEveryFile copies stored materials, leaving out
// staged uploads and stray files, keeps one already in place, and fails
// on a file whose content is not its name.
func TestCopyBlobsChecksEveryFile(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	put := func(dir, content string) string {
		sum := sha256.Sum256([]byte(content))
		d := hex.EncodeToString(sum[:])
		path := filepath.Join(dir, d[:2], d[2:4], d)
		os.MkdirAll(filepath.Dir(path), 0o700)
		os.WriteFile(path, []byte(content), 0o600)
		return d
	}
	a := put(src, "%PDF-1.4 a")
	b := put(src, "%PDF-1.4 b")
	put(dst, "%PDF-1.4 b")
	os.MkdirAll(filepath.Join(src, "tmp"), 0o700)
	os.WriteFile(filepath.Join(src, "tmp", "upload-1"), []byte("half"), 0o600)
	os.WriteFile(filepath.Join(src, "README"), []byte("stray"), 0o600)
	var last int64
	files, bytes, err := copyBlobs(context.Background(), src, dst, func(step string, done, total int64) { last = done })
	if err != nil || files != 2 || bytes != 20 || last != 20 {
		t.Fatalf("copyBlobs = %d files, %d bytes, progress at %d, %v; want 2, 20, 20", files, bytes, last, err)
	}
	for _, d := range []string{a, b} {
		if _, err := os.Stat(filepath.Join(dst, d[:2], d[2:4], d)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dst, "tmp")); err == nil {
		t.Error("staged uploads were copied")
	}

	os.WriteFile(filepath.Join(src, a[:2], a[2:4], a), []byte("%PDF-1.4 A"), 0o600) // bit rot
	_, _, err = copyBlobs(context.Background(), src, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "is damaged") {
		t.Errorf("a damaged material copied: %v", err)
	}
}

// TestDifferencesNameWhatIsNotTheBackups words each difference between a
// restored database and the manifest, and finds none between equals.
func TestDifferencesNameWhatIsNotTheBackups(t *testing.T) {
	want := Snapshot{SchemaVersion: 18, SchemaChecksum: "c", DataKeyFingerprint: "f", Audit: audit.Tip{Seq: 5, Hash: "h"},
		Tables: map[string]int64{"applications": 3, "licences": 2}}
	if d := want.differences(want); len(d) != 0 {
		t.Errorf("differences of equals: %v", d)
	}
	got := Snapshot{SchemaVersion: 17, SchemaChecksum: "c", DataKeyFingerprint: "g", Audit: audit.Tip{Seq: 4, Hash: "h"},
		Tables: map[string]int64{"applications": 2, "extra": 0}}
	d := strings.Join(want.differences(got), "; ")
	for _, w := range []string{"schema version 17, the backup's 18", "another data key fingerprint", "audit trail at entry 4", "applications has 2 rows, the backup 3",
		"table extra is not in the backup", "table licences is missing"} {
		if !strings.Contains(d, w) {
			t.Errorf("differences %q lack %q", d, w)
		}
	}
}

// TestObjectStoreIsRecordedNotCopied: materials in an object store stay
// there — its versioning keeps them — and the manifest names the bucket;
// restore copies none.
func TestObjectStoreIsRecordedNotCopied(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	dest := filepath.Join(t.TempDir(), "backup")
	m, err := Create(ctx, db, dest, Options{ObjectStore: &Blobs{Store: "s3", Bucket: "yiwang-materials", Endpoint: "https://oss.example.gov.cn"}})
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadManifest(dest)
	if err != nil || read.Blobs != m.Blobs || read.Blobs.Bucket != "yiwang-materials" || read.Blobs.Files != 0 {
		t.Fatalf("manifest's materials: %+v, %v", read.Blobs, err)
	}
	if _, err := os.Stat(filepath.Join(dest, BlobsDir)); err == nil {
		t.Error("a blobs folder was written for an object store")
	}
	key, _ := pii.NewKey()
	k, _ := pii.ParseKey(key)
	dir := t.TempDir()
	r, err := Restore(ctx, dest, Target{DataDir: dir}, RestoreOptions{Key: k})
	if err != nil || r.Materials != 0 || r.Where != "sqlite:"+filepath.Join(dir, store.DefaultFile) || len(r.Audit.Findings) > 0 {
		t.Fatalf("restore: %+v, %v", r, err)
	}

	// A schema this binary does not know is refused before anything is
	// written.
	for _, tt := range []struct {
		edit func(*Manifest)
		want string
	}{
		{func(m *Manifest) { m.SchemaVersion = 999 }, "the backup's schema is at migration 999, this yiwang knows"},
		{func(m *Manifest) { m.SchemaChecksum = "edited" }, "(it was changed after release)"},
	} {
		edited := m
		tt.edit(&edited)
		if err := edited.write(dest); err != nil {
			t.Fatal(err)
		}
		fresh := t.TempDir()
		_, err := Restore(ctx, dest, Target{DataDir: fresh}, RestoreOptions{Key: k})
		if entries, _ := os.ReadDir(fresh); err == nil || !strings.Contains(err.Error(), tt.want) || len(entries) > 0 {
			t.Errorf("restore of %+v: %v, wrote %v; want a refusal containing %q", edited.Snapshot, err, entries, tt.want)
		}
	}
}
