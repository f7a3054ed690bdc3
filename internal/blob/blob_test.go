package blob_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/blob"
	"yiwang/internal/blob/blobtest"
)

// Sample files of every accepted type, made the way real tools make them.
func samplePDF() []byte {
	return []byte("%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

func sampleImage(t *testing.T, encode func(io.Writer, image.Image) error) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	img.Set(3, 3, color.RGBA{200, 0, 0, 255})
	var b bytes.Buffer
	if err := encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleJPEG(t *testing.T) []byte {
	return sampleImage(t, func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, nil) })
}

func samplePNG(t *testing.T) []byte { return sampleImage(t, png.Encode) }

// zipOf packs files (name → content) into a zip archive.
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sampleOFD is a minimal GB/T 33190 package: OFD.xml at the root naming
// its document.
func sampleOFD(t *testing.T) []byte {
	return zipOf(t, map[string]string{
		"OFD.xml": `<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.2" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>6a0ed5e1a2a84c1c9a1d8f0e8b7c6d5e</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`,
		"Doc_0/Document.xml": `<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"/>`,
	})
}

func newFS(t *testing.T, l blob.Limits) (*blob.FS, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err := blob.NewFS(dir, l)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func newS3(t *testing.T, l blob.Limits) (*blob.S3, string) {
	t.Helper()
	staging := filepath.Join(t.TempDir(), "tmp")
	s, err := blob.OpenS3(context.Background(), blobtest.S3URL(t), staging, l, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return s, staging
}

// testStore is a store under test with what the contract tests look at
// beside it: the keys it holds (ab/cd/<digest>, under its folder or its
// prefix) and its local staging folder.
type testStore struct {
	blob.Store
	keys    func(t *testing.T) []string
	staging string
}

// stores runs fn on every store, which must all keep the same contract: the
// disk always, S3 on the test object store (blobtest).
func stores(t *testing.T, l blob.Limits, fn func(t *testing.T, s testStore)) {
	t.Run("fs", func(t *testing.T) {
		s, root := newFS(t, l)
		staging := filepath.Join(root, "tmp")
		keys := func(t *testing.T) []string {
			var out []string
			for _, f := range files(t, root) {
				if !strings.HasPrefix(f, "tmp"+string(filepath.Separator)) {
					out = append(out, filepath.ToSlash(f))
				}
			}
			return out
		}
		fn(t, testStore{s, keys, staging})
	})
	t.Run("s3", func(t *testing.T) {
		s, staging := newS3(t, l)
		keys := func(t *testing.T) []string {
			k, err := s.Keys(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		fn(t, testStore{s, keys, staging})
	})
}

func key(digest string) string { return digest[:2] + "/" + digest[2:4] + "/" + digest }

// files lists every file under root, relative to it.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func code(err error) string {
	if e := apperr.As(err); e != nil {
		return string(e.Code)
	}
	return ""
}

func TestPutStoresEachAcceptedTypeByDigest(t *testing.T) {
	stores(t, blob.Limits{}, testPutStoresEachAcceptedTypeByDigest)
}

func testPutStoresEachAcceptedTypeByDigest(t *testing.T, s testStore) {
	ctx := context.Background()
	var want []string
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"pdf", samplePDF(), blob.PDF},
		{"jpeg", sampleJPEG(t), blob.JPEG},
		{"png", samplePNG(t), blob.PNG},
		{"ofd", sampleOFD(t), blob.OFD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := s.Put(ctx, bytes.NewReader(tc.content))
			if err != nil {
				t.Fatal(err)
			}
			want := blob.Info{Digest: digestOf(tc.content), Size: int64(len(tc.content)), MediaType: tc.want}
			if info != want {
				t.Fatalf("Put = %+v, want %+v", info, want)
			}
			rc, err := s.Open(ctx, want.Digest)
			if err != nil {
				t.Fatal(err)
			}
			back, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(back, tc.content) {
				t.Error("Open returned other bytes than were stored")
			}
			if got, err := s.Stat(ctx, want.Digest); err != nil || got != want {
				t.Errorf("Stat = %+v, %v; want %+v", got, err, want)
			}
		})
		want = append(want, key(digestOf(tc.content)))
	}
	if got := s.keys(t); !sameSet(got, want) {
		t.Errorf("the store holds %v, want each upload under its digest: %v", got, want)
	}
	if left := files(t, s.staging); len(left) != 0 {
		t.Errorf("staging files left behind: %v", left)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestTypeIsDecidedByContent(t *testing.T) {
	stores(t, blob.Limits{}, testTypeIsDecidedByContent)
}

func testTypeIsDecidedByContent(t *testing.T, s testStore) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		content  []byte
		received string // what the message says the content looks like
	}{
		{"plain text named .pdf", []byte("this is just a letter, saved as letter.pdf"), "text/plain"},
		{"html page", []byte("<!DOCTYPE html><html><body>hi</body></html>"), "text/html"},
		{"windows program", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 100)...), "application/octet-stream"},
		{"gif image", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "image/gif"},
		{"word document (a zip without OFD.xml)", zipOf(t, map[string]string{"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"}), "zip archive"},
		{"zip with an OFD.xml that is not OFD", zipOf(t, map[string]string{"OFD.xml": "<html><body>not a document</body></html>"}), "zip archive"},
		{"zip with OFD.xml in a subfolder", zipOf(t, map[string]string{"x/OFD.xml": `<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>`}), "zip archive"},
		{"PDF signature not at the start", append([]byte("junk"), samplePDF()...), "text/plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Put(ctx, bytes.NewReader(tc.content))
			if !apperr.Is(err, apperr.Invalid) || code(err) != "unsupported_type" {
				t.Fatalf("Put = %v, want an unsupported_type error", err)
			}
			if !strings.Contains(err.Error(), tc.received) {
				t.Errorf("message %q does not say the content looks like %s", err, tc.received)
			}
		})
	}
	if left := append(s.keys(t), files(t, s.staging)...); len(left) != 0 {
		t.Errorf("refused uploads left files: %v", left)
	}
}

// countingReader counts the bytes taken from an endless PDF-looking stream.
type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	if c.n == 0 {
		copy(p, "%PDF-1.7\n")
	}
	c.n += int64(len(p))
	return len(p), nil
}

func TestSizeLimitIsEnforcedWhileStreaming(t *testing.T) {
	const max = 4096
	stores(t, blob.Limits{MaxBytes: max}, func(t *testing.T, s testStore) {
		ctx := context.Background()
		exact := append(samplePDF(), bytes.Repeat([]byte(" "), max-len(samplePDF()))...)
		if info, err := s.Put(ctx, bytes.NewReader(exact)); err != nil || info.Size != max {
			t.Fatalf("a file of exactly the limit: %+v, %v", info, err)
		}

		over := append(exact, ' ')
		_, err := s.Put(ctx, bytes.NewReader(over))
		if !apperr.Is(err, apperr.TooLarge) || code(err) != "file_too_large" {
			t.Fatalf("one byte over the limit: %v, want file_too_large", err)
		}
		for _, want := range []string{"4 KiB", "4096 bytes", "more than 4096 bytes were received"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}

		endless := &countingReader{}
		if _, err := s.Put(ctx, endless); code(err) != "file_too_large" {
			t.Fatalf("endless upload: %v", err)
		}
		if endless.n > 2*max {
			t.Errorf("read %d bytes of an endless upload with a limit of %d: the body must be cut off at the limit", endless.n, max)
		}

		if got := s.keys(t); !sameSet(got, []string{key(digestOf(exact))}) {
			t.Errorf("the store holds %v, want only the upload within the limit", got)
		}
		if left := files(t, s.staging); len(left) != 0 {
			t.Errorf("staging files left: %v", left)
		}
	})
}

func TestEmptyAndInterruptedUploadsLeaveNothing(t *testing.T) {
	stores(t, blob.Limits{}, func(t *testing.T, s testStore) {
		ctx := context.Background()
		if _, err := s.Put(ctx, strings.NewReader("")); code(err) != "empty_file" {
			t.Errorf("empty upload: %v, want empty_file", err)
		}
		broken := io.MultiReader(bytes.NewReader(samplePDF()), iotestErrReader{errors.New("connection reset by peer")})
		if _, err := s.Put(ctx, broken); code(err) != "upload_interrupted" {
			t.Errorf("broken upload: %v, want upload_interrupted", err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Put(cancelled, bytes.NewReader(samplePDF())); code(err) != "upload_interrupted" {
			t.Errorf("abandoned upload: %v, want upload_interrupted", err)
		}
		if left := append(s.keys(t), files(t, s.staging)...); len(left) != 0 {
			t.Errorf("files left: %v", left)
		}
	})
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

// virusScanner refuses files containing the EICAR test string and remembers
// what it was shown.
type virusScanner struct {
	mu   sync.Mutex
	seen map[string][]byte
	down bool
}

func (v *virusScanner) Scan(_ context.Context, digest string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.seen[digest] = b
	v.mu.Unlock()
	if v.down {
		return errors.New("clamd: connection refused")
	}
	if bytes.Contains(b, []byte("EICAR-STANDARD-ANTIVIRUS-TEST-FILE")) {
		return blob.Reject("the file contains a virus (Eicar-Test-Signature)")
	}
	return nil
}

func TestScannerSeesEveryUploadAndCanRefuseIt(t *testing.T) {
	scanner := &virusScanner{seen: map[string][]byte{}}
	stores(t, blob.Limits{Scanner: scanner}, func(t *testing.T, s testStore) {
		ctx := context.Background()
		scanner.down = false
		clean := samplePDF()
		info, err := s.Put(ctx, bytes.NewReader(clean))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(scanner.seen[info.Digest], clean) {
			t.Error("the scanner was not shown the whole upload under its digest")
		}

		infected := append(samplePDF(), []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`)...)
		_, err = s.Put(ctx, bytes.NewReader(infected))
		if !apperr.Is(err, apperr.Invalid) || code(err) != "file_rejected" || !strings.Contains(err.Error(), "Eicar-Test-Signature") {
			t.Fatalf("infected upload: %v, want file_rejected naming the virus", err)
		}
		if _, err := s.Stat(ctx, digestOf(infected)); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("the refused file is in the store: %v", err)
		}

		scanner.down = true
		_, err = s.Put(ctx, bytes.NewReader(sampleJPEG(t)))
		if !apperr.Is(err, apperr.Unavailable) || code(err) != "scan_failed" {
			t.Fatalf("upload while the scanner is down: %v, want scan_failed (never accept unscanned)", err)
		}

		if got := s.keys(t); !sameSet(got, []string{key(info.Digest)}) {
			t.Errorf("the store holds %v, want only %s", got, key(info.Digest))
		}
		if left := files(t, s.staging); len(left) != 0 {
			t.Errorf("staging files left: %v", left)
		}
	})
}

func TestIdenticalContentIsStoredOnce(t *testing.T) {
	stores(t, blob.Limits{}, func(t *testing.T, s testStore) {
		ctx := context.Background()
		content := samplePNG(t)
		const n = 16
		infos := make([]blob.Info, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { infos[i], errs[i] = s.Put(ctx, bytes.NewReader(content)) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || infos[i] != infos[0] {
				t.Fatalf("put %d: %+v, %v; want %+v", i, infos[i], errs[i], infos[0])
			}
		}
		if _, err := s.Put(ctx, bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		if got := s.keys(t); len(got) != 1 {
			t.Errorf("stored after %d puts of the same content: %v, want one", n+1, got)
		}
	})
}

func TestOpenRefusesBadAndUnknownDigests(t *testing.T) {
	stores(t, blob.Limits{}, func(t *testing.T, s testStore) {
		ctx := context.Background()
		for _, d := range []string{"../../../etc/passwd", "", strings.Repeat("A", 64), strings.Repeat("0", 63)} {
			if _, err := s.Open(ctx, d); code(err) != "bad_digest" {
				t.Errorf("Open(%q) = %v, want bad_digest", d, err)
			}
		}
		if _, err := s.Open(ctx, strings.Repeat("0", 64)); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("Open of an unknown digest: %v, want not found", err)
		}
		if _, err := s.Stat(ctx, strings.Repeat("0", 64)); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("Stat of an unknown digest: %v, want not found", err)
		}
		if err := s.Check(ctx); err != nil {
			t.Errorf("Check of a working store: %v", err)
		}
	})
}

func TestNewFSSweepsStagingFilesLeftByACrash(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	if _, err := blob.NewFS(dir, blob.Limits{}); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "tmp", "upload-crashed")
	fresh := filepath.Join(dir, "tmp", "upload-in-flight")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("%PDF-half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(stale, old, old)
	if _, err := blob.NewFS(dir, blob.Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a staging file from a day-old crash was not removed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a staging file another process may still be writing was removed")
	}
}

// BenchmarkPut stores a 5 MiB scan (new content each time, so nothing is
// deduplicated): hashing, sniffing, fsync and rename.
func BenchmarkPut(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "blobs")
	s, err := blob.NewFS(dir, blob.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	content := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16)...)
	b.SetBytes(int64(len(content)))
	for i := 0; b.Loop(); i++ {
		copy(content[9:], strconv.Itoa(i)+" ")
		if _, err := s.Put(context.Background(), bytes.NewReader(content)); err != nil {
			b.Fatal(err)
		}
	}
}
