package application_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"yiwang/internal/apitest"
	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/licence"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/web"
)

// parallelSteps gives the senior card a parallel review by two
// departments for the cases the machine leaves to people: acceptance, civil
// affairs and real estate at once, then the civil affairs head decides. It
// drops the item's manual route, so that those cases take its steps.
func parallelSteps(c *catalog.Catalogue) {
	for _, it := range c.Items {
		if it.Item.Code == seniorCard {
			it.Item.Approval.Manual = nil
			it.Item.Steps = []catalog.Step{
				{ID: "accept", Name: catalog.Text{Zh: "受理", En: "Acceptance"}, Department: "civil", Role: "clerk"},
				{ID: "civil_review", Name: catalog.Text{Zh: "民政审查", En: "Civil review"}, Department: "civil", Role: "reviewer", Days: 2, Group: "joint"},
				{ID: "property_check", Name: catalog.Text{Zh: "不动产核查", En: "Property check"}, Department: "realestate", Role: "reviewer", Days: 2, Group: "joint"},
				{ID: "decide", Name: catalog.Text{Zh: "决定", En: "Decision"}, Department: "civil", Role: "head", Days: 1},
			}
		}
	}
}

type staff struct {
	clerk, civil, civil2, property, head authz.Principal
}

// newStaff creates a staff account of dept with roles and returns its principal.
func newStaff(t *testing.T, ids *identity.Store, user, dept string, roles ...authz.Role) authz.Principal {
	t.Helper()
	ctx := context.Background()
	a, err := ids.CreateStaff(ctx, identity.NewStaff{Username: user, DisplayName: user, Password: "a-long-password", Department: dept, Region: "910102", Roles: roles}, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ids.StaffPrincipal(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func makeStaff(t *testing.T, ids *identity.Store) staff {
	t.Helper()
	mk := func(user, dept string, roles ...authz.Role) authz.Principal {
		return newStaff(t, ids, user, dept, roles...)
	}
	return staff{
		clerk: mk("clerk", "gsdb", authz.Clerk), civil: mk("civil.a", "civil", authz.Reviewer), civil2: mk("civil.b", "civil", authz.Reviewer),
		property: mk("property", "realestate", authz.Reviewer), head: mk("civil.head", "civil", authz.Head),
	}
}

func taskOf(t *testing.T, f fixture, p authz.Principal, step string) application.Task {
	t.Helper()
	task, ok := inboxTask(t, f, p, 0, step)
	if !ok {
		t.Fatalf("%s's inbox has no %s task", p.Name, step)
	}
	return task
}

// inboxTask is the step of application id (0: of any) in p's inbox, if
// the inbox holds it.
func inboxTask(t *testing.T, f fixture, p authz.Principal, id int64, step string) (application.Task, bool) {
	t.Helper()
	tasks, err := f.apps.Tasks.Inbox(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if task.StepID == step && (id == 0 || task.ApplicationID == id) {
			return task, true
		}
	}
	return application.Task{}, false
}

// submitManual starts and submits a senior card application that goes to
// people because machine approval is switched off.
func submitManual(t *testing.T, f fixture) application.Application {
	t.Helper()
	ctx := context.Background()
	a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "post"}); err != nil {
		t.Fatal(err)
	}
	a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestManualJourneyWithCorrectionAndParallelApproval(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, parallelSteps)
		st := makeStaff(t, f.ids)
		if err := f.apps.Decisions.SetMachineSuspended(ctx, st.head, seniorCard, true, "test"); err != nil {
			t.Fatal(err)
		}
		a := submitManual(t, f)
		if a.Status != "submitted" || !regexp.MustCompile(`^910102-\d{8}-000001$`).MatchString(a.Number) {
			t.Fatalf("submitted: status %s, number %q", a.Status, a.Number)
		}
		if b := submitManual(t, f); !strings.HasSuffix(b.Number, "-000002") {
			t.Errorf("the second application of the day is numbered %s", b.Number)
		}

		// Acceptance is the clerks' work, not the reviewers'.
		accept := taskOf(t, f, st.clerk, "accept")
		if tasks, _ := f.apps.Tasks.Inbox(ctx, st.civil); slices.ContainsFunc(tasks, func(x application.Task) bool { return x.ApplicationID == a.ID }) {
			t.Error("a reviewer sees the acceptance task")
		}

		// The clerk asks for everything missing at once; the clock stops.
		if _, err := f.apps.Tasks.RequestCorrection(ctx, st.clerk, accept.ID, 0, []application.CorrectionItem{{Field: "no_such_field", Reason: "x"}}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a correction of a field the form lacks: %v", err)
		}
		if _, err := f.apps.Tasks.RequestCorrection(ctx, st.clerk, accept.ID, 0, []application.CorrectionItem{{Field: "delivery", Reason: "实体卡暂停邮寄，请改选仅电子证"}}); err != nil {
			t.Fatal(err)
		}
		a, _ = f.apps.Drafts.Get(ctx, f.p, a.ID)
		if a.Status != "correction_requested" || !a.ClockStopped || a.Correction == nil || a.Correction.Items[0].Reason != "实体卡暂停邮寄，请改选仅电子证" {
			t.Fatalf("after the correction request: %s, stopped %v, %+v", a.Status, a.ClockStopped, a.Correction)
		}
		if n := f.notices.last(a.ID); n.Kind != "correction_requested" {
			t.Errorf("the applicant was told %+v", n)
		}
		if _, err := f.apps.Tasks.DecideTask(ctx, st.clerk, accept.ID, 0, true, nil, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("accepting while the applicant corrects: %v", err)
		}
		if _, err := f.apps.Drafts.SupplyCorrection(ctx, f.p, a.ID, 0, map[string]any{}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("supplying nothing: %v", err)
		}
		a, err := f.apps.Drafts.SupplyCorrection(ctx, f.p, a.ID, 0, map[string]any{"delivery": "electronic"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != "submitted" || a.ClockStopped || a.Form["delivery"] != "electronic" {
			t.Fatalf("after supplying: %s, stopped %v, delivery %v", a.Status, a.ClockStopped, a.Form["delivery"])
		}

		// Accepting starts the clock and opens both parallel steps.
		seen := a.Revision
		if _, err := f.apps.Tasks.DecideTask(ctx, st.clerk, accept.ID, seen, true, nil, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Tasks.DecideTask(ctx, st.clerk, accept.ID, seen, true, nil, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("acting on a stale revision: %v", err)
		}
		a, _ = f.apps.Drafts.Get(ctx, f.p, a.ID)
		if a.Status != "under_review" || a.AcceptedAt == nil || a.Deadline == nil || !a.Deadline.After(*a.AcceptedAt) {
			t.Fatalf("after acceptance: %s, accepted %v, deadline %v", a.Status, a.AcceptedAt, a.Deadline)
		}
		civil, property := taskOf(t, f, st.civil, "civil_review"), taskOf(t, f, st.property, "property_check")
		if civil.Deadline == nil || property.Deadline == nil {
			t.Error("parallel steps have no deadlines")
		}
		if err := f.apps.Tasks.Claim(ctx, st.civil, civil.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Tasks.DecideTask(ctx, st.civil2, civil.ID, 0, true, nil, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("deciding a task someone else claimed: %v", err)
		}
		if _, err := f.apps.Tasks.DecideTask(ctx, st.civil, civil.ID, 0, true, nil, "材料齐全"); err != nil {
			t.Fatal(err)
		}
		if tasks, _ := f.apps.Tasks.Inbox(ctx, st.head); len(tasks) != 0 {
			t.Errorf("the head has work before the parallel stage is done: %+v", tasks)
		}
		if _, err := f.apps.Tasks.DecideTask(ctx, st.property, property.ID, 0, true, nil, ""); err != nil {
			t.Fatal(err)
		}
		decide := taskOf(t, f, st.head, "decide")
		if _, err := f.apps.Tasks.DecideTask(ctx, st.head, decide.ID, 0, true, nil, ""); err != nil {
			t.Fatal(err)
		}
		a, _ = f.apps.Drafts.Get(ctx, f.p, a.ID)
		if a.Status != "licence_issued" || a.DecidedAt == nil {
			t.Fatalf("after the head's decision: %s", a.Status)
		}
		var actions []string
		for _, e := range a.Timeline {
			actions = append(actions, e.Action)
		}
		want := []string{"start", "submit", "request_correction", "supply", "accept", "start_review", "claim", "step_approved", "step_approved", "approve", "issue"}
		if !slices.Equal(actions, want) {
			t.Errorf("timeline %v, want %v", actions, want)
		}
		if n := f.notices.last(a.ID); n.Kind != "licence_issued" || !strings.Contains(n.BodyZh, "老年人优待证") {
			t.Errorf("the applicant was told %+v", n)
		}
		issued := a.Timeline[len(a.Timeline)-1].Note
		if v, err := f.licences.VerifyNumber(ctx, issued); err != nil || v.Result != "valid" {
			t.Fatalf("the issued licence %q verifies as %+v, %v", issued, v, err)
		}

		// Authorised staff revoke it afterwards, with a reason.
		if _, err := f.apps.Tasks.Revoke(ctx, st.head, a.ID, 0, ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("revoking without a reason: %v", err)
		}
		if _, err := f.apps.Tasks.Revoke(ctx, st.civil, a.ID, 0, "x"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a reviewer revoking: %v", err)
		}
		if v, err := f.apps.Tasks.Revoke(ctx, st.head, a.ID, 0, "申请人提供虚假材料"); err != nil || v.Status != "revoked" {
			t.Errorf("revoking: %v, %v", v.Status, err)
		}
		if v, err := f.licences.VerifyNumber(ctx, issued); err != nil || v.Result != "revoked" {
			t.Errorf("the licence of the revoked application verifies as %+v, %v", v, err)
		}
		if _, err := f.apps.Drafts.Withdraw(ctx, f.p, a.ID, 0, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("withdrawing a decided application: %v", err)
		}
	})
}

func TestAnyParallelRejectionRejectsWithReasons(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, parallelSteps)
		st := makeStaff(t, f.ids)
		if err := f.apps.Decisions.SetMachineSuspended(ctx, st.head, seniorCard, true, "test"); err != nil {
			t.Fatal(err)
		}
		a := submitManual(t, f)
		if _, err := f.apps.Tasks.DecideTask(ctx, st.clerk, taskOf(t, f, st.clerk, "accept").ID, 0, true, nil, ""); err != nil {
			t.Fatal(err)
		}
		property := taskOf(t, f, st.property, "property_check")
		_, err := f.apps.Tasks.DecideTask(ctx, st.property, property.ID, 0, false, nil, "")
		if e := apperr.As(err); e == nil || e.Kind != apperr.Invalid || e.Code != apperr.RejectionReasonsRequired {
			t.Errorf("rejecting without reasons: %v", err)
		} else if zh := web.ErrorText("zh", e); zh != "不予批准时须写明理由，申请人会收到。" {
			t.Errorf("a page shows a rejection without reasons as %q", zh)
		}
		// The API answers in the caller's language with the rejection's
		// words, not the prompt for an objection's reasons.
		api := httpx.NewRouter(slog.New(slog.DiscardHandler))
		application.NewHandler(f.apps, slog.New(slog.DiscardHandler)).Register(api)
		req := httptest.NewRequest("POST", "/api/v1/tasks/"+itoa(property.ID)+"/decision", strings.NewReader(`{"outcome":"reject","reasons":[]}`)).WithContext(authz.With(ctx, st.property))
		req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
		req.Header.Set("Content-Type", "application/json")
		rec := apitest.MustNew(t).Serve(t, api, req)
		if body := rec.Body.String(); rec.Code != http.StatusBadRequest || !strings.Contains(body, `"code":"rejection_reasons_required"`) || !strings.Contains(body, "不予批准时须写明理由") || strings.Contains(body, "异议") {
			t.Errorf("the API on a rejection without reasons: %d %s", rec.Code, body)
		}
		if _, err := f.apps.Tasks.DecideTask(ctx, st.property, property.ID, 0, false, []string{"申请人名下房产登记信息有误"}, ""); err != nil {
			t.Fatal(err)
		}
		a, _ = f.apps.Drafts.Get(ctx, f.p, a.ID)
		if a.Status != "rejected" || !slices.Equal(a.Reasons, []string{"申请人名下房产登记信息有误"}) {
			t.Fatalf("after a parallel rejection: %s %v", a.Status, a.Reasons)
		}
		view, err := f.apps.Tasks.StaffApplication(ctx, st.civil, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range view.Tasks {
			if task.StepID == "civil_review" && task.Status != "cancelled" {
				t.Errorf("the other parallel step is %s", task.Status)
			}
		}
		if tasks, _ := f.apps.Tasks.Inbox(ctx, st.civil); len(tasks) != 0 {
			t.Errorf("a rejected application stays in an inbox: %+v", tasks)
		}
	})
}

func TestWithdrawAndIdempotencyKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		req := application.StartRequest{ItemCode: seniorCard, IdempotencyKey: "k-1"}
		a, err := f.apps.Drafts.Start(ctx, f.p, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := f.apps.Drafts.Start(ctx, f.p, req)
		if err != nil || again.ID != a.ID {
			t.Fatalf("a retried start made application %d (first %d): %v", again.ID, a.ID, err)
		}
		if _, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard, Channel: "mobile", IdempotencyKey: "k-1"}); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("the key reused for another request: %v", err)
		}
		if _, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard, Channel: "window"}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a person choosing the window channel: %v", err)
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "post"}); err != nil {
			t.Fatal(err)
		}
		first, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "s-1")
		if err != nil {
			t.Fatal(err)
		}
		retry, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "s-1")
		if err != nil || retry.Number != first.Number {
			t.Errorf("a retried submission: %v, number %s vs %s", err, retry.Number, first.Number)
		}

		d, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		w, err := f.apps.Drafts.Withdraw(ctx, f.p, d.ID, 0, "不办了")
		if err != nil || w.Status != "withdrawn" {
			t.Fatalf("withdrawing a draft: %v %v", w.Status, err)
		}
		if _, err := f.apps.Drafts.Submit(ctx, f.p, d.ID, 0, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("submitting a withdrawn application: %v", err)
		}
	})
}

// withPhoto adds a photo the applicant must upload to the senior card.
func withPhoto(c *catalog.Catalogue) {
	for _, it := range c.Items {
		if it.Item.Code == seniorCard {
			it.Item.Materials = append(it.Item.Materials, catalog.Material{ID: "photo", Name: catalog.Text{Zh: "近期免冠照片", En: "Recent photo"},
				Required: true, Sources: []catalog.MaterialSource{{Upload: true}}, Trust: "C"})
		}
	}
}

// clerkAt is a new window clerk posted to the hall code in region, which is
// made if it does not exist yet.
func clerkAt(t *testing.T, f fixture, db *store.DB, user, hall, region string) authz.Principal {
	t.Helper()
	return postedAt(t, f, db, user, hall, region, authz.Clerk)
}

// postedAt creates a staff account of the gsdb department posted to hall
// (created in region if missing) with roles, and returns its principal.
func postedAt(t *testing.T, f fixture, db *store.DB, user, hall, region string, roles ...authz.Role) authz.Principal {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO regions (code, level, name_zh, name_en) VALUES ($1, 'district', $1, $1) ON CONFLICT (code) DO NOTHING`, region); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO halls (code, region_code, name_zh, name_en) VALUES ($1, $2, $1, $1) ON CONFLICT (code) DO NOTHING`, hall, region); err != nil {
		t.Fatal(err)
	}
	var hallID int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM halls WHERE code = $1`, hall).Scan(&hallID); err != nil {
		t.Fatal(err)
	}
	a, err := f.ids.CreateStaff(ctx, identity.NewStaff{Username: user, DisplayName: user, Password: "a-long-password", Department: "gsdb", Region: "910102", HallID: hallID, Roles: roles}, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.ids.StaffPrincipal(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pngFile is the smallest content the blob store accepts as a PNG.
var pngFile = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

func TestWindowIntakeWithVerifiedScans(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, withPhoto)
		clerk, farClerk := clerkAt(t, f, db, "clerk.near", "mingde-hall", "910102"), clerkAt(t, f, db, "clerk.far", "faraway-hall", "920101")
		req := application.IntakeRequest{IDNumber: f.idNum, Name: "赵老汉", ItemCode: seniorCard, IdentityChecked: true, Consent: true}

		if _, err := f.apps.Drafts.Intake(ctx, farClerk, req); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("intake at a hall outside the item's scope: %v", err)
		}
		wrong := req
		wrong.Name = "赵小汉"
		if _, err := f.apps.Drafts.Intake(ctx, clerk, wrong); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("intake under a name that does not match the ID number: %v", err)
		}
		unchecked := req
		unchecked.IdentityChecked = false
		if _, err := f.apps.Drafts.Intake(ctx, clerk, unchecked); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("intake without checking identity: %v", err)
		}
		if _, err := f.apps.Drafts.Intake(ctx, f.p, req); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("an applicant taking in a walk-in: %v", err)
		}
		a, err := f.apps.Drafts.Intake(ctx, clerk, req)
		if err != nil {
			t.Fatal(err)
		}
		if a.Channel != "window" || a.HallCode != "mingde-hall" || a.Form["name"] != "赵老汉" {
			t.Fatalf("intake: channel %s, hall %s, form %v", a.Channel, a.HallCode, a.Form)
		}
		if _, err := f.apps.Drafts.UploadMaterial(ctx, clerk, a.ID, 0, "photo", strings.NewReader("not a picture"), true); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("uploading text as a photo: %v", err)
		}
		if _, err := f.apps.Drafts.UploadMaterial(ctx, clerk, a.ID, 0, "id_card", bytes.NewReader(pngFile), true); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("uploading over an e-licence: %v", err)
		}
		a, err = f.apps.Drafts.UploadMaterial(ctx, clerk, a.ID, 0, "photo", bytes.NewReader(pngFile), true)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(a.Materials, func(m application.Material) bool { return m.ID == "photo" })
		if m := a.Materials[i]; !m.Attached || m.Trust != "B" || m.File == nil || m.File.MediaType != "image/png" {
			t.Errorf("the verified scan: %+v", m)
		}
		rc, file, err := f.apps.Drafts.OpenMaterial(ctx, clerk, a.ID, "photo")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, pngFile) || file.Size != int64(len(pngFile)) {
			t.Errorf("the stored scan reads back as %d bytes", len(got))
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, clerk, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
			t.Fatal(err)
		}
		a, err = f.apps.Drafts.Submit(ctx, clerk, a.ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Number == "" || a.Status == "draft" {
			t.Fatalf("the clerk's submission: %s %s", a.Status, a.Number)
		}
		// The walk-in sees it online, and was told as the person.
		mine, err := f.apps.Drafts.Get(ctx, f.p, a.ID)
		if err != nil || mine.Number != a.Number {
			t.Errorf("the applicant cannot see their window application: %v", err)
		}
		if n := f.notices.last(a.ID); n.Kind == "decision" && n.PersonID == 0 {
			t.Errorf("the walk-in's notice is addressed to the clerk's account: %+v", n)
		}
		// A person uploads only to their own drafts, never marked verified.
		d, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Drafts.UploadMaterial(ctx, f.p, d.ID, 0, "photo", bytes.NewReader(pngFile), true); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("an applicant marking their own upload verified: %v", err)
		}
		d, err = f.apps.Drafts.UploadMaterial(ctx, f.p, d.ID, 0, "photo", bytes.NewReader(pngFile), false)
		if err != nil {
			t.Fatal(err)
		}
		if m := d.Materials[slices.IndexFunc(d.Materials, func(m application.Material) bool { return m.ID == "photo" })]; m.Trust != "C" {
			t.Errorf("an applicant's upload has trust %s", m.Trust)
		}
	})
}

// A draft a clerk starts for a walk-in and the person submits online is
// decided by machine like one they made themselves: the consent they
// signed at the window covers the registry reads of their submission.
func TestWindowDraftSubmittedByThePersonIsApprovedByMachine(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		clerk := clerkAt(t, f, db, "clerk.near", "mingde-hall", "910102")
		a, err := f.apps.Drafts.Intake(ctx, clerk, application.IntakeRequest{IDNumber: f.idNum, Name: "赵老汉", ItemCode: seniorCard, IdentityChecked: true, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
			t.Fatal(err)
		}
		a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Decision == nil || a.Decision.Outcome != "approve" || len(a.Mismatches) != 0 {
			t.Fatalf("the walk-in's own submission: status %s, decision %+v, mismatches %+v", a.Status, a.Decision, a.Mismatches)
		}
		// Its reads are on record as the person's own, under the window consent.
		reads, err := f.apps.Drafts.ReadsAboutMe(ctx, f.p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reads {
			if r.Application == a.ID && r.Outcome != "ok" {
				t.Errorf("read of %s for the submission: %s", r.Source, r.Outcome)
			}
		}
	})
}

// A head of another department cannot revoke an application nor its
// licence: the refusal comes before any write, so nothing changes.
func TestRevokeByAnotherDepartmentsHeadChangesNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		a := submitSeniorCard(t, f)
		if a.Status != "licence_issued" {
			t.Fatalf("the senior card was not issued at once: %s", a.Status)
		}
		head := newStaff(t, f.ids, "realestate.head", "realestate", authz.Head)
		before, _ := f.apps.Drafts.Get(ctx, f.p, a.ID)
		issued := before.Timeline[len(before.Timeline)-1].Note
		if _, err := f.apps.Tasks.Revoke(ctx, head, a.ID, 0, "不是本部门的办件"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another department's head revoking: %v", err)
		}
		after, _ := f.apps.Drafts.Get(ctx, f.p, a.ID)
		if after.Status != "licence_issued" || after.Revision != before.Revision || len(after.Timeline) != len(before.Timeline) {
			t.Errorf("the refused revocation changed the application: %s, revision %d → %d, %d → %d timeline entries",
				after.Status, before.Revision, after.Revision, len(before.Timeline), len(after.Timeline))
		}
		if v, err := f.licences.VerifyNumber(ctx, issued); err != nil || v.Result != "valid" {
			t.Errorf("after the refused revocation the licence %q verifies as %+v, %v", issued, v, err)
		}
	})
}

// A licence imported from a registry, with no application behind it, only
// a head of its issuing department may revoke.
func TestRegistryLicenceIsRevokedByItsIssuersHeadOnly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		c, err := ident.CreditCodeCheck("92910102MA0000001")
		if err != nil {
			t.Fatal(err)
		}
		code := "92910102MA0000001" + string(c)
		var l licence.Licence
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			l, err = f.licences.IssueTx(ctx, tx, licence.Request{ApplicationNumber: "REGISTRY-1", ItemCode: "11910102MB0001111L-01-00001", Type: "business_licence",
				Holder: licence.Holder{Kind: hub.Enterprise, ID: code, Name: "明德区老街坊小吃店"},
				Fields: map[string]string{"name": "明德区老街坊小吃店", "credit_code": code, "legal_rep": "钱多多", "composition": "个人经营",
					"address": "示范市明德区福安街道幸福路8号", "scope": "餐饮服务；预包装食品销售"},
				IssuedBy: "registry"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		n := l.Content.Number
		if err := f.apps.Tasks.RevokeLicence(ctx, newStaff(t, f.ids, "civil.head", "civil", authz.Head), n, "不是本部门的证照"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another department's head revoking a registry licence: %v", err)
		}
		if v, err := f.licences.VerifyNumber(ctx, n); err != nil || v.Result != "valid" {
			t.Errorf("after the refused revocation the licence verifies as %s, %v", v.Result, err)
		}
		if err := f.apps.Tasks.RevokeLicence(ctx, newStaff(t, f.ids, "amr.head", "amr", authz.Head), n, "营业执照被吊销"); err != nil {
			t.Fatal(err)
		}
		if v, err := f.licences.VerifyNumber(ctx, n); err != nil || v.Result != "revoked" {
			t.Errorf("the issuer's head revoked the licence, which verifies as %s, %v", v.Result, err)
		}
	})
}
