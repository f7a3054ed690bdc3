package application_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

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
	"yiwang/internal/seal"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/web"
	"yiwang/internal/workday"
)

const seniorCard = "11910102MB00011858-07-00001"

type fixture struct {
	apps     application.Services
	builtin  *hub.Builtin
	ids      *identity.Store
	notices  *notices
	licences *licence.Service
	p        authz.Principal
	idNum    string
	pii      *pii.Protector
}

// notices records what the service told people.
type notices struct {
	mu   sync.Mutex
	sent []notify.Message
}

func (n *notices) Send(_ context.Context, _ *sql.Tx, m notify.Message) (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, m)
	return int64(len(n.sent)), nil
}

// last is the newest notice about an application.
func (n *notices) last(applicationID int64) notify.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := len(n.sent) - 1; i >= 0; i-- {
		if n.sent[i].ApplicationID == applicationID {
			return n.sent[i]
		}
	}
	return notify.Message{}
}

// blobs is a file store in a temporary folder.
func blobs(t testing.TB) blob.Store {
	t.Helper()
	fs, err := blob.NewFS(t.TempDir(), blob.Limits{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// enqueueOnly is a job queue that works nothing: tests run the jobs' work themselves.
func enqueueOnly(t testing.TB, db *store.DB) *jobs.Queue {
	t.Helper()
	q, err := jobs.New(db, jobs.NewWorkers(), slog.New(slog.DiscardHandler), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// calendars is the shipped working-day calendar.
func calendars(t testing.TB) application.Calendars {
	t.Helper()
	cal, err := workday.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	return application.FixedCalendar(cal)
}

func idNumber(birth, seq string) string {
	c, _ := ident.IDNumberCheck("910102" + birth + seq)
	return "910102" + birth + seq + string(c)
}

// setup publishes the demo catalogue, registers a 66-year-old and gives the
// registries what they know of him; conn wraps the connector (nil: as is).
func setup(t testing.TB, db *store.DB, conn func(hub.Connector) hub.Connector) fixture {
	t.Helper()
	return setupWith(t, db, conn, nil)
}

// setupWith is setup with the catalogue changed by mutate before it is published.
func setupWith(t testing.TB, db *store.DB, conn func(hub.Connector) hub.Connector, mutate func(*catalog.Catalogue)) fixture {
	t.Helper()
	return setupCalendars(t, db, conn, mutate, calendars(t))
}

// setupCalendars is setupWith counting working days on cals.
func setupCalendars(t testing.TB, db *store.DB, conn func(hub.Connector) hub.Connector, mutate func(*catalog.Catalogue), cals application.Calendars) fixture {
	t.Helper()
	return setupLimits(t, db, conn, mutate, cals, identity.NewLimiter(db))
}

// setupLimits is setupCalendars with the submission limits of limits.
func setupLimits(t testing.TB, db *store.DB, conn func(hub.Connector) hub.Connector, mutate func(*catalog.Catalogue), cals application.Calendars, limits *identity.Limiter) fixture {
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
	id := idNumber("19600315", "456")
	a, err := ids.RegisterPerson(ctx, id, "赵老汉", "13900000001", "a-long-password")
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := ids.StartSession(ctx, a.ID)
	p, _, err := ids.SessionPrincipal(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	b := hub.NewBuiltin(db, protector)
	who := hub.Subject{Kind: hub.Person, Key: id}
	for source, rec := range map[string]hub.Record{
		"population":               hub.Record{"name": "赵老汉", "id_number": id, "address": "示范市明德区福安街道幸福路1号", "household": "HH-001", "household_region": "910102001001", "birth_date": "1960-03-15"},
		"licence.resident_id_card": hub.Record{"number": id, "status": "valid", "holder": "赵老汉"},
		"credit":                   hub.Record{"level": "A", "blacklisted": false},
	} {
		if err := b.Put(ctx, db, source, who, rec); err != nil {
			t.Fatal(err)
		}
	}
	var connector hub.Connector = b
	if conn != nil {
		connector = conn(b)
	}
	reader := hub.NewReader(db, connector, b.SubjectIndex)
	told := &notices{}
	keyring, err := seal.NewKeyring(db, k)
	if err != nil {
		t.Fatal(err)
	}
	licences := licence.NewService(db, keyring, protector, b, "https://yiwang.test")
	return fixture{apps: application.NewServices(application.Deps{DB: db, Protector: protector, Catalog: cs, Identities: ids, Reader: reader, Limits: limits,
		Calendars: cals, Notifier: told, Blobs: blobs(t), Licences: licences, Registries: b, Queue: enqueueOnly(t, db)}), builtin: b, ids: ids, notices: told, licences: licences, p: p, idNum: id, pii: protector}
}

func TestInstantDeclarationFillsFlagsAndLogs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)

		a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		if a.Form["name"] != "赵老汉" || a.Form["id_number"] != f.idNum || a.Form["address"] != "示范市明德区福安街道幸福路1号" {
			t.Errorf("prefilled form = %v", a.Form)
		}
		if pv := a.Provenance["address"]; pv.Source != "population.address" || pv.Label != "人口库" || !pv.Editable || pv.Status != "filled" {
			t.Errorf("address provenance = %+v", pv)
		}
		if pv := a.Provenance["id_number"]; pv.Editable {
			t.Error("the ID number from the registry is editable")
		}
		attached := map[string]application.Material{}
		for _, m := range a.Materials {
			attached[m.ID] = m
		}
		if m := attached["id_card"]; !m.Attached || m.Trust != "A" || m.Source != "licence:resident_id_card" {
			t.Errorf("ID card material = %+v", m)
		}
		if m := attached["household"]; !m.Attached || m.Source != "registry:population.household" {
			t.Errorf("household material = %+v", m)
		}
		if a.FieldsPrefilled != 4 || a.MaterialsAttached != 2 || a.MaterialsTotal != 2 {
			t.Errorf("counters: %d of %d fields prefilled, %d of %d materials attached", a.FieldsPrefilled, a.FieldsTotal, a.MaterialsAttached, a.MaterialsTotal)
		}

		// A value the registry vouches for cannot be typed over.
		_, err = f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"id_number": "11010519491231002X"})
		if e := apperr.As(err); e == nil || e.Code != apperr.BadForm || len(web.ErrorDetails("zh", e)) != 1 ||
			!strings.Contains(web.ErrorDetails("zh", e)[0], "不能在此修改") || !strings.Contains(web.ErrorDetails("en", e)[0], "cannot be changed here") {
			t.Errorf("overwriting the registry's ID number: %v", err)
		}
		_, err = f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "carrier pigeon"})
		if e := apperr.As(err); e == nil || e.Kind != apperr.Invalid ||
			!strings.Contains(fmt.Sprint(web.ErrorDetails("zh", e)), "“carrier pigeon”不是可选的选项") || !strings.Contains(fmt.Sprint(web.ErrorDetails("en", e)), `"carrier pigeon" is not one of the choices`) {
			t.Errorf("an answer outside the choices: %v", err)
		}
		if _, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("submitting without the required delivery choice: %v", err)
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "post"}); err != nil {
			t.Fatal(err)
		}

		// The registry changes between start and submission: flagged, not overwritten.
		if err := f.builtin.Put(ctx, db, "population", hub.Subject{Kind: hub.Person, Key: f.idNum}, hub.Record{"name": "赵老汉", "id_number": f.idNum,
			"address": "示范市明德区南园街道新家园2号", "household": "HH-001", "household_region": "910102003001", "birth_date": "1960-03-15"}); err != nil {
			t.Fatal(err)
		}
		a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != "submitted" || len(a.Mismatches) != 1 || a.Mismatches[0].Field != "address" || a.Mismatches[0].Current != "示范市明德区南园街道新家园2号" {
			t.Errorf("after submission: status %s, mismatches %+v", a.Status, a.Mismatches)
		}
		if a.Form["address"] != "示范市明德区福安街道幸福路1号" {
			t.Errorf("the form was overwritten: %v", a.Form["address"])
		}
		if _, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("submitting twice: %v", err)
		}

		// The person sees who read their data and why.
		reads, err := f.apps.Drafts.ReadsAboutMe(ctx, f.p)
		if err != nil {
			t.Fatal(err)
		}
		var sources []string
		for _, r := range reads {
			sources = append(sources, r.Source+":"+r.Purpose)
		}
		got := strings.Join(sources, " ")
		if !strings.Contains(got, "population:办理「老年人优待证办理」") || !strings.Contains(got, "licence.resident_id_card") || !strings.Contains(got, "population:提交") {
			t.Errorf("reads about me: %s", got)
		}
	})
}

// down is a source that does not answer.
type down struct{ hub.Connector }

func (d down) Fetch(ctx context.Context, source string, s hub.Subject, fields []string) (hub.Record, error) {
	if source == "population" {
		return nil, fmt.Errorf("%w: population: timeout after 3 attempts", hub.ErrUnavailable)
	}
	return d.Connector.Fetch(ctx, source, s, fields)
}

func TestUnavailableSourceLeavesFieldsToTheApplicant(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, func(c hub.Connector) hub.Connector { return down{c} })
		a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		if _, filled := a.Form["address"]; filled || a.Provenance["address"].Status != "unavailable" {
			t.Errorf("address with the population registry down: %v %+v", a.Form["address"], a.Provenance["address"])
		}
		// Data the applicant typed is the applicant's to change.
		if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"address": "自己填写的地址"}); err != nil {
			t.Errorf("typing a field the registry could not fill: %v", err)
		}
	})
}

func TestApplicationsAreTheirApplicantsOnly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		stranger := authz.Principal{AccountID: f.p.AccountID + 100, Kind: "person", PersonID: f.p.PersonID + 100, Roles: []authz.Role{authz.Applicant}}
		if _, err := f.apps.Drafts.Get(ctx, stranger, a.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a stranger reads the application: %v", err)
		}
		if _, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard, Answers: map[string]string{"colour": "red"}}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("answers to a question the item does not ask: %v", err)
		}
		if _, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: "NO-SUCH-ITEM"}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("an unknown item: %v", err)
		}
	})
}

// identCredit completes a 17-character credit code with its check character.
func identCredit(first17 string) (string, error) {
	c, err := ident.CreditCodeCheck(first17)
	return first17 + string(c), err
}

// submitSeniorCard starts and submits a senior card application.
func submitSeniorCard(t testing.TB, f fixture) application.Application {
	t.Helper()
	ctx := context.Background()
	a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{"delivery": "electronic"}
	for _, field := range []string{"name", "id_number"} { // typed when the registry could not fill them
		if _, filled := a.Form[field]; !filled {
			values[field] = map[string]any{"name": "赵老汉", "id_number": f.idNum}[field]
		}
	}
	if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, values); err != nil {
		t.Fatal(err)
	}
	a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestInstantApprovalInTheSubmission(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		a := submitSeniorCard(t, f)
		if a.Decision == nil || a.Decision.Outcome != "approve" || len(a.Decision.Reasons) != 0 {
			t.Fatalf("decision for a 66-year-old resident: %+v", a.Decision)
		}
		rec, err := f.apps.Decisions.DecisionRecord(ctx, newStaff(t, f.ids, "civil.reviewer", "civil", authz.Reviewer), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Actor != "machine" || rec.RulesDigest == "" || rec.InputsDigest == "" || len(rec.Rules) != 2 || rec.Version != a.VersionID {
			t.Errorf("decision record: %+v", rec)
		}
		// The record is the deciding department's (and supervisors'), masked.
		for _, leak := range []string{f.idNum, "赵老汉", "13900000001"} {
			if strings.Contains(string(rec.Inputs), leak) {
				t.Errorf("the decision record shows %s unmasked: %s", leak, rec.Inputs)
			}
		}
		if !strings.Contains(string(rec.Inputs), pii.MaskIDNumber(f.idNum)) {
			t.Errorf("the decision record's inputs lost the masked ID number: %s", rec.Inputs)
		}
		if _, err := f.apps.Decisions.DecisionRecord(ctx, newStaff(t, f.ids, "realestate.reviewer", "realestate", authz.Reviewer), a.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another department's reviewer reading the decision record: %v", err)
		}
		if _, err := f.apps.Decisions.DecisionRecord(ctx, newStaff(t, f.ids, "supervisor", "gsdb", authz.Supervisor), a.ID); err != nil {
			t.Errorf("a supervisor reading the decision record: %v", err)
		}
		got, _ := f.apps.Drafts.Get(ctx, f.p, a.ID)
		if got.Decision == nil || got.Decision.Outcome != "approve" {
			t.Errorf("the decision is not shown with the application: %+v", got.Decision)
		}
	})
}

func TestMachineNeverApprovesWhatItCannotSee(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db, func(c hub.Connector) hub.Connector { return down{c} })
		a := submitSeniorCard(t, f)
		if a.Decision == nil || a.Decision.Outcome != "manual" || len(a.Decision.Reasons) == 0 {
			t.Fatalf("decision with the population registry down: %+v", a.Decision)
		}
		for _, r := range a.Decision.Reasons {
			if strings.Contains(r, "sources.") || strings.Contains(r, "error") {
				t.Errorf("the applicant sees an expression or error: %q", r)
			}
		}
	})
}

// flaky is a population registry that goes down after the form was filled.
type flaky struct {
	hub.Connector
	down *atomic.Bool
}

func (f flaky) Fetch(ctx context.Context, source string, s hub.Subject, fields []string) (hub.Record, error) {
	if source == "population" && f.down.Load() {
		return nil, fmt.Errorf("%w: population: timeout after 3 attempts", hub.ErrUnavailable)
	}
	return f.Connector.Fetch(ctx, source, s, fields)
}

// TestSubmissionWithASourceDownIsUncheckedNotChanged: a registry that filled
// the form and cannot be read at submission leaves the prefilled values
// unchecked — said so to the applicant and staff, never "the data changed" —
// and the machine does not approve.
func TestSubmissionWithASourceDownIsUncheckedNotChanged(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		down := &atomic.Bool{}
		f := setup(t, db, func(c hub.Connector) hub.Connector { return flaky{c, down} })
		ctx := context.Background()
		a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
			t.Fatal(err)
		}
		down.Store(true)
		a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Decision == nil || a.Decision.Outcome != "manual" {
			t.Fatalf("decision with the registry down at submission: %+v", a.Decision)
		}
		if len(a.Mismatches) == 0 {
			t.Fatal("no prefilled value is marked unchecked")
		}
		for _, m := range a.Mismatches {
			if !m.Unavailable {
				t.Errorf("%s is reported as changed, not unchecked: %+v", m.Field, m)
			}
		}
		for _, r := range a.Decision.Reasons {
			if strings.Contains(r, "不一致") {
				t.Errorf("the applicant is told the data changed: %q", r)
			}
		}
	})
}

func TestSuspendedItemGoesToAPerson(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		admin := authz.Principal{AccountID: f.p.AccountID, Kind: "staff", Roles: []authz.Role{authz.Supervisor}}
		if err := f.apps.Decisions.SetMachineSuspended(ctx, admin, seniorCard, true, ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("switching without a reason: %v", err)
		}
		if err := f.apps.Decisions.SetMachineSuspended(ctx, admin, seniorCard, true, "抽查发现问题，暂停自动审批"); err != nil {
			t.Fatal(err)
		}
		a := submitSeniorCard(t, f)
		if a.Decision == nil || a.Decision.Outcome != "manual" || !strings.Contains(strings.Join(a.Decision.Reasons, " "), "暂停") {
			t.Errorf("decision while suspended: %+v", a.Decision)
		}
		if err := f.apps.Decisions.SetMachineSuspended(ctx, admin, seniorCard, false, "问题已整改"); err != nil {
			t.Fatal(err)
		}
		if a := submitSeniorCard(t, f); a.Decision.Outcome != "approve" {
			t.Errorf("decision after resuming: %+v", a.Decision)
		}
	})
}

func TestMachineApprovalsAreSampledForSpotChecks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		f.apps.SetSample(func() float64 { return 0.01 }) // under the senior card's 5%
		a := submitSeniorCard(t, f)
		f.apps.SetSample(func() float64 { return 0.99 })
		submitSeniorCard(t, f)
		sup := newStaff(t, f.ids, "sup", "gsdb", authz.Supervisor)
		checks, err := f.apps.SpotChecks.List(ctx, sup, application.SpotFilter{Status: "open"})
		if err != nil {
			t.Fatal(err)
		}
		if len(checks) != 1 || checks[0].ApplicationID != a.ID || checks[0].ItemCode != seniorCard {
			t.Errorf("spot checks = %+v, want the first approval only", checks)
		}
	})
}
