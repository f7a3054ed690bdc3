package main

import (
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/config"
	"yiwang/internal/httpx"
	"yiwang/internal/identity"
	"yiwang/internal/loadtest"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestBenchRefusesBadFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.txt")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"bench"}, 2, "name the subcommand: prepare or run"},
		{"remote address", []string{"bench", "run", "--url", "http://192.0.2.7:8080"}, 2, "not on this machine: load tests go to loopback addresses only"},
		{"remote name", []string{"bench", "run", "--url", "http://example.com"}, 2, "pass --allow-remote"},
		{"all interfaces is not loopback", []string{"bench", "run", "--url", "http://0.0.0.0:8080"}, 2, "not on this machine"},
		{"not http", []string{"bench", "run", "--url", "ftp://127.0.0.1"}, 2, "not an address such as http://127.0.0.1:8080"},
		{"duration not a duration", []string{"bench", "run", "--duration", "abc"}, 2, "not a duration such as 30s"},
		{"duration without a unit", []string{"bench", "run", "--duration", "30"}, 2, "not a duration such as 30s"},
		{"zero duration", []string{"bench", "run", "--duration", "0s"}, 2, "--duration must be positive"},
		{"negative duration", []string{"bench", "run", "--duration", "-5s"}, 2, "--duration must be positive"},
		{"duration too long", []string{"bench", "run", "--duration", "2h"}, 2, "longer than an hour"},
		{"negative warm-up", []string{"bench", "run", "--warmup", "-1s"}, 2, "--warmup must be zero or positive"},
		{"bad warm-up", []string{"bench", "run", "--warmup", "soon"}, 2, "not a duration"},
		{"no workers", []string{"bench", "run", "--concurrency", "0"}, 2, "--concurrency must be between 1 and 1024"},
		{"rate not a number", []string{"bench", "run", "--rate", "fast"}, 2, "not a number of applications a second"},
		{"negative rate", []string{"bench", "run", "--rate", "-3"}, 2, "--rate must be between 0"},
		{"unknown flag", []string{"bench", "run", "--threads", "4"}, 2, "unknown flag --threads"},
		{"negative floor", []string{"bench", "run", "--floor", "-1s"}, 2, "--floor must be between 0 (skip it) and 1m0s"},
		{"floor too long", []string{"bench", "run", "--floor", "2m"}, 2, "--floor must be between 0 (skip it) and 1m0s"},
		{"too many applicants", []string{"bench", "prepare", "--applicants", "100000"}, 2, "--applicants must be between 1 and 20,000"},
		// Valid flags get as far as the applicants file, without touching the network.
		{"loopback accepted", []string{"bench", "run", "--url", "http://[::1]:1", "--applicants-file", missing}, 1, "run 'yiwang bench prepare'"},
		{"remote allowed when asked", []string{"bench", "run", "--url", "http://192.0.2.7:8080", "--allow-remote", "--applicants-file", missing}, 1, "no applicants file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line containing %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestBenchRunEndToEnd prepares a handful of applicants in an in-process
// server's database and runs the tool against it for two seconds.
func TestBenchRunEndToEnd(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	srv, a := demoServerOn(t, db)
	file := benchApplicants(t, db, a, 10)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	// At 10 a second the ten applicants stay within the server's 30 a day,
	// and eight workers keep up even when other tests load the machine.
	code, stdout, stderr := runCmd(t, "bench", "run", "--url", ts.URL, "--applicants-file", file, "--duration", "2s", "--rate", "10", "--concurrency", "8")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	count := func(outcome string) int {
		m := regexp.MustCompile(`\b` + outcome + ` ([\d,]+) \(`).FindStringSubmatch(stdout)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		return n
	}
	if count("approve") == 0 || count("reject") == 0 {
		t.Errorf("want approvals and rejections:\n%s", stdout)
	}
	for _, want := range []string{"errors       0\n", "the server kept up with the rate", "submit latency", "server metrics while measured", "process_resident_memory_bytes", "go_goroutines"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^\s+\d+s  [\d,]+ submits  \d+/s  p99 \S+  errors 0  dropped 0$`).MatchString(stderr) {
		t.Errorf("no progress line on stderr:\n%s", stderr)
	}
	var decisions int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM decisions`).Scan(&decisions); err != nil || decisions < count("approve")+count("reject") {
		t.Errorf("%d decisions stored (%v) for the submissions reported", decisions, err)
	}

	// Two addresses of the one handler stand for two processes: the
	// applicants are shared between them and each reports its part. Its
	// --data-dir holds no database: the floor is not measured, and no
	// database is made there.
	ts2 := httptest.NewServer(srv.Handler())
	defer ts2.Close()
	empty := t.TempDir()
	code, stdout, stderr = runCmd(t, "bench", "run", "--url", ts.URL+","+ts2.URL, "--applicants-file", file, "--duration", "1s", "--rate", "6", "--concurrency", "4", "--per-applicant", "1",
		"--data-dir", empty)
	if code != 0 {
		t.Fatalf("two servers: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if want := "floor        not measured: no database at " + filepath.Join(empty, store.DefaultFile); !strings.Contains(stdout, want) {
		t.Errorf("report lacks %q:\n%s", want, stdout)
	}
	if _, err := os.Stat(filepath.Join(empty, store.DefaultFile)); err == nil {
		t.Errorf("bench run made a database in --data-dir")
	}
	for _, u := range []string{ts.URL, ts2.URL} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(u) + `\s+[1-9][\d,]*\s+\S+\s+0\s.*\s5$`).MatchString(stdout) {
			t.Errorf("no line for %s with submissions, no errors and 5 applicants signed in:\n%s", u, stdout)
		}
	}

	// Closed loop, three submissions each: the tool stops when they are
	// spent, says so, and fails rather than report a short run as a full one.
	code, stdout, stderr = runCmd(t, "bench", "run", "--url", ts.URL, "--applicants-file", file, "--duration", "10s", "--per-applicant", "2", "--concurrency", "2")
	if code != 1 || !strings.Contains(stderr, "all 10 applicants have made their 2 submissions") || !strings.Contains(stdout, "STOPPED EARLY") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if count("approve")+count("reject")+count("manual") != 20 {
		t.Errorf("want 20 submissions:\n%s", stdout)
	}
}

// TestBenchRunFloor runs the tool with the floor on each backend: the
// report gives the floor and the run's share of it, the database then holds
// the applications the run made and no row of the floor's, and --floor 0
// skips it.
func TestBenchRunFloor(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		srv, a := demoServerOn(t, db)
		file := benchApplicants(t, db, a, 10)
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		count := func() (apps, drafts, decisions int) {
			t.Helper()
			err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM applications), (SELECT count(*) FROM applications WHERE status = 'draft'),
				(SELECT count(*) FROM decisions)`).Scan(&apps, &drafts, &decisions)
			if err != nil {
				t.Fatal(err)
			}
			return apps, drafts, decisions
		}
		apps, drafts, decisions := count()

		code, stdout, stderr := runCmd(t, "bench", "run", "--url", ts.URL, "--db", dsn, "--applicants-file", file, "--duration", "1s", "--rate", "10", "--concurrency", "4", "--floor", "1s")
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		m := regexp.MustCompile(`(?m)^floor        ([\d,]+(?:\.\d+)?) submissions/s; this run ([\d.]+) applications/s = ([\d.]+)% of the floor\n\s+the floor: what a submission commits, written straight to \S+ by 4 writers for `).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no floor in the report:\n%s", stdout)
		}
		if floor, _ := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64); floor <= 0 {
			t.Errorf("floor %s submissions/s", m[1])
		}
		if share, _ := strconv.ParseFloat(m[3], 64); share <= 0 || share >= 100 {
			t.Errorf("the run is %s%% of the floor", m[3])
		}
		for _, want := range []string{"measuring the floor for 1s: 4 writers submitting copies of application ", "the rows written for it are removed"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		sub := regexp.MustCompile(`(?m)^submits +([\d,]+) in `).FindStringSubmatch(stdout)
		if sub == nil {
			t.Fatalf("no submissions in the report:\n%s", stdout)
		}
		made, _ := strconv.Atoi(strings.ReplaceAll(sub[1], ",", ""))
		apps2, drafts2, decisions2 := count()
		if made == 0 || apps2 != apps+made || drafts2 != drafts || decisions2 != decisions+made {
			t.Errorf("the run made %d applications; applications %d → %d, drafts %d → %d, decisions %d → %d: the floor left rows behind",
				made, apps, apps2, drafts, drafts2, decisions, decisions2)
		}

		code, stdout, stderr = runCmd(t, "bench", "run", "--url", ts.URL, "--db", dsn, "--applicants-file", file, "--duration", "1s", "--rate", "5", "--concurrency", "2", "--floor", "0")
		if code != 0 || strings.Contains(stdout, "floor") || strings.Contains(stderr, "floor") {
			t.Errorf("--floor 0: exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
}

// benchApplicants prepares n bench applicants in the app's database and
// returns the file listing them.
func benchApplicants(t *testing.T, db *store.DB, a *app, n int) string {
	t.Helper()
	applicants, err := loadtest.Prepare(context.Background(), db, a.identities, a.registries, loadtest.PrepareOptions{Applicants: n})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), loadtest.ApplicantsFile)
	if err := loadtest.WriteApplicants(file, applicants); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestBenchRunOneCallFlow runs the tool's one-call flow (POST
// /api/v1/submissions) for two seconds. It skips on a tree without that
// endpoint: the flow was written beside it, to be tried once both meet.
func TestBenchRunOneCallFlow(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	srv, a := demoServerOn(t, db)
	if !slices.ContainsFunc(srv.Router().Routes(), func(r httpx.Route) bool { return r.Pattern == "POST /api/v1/submissions" }) {
		t.Skip("no route POST /api/v1/submissions in this tree yet")
	}
	file := benchApplicants(t, db, a, 10)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	code, stdout, stderr := runCmd(t, "bench", "run", "--flow", "one-call", "--url", ts.URL, "--applicants-file", file, "--duration", "2s", "--rate", "10", "--concurrency", "8")
	if code != 0 || !strings.Contains(stdout, "errors       0\n") || !regexp.MustCompile(`\bapprove [1-9]`).MatchString(stdout) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var started, decided int
	db.QueryRowContext(ctx, `SELECT count(*), count(number) FROM applications`).Scan(&started, &decided)
	if started != decided {
		t.Errorf("%d applications, %d of them numbered: the one call should leave no draft", started, decided)
	}
}

// TestSubmissionLimitOption: serve's --submission-limit defaults to the
// identity limit and, when raised, is what the limiter applies to
// submissions and nothing else.
func TestSubmissionLimitOption(t *testing.T) {
	parse := func(args ...string) (config.Config, error) {
		c, _, err := config.Parse(flag.NewFlagSet("serve", flag.ContinueOnError), "serve", "", args, 0, noEnv, nil)
		return c, err
	}
	if c, err := parse(); err != nil || c.SubmissionLimit != identity.SubmissionLimit.N {
		t.Errorf("default --submission-limit = %d (%v), identity.SubmissionLimit.N = %d", c.SubmissionLimit, err, identity.SubmissionLimit.N)
	}
	if c, err := parse("--submission-limit", "5000"); err != nil || c.SubmissionLimit != 5000 {
		t.Errorf("--submission-limit 5000 gave %d, %v", c.SubmissionLimit, err)
	}
	for _, bad := range []string{"0", "-1", "many"} {
		if _, err := parse("--submission-limit", bad); err == nil || !strings.Contains(err.Error(), "whole number of at least 1") {
			t.Errorf("--submission-limit %s: %v", bad, err)
		}
	}

	ctx := context.Background()
	db := storetest.SQLite(t)
	for _, tt := range []struct {
		perDay, allowed int
	}{{2, 2}, {0, identity.SubmissionLimit.N}, {identity.SubmissionLimit.N + 5, identity.SubmissionLimit.N + 5}} {
		lim := identity.NewLimiterSubmissions(db, tt.perDay)
		account := int64(1000 + tt.perDay)
		for i := range tt.allowed {
			if err := lim.Allow(ctx, account, "submit", identity.SubmissionLimit); err != nil {
				t.Fatalf("limit %d: submission %d refused: %v", tt.perDay, i+1, err)
			}
		}
		if err := lim.Allow(ctx, account, "submit", identity.SubmissionLimit); !apperr.Is(err, apperr.TooMany) || !strings.Contains(err.Error(), "at most "+strconv.Itoa(tt.allowed)) {
			t.Errorf("limit %d: submission %d: %v", tt.perDay, tt.allowed+1, err)
		}
	}
	other := identity.Limit{N: 1, Window: identity.SubmissionLimit.Window, What: "other actions"}
	lim := identity.NewLimiterSubmissions(db, 1000)
	lim.Allow(ctx, 7, "other", other)
	if err := lim.Allow(ctx, 7, "other", other); !apperr.Is(err, apperr.TooMany) {
		t.Errorf("a raised submission limit loosened another limit: %v", err)
	}
}
