package supervision_test

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/identity"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/org"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/supervision"
)

var supervisor = authz.Principal{AccountID: 1, Kind: "staff", Roles: []authz.Role{authz.Supervisor}}

// findings is a watcher reporting fixed findings.
func findings(fs ...supervision.Finding) supervision.Watcher {
	return supervision.WatcherFunc(func(context.Context, time.Time) ([]supervision.Finding, error) { return fs, nil })
}

type fixture struct {
	db     *store.DB
	ids    *identity.Store
	board  *supervision.Board
	alerts *supervision.Alerts
	heads  map[string]int64 // a head's account by department
}

// setup makes departments civil, tax, amr and housing; civil and tax have
// a head, amr none; the watchers find what the test says, and every day is a
// working day unless holiday is that day.
func setup(t *testing.T, db *store.DB, holiday time.Time, watchers ...supervision.Watcher) fixture {
	t.Helper()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if err := org.PutRegion(ctx, tx, org.Region{Code: "910102", NameZh: "明德区", NameEn: "Mingde District", Level: "district"}); err != nil {
			return err
		}
		for _, d := range []org.Department{{Code: "civil", NameZh: "民政局", NameEn: "Civil Affairs"}, {Code: "tax", NameZh: "税务局", NameEn: "Taxation"}, {Code: "amr", NameZh: "市场监管局", NameEn: "Market Regulation"}, {Code: "housing", NameZh: "住建局", NameEn: "Housing"}} {
			d.RegionCode = "910102"
			if err := org.PutDepartment(ctx, tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pii.NewKey()
	k, _ := pii.ParseKey(key)
	protector, _ := pii.NewProtector(k)
	ids := identity.NewStore(db, protector)
	f := fixture{db: db, ids: ids, heads: map[string]int64{}}
	for _, s := range []identity.NewStaff{
		{Username: "head.civil", DisplayName: "民政 周科长", Department: "civil", Region: "910102", Roles: []authz.Role{authz.Head}},
		{Username: "reviewer.civil", DisplayName: "民政 刘洋", Department: "civil", Region: "910102", Roles: []authz.Role{authz.Reviewer}},
		{Username: "head.tax", DisplayName: "税务 郑强", Department: "tax", Region: "910102", Roles: []authz.Role{authz.Head}},
	} {
		s.Password = "correct horse battery staple"
		a, err := ids.CreateStaff(ctx, s, 0)
		if err != nil {
			t.Fatal(err)
		}
		if s.Roles[0] == authz.Head {
			f.heads[s.Department] = a.ID
		}
	}
	queue, err := jobs.New(db, jobs.NewWorkers(), slog.New(slog.DiscardHandler), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f.board = supervision.NewBoard(org.NewStore(db.DB), watchers...)
	f.alerts = supervision.NewAlerts(db, f.board, notify.NewOutbox(db, queue),
		func(ctx context.Context, q store.Querier, department string) ([]int64, error) {
			return ids.StaffOf(ctx, q, department, authz.Head)
		},
		func(_ context.Context, day time.Time) (bool, error) { return !day.Equal(holiday), nil })
	return f
}

func (f fixture) messages(t *testing.T, account int64) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), `SELECT count(*) FROM outbox_messages WHERE account_id = $1 AND kind = 'supervision_alert'`, account).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBoardCountsByDepartment: the board adds up what every domain finds,
// per department and kind, busiest department first, and a department's
// view shows only it; only supervisors see it.
func TestBoardCountsByDepartment(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		old := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		f := setup(t, db, time.Time{},
			findings(supervision.Finding{Department: "civil", Kind: supervision.Overdue, Count: 2, Oldest: old, Link: "/workbench/overdue?department=civil"},
				supervision.Finding{Department: "tax", Kind: supervision.NearOverdue, Count: 1}),
			findings(supervision.Finding{Department: "tax", Kind: supervision.MachineOff, Count: 1},
				supervision.Finding{Department: "tax", Kind: supervision.MachineOff, Count: 2},
				supervision.Finding{Department: "amr", Kind: supervision.ComplaintLate, Count: 0}))
		if _, err := f.board.Look(ctx, authz.Principal{AccountID: 2, Kind: "staff", Roles: []authz.Role{authz.Reviewer}}, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Fatalf("a reviewer looked at the board: %v", err)
		}
		v, err := f.board.Look(ctx, supervisor, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Departments) != 2 || v.Departments[0].Code != "tax" || v.Departments[1].Code != "civil" {
			t.Fatalf("departments %+v, want tax (4) then civil (2); amr found nothing", v.Departments)
		}
		tax := v.Departments[0]
		if tax.Total != 4 || tax.Cell(supervision.MachineOff).Count != 3 || tax.Cell(supervision.NearOverdue).Count != 1 || tax.Name("zh") != "税务局" {
			t.Errorf("tax row %+v", tax)
		}
		if tax.Findings[0].Kind != supervision.NearOverdue {
			t.Errorf("findings out of the board's order: %+v", tax.Findings)
		}
		if c := v.Departments[1].Cell(supervision.Overdue); c.Count != 2 || !c.Oldest.Equal(old) || c.Link != "/workbench/overdue?department=civil" {
			t.Errorf("civil overdue cell %+v", c)
		}
		if v.Cell(supervision.MachineOff).Count != 3 || v.Cell(supervision.Overdue).Count != 2 || v.Cell(supervision.BadRating).Count != 0 {
			t.Errorf("totals %+v", v.Totals)
		}
		one, err := f.board.Look(ctx, supervisor, "civil")
		if err != nil {
			t.Fatal(err)
		}
		if len(one.Departments) != 1 || one.Departments[0].Code != "civil" || one.Cell(supervision.MachineOff).Count != 0 {
			t.Errorf("civil's board %+v", one)
		}
	})
}

// TestAlertsTellHeadsOnceADay: a supervisor's alert reaches the
// department's heads (not its reviewers) once a day; the daily run on a
// working day alerts the other departments with findings, skipping the one
// alerted already, and does nothing on a day off.
func TestAlertsTellHeadsOnceADay(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		holiday := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		f := setup(t, db, holiday,
			findings(supervision.Finding{Department: "civil", Kind: supervision.BadRating, Count: 1},
				supervision.Finding{Department: "tax", Kind: supervision.SpotCheckFailed, Count: 2},
				supervision.Finding{Department: "amr", Kind: supervision.ComplaintLate, Count: 1}))
		got, err := f.alerts.Send(ctx, supervisor, "civil")
		if err != nil {
			t.Fatal(err)
		}
		if got.Heads != 1 || got.Findings != 1 || f.messages(t, f.heads["civil"]) != 1 {
			t.Fatalf("alert %+v, head's messages %d", got, f.messages(t, f.heads["civil"]))
		}
		var body string
		if err := db.QueryRowContext(ctx, `SELECT body_zh FROM outbox_messages WHERE account_id = $1`, f.heads["civil"]).Scan(&body); err != nil || body != "差评待整改：1" {
			t.Errorf("the head was told %q (%v)", body, err)
		}
		if _, err := f.alerts.Send(ctx, supervisor, "civil"); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("a second alert the same day: %v", err)
		}
		if _, err := f.alerts.Send(ctx, supervisor, "nosuch"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("an alert to a department that does not exist: %v", err)
		}
		if _, err := f.alerts.Send(ctx, supervisor, "housing"); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("an alert about a department with nothing found: %v", err)
		}
		if _, err := f.alerts.Send(ctx, authz.Principal{AccountID: f.heads["tax"], Kind: "staff", Roles: []authz.Role{authz.Head}}, "tax"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a head sent an alert: %v", err)
		}
		if done, err := f.alerts.Daily(ctx, holiday); err != nil || len(done) != 0 {
			t.Errorf("a day off alerted %+v (%v)", done, err)
		}
		done, err := f.alerts.Daily(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(done) != 2 {
			t.Fatalf("the daily run alerted %+v, want tax and amr", done)
		}
		for _, a := range done {
			if a.Department == "civil" || (a.Department == "amr" && a.Heads != 0) || (a.Department == "tax" && a.Heads != 1) {
				t.Errorf("daily alert %+v", a)
			}
		}
		if f.messages(t, f.heads["civil"]) != 1 || f.messages(t, f.heads["tax"]) != 1 {
			t.Errorf("heads' messages: civil %d, tax %d", f.messages(t, f.heads["civil"]), f.messages(t, f.heads["tax"]))
		}
		var reviewers int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM outbox_messages n JOIN accounts a ON a.id = n.account_id WHERE a.username = 'reviewer.civil'`).Scan(&reviewers); err != nil || reviewers != 0 {
			t.Errorf("a reviewer was alerted %d times (%v)", reviewers, err)
		}
	})
}
