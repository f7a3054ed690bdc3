package application_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/supervision"
	"yiwang/internal/workday"
)

// spotFixture is the senior card sampled every time, with civil affairs
// staff to check it and a supervisor.
type spotFixture struct {
	fixture
	st  staff
	sup authz.Principal
}

func spotSetup(t *testing.T, db *store.DB, mutate func(*catalog.Catalogue)) spotFixture {
	t.Helper()
	f := setupWith(t, db, nil, mutate)
	f.apps.SetSample(func() float64 { return 0 }) // every approval is sampled
	return spotFixture{fixture: f, st: makeStaff(t, f.ids), sup: newStaff(t, f.ids, "sup", "gsdb", authz.Supervisor)}
}

// checkOf is the spot check of application id, as a supervisor lists it.
func (f spotFixture) checkOf(t *testing.T, id int64) application.SpotCheck {
	t.Helper()
	list, err := f.apps.SpotChecks.List(context.Background(), f.sup, application.SpotFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.ApplicationID == id {
			return c
		}
	}
	t.Fatalf("application %d has no spot check in %+v", id, list)
	return application.SpotCheck{}
}

// inspector is the principal among the civil staff that c is assigned to.
func (f spotFixture) inspector(t *testing.T, c application.SpotCheck) (authz.Principal, authz.Principal) {
	t.Helper()
	civil := []authz.Principal{f.st.civil, f.st.civil2, f.st.head}
	i := slices.IndexFunc(civil, func(p authz.Principal) bool { return p.AccountID == c.Inspector })
	if i < 0 {
		t.Fatalf("spot check %d is assigned to %d, not one of the civil affairs staff", c.ID, c.Inspector)
	}
	return civil[i], civil[(i+1)%len(civil)]
}

// hasFinding checks that the board's findings hold count of kind in civil affairs.
func hasFinding(t *testing.T, apps application.Services, kind supervision.Kind, count int) {
	t.Helper()
	findings, err := apps.SpotChecks.Findings(context.Background(), time.Now())
	if err != nil || !slices.ContainsFunc(findings, func(x supervision.Finding) bool {
		return x.Kind == kind && x.Department == "civil" && x.Count == count && !x.Oldest.IsZero() && x.Link == "/workbench/spot-checks?department=civil"
	}) {
		t.Errorf("the board's findings = %+v, %v; want %d %s in civil", findings, err, count, kind)
	}
}

// sampled submits a senior card and returns it, its spot check, the
// inspector it is assigned to and a colleague who is not.
func (f spotFixture) sampled(t *testing.T) (application.Application, application.SpotCheck, authz.Principal, authz.Principal) {
	t.Helper()
	a := submitSeniorCard(t, f.fixture)
	c := f.checkOf(t, a.ID)
	inspector, colleague := f.inspector(t, c)
	return a, c, inspector, colleague
}

func TestSpotCheckAssignsARandomInspectorOfTheDepartment(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := spotSetup(t, db, nil)
		civil := []int64{f.st.civil.AccountID, f.st.civil2.AccountID, f.st.head.AccountID}
		for k := range 4 {
			f.apps.SetPick(func(n int) int { return k % n })
			for _, decider := range civil {
				got, err := f.apps.DrawInspector(ctx, "civil", decider)
				if err != nil {
					t.Fatal(err)
				}
				if got == decider || !slices.Contains(civil, got) {
					t.Errorf("draw %d with decider %d picked %d; want another of %v", k, decider, got, civil)
				}
			}
		}
		if got, _ := f.apps.DrawInspector(ctx, "housing", 0); got != 0 {
			t.Errorf("a department without staff drew inspector %d", got)
		}

		// A machine approval is sampled with an inspector and a deadline of
		// ten working days, and the inspector is told.
		f.apps.SetPick(func(n int) int { return n - 1 })
		a := submitSeniorCard(t, f.fixture)
		c := f.checkOf(t, a.ID)
		if c.Inspector != f.st.head.AccountID || c.Mode != "auto" || c.Department != "civil" || c.DueAt == nil || c.DueAt.Before(time.Now().AddDate(0, 0, 13)) || c.Overdue {
			t.Errorf("the spot check = %+v", c)
		}
		told := false
		for _, m := range f.notices.sent {
			told = told || (m.AccountID == f.st.head.AccountID && m.Kind == notify.SpotCheck && strings.Contains(m.TitleZh, a.Number))
		}
		if !told {
			t.Error("the inspector was not told of the spot check")
		}
		mine, err := f.apps.SpotChecks.List(ctx, f.st.head, application.SpotFilter{})
		if err != nil || len(mine) != 1 || mine[0].ID != c.ID {
			t.Errorf("the inspector's list = %+v, %v", mine, err)
		}
		if other, err := f.apps.SpotChecks.List(ctx, f.st.civil, application.SpotFilter{}); err != nil || len(other) != 0 {
			t.Errorf("another reviewer's list = %+v, %v", other, err)
		}
		if _, err := f.apps.SpotChecks.List(ctx, f.st.clerk, application.SpotFilter{}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a clerk listing spot checks: %v", err)
		}
	})
}

func TestCommitmentApprovalsAreSampledToo(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := spotSetup(t, db, seniorCardAs(func(it *catalog.Item) {
			it.Approval = catalog.Approval{Mode: "commitment", InspectionDays: 30, SamplePercent: 5}
		}))
		a := draft(t, f.fixture)
		if _, err := f.apps.Modes.SignCommitment(ctx, f.p, a.ID, 0, a.Modes.CommitmentText); err != nil {
			t.Fatal(err)
		}
		a, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		if err != nil || a.Status != "licence_issued" {
			t.Fatalf("submitting on commitment: %v %s", err, a.Status)
		}
		if c := f.checkOf(t, a.ID); c.Mode != "commitment" || c.Inspector == 0 {
			t.Errorf("the commitment approval's spot check = %+v", c)
		}
	})
}

func TestSpotCheckPassAndWhoMayRecordIt(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := spotSetup(t, db, nil)
		a, c, inspector, colleague := f.sampled(t)
		if _, err := f.apps.SpotChecks.Record(ctx, f.st.property, c.ID, application.SpotPass, ""); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a real estate reviewer recording civil affairs' check: %v", err)
		}
		if _, err := f.apps.SpotChecks.Record(ctx, colleague, c.ID, application.SpotPass, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a colleague not assigned recording it: %v", err)
		}
		if _, err := f.apps.SpotChecks.Record(ctx, f.sup, c.ID, application.SpotPass, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a supervisor recording it: %v", err)
		}
		got, err := f.apps.SpotChecks.Record(ctx, inspector, c.ID, application.SpotPass, "")
		if err != nil || got.Status != "confirmed" || got.CheckedAt == nil {
			t.Fatalf("passing: %+v %v", got, err)
		}
		if _, err := f.apps.SpotChecks.Record(ctx, inspector, c.ID, application.SpotFail, "又发现问题"); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("recording twice: %v", err)
		}
		if a, _ := f.apps.Drafts.Get(ctx, f.p, a.ID); a.Status != "licence_issued" || licenceStatus(t, db, a.ID) != "valid" {
			t.Errorf("after a pass the application is %s", a.Status)
		}
	})
}

func TestSpotCheckFailureRevokesAndWritesACreditRecord(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := spotSetup(t, db, nil)
		a, c, inspector, _ := f.sampled(t)
		if _, err := f.apps.SpotChecks.Record(ctx, inspector, c.ID, application.SpotFail, "  "); apperr.As(err) == nil || apperr.As(err).Code != apperr.FindingsRequired {
			t.Errorf("a failure without findings: %v", err)
		}
		got, err := f.apps.SpotChecks.Record(ctx, inspector, c.ID, application.SpotFail, "户籍不在本区，不符合条件")
		if err != nil || got.Status != "violation" || got.Findings != "户籍不在本区，不符合条件" || got.AppStatus != "revoked" {
			t.Fatalf("failing: %+v %v", got, err)
		}
		if a, _ := f.apps.Drafts.Get(ctx, f.p, a.ID); a.Status != "revoked" || licenceStatus(t, db, a.ID) != "revoked" {
			t.Errorf("after a failure: application %s, licence %s", a.Status, licenceStatus(t, db, a.ID))
		}
		var kind, note string
		if err := db.QueryRowContext(ctx, `SELECT kind, note FROM credit_records WHERE application_id = $1`, a.ID).Scan(&kind, &note); err != nil || kind != "spot_check_failed" || strings.Contains(note, "户籍") {
			t.Errorf("the credit record: %q %q %v (findings stay sealed)", kind, note, err)
		}
		if m := f.notices.last(a.ID); m.Kind != notify.Decision || !strings.Contains(m.TitleZh, "撤销") {
			t.Errorf("the applicant was told %+v", m)
		}
		var sealed string
		if err := db.QueryRowContext(ctx, `SELECT note FROM spot_checks WHERE id = $1`, c.ID).Scan(&sealed); err != nil || strings.Contains(sealed, "户籍") {
			t.Errorf("the findings are stored as %q (%v), want sealed", sealed, err)
		}
		var audited int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_entries WHERE action = 'spot_check.fail'`).Scan(&audited); err != nil || audited != 1 {
			t.Errorf("audit entries of the failure: %d %v", audited, err)
		}

		// Published for the month: item and result, the number masked, no name, no findings.
		list, err := f.apps.SpotChecks.Public(ctx, "civil", "")
		if err != nil || len(list) != 1 {
			t.Fatalf("public results = %+v, %v", list, err)
		}
		if r := list[0]; r.Result != "fail" || r.ItemName == "" || r.Number == a.Number || !strings.Contains(r.Number, "*") {
			t.Errorf("public result = %+v (number %s)", r, a.Number)
		}
		raw, _ := json.Marshal(list)
		for _, secret := range []string{"赵老汉", "户籍", a.Number, f.idNum} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("the public results give away %q: %s", secret, raw)
			}
		}
		// One its department revoked meanwhile is still found 不合格, with its credit record.
		b := submitSeniorCard(t, f.fixture)
		// The head of the item's department sees the machine's approval,
		// which has no step of theirs, and revokes it.
		if got, err := f.apps.Tasks.Revoke(ctx, f.st.head, b.ID, 0, "申请人主动申请注销"); err != nil || got.Status != "revoked" {
			t.Fatalf("the head's revocation: %+v %v", got.Status, err)
		}
		cb := f.checkOf(t, b.ID)
		inspector, _ = f.inspector(t, cb)
		if got, err := f.apps.SpotChecks.Record(ctx, inspector, cb.ID, application.SpotFail, "材料虚假"); err != nil || got.Status != "violation" {
			t.Errorf("failing the check of a revoked application: %+v %v", got, err)
		}
		if err := db.QueryRowContext(ctx, `SELECT kind FROM credit_records WHERE application_id = $1`, b.ID).Scan(&kind); err != nil || kind != "spot_check_failed" {
			t.Errorf("the revoked application's credit record: %q %v", kind, err)
		}
		if other, err := f.apps.SpotChecks.Public(ctx, "realestate", ""); err != nil || len(other) != 0 {
			t.Errorf("another department's public results = %+v, %v", other, err)
		}
		if _, err := f.apps.SpotChecks.Public(ctx, "", "2026-13"); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a month that does not exist: %v", err)
		}
		hasFinding(t, f.apps, supervision.SpotCheckFailed, 2)
	})
}

func TestFailingSpotChecksSuspendMachineApproval(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := spotSetup(t, db, nil)
		f.apps.SpotChecks.MinChecked = 3
		record := func(result application.SpotResult) {
			t.Helper()
			a := submitSeniorCard(t, f.fixture)
			if a.Decision == nil || a.Decision.Outcome != "approve" {
				t.Fatalf("the senior card was not machine-approved: %+v", a.Decision)
			}
			c := f.checkOf(t, a.ID)
			inspector, _ := f.inspector(t, c)
			if _, err := f.apps.SpotChecks.Record(ctx, inspector, c.ID, result, "不符合条件"); err != nil {
				t.Fatal(err)
			}
		}
		// One failure among two checks: too few checks to count.
		record(application.SpotPass)
		record(application.SpotFail)
		if off, _ := f.apps.Decisions.MachineSuspended(ctx, seniorCard); off {
			t.Fatal("machine approval suspended before the minimum number of checks")
		}
		record(application.SpotPass)    // 1 of 3 failed: 33% over 10%, but only a failure looks
		record(application.SpotCorrect) // one to correct counts as a failure
		if off, _ := f.apps.Decisions.MachineSuspended(ctx, seniorCard); !off {
			t.Fatal("a failure and one to correct in 4 checks did not suspend machine approval")
		}
		if a := submitSeniorCard(t, f.fixture); a.Decision == nil || a.Decision.Outcome != "manual" {
			t.Errorf("after the suspension the senior card was decided %+v", a.Decision)
		}
		told := slices.ContainsFunc(f.notices.sent, func(m notify.Message) bool {
			return m.AccountID == f.st.head.AccountID && m.Kind == notify.SpotCheck && strings.Contains(m.TitleZh, "自动审批已暂停")
		})
		if !told {
			t.Error("the department head was not told of the suspension")
		}
		hasFinding(t, f.apps, supervision.MachineOff, 1)
	})
}

func TestDepartmentSwitchStopsMachineApproval(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := spotSetup(t, db, nil)
		f.apps.SetSample(func() float64 { return 0.99 })
		if err := f.apps.SpotChecks.SetDepartmentMachineSuspended(ctx, f.st.head, "civil", true, "抽查问题较多"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a department head switching the department: %v", err)
		}
		if err := f.apps.SpotChecks.SetDepartmentMachineSuspended(ctx, f.sup, "civil", true, " "); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("switching without a reason: %v", err)
		}
		if err := f.apps.SpotChecks.SetDepartmentMachineSuspended(ctx, f.sup, "civil", true, "抽查问题较多"); err != nil {
			t.Fatal(err)
		}
		if a := submitSeniorCard(t, f.fixture); a.Decision == nil || a.Decision.Outcome != "manual" {
			t.Errorf("with civil affairs switched off the senior card was decided %+v", a.Decision)
		}
		if off, _ := f.apps.Decisions.MachineSuspended(ctx, seniorCard); !off {
			t.Error("the item does not report its department's switch")
		}
		depts, err := f.apps.SpotChecks.Departments(ctx)
		if err != nil || !slices.ContainsFunc(depts, func(d application.Department) bool { return d.Code == "civil" && d.Suspended }) {
			t.Errorf("departments = %+v, %v", depts, err)
		}
		if err := f.apps.SpotChecks.SetDepartmentMachineSuspended(ctx, f.sup, "civil", false, "已整改"); err != nil {
			t.Fatal(err)
		}
		if a := submitSeniorCard(t, f.fixture); a.Decision == nil || a.Decision.Outcome != "approve" {
			t.Errorf("after resuming the senior card was decided %+v", a.Decision)
		}
		if err := f.apps.SpotChecks.SetDepartmentMachineSuspended(ctx, f.sup, "nowhere", true, "x"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("switching a department that does not exist: %v", err)
		}
	})
}

func TestUnassignedAndLateSpotChecksAreFindings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		f.apps.SetSample(func() float64 { return 0 })
		sup := newStaff(t, f.ids, "sup", "gsdb", authz.Supervisor)
		a := submitSeniorCard(t, f) // civil affairs has no staff here
		list, err := f.apps.SpotChecks.List(ctx, sup, application.SpotFilter{Department: "civil", Status: "open"})
		if err != nil || len(list) != 1 || list[0].ApplicationID != a.ID || list[0].Inspector != 0 || !list[0].Overdue {
			t.Fatalf("the unassigned check = %+v, %v", list, err)
		}
		hasFinding(t, f.apps, supervision.SpotCheckLate, 1)
	})
}

func TestSpotCheckCorrectionKeepsTheApprovalAndTellsTheApplicant(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := spotSetup(t, db, nil)
		a, c, inspector, _ := f.sampled(t)
		if _, err := f.apps.SpotChecks.Record(ctx, inspector, c.ID, application.SpotCorrect, ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a correction without findings: %v", err)
		}
		if _, err := f.apps.SpotChecks.Record(ctx, inspector, c.ID, "maybe", "x"); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a result that is none: %v", err)
		}
		got, err := f.apps.SpotChecks.Record(ctx, inspector, c.ID, application.SpotCorrect, "联系电话有误，请更正")
		if err != nil || got.Status != "corrected" || got.AppStatus != "licence_issued" {
			t.Fatalf("ordering a correction: %+v %v", got, err)
		}
		if licenceStatus(t, db, a.ID) != "valid" {
			t.Error("a correction revoked the licence")
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM credit_records WHERE application_id = $1`, a.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("a correction wrote %d credit records (%v)", n, err)
		}
		if m := f.notices.last(a.ID); m.Kind != notify.Decision || !strings.Contains(m.TitleZh, "整改") {
			t.Errorf("the applicant was told %+v", m)
		}
		if list, err := f.apps.SpotChecks.Public(ctx, "civil", ""); err != nil || len(list) != 1 || list[0].Result != "correct" {
			t.Errorf("public results = %+v, %v", list, err)
		}
	})
}

// TestSpotCheckLateIsReassigned: a check within its deadline stays with its
// inspector; once late, a supervisor draws another civil affairs inspector
// (never the one it had), with a new deadline, who is told; nobody else may.
func TestSpotCheckLateIsReassigned(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := spotSetup(t, db, nil)
		_, c, inspector, _ := f.sampled(t)
		if _, err := f.apps.SpotChecks.Reassign(ctx, f.sup, c.ID); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("reassigning a check not yet due: %v", err)
		}
		later := c.DueAt.Add(24 * time.Hour)
		f.apps.SetNow(func() time.Time { return later })
		if _, err := f.apps.SpotChecks.Reassign(ctx, f.st.head, c.ID); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a head reassigning: %v", err)
		}
		got, err := f.apps.SpotChecks.Reassign(ctx, f.sup, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Inspector == 0 || got.Inspector == inspector.AccountID || got.DueAt == nil || !got.DueAt.After(later) || got.Overdue {
			t.Fatalf("reassigned %+v, from %d", got, inspector.AccountID)
		}
		if _, err := f.apps.SpotChecks.Record(ctx, inspector, c.ID, application.SpotPass, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("the former inspector recording it: %v", err)
		}
		if !slices.ContainsFunc(f.notices.sent, func(m notify.Message) bool {
			return m.AccountID == got.Inspector && m.Kind == notify.SpotCheck && strings.Contains(m.BodyZh, got.DueAt.In(workday.CST).Format(time.DateOnly))
		}) {
			t.Error("the new inspector was not told the new deadline")
		}
	})
}
