package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"yiwang/internal/demo"
	"yiwang/internal/logging"
	"yiwang/internal/store/storetest"
)

// TestPrefillFromADepartmentsSystem configures the population source to be
// read over HTTP from a department's system and starts an application.
func TestPrefillFromADepartmentsSystem(t *testing.T) {
	var authorised atomic.Bool
	dept := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authorised.Store(r.Header.Get("Authorization") == "Bearer secret-of-the-bureau")
		if r.URL.Path != "/api/persons/"+demo.WangWu { // it holds 王五's record, and nobody else's
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"name": "王五", "residence": {"address": "示范市明德区华强街道人民路5号"}, "household_no": "HH-77"}`)
	}))
	defer dept.Close()
	file := filepath.Join(t.TempDir(), "hub.yaml")
	os.WriteFile(file, []byte(`connectors:
  - name: population-bureau
    base_url: `+dept.URL+`/api
    paths: {population: "/persons/{key}"}
    auth_header: Authorization
    auth_value_env: RKK_TOKEN
    field_map: {population: {address: residence.address, household: household_no}}
    timeout: 2s
`), 0o600)
	logger := logging.New(io.Discard, "text", 0)
	env := func(k string) string {
		if k == "RKK_TOKEN" {
			return "Bearer secret-of-the-bureau"
		}
		return ""
	}
	conns, err := loadConnectors(file, env, logger)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.SQLite(t)
	ctx := context.Background()
	if _, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true}); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t)
	opts.connectors = conns
	a, err := newApp(ctx, db, opts, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAccounts(ctx, db, a.identities); err != nil {
		t.Fatal(err)
	}
	h := a.server(db, logger).Handler()
	hd := withJSON(signIn(t, h, demo.WangWu))
	// Seeding the demo accounts checked each name with the source already.
	_, _, before := call(t, h, "GET", "/metrics", nil, nil)
	code, body, _ := call(t, h, "POST", "/api/v1/applications", strings.NewReader(`{"item_code":"`+seniorCard+`","consent":true}`), hd)
	if code != 201 {
		t.Fatalf("start: %d %v", code, body)
	}
	if body["form"].(map[string]any)["address"] != "示范市明德区华强街道人民路5号" || !authorised.Load() {
		t.Errorf("prefill over HTTP: form %v, authorised %v", body["form"], authorised.Load())
	}
	// The call is timed, and the source's breaker reported closed.
	_, _, metrics := call(t, h, "GET", "/metrics", nil, nil)
	calls := func(metrics string) (n int) {
		for line := range strings.Lines(metrics) {
			if rest, ok := strings.CutPrefix(line, `yiwang_source_call_seconds_count{source="population"} `); ok {
				n, _ = strconv.Atoi(strings.TrimSpace(rest))
			}
		}
		return n
	}
	if n := calls(metrics) - calls(before); n != 1 || !strings.Contains(metrics, `yiwang_source_breaker_open{source="population"} 0`) {
		t.Errorf("%d population calls timed for the start, want 1; breaker closed: %v", n, strings.Contains(metrics, `yiwang_source_breaker_open{source="population"} 0`))
	}

	// Mistakes in the file are refused with a clear line.
	if _, err := loadConnectors(file, func(string) string { return "" }, logger); err == nil || !strings.Contains(err.Error(), "RKK_TOKEN") {
		t.Errorf("missing credentials: %v", err)
	}
	os.WriteFile(file, []byte("connectors:\n  - base_url: http://x\n    pathz: {}\n"), 0o600)
	if _, err := loadConnectors(file, env, logger); err == nil || !strings.Contains(err.Error(), "pathz") {
		t.Errorf("misspelt key: %v", err)
	}
}
