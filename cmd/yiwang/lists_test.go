package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"yiwang/internal/demo"
	"yiwang/internal/hub"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestListsShowTheRightRows writes a small history with the generator of
// 'yiwang demo history' and checks, on each backend, that every list read
// along its indexes (migration 0019) shows exactly the rows the plain
// query of its meaning — one WHERE, ORs and all, as the lists were read
// before — selects, in the same order: a demo person's applications,
// messages, data reads and licences, the clerk's and a reviewer's inbox,
// and the supervisors' overdue board.
func TestListsShowTheRightRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		opts := testOptions(t)
		srv, a := demoServerWith(t, db, opts)
		h := srv.Handler()
		stats, err := demo.WriteHistory(ctx, db, opts.protector, demo.HistoryOptions{Applications: 1500, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Rows["applications"] != 1500 || stats.Applicants != 300 {
			t.Fatalf("wrote %v of %d applicants", stats.Rows, stats.Applicants)
		}
		issued, err := demo.IssueHistoryLicences(ctx, db, opts.protector, a.licences)
		if err != nil || issued == 0 {
			t.Fatalf("licences of the demo people: %d, %v", issued, err)
		}

		// The rows are as the platform writes them.
		for what, q := range map[string]string{
			"submitted applications without a number": `SELECT count(*) FROM applications WHERE status <> 'draft' AND number IS NULL`,
			"applications without their consent":      `SELECT count(*) FROM applications a LEFT JOIN consents c ON c.id = a.consent_id AND c.application = a.id WHERE c.id IS NULL`,
			"applications without a timeline":         `SELECT count(*) FROM applications a WHERE NOT EXISTS (SELECT 1 FROM application_events e WHERE e.application_id = a.id)`,
			"steps open on a finished application":    `SELECT count(*) FROM tasks t JOIN applications a ON a.id = t.application_id WHERE t.status IN ('open', 'claimed') AND a.status NOT IN ('submitted', 'under_review')`,
			"steps open without a deadline":           `SELECT count(*) FROM tasks WHERE status IN ('open', 'claimed') AND deadline IS NULL`,
			"machine decisions of items decided by hand": `SELECT count(*) FROM decisions d JOIN applications a ON a.id = d.application_id JOIN catalog_versions v ON v.id = a.version_id
				WHERE v.approval_mode <> 'auto'`,
			"days numbered past their sequence": `SELECT count(*) FROM applications a WHERE a.number IS NOT NULL AND NOT EXISTS (SELECT 1 FROM application_numbers n
				WHERE n.prefix = substr(a.number, 1, 15) AND n.last >= CAST(substr(a.number, 17) AS INTEGER))`,
		} {
			var n int
			if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s: %d %v", what, n, err)
			}
		}

		var account, person int64
		if err := db.QueryRowContext(ctx, `SELECT a.id, a.person_id FROM accounts a JOIN persons p ON p.id = a.person_id WHERE p.id_number_idx = $1`,
			opts.protector.Index(demo.ZhangSan)).Scan(&account, &person); err != nil {
			t.Fatal(err)
		}
		zhang := signIn(t, h, demo.ZhangSan)
		want := func(q string, args ...any) []int64 {
			t.Helper()
			ids, err := store.All(ctx, db, store.Value[int64], q, args...)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) == 0 {
				t.Fatalf("the history gives no rows to check for %s", q)
			}
			return ids
		}
		check := func(session map[string]string, path, key, field string, want []int64) {
			t.Helper()
			code, body, raw := call(t, h, "GET", path, nil, session)
			if code != http.StatusOK {
				t.Fatalf("%s: %d %s", path, code, firstLine(raw))
			}
			var got []int64
			list, _ := body[key].([]any)
			for _, x := range list {
				v, _ := x.(map[string]any)[field].(float64) // absent: 0, as a read made for no application
				got = append(got, int64(v))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s lists %v, want %v", path, got, want)
			}
		}

		check(zhang, "/api/v1/applications", "applications", "id", want(`SELECT id FROM applications
			WHERE account_id = $1 OR enterprise_id = -1 OR (person_id = $2 AND enterprise_id IS NULL) ORDER BY id DESC LIMIT 200`, account, person))
		check(zhang, "/api/v1/me/notifications?limit=100", "notifications", "id", want(`SELECT id FROM outbox_messages
			WHERE channel = 'in_app' AND status = 'delivered' AND (account_id = $1 OR person_id = $2) ORDER BY id DESC LIMIT 100`, account, person))
		var unread int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM outbox_messages WHERE channel = 'in_app' AND status = 'delivered'
			AND (account_id = $1 OR person_id = $2) AND read_at IS NULL`, account, person).Scan(&unread); err != nil {
			t.Fatal(err)
		}
		if _, body, _ := call(t, h, "GET", "/api/v1/me/notifications", nil, zhang); body["unread"] != float64(unread) {
			t.Errorf("unread = %v, want %d", body["unread"], unread)
		}
		subject := a.registries.SubjectIndex(hub.Subject{Kind: hub.Person, Key: demo.ZhangSan})
		wantReads := want(`SELECT COALESCE(application, 0) FROM data_reads WHERE subject_idx = $1 ORDER BY at DESC, id DESC LIMIT 200`, subject)
		check(zhang, "/api/v1/me/data-reads", "reads", "application", wantReads)
		licences := want(`SELECT id FROM licences WHERE holder_idx = $1 ORDER BY id DESC`, subject)
		check(zhang, "/api/v1/me/licences", "licences", "id", licences)

		// The inboxes: the open steps a staff member may take — any
		// acceptance step for a clerk, the steps of their roles in their
		// department, and in the hall they are posted to, for the others —
		// and those they claimed, the nearest deadline first.
		const inbox = `SELECT t.id FROM tasks t JOIN applications a ON a.id = t.application_id
			WHERE a.status NOT IN ('correction_requested', 'special_procedure')
			AND (t.status = 'claimed' AND t.assignee = $1 OR t.status = 'open' AND (%s)) ORDER BY t.deadline, t.id LIMIT 500`
		seen := 0
		for _, s := range []struct{ login, which string }{
			{"clerk", `t.role = 'clerk'`},
			{"reviewer.civil", `t.department = 'civil' AND t.hall_id IS NULL AND t.role = 'reviewer'`},
			{"head.civil", `t.department = 'civil' AND t.hall_id IS NULL AND t.role IN ('reviewer', 'head')`},
			{"reviewer.realestate", `t.department = 'realestate' AND t.hall_id IS NULL AND t.role IN ('reviewer', 'head')`},
			{"reviewer.tax", `t.department = 'tax' AND t.hall_id IS NULL AND t.role IN ('reviewer', 'head')`},
			{"reviewer.fuan", `(t.department = 'civil' AND t.hall_id IS NULL OR t.hall_id = (SELECT id FROM halls WHERE code = 'fuan-street')) AND t.role = 'reviewer'`},
		} {
			var id int64
			if err := db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE username = $1`, s.login).Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids, err := store.All(ctx, db, store.Value[int64], fmt.Sprintf(inbox, s.which), id)
			if err != nil {
				t.Fatal(err)
			}
			seen += len(ids)
			check(signIn(t, h, s.login), "/api/v1/tasks", "tasks", "id", ids)
			// An application's page shows the staff member's steps of it:
			// those of the inbox, read by the application's key.
			p, err := a.identities.StaffPrincipal(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			inbox, err := a.applications.Tasks.Inbox(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, task := range inbox[:min(len(inbox), 20)] {
				var want []int64
				for _, x := range inbox {
					if x.ApplicationID == task.ApplicationID {
						want = append(want, x.ID)
					}
				}
				mine, err := a.applications.Tasks.InboxOf(ctx, p, task.ApplicationID)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, x := range mine {
					got = append(got, x.ID)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s's steps of application %d: %v, want %v", s.login, task.ApplicationID, got, want)
				}
			}
		}
		if seen == 0 {
			t.Fatal("the history left no step open to check the inboxes with")
		}

		// The overdue board: every open step whose deadline is past or
		// within the warning days, by the calendar.
		cal, err := a.calendar.Calendar(ctx)
		if err != nil {
			t.Fatal(err)
		}
		type step struct {
			id       int64
			deadline time.Time
		}
		steps, err := store.All(ctx, db, func(row store.Scanner) (step, error) {
			var s step
			return s, row.Scan(&s.id, &s.deadline)
		}, `SELECT t.id, t.deadline FROM tasks t JOIN applications a ON a.id = t.application_id
			WHERE t.status IN ('open', 'claimed') AND a.status NOT IN ('correction_requested', 'special_procedure') ORDER BY t.deadline, t.id`)
		if err != nil {
			t.Fatal(err)
		}
		var late []int64
		now := time.Now()
		for _, s := range steps {
			left, err := cal.WorkdaysLeft(now, s.deadline)
			if err != nil {
				t.Fatal(err)
			}
			if now.After(s.deadline) || left <= 0 { // the test server warns on the last day
				late = append(late, s.id)
			}
		}
		if len(late) == 0 {
			t.Fatal("the history has no late step to check the board with")
		}
		code, body, raw := call(t, h, "GET", "/api/v1/supervision/overdue", nil, signIn(t, h, "supervisor"))
		if code != http.StatusOK {
			t.Fatalf("overdue: %d %s", code, firstLine(raw))
		}
		var got []int64
		cases, _ := body["cases"].([]any)
		if body["cases_total"] != float64(len(cases)) { // under the 500 the board shows
			t.Errorf("the board counts %v cases and shows %d", body["cases_total"], len(cases))
		}
		for _, c := range cases {
			if c := c.(map[string]any); c["subject"] == "task" {
				got = append(got, int64(c["task_id"].(float64)))
			}
		}
		slices.Sort(got)
		slices.Sort(late)
		if !slices.Equal(got, late) {
			t.Errorf("the board's late steps are %v, want %v", got, late)
		}
	})
}

// TestWarmHomePage: what serve does at start, in the background, before the
// first visit to the home page.
func TestWarmHomePage(t *testing.T) {
	srv, a := demoServer(t)
	if err := a.portal.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := getWith(srv.Handler(), "/", nil); rec.Code != http.StatusOK {
		t.Errorf("home after warming: %d", rec.Code)
	}
}
