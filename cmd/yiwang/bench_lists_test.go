package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"yiwang/internal/blob"

	"yiwang/internal/config"
	"yiwang/internal/demo"
	"yiwang/internal/logging"
	"yiwang/internal/server"
	"yiwang/internal/store/storetest"
)

// listsEnv names the database BenchmarkLists reads, as the options of
// 'yiwang serve' (e.g. "--data-dir /tmp/hist1m", or "--db postgres://…
// --data-dir DIR" with the data key in DIR): a demo database that 'yiwang
// demo history' filled once. Unset, the benchmark writes a history of
// listsDefault applications into a new SQLite database first.
const listsEnv = "YIWANG_BENCH_LISTS"

const listsDefault = 2_000

// BenchmarkLists is the server time of every list a demo person (张三), the
// demo clerk, a reviewer, the supervisor and the system administrator open
// — pages and API — through the whole middleware chain, on a database with
// a history of applications (docs/BENCHMARKS.md, "Lists at a million
// applications").
func BenchmarkLists(b *testing.B) {
	h := listsServer(b).Handler()
	zhang := signIn(b, h, demo.ZhangSan)
	mine := firstID(b, h, zhang, "/api/v1/applications", "applications")
	clerk := signIn(b, h, "clerk")
	task := firstID(b, h, clerk, "/api/v1/tasks", "tasks")
	for _, who := range []struct {
		name    string
		session map[string]string
		paths   []string
	}{
		{"person", zhang, []string{"/", "/me", "/me/applications", "/me/applications/" + mine, "/me/licences", "/me/notifications", "/me/data-reads", "/me/invitations",
			"/api/v1/applications", "/api/v1/me/licences", "/api/v1/me/notifications", "/api/v1/me/data-reads", "/api/v1/me/invitations", "/notices"}},
		{"clerk", clerk, []string{"/workbench", "/workbench/applications/" + task, "/workbench/intake", "/api/v1/tasks"}},
		{"reviewer", signIn(b, h, "reviewer.civil"), []string{"/workbench", "/api/v1/tasks"}},
		{"supervisor", signIn(b, h, "supervisor"), []string{"/workbench/overdue", "/api/v1/supervision/overdue", "/api/v1/admin/spot-checks?status=open"}},
		{"sysadmin", signIn(b, h, "sysadmin"), []string{"/admin/accounts", "/api/v1/admin/pii-access"}},
	} {
		for _, path := range who.paths {
			b.Run(who.name+path, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if rec := getWith(h, path, who.session); rec.Code != http.StatusOK {
						b.Fatalf("%s: %d %s", path, rec.Code, firstLine(rec.Body.String()))
					}
				}
			})
		}
	}
}

// listsServer is the server over the database listsEnv names, or over a new
// SQLite database with a small history.
func listsServer(b *testing.B) *server.Server {
	b.Helper()
	ctx := context.Background()
	args := strings.Fields(os.Getenv(listsEnv))
	if len(args) == 0 {
		opts := testOptions(b)
		db := storetest.SQLite(b)
		srv, _ := demoServerWith(b, db, opts)
		if _, err := demo.WriteHistory(ctx, db, opts.protector, demo.HistoryOptions{Applications: listsDefault, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		return srv
	}
	cfg, _, err := config.Parse(flag.NewFlagSet("serve", flag.ContinueOnError), "serve", "", args, 0, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatalf("%s: %v", listsEnv, err)
	}
	logger := logging.New(io.Discard, "text", 0)
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	blobs, err := blob.NewFS(blobDir(cfg), blob.Limits{MaxBytes: cfg.UploadMaxBytes})
	if err != nil {
		b.Fatal(err)
	}
	opts, err := appOptionsFrom(cfg, "http://127.0.0.1", blobs, func(string) string { return "" }, logger)
	if err != nil {
		b.Fatal(err)
	}
	a, err := newApp(ctx, db, opts, logger)
	if err != nil {
		b.Fatal(err)
	}
	if err := a.indexer.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	return a.server(db, logger)
}

// getWith answers a GET of path with the session's headers.
func getWith(h http.Handler, path string, session map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	for k, v := range session {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// firstID is the id of the first object of the list under key that path
// answers.
func firstID(b *testing.B, h http.Handler, session map[string]string, path, key string) string {
	b.Helper()
	rec := getWith(h, path, session)
	var body map[string][]struct {
		ID            int64 `json:"id"`
		ApplicationID int64 `json:"application_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body[key]) == 0 {
		b.Fatalf("%s: %d, no %s: %v %s", path, rec.Code, key, err, firstLine(rec.Body.String()))
	}
	if id := body[key][0].ApplicationID; id != 0 {
		return strconv.FormatInt(id, 10)
	}
	return strconv.FormatInt(body[key][0].ID, 10)
}
