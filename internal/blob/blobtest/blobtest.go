// Package blobtest gives tests the S3-compatible object store named by
// YIWANG_TEST_S3_URL (.ci/run starts SeaweedFS for it), the way storetest
// gives them PostgreSQL: a real server, never an in-memory imitation.
package blobtest

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"yiwang/internal/testenv"
)

// EnvS3 names the variable holding the test object store's blob URL, e.g.
// s3://yiwang-test?endpoint=127.0.0.1:8333&tls=false; its key comes from
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as in production.
const EnvS3 = "YIWANG_TEST_S3_URL"

// S3URL returns the test store's URL with a fresh prefix of its own, so that
// tests never see each other's objects. Without a store it skips the test —
// or fails it under CI=true, where a missing store is a broken build.
func S3URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvS3)
	if base == "" {
		testenv.Missing(t, "no S3 test store: set %s (and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) to run this test on one", EnvS3)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvS3, err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	u.Path += "/t-" + hex.EncodeToString(b)
	return u.String()
}
