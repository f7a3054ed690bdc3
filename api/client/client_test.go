package client

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGeneratedClientIsUpToDate runs doc.go's go:generate command, writing to
// a temporary file, with the pinned oapi-codegen (go.mod's tool line), and
// fails when the committed client.gen.go differs: run go generate ./api/client.
func TestGeneratedClientIsUpToDate(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for line := range strings.Lines(string(doc)) {
		if rest, ok := strings.CutPrefix(line, "//go:generate "); ok {
			args = strings.Fields(rest)
		}
	}
	out := slices.Index(args, "-o")
	if len(args) < 3 || args[0] != "go" || out < 0 || out+1 >= len(args) {
		t.Fatalf("doc.go has no go:generate line writing with -o: %q", args)
	}
	fresh := filepath.Join(t.TempDir(), "client.gen.go")
	args[out+1] = fresh
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	want, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("client.gen.go is not what api/openapi.yaml generates now: run go generate ./api/client")
	}
}
