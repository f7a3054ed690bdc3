// Package testenv decides, in one place, what a test does when this machine
// lacks a service it needs (PostgreSQL, the S3 test store): skip on a
// developer's machine, fail under CI=true, where .ci/run starts every
// service and a missing one is a broken build rather than a quiet skip.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// Missing ends t for want of something: why names it and what to set or
// install to have it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI must have it (.ci/run provides it)", why)
	}
	t.Skip(why)
}
