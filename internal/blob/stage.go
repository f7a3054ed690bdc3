package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"yiwang/internal/apperr"
)

// Limits is what every upload must satisfy, whatever the store.
type Limits struct {
	MaxBytes int64   // the largest upload accepted; 0 means DefaultMaxBytes
	Scanner  Scanner // sees every upload before it is accepted; nil means AcceptAll
}

func (l Limits) maxBytes() int64 {
	if l.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return l.MaxBytes
}

// staged is an upload that has passed every check, held in a temporary file
// until a store commits it.
type staged struct {
	Info
	File *os.File // the content, for ReadAt or Seek
}

// Discard closes and removes the temporary file; after a store has moved the
// file into place it removes nothing.
func (s *staged) Discard() {
	s.File.Close()
	os.Remove(s.File.Name())
}

// intake is what every store does with an upload before the store's own
// part, so that there is one way to take a file in: stream it into a
// staging file on the local disk under the limits, type it, scan it, and
// only then hand it to the store to commit. The store's commit must make the
// blob appear whole or not at all (a rename, a single object PUT).
type intake struct {
	tmp    string // the staging folder, on the local disk
	limits Limits
}

// staleAfter is how old a staging file must be before newIntake removes it:
// old enough that no upload can still be writing it.
const staleAfter = 24 * time.Hour

// newIntake makes the staging folder tmp if needed and removes staging files
// a crash left behind.
func newIntake(tmp string, l Limits) (intake, error) {
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return intake{}, fmt.Errorf("blob staging folder %s: %w", tmp, err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return intake{}, fmt.Errorf("blob staging folder %s: %w", tmp, err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleAfter {
			os.Remove(filepath.Join(tmp, e.Name()))
		}
	}
	return intake{tmp: tmp, limits: l}, nil
}

// MaxBytes is the largest upload the store accepts.
func (in intake) MaxBytes() int64 { return in.limits.maxBytes() }

// put stages r and checks it; then, unless has says the store already holds
// that content, commit stores the staged file. Either way the staging file
// is gone when put returns.
func (in intake) put(ctx context.Context, r io.Reader, has func(context.Context, Info) (bool, error), commit func(context.Context, *staged) error) (Info, error) {
	st, err := stage(ctx, in.tmp, r, in.limits)
	if err != nil {
		return Info{}, err
	}
	defer st.Discard()
	switch ok, err := has(ctx, st.Info); {
	case err != nil:
		return Info{}, err
	case ok:
		return st.Info, nil // identical content is stored once
	}
	if err := commit(ctx, st); err != nil {
		return Info{}, err
	}
	return st.Info, nil
}

// describe is Stat's answer for the size bytes of a stored blob in r: its
// type is sniffed again from the content, which is what decided it when it
// was stored, so no store keeps a type beside the content.
func describe(digest string, r io.ReaderAt, size int64) (Info, error) {
	mt, err := Sniff(r, size)
	if err != nil {
		return Info{}, fmt.Errorf("blob %s no longer reads as an accepted type: %w", digest, err)
	}
	return Info{Digest: digest, Size: size, MediaType: mt}, nil
}

// stage streams r into a new temporary file in dir and checks it: at most
// l.MaxBytes (never reading more than one byte past the limit), a type
// Sniff accepts, and l.Scanner's approval. The file is synced to disk
// before stage returns. On any refusal nothing is left in dir.
//
// Content whose first bytes are of no accepted type is refused before a file
// is created at all.
func stage(ctx context.Context, dir string, r io.Reader, l Limits) (*staged, error) {
	max := l.maxBytes()
	body := io.LimitReader(ctxReader{ctx, r}, max+1)
	head := make([]byte, min(headLen, max+1))
	n, err := io.ReadFull(body, head)
	switch {
	case errors.Is(err, io.EOF):
		return nil, apperr.New(apperr.Invalid, apperr.EmptyFile, "the file is empty: choose the file again and upload it")
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return nil, readError(err)
	}
	head = head[:n]
	if family(head) == "" {
		return nil, unsupported(head)
	}

	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("blob: staging file: %w", err)
	}
	st := &staged{File: f}
	ok := false
	defer func() {
		if !ok {
			st.Discard()
		}
	}()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	if _, err := w.Write(head); err != nil {
		return nil, fmt.Errorf("blob: write %s: %w", f.Name(), err)
	}
	rest, err := io.Copy(w, body)
	var rf readFailure
	switch {
	case errors.As(err, &rf):
		return nil, readError(rf.err)
	case err != nil:
		return nil, fmt.Errorf("blob: write %s: %w", f.Name(), err)
	}
	size := int64(n) + rest
	if size > max {
		return nil, tooLarge(max)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("blob: sync %s: %w", f.Name(), err)
	}
	st.Size = size
	st.Digest = hex.EncodeToString(h.Sum(nil))
	if st.MediaType, err = Sniff(f, size); err != nil {
		return nil, err
	}
	scanner := l.Scanner
	if scanner == nil {
		scanner = AcceptAll{}
	}
	if err := scanner.Scan(ctx, st.Digest, io.NewSectionReader(f, 0, size)); err != nil {
		if apperr.As(err) != nil {
			return nil, err
		}
		return nil, apperr.Wrap(err, apperr.Unavailable, apperr.ScanFailed, "the file could not be checked before it is accepted; try again in a few minutes")
	}
	ok = true
	return st, nil
}

func tooLarge(max int64) error {
	return apperr.New(apperr.TooLarge, apperr.FileTooLarge,
		"the file is larger than the upload limit of %s (%d bytes): more than %d bytes were received. Make it smaller (fewer pages, or a lower scan resolution) and upload it again", humanBytes(max), max, max).
		WithDetails(map[string]any{"max_bytes": max, "received_more_than": max})
}

// readError is the error for an upload that broke off.
func readError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(err, apperr.Unavailable, apperr.UploadInterrupted, "the upload was interrupted before the whole file arrived; upload it again")
	}
	return apperr.Wrap(err, apperr.Invalid, apperr.UploadInterrupted, "the upload broke off before the whole file arrived; upload it again")
}

// humanBytes writes n in the largest binary unit that divides it.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ctxReader stops reading once ctx ends, so an abandoned upload stops
// writing to disk, and marks the sender's failures as readFailure so that
// they are not mistaken for the disk's.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, readFailure{err}
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = readFailure{err}
	}
	return n, err
}

type readFailure struct{ err error }

func (r readFailure) Error() string { return "reading the upload: " + r.err.Error() }
func (r readFailure) Unwrap() error { return r.err }
