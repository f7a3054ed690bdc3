package demo_test

import (
	"context"
	"errors"
	"testing"

	"yiwang/internal/demo"
	"yiwang/internal/identity"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestHistory writes a small history on each backend (the lists it makes
// are checked in cmd/yiwang, TestListsShowTheRightRows) and refuses a second
// one; run under the race detector in CI, it checks the workers and the
// writer too.
func TestHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := protector(t)
		if _, err := demo.WriteHistory(ctx, db, p, demo.HistoryOptions{Applications: 10}); err == nil {
			t.Fatal("a history in a database that is no demo database")
		}
		if _, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true}); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedAccounts(ctx, db, identity.NewStore(db, p)); err != nil {
			t.Fatal(err)
		}
		stats, err := demo.WriteHistory(ctx, db, p, demo.HistoryOptions{Applications: 1200, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]int{"applications": 1200, "persons": 240, "accounts": 240, "consents": 1200} {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if stats.Rows[table] != want || n < want {
				t.Errorf("%s: wrote %d, %d in the table, want %d", table, stats.Rows[table], n, want)
			}
		}
		for _, table := range []string{"application_events", "tasks", "decisions", "data_reads", "outbox_messages"} {
			if stats.Rows[table] == 0 {
				t.Errorf("no %s written", table)
			}
		}
		// The manual cases of machine items are on their routes: none left
		// on a 0-day machine step, and a hall's done by the staff posted
		// there.
		var onMachine, onRoutes, byOthers int
		if err := db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM tasks WHERE step_id IN ('machine_review', 'machine_query')),
			(SELECT count(*) FROM tasks WHERE step_id = 'manual_review'),
			(SELECT count(*) FROM tasks t JOIN accounts a ON a.id = t.done_by WHERE t.hall_id IS NOT NULL AND a.hall_id IS DISTINCT FROM t.hall_id)`).Scan(&onMachine, &onRoutes, &byOthers); err != nil {
			t.Fatal(err)
		}
		if onMachine != 0 || onRoutes == 0 || byOthers != 0 {
			t.Errorf("manual cases: %d on a machine step, %d on manual routes, %d of a hall done by staff of elsewhere; want 0, some, 0", onMachine, onRoutes, byOthers)
		}
		if _, err := demo.WriteHistory(ctx, db, p, demo.HistoryOptions{Applications: 10}); !errors.Is(err, demo.ErrHistoryWritten) {
			t.Errorf("a second history: %v, want ErrHistoryWritten", err)
		}
	})
}
