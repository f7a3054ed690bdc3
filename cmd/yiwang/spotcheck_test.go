package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"yiwang/internal/store"
)

// addSpotCheckObjects puts the spot checks of the object test into world:
// A of 张三's senior card (民政), assigned to the civil affairs reviewer; B
// of application B (不动产), assigned to the real estate head. Sampling is
// random, so they are written as sampling writes them.
func addSpotCheckObjects(t *testing.T, db *store.DB, a *app, world objectWorld) {
	t.Helper()
	ctx := context.Background()
	world["spot_check"] = map[string]object{}
	for which, o := range map[string]struct {
		app       object
		inspector string
	}{"A": {world["decision"]["B"], "reviewer.civil"}, "B": {world["application"]["B"], "reviewer.realestate"}} {
		var id int64
		err := db.QueryRowContext(ctx, `INSERT INTO spot_checks (application_id, item_code, status, created_at, department, mode, inspector, due_at)
			SELECT a.id, a.item_code, 'open', $1, $2, 'auto', $3, $4 FROM applications a WHERE a.id = $5
			ON CONFLICT (application_id) DO UPDATE SET inspector = excluded.inspector, department = excluded.department, status = 'open' RETURNING id`,
			time.Now().UTC(), o.app.dept, staffPrincipal(t, a, o.inspector).AccountID, time.Now().UTC().AddDate(0, 0, 14), o.app.id).Scan(&id)
		if err != nil {
			t.Fatalf("spot check %s: %v", which, err)
		}
		world["spot_check"][which] = object{id: strconv.FormatInt(id, 10), dept: o.app.dept}
	}
}
