package blob_test

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/blob"
	"yiwang/internal/blob/blobtest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestBlobURLMistakesAreOneLineBeforeAnyRequest: a wrong --blob-url or a half
// key is refused with what to write instead, before the network is used.
func TestBlobURLMistakesAreOneLineBeforeAnyRequest(t *testing.T) {
	keys := env(map[string]string{"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"})
	for _, tc := range []struct {
		url    string
		getenv func(string) string
		want   string
	}{
		{"file:/srv/blobs", keys, "give an s3:// URL"},
		{"s3://materials", keys, "endpoint=HOST:PORT is missing"},
		{"s3://materials?endpoint=https://oss.example.gov.cn", keys, "without a scheme"},
		{"s3://materials?endpoint=oss:9000&tls=maybe", keys, "tls=maybe: must be true or false"},
		{"s3://materials?endpoint=oss:9000&acl=public", keys, `unknown parameter "acl"`},
		{"s3://id:secret@materials?endpoint=oss:9000", keys, "credentials do not go in the URL"},
		{"s3://Materials_2024?endpoint=oss:9000", keys, `bucket "Materials_2024"`},
		{"s3://materials?endpoint=oss:9000", env(map[string]string{"AWS_ACCESS_KEY_ID": "id"}), "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set"},
	} {
		_, err := blob.Open(context.Background(), tc.url, t.TempDir(), blob.Limits{}, tc.getenv)
		if code(err) != "bad_blob_store" || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Open(%q) = %v, want one line of bad_blob_store saying %q", tc.url, err, tc.want)
		}
	}
}

func TestUnreachableObjectStoreFailsAtStart(t *testing.T) {
	start := time.Now()
	_, err := blob.OpenS3(context.Background(), "s3://materials?endpoint=127.0.0.1:1&tls=false", t.TempDir(), blob.Limits{}, env(nil))
	if code(err) != "blob_store_unavailable" || !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("OpenS3 of a closed port = %v, want blob_store_unavailable", err)
	}
	for _, want := range []string{`bucket "materials" at http://127.0.0.1:1`, "cannot reach the object store", "endpoint and tls"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("giving up on a closed port took %s", took)
	}
}

// s3Variant returns the test store's URL with another bucket or query.
func s3Variant(t *testing.T, edit func(u *url.URL)) string {
	t.Helper()
	u, err := url.Parse(blobtest.S3URL(t))
	if err != nil {
		t.Fatal(err)
	}
	edit(u)
	return u.String()
}

func TestMissingBucketFailsAtStart(t *testing.T) {
	raw := s3Variant(t, func(u *url.URL) { u.Host = "no-such-bucket-" + strconv.FormatInt(time.Now().UnixNano(), 36) })
	_, err := blob.OpenS3(context.Background(), raw, t.TempDir(), blob.Limits{}, os.Getenv)
	if code(err) != "blob_bucket_missing" || !strings.Contains(err.Error(), `bucket "no-such-bucket-`) || !strings.Contains(err.Error(), "does not exist: create it") {
		t.Fatalf("OpenS3 of a missing bucket = %v, want blob_bucket_missing naming it", err)
	}
}

func TestWrongKeyFailsAtStart(t *testing.T) {
	raw := blobtest.S3URL(t)
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		t.Skip("the test store takes anonymous requests: no key to get wrong")
	}
	wrong := env(map[string]string{"AWS_ACCESS_KEY_ID": os.Getenv("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY": "not-the-secret"})
	_, err := blob.OpenS3(context.Background(), raw, t.TempDir(), blob.Limits{}, wrong)
	if code(err) != "blob_store_denied" || !strings.Contains(err.Error(), "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("OpenS3 with a wrong secret = %v, want blob_store_denied", err)
	}
}

// TestStoresOnOneBucketSeeEachOthersUploads: two processes (two stores, each
// with its own staging folder) on one bucket and prefix read what either
// took in — what the disk store cannot do.
func TestStoresOnOneBucketSeeEachOthersUploads(t *testing.T) {
	ctx := context.Background()
	raw := blobtest.S3URL(t)
	open := func() *blob.S3 {
		s, err := blob.OpenS3(ctx, raw, filepath.Join(t.TempDir(), "tmp"), blob.Limits{}, os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open(), open()
	content := sampleOFD(t)
	info, err := a.Put(ctx, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := b.Open(ctx, info.Digest)
	if err != nil {
		t.Fatalf("the other process cannot open the upload: %v", err)
	}
	back, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(back, content) {
		t.Error("the other process read other bytes")
	}
	if got, err := b.Stat(ctx, info.Digest); err != nil || got != info {
		t.Errorf("Stat in the other process = %+v, %v; want %+v", got, err, info)
	}
	again, err := b.Put(ctx, bytes.NewReader(content))
	if err != nil || again != info {
		t.Errorf("the same content put through the other process: %+v, %v", again, err)
	}
}
