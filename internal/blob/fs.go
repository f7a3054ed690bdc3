package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FS stores blobs as files under a folder (normally <data dir>/blobs):
// ab/cd/abcd… for the digest abcd…, two levels of 256 folders so that no
// folder grows too large. Uploads are staged in tmp/ under the same folder —
// the same file system, so moving one into place is an atomic rename.
//
// A blob appears under its name only whole and synced: a crash mid-upload
// leaves at most a file in tmp/, which NewFS sweeps away. Identical content
// is stored once; two uploads of it at the same moment both succeed and
// leave one file.
//
// Several processes can share FS only through a shared folder; a cluster on
// PostgreSQL wants an object store instead (see Store).
type FS struct {
	root   string
	limits Limits
}

// staleAfter is how old a file in tmp/ must be before NewFS removes it: old
// enough that no upload can still be writing it.
const staleAfter = 24 * time.Hour

// NewFS returns the store in dir, creating it if needed, and removes staging
// files left by a crash.
func NewFS(dir string, l Limits) (*FS, error) {
	s := &FS{root: dir, limits: l}
	if err := os.MkdirAll(s.tmp(), 0o700); err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	entries, err := os.ReadDir(s.tmp())
	if err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleAfter {
			os.Remove(filepath.Join(s.tmp(), e.Name()))
		}
	}
	return s, nil
}

// MaxBytes is the largest upload the store accepts.
func (s *FS) MaxBytes() int64 { return s.limits.maxBytes() }

func (s *FS) tmp() string { return filepath.Join(s.root, "tmp") }

func (s *FS) path(digest string) string {
	return filepath.Join(s.root, digest[:2], digest[2:4], digest)
}

// Put stages r, checks it and moves it into place.
func (s *FS) Put(ctx context.Context, r io.Reader) (Info, error) {
	st, err := Stage(ctx, s.tmp(), r, s.limits)
	if err != nil {
		return Info{}, err
	}
	defer st.Discard()
	final := s.path(st.Digest)
	if fi, err := os.Stat(final); err == nil && fi.Size() == st.Size {
		return st.Info, nil // already stored
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Info{}, fmt.Errorf("blob: %w", err)
	}
	if err := st.File.Close(); err != nil {
		return Info{}, fmt.Errorf("blob: %w", err)
	}
	if err := os.Rename(st.File.Name(), final); err != nil {
		return Info{}, fmt.Errorf("blob: %w", err)
	}
	// The rename is durable once the folders holding the new names are synced.
	for _, d := range []string{dir, filepath.Dir(dir), s.root} {
		if err := syncDir(d); err != nil {
			return Info{}, err
		}
	}
	return st.Info, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("blob: sync %s: %w", dir, err)
	}
	return nil
}

// Open returns the blob's content.
func (s *FS) Open(_ context.Context, digest string) (io.ReadCloser, error) {
	if err := checkDigest(digest); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(digest)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return f, nil
}

// Stat describes a stored blob; its type is sniffed again from the content,
// which is what decided it when it was stored.
func (s *FS) Stat(ctx context.Context, digest string) (Info, error) {
	rc, err := s.Open(ctx, digest)
	if err != nil {
		return Info{}, err
	}
	f := rc.(*os.File)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("blob: %w", err)
	}
	mt, err := Sniff(f, fi.Size())
	if err != nil {
		return Info{}, fmt.Errorf("blob %s no longer reads as an accepted type: %w", digest, err)
	}
	return Info{Digest: digest, Size: fi.Size(), MediaType: mt}, nil
}
