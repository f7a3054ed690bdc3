package proactive_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/blob"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/jobs"
	"yiwang/internal/licence"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/proactive"
	"yiwang/internal/seal"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

const (
	seniorCard       = "11910102MB00011858-07-00001"
	elderlyAllowance = "11910102MB00011858-05-00002"
)

type fixture struct {
	db       *store.DB
	engine   *proactive.Engine
	registry *hub.Builtin
	ids      *identity.Store
	apps     application.Services
	licences *licence.Service
	outbox   *notify.Outbox
	cat      *catalog.Store
}

// setup publishes the demo catalogue (changed by mutate) and wires the
// engine as serve does.
func setup(t testing.TB, db *store.DB, mutate func(*catalog.Catalogue)) fixture {
	t.Helper()
	ctx := context.Background()
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c, problems := schemas.LoadFS(os.DirFS("../../catalog"))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	if mutate != nil {
		mutate(c)
	}
	cs := catalog.NewStore(db)
	if _, err := cs.Import(ctx, c, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.PublishAllDrafts(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	key, _ := pii.NewKey()
	k, _ := pii.ParseKey(key)
	protector, _ := pii.NewProtector(k)
	ids := identity.NewStore(db, protector)
	b := hub.NewBuiltin(db, protector)
	reader := hub.NewReader(db, b, b.SubjectIndex)
	keyring, err := seal.NewKeyring(db, k)
	if err != nil {
		t.Fatal(err)
	}
	licences := licence.NewService(db, keyring, protector, b, "https://yiwang.test")
	if _, err := licences.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	queue, err := jobs.New(db, jobs.NewWorkers(), slog.New(slog.DiscardHandler), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	outbox := notify.NewOutbox(db, queue)
	cal, err := workday.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	files, err := blob.NewFS(t.TempDir(), blob.Limits{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	apps := application.NewServices(application.Deps{DB: db, Protector: protector, Catalog: cs, Identities: ids, Reader: reader, Limits: identity.NewLimiter(db),
		Calendars: application.FixedCalendar(cal), Notifier: outbox, Blobs: files, Licences: licences, Registries: b, Queue: queue})
	e := proactive.New(db, cs, b, apps.Drafts, ids, outbox)
	return fixture{db: db, engine: e, registry: b, ids: ids, apps: apps, licences: licences, outbox: outbox, cat: cs}
}

// person puts a resident born on birth into the registries: local to the
// district unless region says otherwise, alive unless dead, with a social
// security card whose status is card.
func (f fixture) person(t testing.TB, seq int, name string, birth time.Time, region string, alive bool, card string) string {
	t.Helper()
	ctx := context.Background()
	digits := birth.Format("20060102")
	body := "910102" + digits + string(rune('0'+seq/100%10)) + string(rune('0'+seq/10%10)) + string(rune('0'+seq%10))
	c, _ := ident.IDNumberCheck(body)
	id := body + string(c)
	who := hub.Subject{Kind: hub.Person, Key: id}
	pop := hub.Record{"name": name, "id_number": id, "birth_date": birth.Format(time.DateOnly), "household": "HH-" + name, "household_region": region,
		"household_status": "normal", "address": "示范市明德区福安街道幸福路1号", "phone": "13900000001", "alive": alive}
	if err := f.registry.Put(ctx, f.db, "population", who, pop); err != nil {
		t.Fatal(err)
	}
	if err := f.registry.Put(ctx, f.db, "credit", who, hub.Record{"level": "A", "blacklisted": false}); err != nil {
		t.Fatal(err)
	}
	if card != "" {
		if err := f.registry.Put(ctx, f.db, "social_insurance", who, hub.Record{"card_status": card, "card_bank_account": "6214000012345678"}); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// personID is the platform's person of an ID number (0: not registered).
func (f fixture) personID(t testing.TB, id string) int64 {
	p, err := f.ids.PersonByIDNumber(context.Background(), f.db, id)
	if err != nil {
		return 0
	}
	return p.ID
}

func count(t testing.TB, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSweepGrantsOffersAndSkipsByTheRules: on the day people turn 80 and
// 60, the sweep grants the old-age allowance (免申即享) to the one the
// rules approve, offers it to the one whose card a person must look at,
// offers the senior card (an offer item, whose form asks for a choice),
// and leaves out the one the rules refuse, the dead and those whose day
// has not come; a dry run counts the same and writes nothing; a second
// sweep of the day does nothing twice.
func TestSweepGrantsOffersAndSkipsByTheRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		on := time.Date(2026, 12, 7, 0, 0, 0, 0, workday.CST)
		granted := f.person(t, 1, "钱老伯", on.AddDate(-80, 0, 0), "910102001001", true, "active")
		elsewhere := f.person(t, 2, "孙老伯", on.AddDate(-80, 0, 0), "910203001001", true, "active")
		f.person(t, 3, "李老伯", on.AddDate(-80, 0, 0), "910102001001", false, "active")
		cardStopped := f.person(t, 4, "周老伯", on.AddDate(-80, 0, 0), "910102001001", true, "suspended")
		sixty := f.person(t, 5, "吴阿姨", on.AddDate(-60, 0, 0), "910102001001", true, "")
		f.person(t, 6, "郑阿姨", on.AddDate(-60, 0, -1), "910102001001", true, "") // turned 60 yesterday: swept then
		f.person(t, 7, "王小弟", on.AddDate(-30, 0, 0), "910102001001", true, "")

		want := func(rep proactive.Report, granted, offered, refused, dead, already int) {
			t.Helper()
			if rep.Status != "done" || rep.Granted != granted || rep.Offered != offered || rep.Skipped[proactive.SkippedRefused] != refused ||
				rep.Skipped[proactive.SkippedDeceased] != dead || rep.Skipped[proactive.SkippedAlready] != already {
				t.Errorf("report = %+v; want %d granted, %d offered, %d refused by the rules, %d deceased, %d already done", rep, granted, offered, refused, dead, already)
			}
		}
		var stages sync.Map
		dry, err := f.engine.Sweep(ctx, proactive.SweepRequest{On: on, DryRun: true, By: "test", Progress: func(stage string, done, total int) { stages.Store(stage, [2]int{done, total}) }})
		if err != nil {
			t.Fatal(err)
		}
		want(dry, 1, 2, 1, 1, 0)
		if dry.Candidates != 5 || dry.Scanned != 7 {
			t.Errorf("dry run scanned %d records and found %d candidates; want 7 and 5", dry.Scanned, dry.Candidates)
		}
		if v, _ := stages.Load("find"); v != [2]int{7, 7} {
			t.Errorf("the find stage's progress ended at %v, want 7 of 7", v)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM applications`) + count(t, db, `SELECT COUNT(*) FROM proactive_actions`) + count(t, db, `SELECT COUNT(*) FROM outbox_messages`); n != 0 {
			t.Fatalf("the dry run wrote %d applications, actions or messages", n)
		}

		rep, err := f.engine.Sweep(ctx, proactive.SweepRequest{On: on, By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		want(rep, 1, 2, 1, 1, 0)

		// The granted person has the application, decided by the rules, and
		// the allowance's licence, and is told.
		pid := f.personID(t, granted)
		var appID int64
		if err := db.QueryRowContext(ctx, `SELECT application_id FROM proactive_actions WHERE person_id = $1 AND action = 'granted' AND item_code = $2`, pid, elderlyAllowance).Scan(&appID); err != nil {
			t.Fatalf("no grant recorded for the person who turned 80: %v", err)
		}
		a, err := f.apps.Drafts.Get(ctx, authz.Principal{AccountID: -1, Kind: "person", PersonID: pid}, appID)
		if err != nil {
			t.Fatalf("the person cannot see the application made for them: %v", err)
		}
		if a.Initiative != "proactive" || a.Status != "licence_issued" || a.Decision == nil || a.Decision.Outcome != "approve" || a.Form["monthly_amount"] != float64(100) {
			t.Errorf("granted application: initiative %q, status %s, decision %+v, amount %v; want proactive, licensed, approved, 100 a month", a.Initiative, a.Status, a.Decision, a.Form["monthly_amount"])
		}
		if l, err := f.licences.ByApplication(ctx, appID); err != nil || l.Status != "valid" {
			t.Errorf("licence of the grant: %+v, %v", l, err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM outbox_messages WHERE person_id = $1 AND application_id = $2`, pid, appID); n == 0 {
			t.Error("the person granted the allowance was not told")
		}
		// The one whose card must be looked at, and the 60-year-old, are
		// offered the item with its link; nobody else hears anything.
		for _, id := range []string{cardStopped, sixty} {
			if n := count(t, db, `SELECT COUNT(*) FROM outbox_messages WHERE person_id = $1 AND kind = 'service_offer' AND link LIKE '/apply/%'`, f.personID(t, id)); n != 1 {
				t.Errorf("%d offers to a person who qualifies but cannot be granted, want 1", n)
			}
		}
		if f.personID(t, elsewhere) != 0 && count(t, db, `SELECT COUNT(*) FROM outbox_messages WHERE person_id = $1`, f.personID(t, elsewhere)) != 0 {
			t.Error("the person the rules refuse was told something")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM applications`); n != 1 {
			t.Errorf("%d applications made, want the one grant", n)
		}

		// The person may decline: the allowance's licence is cancelled, once;
		// nobody else may decline it for them.
		acc, err := f.ids.RegisterPerson(ctx, granted, "钱老伯", "13900000002", "a-long-password")
		if err != nil {
			t.Fatal(err)
		}
		sess, _ := f.ids.StartSession(ctx, acc.ID)
		holder, _, err := f.ids.SessionPrincipal(ctx, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.ids.RegisterPerson(ctx, sixty, "吴阿姨", "13900000003", "a-long-password")
		if err != nil {
			t.Fatal(err)
		}
		sess2, _ := f.ids.StartSession(ctx, other.ID)
		stranger, _, _ := f.ids.SessionPrincipal(ctx, sess2.Token)
		if _, err := f.apps.Drafts.Decline(ctx, stranger, appID, ""); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another person declining the grant: %v, want not found", err)
		}
		if l, _ := f.licences.ByApplication(ctx, appID); l.Status != "valid" {
			t.Fatalf("the licence is %s after a stranger's attempt", l.Status)
		}
		declined, err := f.apps.Drafts.Decline(ctx, holder, appID, "已由子女代领其他补贴")
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := f.licences.ByApplication(ctx, appID); l.Status != "cancelled" {
			t.Errorf("after declining, the licence is %s, want cancelled", l.Status)
		}
		if last := declined.Timeline[len(declined.Timeline)-1]; last.Action != "declined" || last.Note != "已由子女代领其他补贴" {
			t.Errorf("the timeline ends with %+v, want the decline and its reason", last)
		}
		if _, err := f.apps.Drafts.Decline(ctx, holder, appID, ""); err == nil {
			t.Error("declined twice")
		}

		// The same day again does nothing twice.
		again, err := f.engine.Sweep(ctx, proactive.SweepRequest{On: on, Since: on.AddDate(0, 0, -1), By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		want(again, 0, 0, 1, 1, 3)
		if n := count(t, db, `SELECT COUNT(*) FROM applications`); n != 1 {
			t.Errorf("after a second sweep %d applications, want 1", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM proactive_sweeps WHERE status = 'done'`); n != 3 {
			t.Errorf("%d sweeps recorded, want 3 (the dry run too)", n)
		}
	})
}

// TestSweepsAtOnceActOnce: two processes sweeping the same days at once
// grant each person once.
func TestSweepsAtOnceActOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		on := time.Date(2026, 12, 7, 0, 0, 0, 0, workday.CST)
		for i := range 12 {
			f.person(t, 10+i, "钱老伯", on.AddDate(-80, 0, -i%3), "910102001001", true, "active")
		}
		var wg sync.WaitGroup
		reps := make([]proactive.Report, 2)
		errs := make([]error, 2)
		other := proactive.New(db, f.cat, f.registry, f.apps.Drafts, f.ids, f.outbox)
		for i, e := range []*proactive.Engine{f.engine, other} {
			e.Batch = 5
			wg.Go(func() {
				reps[i], errs[i] = e.Sweep(ctx, proactive.SweepRequest{On: on, Since: on.AddDate(0, 0, -3), By: "test"})
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if g := reps[0].Granted + reps[1].Granted; g != 12 {
			t.Errorf("the two sweeps granted %d + %d, want 12 in all", reps[0].Granted, reps[1].Granted)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM applications`); n != 12 {
			t.Errorf("%d applications, want 12", n)
		}
	})
}

// TestRegistryEventsReachThePeopleTheyConcern: a death recorded in the
// population registry offers the spouse the household cancellation; an
// enterprise set up offers its legal representative the housing fund
// registration; each event is acted on once, and the events are marked
// handled.
func TestRegistryEventsReachThePeopleTheyConcern(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		husband := f.person(t, 21, "陈老伯", time.Date(1950, 3, 1, 0, 0, 0, 0, workday.CST), "910102001001", true, "")
		wife := f.person(t, 22, "林阿姨", time.Date(1952, 5, 1, 0, 0, 0, 0, workday.CST), "910102001001", true, "")
		who := hub.Subject{Kind: hub.Person, Key: husband}
		if n := count(t, db, `SELECT COUNT(*) FROM registry_events`); n != 0 {
			t.Fatalf("%d events from registering people, want none", n)
		}
		rec, err := f.registry.Fetch(ctx, "population", who, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec["alive"], rec["death_date"], rec["spouse_id_number"] = false, "2026-12-06", wife
		if err := f.registry.Put(ctx, db, "population", who, rec); err != nil {
			t.Fatal(err)
		}
		rep := hub.Record{"name": "示范科技有限公司", "status": "active", "legal_rep": "林阿姨", "legal_rep_id_number": wife}
		if err := f.registry.Put(ctx, db, "enterprise", hub.Subject{Kind: hub.Enterprise, Key: "91910102MA5EXAMPLE"}, rep); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM registry_events WHERE handled_at IS NULL`); n != 2 {
			t.Fatalf("%d pending events, want the death and the enterprise", n)
		}
		report, err := f.engine.Events(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if report.Offered != 2 || report.Granted != 0 || report.Status != "done" {
			t.Errorf("events report %+v, want 2 offers", report)
		}
		wid := f.personID(t, wife)
		if n := count(t, db, `SELECT COUNT(*) FROM outbox_messages WHERE person_id = $1 AND kind = 'service_offer'`, wid); n != 2 {
			t.Errorf("the spouse and legal representative got %d offers, want 2 (household cancellation, housing fund)", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM registry_events WHERE handled_at IS NULL`); n != 0 {
			t.Errorf("%d events left pending", n)
		}
		// Recording the same facts again raises nothing new.
		if err := f.registry.Put(ctx, db, "population", who, rec); err != nil {
			t.Fatal(err)
		}
		if again, err := f.engine.Events(ctx, 100); err != nil || again.ID != 0 {
			t.Errorf("a second pass acted again: %+v, %v", again, err)
		}
		// Handled events are forgotten after a while; pending ones never.
		if n, err := f.engine.ForgetEvents(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
			t.Errorf("forgot %d handled events (%v), want 2", n, err)
		}
	})
}

// TestADayToComeIsOnlyADryRun: a dry run for a day to come judges the
// rules on that day (the 80th birthday next week counts), and only a dry
// run may sweep such a day.
func TestADayToComeIsOnlyADryRun(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	f := setup(t, db, nil)
	next, err := proactive.ParseDay(time.Now().In(workday.CST).AddDate(0, 0, 7).Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	f.person(t, 31, "钱老伯", next.AddDate(-80, 0, 0), "910102001001", true, "active")
	rep, err := f.engine.Sweep(ctx, proactive.SweepRequest{On: next, Since: next.AddDate(0, 0, -1), DryRun: true, By: "test"})
	if err != nil || rep.Granted != 1 {
		t.Errorf("a dry run for next week: %+v, %v; want the 80th birthday granted", rep, err)
	}
	if _, err := f.engine.Sweep(ctx, proactive.SweepRequest{On: next, Since: next.AddDate(0, 0, -1), By: "test"}); err == nil {
		t.Error("a day to come was swept for real")
	}
}

// TestPopulationOverHTTPIsSweptOverThePeopleKnown: when the population
// registry is a department's system (no bulk read), the sweep finds the
// people the platform knows who turn 80 and reads each one's record.
func TestPopulationOverHTTPIsSweptOverThePeopleKnown(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		on := time.Date(2026, 12, 7, 0, 0, 0, 0, workday.CST)
		known := f.person(t, 41, "钱老伯", on.AddDate(-80, 0, 0), "910102001001", true, "active")
		f.person(t, 42, "孙老伯", on.AddDate(-80, 0, 0), "910102001001", true, "active") // not known to the platform
		if _, err := f.ids.PutPerson(ctx, db, known, "钱老伯", ""); err != nil {
			t.Fatal(err)
		}
		f.engine.External = map[string]bool{"population": true}
		rep, err := f.engine.Sweep(ctx, proactive.SweepRequest{On: on, Since: on.AddDate(0, 0, -1), By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Candidates != 1 || rep.Granted != 1 {
			t.Errorf("sweep over the people known: %+v; want the one known to the platform granted", rep)
		}
	})
}
