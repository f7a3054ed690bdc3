package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/blob"
	"yiwang/internal/blob/blobtest"
	"yiwang/internal/demo"
	"yiwang/internal/logging"
	"yiwang/internal/store/storetest"
)

// TestMaterialsUploadedThroughOneProcessAreReadThroughAnother: two serve
// processes on one PostgreSQL database, as behind a load balancer, each with
// its own data folder. With materials on the local disk, a file uploaded
// through one is 404 through the other; with --blob-url naming one bucket,
// the other serves it. The size limit and the content check hold through
// the object store as on the disk.
func TestMaterialsUploadedThroughOneProcessAreReadThroughAnother(t *testing.T) {
	const complaint = "11910102MB0001111L-10-00005" // takes an uploaded receipt
	limits := blob.Limits{MaxBytes: 1 << 10}
	open := func(t *testing.T, url string) blob.Store { // one process's store, its data folder its own
		s, err := blob.Open(context.Background(), url, t.TempDir(), limits, os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		url    func(t *testing.T) string // --blob-url
		shared bool
	}{
		{"disk", func(*testing.T) string { return "" }, false},
		{"s3", func(t *testing.T) string { return blobtest.S3URL(t) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn, url := storetest.PostgresURL(t), tc.url(t)
			opts := testOptions(t) // one data key, as the processes of a cluster share
			optsA, optsB := opts, opts
			optsA.blobs, optsB.blobs = open(t, url), open(t, url)
			srvA, _ := demoServerWith(t, storetest.Open(t, dsn), optsA)
			logger := logging.New(io.Discard, "text", 0)
			dbB := storetest.Open(t, dsn)
			b, err := newApp(ctx, dbB, optsB, logger)
			if err != nil {
				t.Fatal(err)
			}
			hA, hB := srvA.Handler(), b.server(dbB, logger).Handler()

			hd := signIn(t, hA, demo.WangWu)
			code, body, raw := call(t, hA, "POST", "/api/v1/applications", strings.NewReader(`{"item_code":"`+complaint+`","answers":{"type":"complaint","identity":"named"},"consent":true}`), withJSON(hd))
			if code != http.StatusCreated {
				t.Fatalf("start the complaint: %d %s", code, raw)
			}
			path := "/api/v1/applications/" + strconv.FormatInt(int64(body["id"].(float64)), 10) + "/materials/receipt"
			file := withOctets(hd)

			if code, body, _ := call(t, hA, "PUT", path, bytes.NewReader(bytes.Repeat([]byte("%PDF-1.7\n"), 200)), file); code != http.StatusRequestEntityTooLarge || errCode(body) != "file_too_large" {
				t.Errorf("a receipt over the limit: %d %v, want 413 file_too_large", code, body)
			}
			if code, body, _ := call(t, hA, "PUT", path, strings.NewReader("just a note, not a scan"), file); code != http.StatusBadRequest || errCode(body) != "unsupported_type" {
				t.Errorf("a text file as the receipt: %d %v, want 400 unsupported_type", code, body)
			}
			scan := []byte(onePixelPNG)
			if code, _, raw := call(t, hA, "PUT", path, bytes.NewReader(scan), file); code != http.StatusOK {
				t.Fatalf("upload the receipt through the first process: %d %s", code, raw)
			}
			if code, _, got := call(t, hA, "GET", path, nil, hd); code != http.StatusOK || got != onePixelPNG {
				t.Fatalf("the first process does not serve its own upload: %d", code)
			}

			code, body, got := call(t, hB, "GET", path, nil, hd)
			switch {
			case tc.shared && (code != http.StatusOK || got != onePixelPNG):
				t.Errorf("the second process does not serve the receipt from the shared bucket: %d %v", code, body)
			case !tc.shared && (code != http.StatusNotFound || errCode(body) != "blob_not_found"):
				t.Errorf("the second process, on a disk of its own: %d %v, want 404 blob_not_found (what --blob-url is for)", code, body)
			}
			if code, _, raw := call(t, hB, "GET", "/readyz", nil, nil); code != http.StatusOK {
				t.Errorf("readyz of the second process: %d %s", code, raw)
			}
		})
	}
}

// onePixelPNG is a complete PNG image of one pixel.
const onePixelPNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"

// withOctets adds the content type of an uploaded file's body.
func withOctets(h map[string]string) map[string]string {
	c := copyHeaders(h)
	c["Content-Type"] = "application/octet-stream"
	return c
}

// errCode is the code of an error answer's body.
func errCode(body map[string]any) any {
	e, _ := body["error"].(map[string]any)
	return e["code"]
}

// TestServeKeepsMaterialsInTheBucket: serve --blob-url takes the key from
// the environment, says where materials are kept, and is ready.
func TestServeKeepsMaterialsInTheBucket(t *testing.T) {
	url := blobtest.S3URL(t)
	s := startServeEnv(t, os.Getenv, "--blob-url", url)
	if !strings.Contains(s.Log.String(), `materials="`+url+`"`) {
		t.Errorf("serve does not say where materials are kept:\n%s", s.Log.String())
	}
	if page := getBody(t, s.URL+"/readyz"); !strings.Contains(page, `"status":"ready"`) {
		t.Errorf("readyz: %s", page)
	}
}
