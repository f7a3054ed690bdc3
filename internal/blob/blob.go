// Package blob keeps uploaded materials (scans, photos, e-documents) in a
// content-addressed store: a file is named by the SHA-256 of its bytes, so
// identical content is stored once and a digest recorded with an application
// always names exactly the bytes the applicant sent.
//
// Every upload goes through the same intake whatever the store: it is
// streamed (never held in memory whole) under a size limit, its type is
// decided by its content — PDF, JPEG, PNG or OFD — never by its name or the
// client's Content-Type, and a Scanner (a virus scanner, say) sees it before
// it is accepted. Only then is it committed; a refused or interrupted upload
// leaves nothing behind.
//
// FS is the store on the local disk, the default for one machine; S3 keeps
// blobs in a bucket of an S3-compatible object store, so that several
// processes see the same files. Both share the intake (intake.put): the
// upload is staged into a local temporary file and checked there, and only
// then does the store commit it.
package blob

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"yiwang/internal/apperr"
)

// Store keeps blobs by digest. It is small on purpose, so that an object
// store can implement it.
type Store interface {
	// Put reads r to its end (or to the size limit), checks the content
	// and stores it. Storing content that is already there is not an error:
	// the existing blob's Info is returned.
	Put(ctx context.Context, r io.Reader) (Info, error)
	// Open returns the blob's content; the caller closes it.
	Open(ctx context.Context, digest string) (io.ReadCloser, error)
	// Stat describes a stored blob, or returns a NotFound error.
	Stat(ctx context.Context, digest string) (Info, error)
	// Check reports whether the store can be used now, for /readyz.
	Check(ctx context.Context) error
}

// Info describes a stored blob.
type Info struct {
	Digest    string `json:"digest"`     // SHA-256 of the content, lower-case hex
	Size      int64  `json:"size"`       // bytes
	MediaType string `json:"media_type"` // as sniffed from the content: one of Types
}

// DefaultMaxBytes is the upload limit when none is configured: 20 MiB holds a
// many-page scan at 300 dpi.
const DefaultMaxBytes = 20 << 20

// Scanner looks at an upload before it is accepted. Scan reads r (the whole
// content) and returns nil to accept it. To refuse it, return Reject's error;
// any other error means the scan itself failed and the upload is refused as
// "try again later" — an unscanned file is never accepted.
type Scanner interface {
	Scan(ctx context.Context, digest string, r io.Reader) error
}

// AcceptAll is the default Scanner: it accepts every file without looking at
// it. The platform ships no virus scanner of its own; a deployment that has
// one (clamd, a department's gateway) plugs it in by implementing Scanner.
type AcceptAll struct{}

// Scan accepts.
func (AcceptAll) Scan(context.Context, string, io.Reader) error { return nil }

// Reject is the error a Scanner returns to refuse a file; reason is shown to
// the person who uploaded it, e.g. "the file contains a virus (Eicar-Test-Signature)".
func Reject(reason string) error {
	return apperr.New(apperr.Invalid, apperr.FileRejected, "the file was refused by the upload check: %s", reason)
}

// ValidDigest reports whether s is a SHA-256 digest in lower-case hex — the
// only names a store accepts, so a digest can never point outside it.
func ValidDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkDigest(digest string) error {
	if !ValidDigest(digest) {
		return apperr.New(apperr.Invalid, apperr.BadDigest, "a blob digest is 64 lower-case hexadecimal characters (SHA-256)")
	}
	return nil
}

func notFound(digest string) error {
	return apperr.New(apperr.NotFound, apperr.BlobNotFound, "no stored file has digest %s", digest)
}

// key names a blob inside a store: ab/cd/abcd… for the digest abcd…, the
// same under the disk store's folder and under an object store's prefix, so
// that copying the folder into a bucket moves the materials.
func key(digest string) string {
	return digest[:2] + "/" + digest[2:4] + "/" + digest
}

// unavailable is the error for a store that cannot be used now: the
// person is asked to try again later, the logs get what happened.
func unavailable(err error, format string, args ...any) error {
	return apperr.Wrap(err, apperr.Unavailable, apperr.BlobStoreUnavailable, fmt.Sprintf(format, args...))
}

// Open returns the store blobURL names: empty for the disk store in
// <dataDir>/blobs, the default for one machine, or an s3:// URL (S3URLForm)
// for an object store that several processes share. Uploads are staged in
// <dataDir>/blobs/tmp either way.
func Open(ctx context.Context, blobURL, dataDir string, l Limits, getenv func(string) string) (Store, error) {
	dir := filepath.Join(dataDir, "blobs")
	switch {
	case blobURL == "":
		return NewFS(dir, l)
	case strings.HasPrefix(blobURL, "s3://"):
		return OpenS3(ctx, blobURL, filepath.Join(dir, "tmp"), l, getenv)
	}
	return nil, apperr.New(apperr.Invalid, apperr.BadBlobStore, "--blob-url %q: give an s3:// URL (%s), or nothing to keep materials on the local disk", blobURL, S3URLForm)
}
