package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

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

// Staged is an upload that has passed every check, held in a temporary file
// until a store commits it.
type Staged struct {
	Info
	File *os.File // the content, for ReadAt or Seek
}

// Discard closes and removes the temporary file; after a store has moved the
// file into place it removes nothing.
func (s *Staged) Discard() {
	s.File.Close()
	os.Remove(s.File.Name())
}

// Stage streams r into a new temporary file in dir and checks it: at most
// l.MaxBytes (never reading more than one byte past the limit), a type
// Sniff accepts, and l.Scanner's approval. The file is synced to disk
// before Stage returns. On any refusal nothing is left in dir.
//
// Content whose first bytes are of no accepted type is refused before a file
// is created at all.
func Stage(ctx context.Context, dir string, r io.Reader, l Limits) (*Staged, error) {
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
	st := &Staged{File: f}
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
	return apperr.New(apperr.Invalid, apperr.FileTooLarge,
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
