package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"yiwang/internal/demo"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestSimulationFromTheAdministration: the catalogue administrator starts a
// simulation of the senior card's version over a generated history through
// the API; the job replays it, and the report flips exactly the decisions
// the history's inputs predict: its records keep only the applicant's kind,
// so with the age unknown every approval and rejection goes to a person.
// Nothing in applications or decisions changes; the page shows the report.
func TestSimulationFromTheAdministration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		opts := testOptions(t)
		srv, a := demoServerWith(t, db, opts)
		h := srv.Handler()
		if _, err := demo.WriteHistory(ctx, db, opts.protector, demo.HistoryOptions{Applications: 600, Seed: 2}); err != nil {
			t.Fatal(err)
		}
		// Every machine decision becomes a senior card's, so there are many.
		if _, err := db.ExecContext(ctx, `UPDATE applications SET item_code = $1 WHERE id IN (SELECT application_id FROM decisions)`, seniorCard); err != nil {
			t.Fatal(err)
		}
		var decided, notManual int
		var versionID int64
		if err := db.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(CASE WHEN outcome <> 'manual' THEN 1 ELSE 0 END), 0) FROM decisions`).Scan(&decided, &notManual); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT id FROM catalog_versions WHERE item_code = $1 AND version = 1`, seniorCard).Scan(&versionID); err != nil {
			t.Fatal(err)
		}
		if decided == 0 || notManual == 0 {
			t.Fatalf("%d decisions, %d not manual in the history; want some", decided, notManual)
		}
		before := tableSums(t, db)
		workJobs(t, a)

		admin := signIn(t, h, "catalog.admin")
		admin["Content-Type"] = "application/json"
		clerk := signIn(t, h, "clerk")
		clerk["Content-Type"] = "application/json"
		body := fmt.Sprintf(`{"version_id":%d,"since":"2000-01-01"}`, versionID)
		if code, _, _ := call(t, h, "POST", "/api/v1/admin/catalog/items/"+seniorCard+"/simulations", strings.NewReader(body), clerk); code != 403 {
			t.Errorf("a clerk started a simulation: %d, want 403", code)
		}
		if code, _, msg := call(t, h, "POST", "/api/v1/admin/catalog/items/"+propertyTransfer+"/simulations", strings.NewReader(body), admin); code != 400 {
			t.Errorf("another item's version: %d %s, want 400", code, msg)
		}
		code, out, msg := call(t, h, "POST", "/api/v1/admin/catalog/items/"+seniorCard+"/simulations", strings.NewReader(body), admin)
		if code != 202 {
			t.Fatalf("start: %d %s", code, msg)
		}
		id := int64(out["id"].(float64))
		var sim map[string]any
		for deadline := time.Now().Add(60 * time.Second); ; {
			_, sim, msg = call(t, h, "GET", fmt.Sprintf("/api/v1/admin/simulations/%d", id), nil, admin)
			if sim["status"] == "done" || sim["status"] == "failed" || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if sim["status"] != "done" {
			t.Fatalf("the simulation did not finish: %s", msg)
		}
		rep := sim["report"].(map[string]any)
		flipped := 0
		for _, f := range rep["flips"].([]any) {
			f := f.(map[string]any)
			if f["to"] != "manual" {
				t.Errorf("a flip to %v, want only to manual", f["to"])
			}
			flipped += int(f["count"].(float64))
		}
		if int(rep["replayed"].(float64)) != decided || flipped != notManual {
			t.Errorf("replayed %v, flipped %d; want %d, %d", rep["replayed"], flipped, decided, notManual)
		}
		if !strings.Contains(msg, "***…") || strings.Contains(msg, `"inputs"`) {
			t.Errorf("the report names applications unmasked or carries inputs:\n%.600s", msg)
		}
		_, html := page(t, h, admin, "GET", fmt.Sprintf("/admin/simulations/%d", id), nil)
		for _, want := range []string{"已完成", "秒批率", "转人工审核", "***…"} {
			if !strings.Contains(html, want) {
				t.Errorf("the simulation's page lacks %q", want)
			}
		}
		_, item := page(t, h, admin, "GET", "/admin/catalog/"+seniorCard, nil)
		if !strings.Contains(item, `action="/admin/catalog/`+seniorCard+`/simulations"`) {
			t.Error("the item's administration page offers no simulation")
		}
		if tableSums(t, db) != before {
			t.Error("the simulation changed applications or decisions")
		}
	})
}

// tableSums sums what a simulation must leave as it was.
func tableSums(t *testing.T, db *store.DB) string {
	t.Helper()
	var a, d string
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) || '/' || COALESCE(sum(length(status || item_code || updated_at)), 0) FROM applications`).Scan(&a); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(context.Background(), `SELECT count(*) || '/' || COALESCE(sum(length(record || outcome)), 0) FROM decisions`).Scan(&d); err != nil {
		t.Fatal(err)
	}
	return a + " " + d
}
