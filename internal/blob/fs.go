package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
// PostgreSQL wants an object store instead (S3).
type FS struct {
	intake
	root string
}

// NewFS returns the store in dir, creating it if needed, and removes staging
// files left by a crash.
func NewFS(dir string, l Limits) (*FS, error) {
	in, err := newIntake(filepath.Join(dir, "tmp"), l)
	if err != nil {
		return nil, err
	}
	return &FS{intake: in, root: dir}, nil
}

func (s *FS) path(digest string) string {
	return filepath.Join(s.root, filepath.FromSlash(key(digest)))
}

// Put stages r, checks it and moves it into place.
func (s *FS) Put(ctx context.Context, r io.Reader) (Info, error) {
	return s.put(ctx, r, s.has, s.commit)
}

// has reports whether a whole file of the blob is in place.
func (s *FS) has(_ context.Context, info Info) (bool, error) {
	fi, err := os.Stat(s.path(info.Digest))
	return err == nil && fi.Size() == info.Size, nil
}

// commit renames the staged file into place and syncs the folders above it.
func (s *FS) commit(_ context.Context, st *staged) error {
	final := s.path(st.Digest)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	if err := st.File.Close(); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	if err := os.Rename(st.File.Name(), final); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	// The rename is durable once the folders holding the new names are synced.
	for _, d := range []string{dir, filepath.Dir(dir), s.root} {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
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

// Stat describes a stored blob.
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
	return describe(digest, f, fi.Size())
}

// Check reports whether the folder is still there to write to (a lost
// mount, say), for /readyz.
func (s *FS) Check(context.Context) error {
	if _, err := os.Stat(s.tmp); err != nil {
		return unavailable(err, "the file store's folder %s cannot be used", s.root)
	}
	return nil
}
