package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
)

// Progress hears how far a long step is: step names it and its unit (one
// of the steps below), done of total. It may be nil.
type Progress func(step string, done, total int64)

// The steps of a backup or a restore that report progress.
const (
	StepDatabaseBytes  = "database (bytes)"  // SQLite's file
	StepDatabaseTables = "database (tables)" // pg_dump, pg_restore
	StepMaterials      = "materials (bytes)"
)

func (p Progress) report(step string, done, total int64) {
	if p != nil {
		p(step, done, total)
	}
}

// writeFileSynced writes a file under a temporary name, syncs it and
// renames it into place, so that the name appears only with the whole
// content.
func writeFileSynced(path string, b []byte) error {
	tmp := path + ".part"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// copyFile copies src to dst (synced, created only whole) and returns the
// SHA-256 of what it copied, reporting progress in bytes.
func copyFile(ctx context.Context, src, dst string, progress func(done int64)) (sum string, n int64, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", 0, err
	}
	defer in.Close()
	tmp := dst + ".part"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", n, err
		}
		k, rerr := in.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			if _, err := out.Write(buf[:k]); err != nil {
				return "", n, err
			}
			n += int64(k)
			if progress != nil {
				progress(n)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", n, rerr
		}
	}
	if err := out.Sync(); err != nil {
		return "", n, err
	}
	if err := out.Close(); err != nil {
		return "", n, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// hashFile returns the SHA-256 and size of the file at path.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// blobName is a stored material's path under the disk store's folder:
// ab/cd/ and the SHA-256 of its content (internal/blob's FS).
var blobName = regexp.MustCompile(`^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$`)

type blobFile struct {
	rel  string // ab/cd/digest, with slashes
	size int64
}

// listBlobs lists the materials under dir, leaving out uploads still being
// staged (tmp/) and anything else that is not a stored material.
func listBlobs(dir string) ([]blobFile, int64, error) {
	var out []blobFile
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll // no material uploaded yet
			}
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "tmp" {
				return fs.SkipDir
			}
			return nil
		}
		m := blobName.FindStringSubmatch(rel)
		if m == nil || m[3][:2] != m[1] || m[3][2:4] != m[2] || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, blobFile{rel: rel, size: info.Size()})
		total += info.Size()
		return nil
	})
	return out, total, err
}

// copyBlobs copies every material under src to dst, checking each against
// its name (the SHA-256 of its content) on the way: a damaged file fails
// the copy rather than going unnoticed into a backup or a restored site. A
// material already in dst with the same size is kept (content-addressed:
// the same name is the same content), so an interrupted restore can be run
// again.
func copyBlobs(ctx context.Context, src, dst string, progress Progress) (files, bytes int64, err error) {
	list, total, err := listBlobs(src)
	if err != nil {
		return 0, 0, fmt.Errorf("list the materials in %s: %w", src, err)
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return 0, 0, err
	}
	const step = StepMaterials
	progress.report(step, 0, total)
	dirs := map[string]bool{}
	for _, b := range list {
		if err := ctx.Err(); err != nil {
			return files, bytes, err
		}
		from := filepath.Join(src, filepath.FromSlash(b.rel))
		to := filepath.Join(dst, filepath.FromSlash(b.rel))
		if fi, err := os.Stat(to); err == nil && fi.Size() == b.size {
			files, bytes = files+1, bytes+b.size
			progress.report(step, bytes, total)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
			return files, bytes, err
		}
		base := bytes
		sum, n, err := copyFile(ctx, from, to, func(done int64) { progress.report(step, base+done, total) })
		if err != nil {
			return files, bytes, fmt.Errorf("copy material %s: %w", from, err)
		}
		if sum != filepath.Base(to) {
			os.Remove(to)
			return files, bytes, fmt.Errorf("material %s is damaged: its content no longer has the SHA-256 it is named by", from)
		}
		files, bytes = files+1, bytes+n
		dirs[filepath.Dir(to)], dirs[filepath.Dir(filepath.Dir(to))], dirs[dst] = true, true, true
	}
	// The new names are durable once the folders holding them are synced.
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	slices.Sort(names)
	for _, d := range slices.Backward(names) {
		if err := syncDir(d); err != nil {
			return files, bytes, err
		}
	}
	progress.report(step, total, total)
	return files, bytes, nil
}
