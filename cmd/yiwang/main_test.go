package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"yiwang/internal/demo"
	"yiwang/internal/store/storetest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

// runCmd runs the command line in-process and returns exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, noEnv, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestBadInputIsOneClearLine(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	os.WriteFile(corrupt, bytes.Repeat([]byte("garbage "), 1000), 0o600)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", []string{"serve", "--frob"}, 2, "unknown flag --frob; run 'yiwang serve --help'"},
		{"unreachable database", []string{"migrate", "--db", "postgres://u:secret@127.0.0.1:1/x?connect_timeout=2"}, 1, "cannot connect to PostgreSQL"},
		{"corrupt database", []string{"migrate", "--db", "sqlite:" + corrupt}, 1, "not a readable SQLite database"},
		{"port taken", []string{"serve", "--data-dir", dir, "--addr", taken.Addr().String()}, 1, "already in use"},
		{"demo and no demo", []string{"serve", "--data-dir", dir, "--demo", "--no-demo"}, 2, "--demo and --no-demo contradict each other"},
		{"object store unreachable", []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--blob-url", "s3://materials?endpoint=127.0.0.1:1&tls=false"}, 1, `cannot reach the object store holding the bucket "materials" at http://127.0.0.1:1`},
		{"not an object store URL", []string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--blob-url", "/srv/materials"}, 1, "give an s3:// URL"},
		{"backup without a folder", []string{"backup", "--data-dir", dir}, 2, "name the folder to write the backup to"},
		{"backup of a database never migrated", []string{"backup", "--db", "sqlite:" + filepath.Join(dir, "new.db"), filepath.Join(dir, "b")}, 1, "has no schema yet: run 'yiwang migrate'"},
		{"restore without a folder", []string{"restore", "--data-dir", dir}, 2, "name the backup folder to restore"},
		{"restore of no backup", []string{"restore", dir, "--data-key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, 1, "is not a backup, or one that did not finish"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line containing %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "secret") {
				t.Errorf("stderr leaks a stack or a password: %q", stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := runCmd(t, "--help")
	if code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "migrate") || !strings.Contains(out, "version") {
		t.Errorf("yiwang --help = %d %q", code, out)
	}
	for _, cmd := range []string{"serve", "migrate", "backup", "restore", "version"} {
		code, out, _ := runCmd(t, cmd, "--help")
		if code != 0 || !strings.Contains(out, "Usage: yiwang "+cmd) {
			t.Errorf("yiwang %s --help = %d %q", cmd, code, out)
		}
	}
	code, out, _ = runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(out, "yiwang ") {
		t.Errorf("yiwang version = %d %q", code, out)
	}
}

func TestMigrateStatus(t *testing.T) {
	dir := t.TempDir()
	_, out, _ := runCmd(t, "migrate", "--status", "--data-dir", dir)
	if !strings.Contains(out, "pending") {
		t.Errorf("status of a new database does not show pending migrations:\n%s", out)
	}
	if code, _, stderr := runCmd(t, "migrate", "--data-dir", dir); code != 0 {
		t.Fatalf("migrate failed: %s", stderr)
	}
	_, out, _ = runCmd(t, "migrate", "--status", "--data-dir", dir)
	if !strings.Contains(out, "up to date") || strings.Contains(out, "pending") {
		t.Errorf("status after migrate:\n%s", out)
	}
}

var servingURL = regexp.MustCompile(`yiwang is serving: open (http://\S+/)`)

// TestServeRunsWithDemoData starts the real server as `yiwang serve` does,
// on each backend, and stops it as SIGTERM does.
func TestServeRunsWithDemoData(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		s := startServe(t, "--db", dsn, "--demo")
		resp, err := http.Get(s.URL + "/api/v1/departments")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Departments []struct{ Code string } `json:"departments"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if len(body.Departments) < 8 {
			t.Errorf("demo departments = %d, want at least 8", len(body.Departments))
		}
		resp, err = http.Get(s.URL + "/")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("home page: %v %v", resp, err)
		}
		resp.Body.Close()
		for path, want := range map[string]string{"/login": "演示账号", "/login?lang=en": "Demo accounts"} {
			if page := getBody(t, s.URL+path); !strings.Contains(page, want) || !strings.Contains(page, "sysadmin") || !strings.Contains(page, demo.Password) {
				t.Errorf("%s does not list the demo accounts:\n%s", path, page)
			}
		}
		s.Stop()
		if !strings.Contains(s.Log.String(), "yiwang stopped") {
			t.Errorf("no clean stop logged:\n%s", s.Log.String())
		}
	})
}

// TestServeKeepsDemoDataOutOfOtherDatabases: a database with data of its own,
// and an empty PostgreSQL database without --demo, get no demo data and no
// demo accounts, and serve says why in one line.
func TestServeKeepsDemoDataOutOfOtherDatabases(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		why := "the PostgreSQL database is empty; start once with --demo"
		args := []string{"--db", dsn}
		if strings.HasPrefix(dsn, "sqlite:") {
			// An administrator's own catalogue, imported before the first serve.
			runCmd(t, "migrate", "--db", dsn)
			if code, out, stderr := runCmd(t, "catalog", "import", "--db", dsn, "../../catalog"); code != 0 {
				t.Fatalf("import: %d %s %s", code, out, stderr)
			}
			why, args = "the database holds data of its own", append(args, "--demo")
		}
		s := startServe(t, args...)
		if !strings.Contains(s.Log.String(), "no demo data: "+why) {
			t.Errorf("serve did not say %q:\n%s", why, s.Log.String())
		}
		if page := getBody(t, s.URL+"/login"); strings.Contains(page, "演示账号") {
			t.Errorf("the sign-in page lists demo accounts:\n%s", page)
		}
		resp, err := http.Post(s.URL+"/api/v1/session", "application/json", strings.NewReader(`{"login":"sysadmin","password":"`+demo.Password+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("demo sysadmin sign-in: %d, want 401", resp.StatusCode)
		}
		s.Stop()
	})
}

// getBody fetches url and returns its body.
func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCatalogCommands(t *testing.T) {
	code, out, stderr := runCmd(t, "catalog", "validate", "../../internal/catalog/testdata/bad")
	if code != 1 || !regexp.MustCompile(`(?m)^\.\./\.\./internal/catalog/testdata/bad/items/semantics\.yaml:4:13: department "welfare" is not declared`).MatchString(out) {
		t.Errorf("validate bad catalogue: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCmd(t, "catalog", "validate", "../../catalog")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "ok") {
		t.Errorf("validate demo catalogue: exit %d %q", code, out)
	}

	dir := t.TempDir()
	if code, _, stderr := runCmd(t, "catalog", "list", "--data-dir", dir); code != 1 || !strings.Contains(stderr, "run 'yiwang migrate' first") {
		t.Errorf("catalog on an unmigrated database: %d %s", code, stderr)
	}
	runCmd(t, "migrate", "--data-dir", dir)
	if code, out, stderr := runCmd(t, "catalog", "import", "--data-dir", dir, "../../catalog"); code != 0 || !strings.Contains(out, "new draft") {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}
	if code, _, stderr := runCmd(t, "catalog", "import", "../../catalog", "--data-dir", dir); code != 2 || !strings.Contains(stderr, "options go before arguments") {
		t.Errorf("flags after arguments: %d %s", code, stderr)
	}
	if code, out, _ := runCmd(t, "catalog", "publish", "--data-dir", dir, "--all"); code != 0 || !strings.Contains(out, "published") {
		t.Errorf("publish --all: %d %s", code, out)
	}
	if code, out, _ := runCmd(t, "catalog", "list", "--data-dir", dir); code != 0 || !strings.Contains(out, "老年人优待证") {
		t.Errorf("list: %d %s", code, out)
	}
	if code, _, stderr := runCmd(t, "catalog", "publish", "--data-dir", dir, seniorCard); code != 1 || !strings.Contains(stderr, "no draft to publish") {
		t.Errorf("publish with no draft: %d %s", code, stderr)
	}
	if code, out, _ := runCmd(t, "catalog", "versions", "--data-dir", dir, seniorCard); code != 0 || !strings.Contains(out, "published") {
		t.Errorf("versions: %d %s", code, out)
	}
	if code, out, _ := runCmd(t, "catalog", "diff", "--data-dir", dir, seniorCard, "1", "1"); code != 0 || !strings.Contains(out, "0 change(s)") {
		t.Errorf("diff: %d %s", code, out)
	}
	if code, out, _ := runCmd(t, "catalog", "retire", "--data-dir", dir, seniorCard); code != 0 || !strings.Contains(out, "retired") {
		t.Errorf("retire: %d %s", code, out)
	}
}

func TestTokenCreateGivesAWorkingToken(t *testing.T) {
	dir := t.TempDir()
	runCmd(t, "migrate", "--data-dir", dir)
	code, out, stderr := runCmd(t, "token", "create", "--data-dir", dir, "--system", "province-sync", "--role", "catalog_admin", "--scope", "catalog:manage", "--days", "30")
	if code != 0 || !strings.Contains(out, "yt_") {
		t.Fatalf("token create: %d %s %s", code, out, stderr)
	}
	if code, out, stderr := runCmd(t, "token", "create", "--data-dir", dir, "--system", "other-system", "--role", "catalog_admin", "--scope", "everything"); code != 2 || !strings.Contains(stderr, "not a token scope") || strings.Contains(out, "created") {
		t.Errorf("unknown scope: %d %s %s", code, out, stderr)
	}
	if code, _, stderr := runCmd(t, "token", "create", "--data-dir", dir); code != 2 || !strings.Contains(stderr, "give --system") {
		t.Errorf("missing options: %d %s", code, stderr)
	}
}
