package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"yiwang/internal/demo"
	"yiwang/internal/identity"
	"yiwang/internal/logging"
	"yiwang/internal/pii"
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

// TestRulesSimulateCommand runs yiwang rules simulate on the data folder of
// a generated history: it prints the replayed and flipped decisions the
// history predicts (its records keep no age, so every approval and
// rejection of the senior card would go to a person), and refuses a call
// without --since.
func TestRulesSimulateCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key, err := loadKey("", dir, logging.New(io.Discard, "text", 0))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pii.NewProtector(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pii.CheckFingerprint(ctx, db.DB, p); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, db, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAccounts(ctx, db, identity.NewStore(db, p)); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.WriteHistory(ctx, db, p, demo.HistoryOptions{Applications: 400, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE applications SET item_code = $1 WHERE id IN (SELECT application_id FROM decisions)`, seniorCard); err != nil {
		t.Fatal(err)
	}
	var decided, approved int
	if err := db.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(CASE WHEN outcome = 'approve' THEN 1 ELSE 0 END), 0) FROM decisions`).Scan(&decided, &approved); err != nil {
		t.Fatal(err)
	}
	db.Close()

	const item = "../../catalog/items/civil/senior_card.yaml"
	code, stdout, stderr := runCmd(t, "rules", "simulate", item, "--since", "2000-01-01", "--data-dir", dir)
	for _, want := range []string{
		fmt.Sprintf("重放 Replayed: %d 件决定 decisions since 2000-01-01", decided),
		"秒批率 Machine-approval rate: ", "% → 0.0%\n",
		fmt.Sprintf("  批准 approve → 人工审核 manual: %d\n", approved),
	} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("exit %d, stdout lacks %q:\n%s\nstderr: %s", code, want, stdout, stderr)
		}
	}
	if !strings.Contains(stderr, "重放 replaying") {
		t.Errorf("no progress on stderr: %s", stderr)
	}
	if code, _, stderr := runCmd(t, "rules", "simulate", item, "--data-dir", dir); code != 2 || !strings.Contains(stderr, "--since") {
		t.Errorf("without --since: exit %d, %s; want 2 and a word on --since", code, stderr)
	}
}
