package application_test

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/web"
)

// seniorCardAs changes the senior card's approval for a test.
func seniorCardAs(change func(it *catalog.Item)) func(*catalog.Catalogue) {
	return func(c *catalog.Catalogue) {
		for _, it := range c.Items {
			if it.Item.Code == seniorCard {
				change(&it.Item)
			}
		}
	}
}

// person registers another person and signs them in.
func person(t *testing.T, f fixture, birth, seq, name string) (authz.Principal, string) {
	t.Helper()
	ctx := context.Background()
	id := idNumber(birth, seq)
	acc, err := f.ids.RegisterPerson(ctx, id, name, "13900000002", "a-long-password")
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := f.ids.StartSession(ctx, acc.ID)
	p, _, err := f.ids.SessionPrincipal(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	return p, id
}

func jobsOf(t *testing.T, db *store.DB, kind string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM river_job WHERE kind = $1`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func credit(t *testing.T, f fixture, idNum string) hub.Record {
	t.Helper()
	r, err := f.builtin.Fetch(context.Background(), "credit", hub.Subject{Kind: hub.Person, Key: idNum}, []string{"records", "blacklisted"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func licenceStatus(t *testing.T, db *store.DB, applicationID int64) string {
	t.Helper()
	var st string
	if err := db.QueryRowContext(context.Background(), `SELECT status FROM licences WHERE application_id = $1`, applicationID).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// draft starts a senior card draft ready to submit.
func draft(t *testing.T, f fixture) application.Application {
	t.Helper()
	ctx := context.Background()
	a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
	if err != nil {
		t.Fatal(err)
	}
	if a, err = f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "post"}); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCommitmentApprovesAtOnceAndAFalseOneRevokesWithACreditRecord(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) {
			it.Approval = catalog.Approval{Mode: "commitment", InspectionDays: 30}
		}))
		st := makeStaff(t, f.ids)
		f.apps.SetNow((&clock{at(15, 9)}).now)

		a := draft(t, f)
		if _, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, ""); apperr.As(err) == nil || apperr.As(err).Code != "commitment_unsigned" {
			t.Fatalf("submitting unsigned: %v", err)
		}
		if a.Modes == nil || a.Modes.CommitmentText == "" {
			t.Fatalf("the draft does not show the commitment to sign: %+v", a.Modes)
		}
		if _, err := f.apps.Modes.SignCommitment(ctx, f.p, a.ID, 0, "我随便写的"); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("signing another text: %v", err)
		}
		if a, err := f.apps.Modes.SignCommitment(ctx, f.p, a.ID, 0, a.Modes.CommitmentText); err != nil || a.Modes.Commitment == nil || a.Modes.Commitment.SignerName != "赵老汉" || len(a.Modes.Commitment.Digest) != 64 {
			t.Fatalf("signing: %v %+v", err, a.Modes)
		}
		a, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != "licence_issued" || licenceStatus(t, db, a.ID) != "valid" {
			t.Fatalf("a commitment approval is %s", a.Status)
		}

		// The inspection is in the department's inbox, and only its own action works it.
		task := taskOf(t, f, st.civil, "inspection")
		if task.Deadline == nil || !strings.Contains(task.Note, task.Deadline.In(at(1, 0).Location()).Format(time.DateOnly)) || task.Deadline.Before(at(15, 0).AddDate(0, 0, 30)) {
			t.Errorf("the inspection is due %v (%q), want 30 working days on", task.Deadline, task.Note)
		}
		if _, err := f.apps.Tasks.DecideTask(ctx, st.civil, task.ID, 0, true, nil, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("deciding an inspection as a step: %v", err)
		}
		if _, err := f.apps.Modes.RecordInspection(ctx, st.clerk, task.ID, 0, true, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a clerk inspecting: %v", err)
		}
		if _, err := f.apps.Modes.RecordInspection(ctx, st.civil, task.ID, 0, true, "现场核查属实"); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.apps.Drafts.Get(ctx, f.p, a.ID); got.Status != "licence_issued" {
			t.Errorf("after a fine inspection the application is %s", got.Status)
		}
		if r := credit(t, f, f.idNum); r["records"] != nil && r["records"] != int64(0) {
			t.Errorf("a fine inspection wrote a credit record: %v", r)
		}

		// A second one turns out false: revoked, licence revoked, credit record.
		b := draft(t, f)
		if _, err := f.apps.Modes.SignCommitment(ctx, f.p, b.ID, 0, b.Modes.CommitmentText); err != nil {
			t.Fatal(err)
		}
		if b, err = f.apps.Drafts.Submit(ctx, f.p, b.ID, 0, ""); err != nil || b.Status != "licence_issued" {
			t.Fatalf("second submission: %v %s", err, b.Status)
		}
		task = taskOf(t, f, st.civil, "inspection")
		if _, err := f.apps.Modes.RecordInspection(ctx, st.civil, task.ID, 0, false, ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a false commitment without a finding: %v", err)
		}
		if _, err := f.apps.Modes.RecordInspection(ctx, st.civil, task.ID, 0, false, "实际未在本市居住"); err != nil {
			t.Fatal(err)
		}
		b, _ = f.apps.Drafts.Get(ctx, f.p, b.ID)
		if b.Status != "revoked" || licenceStatus(t, db, b.ID) != "revoked" {
			t.Errorf("after a false commitment: application %s, licence %s", b.Status, licenceStatus(t, db, b.ID))
		}
		if r := credit(t, f, f.idNum); r["records"] != int64(1) || r["blacklisted"] != false {
			t.Errorf("the credit registry after a false commitment: %v", r)
		}
		if m := f.notices.last(b.ID); m.Kind != notify.Decision || !strings.Contains(m.TitleZh, "撤销") {
			t.Errorf("the applicant was told %+v", m)
		}
	})
}

func TestFilingIsLicensedAfterAQuietNoticeAndHaltedByAnObjection(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) {
			it.Approval = catalog.Approval{Mode: "filing", NoticeDays: 3}
		}))
		st := makeStaff(t, f.ids)
		c := &clock{at(15, 9)} // Monday
		f.apps.SetNow(c.now)
		objector, _ := person(t, f, "19800101", "123", "钱多多")

		submit := func() application.Application {
			a, err := f.apps.Drafts.Submit(ctx, f.p, draft(t, f).ID, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		a := submit()
		if a.Status != "submitted" || a.Modes == nil || a.Modes.Notice == nil || a.Modes.Notice.Status != "open" {
			t.Fatalf("a filing on notice: %s %+v", a.Status, a.Modes)
		}
		if end := a.Modes.Notice.EndsAt.In(at(1, 0).Location()); end.Day() != 18 {
			t.Errorf("three working days from Monday end on %v, want Thursday 18", end)
		}
		if n := jobsOf(t, db, "filing_notice_end"); n != 1 {
			t.Errorf("%d end-of-notice jobs scheduled", n)
		}
		list, err := f.apps.Modes.Notices(ctx)
		if err != nil || len(list) != 1 || !strings.Contains(list[0].Title, "赵*") {
			t.Fatalf("public notices: %v %+v", err, list)
		}
		if err := f.apps.Modes.EndNotice(ctx, a.ID); err == nil {
			t.Error("the notice ended early")
		}

		// A second filing draws an objection, which halts it for review.
		b := submit()
		nb := b.Modes.Notice.ID
		if _, err := f.apps.Modes.Object(ctx, objector, nb, " "); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("an objection without reasons: %v", err)
		}
		if _, err := f.apps.Modes.Object(ctx, st.civil, nb, "不对"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("staff objecting: %v", err)
		}
		if _, err := f.apps.Modes.Object(ctx, f.p, nb, "我不想办了"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("the applicant objecting to their own filing: %v", err)
		}
		if n, err := f.apps.Modes.Object(ctx, objector, nb, "申请人并非本市户籍"); err != nil || n.Status != "halted" {
			t.Fatalf("objecting: %v %+v", err, n)
		}

		// The quiet one is licensed when its period ends; the halted one waits.
		c.t = at(19, 9)
		for _, id := range []int64{a.ID, b.ID} {
			if err := f.apps.Modes.EndNotice(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if a, _ = f.apps.Drafts.Get(ctx, f.p, a.ID); a.Status != "licence_issued" || a.Modes.Notice.Status != "ended" || licenceStatus(t, db, a.ID) != "valid" {
			t.Errorf("after a quiet notice: %s %+v", a.Status, a.Modes.Notice)
		}
		if b, _ = f.apps.Drafts.Get(ctx, f.p, b.ID); b.Status != "submitted" || b.Modes.Notice.Status != "halted" {
			t.Errorf("a halted notice went on: %s %+v", b.Status, b.Modes.Notice)
		}

		// Upheld: rejected with the reasons.
		task := taskOf(t, f, st.civil, "objection:1")
		if _, err := f.apps.Modes.ReviewObjection(ctx, st.civil, task.ID, 0, true, nil); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("upholding without reasons: %v", err)
		}
		if _, err := f.apps.Modes.ReviewObjection(ctx, st.civil, task.ID, 0, true, []string{"经核实，申请人不符合条件"}); err != nil {
			t.Fatal(err)
		}
		if b, _ = f.apps.Drafts.Get(ctx, f.p, b.ID); b.Status != "rejected" || len(b.Reasons) != 1 {
			t.Errorf("after an upheld objection: %s %v", b.Status, b.Reasons)
		}

		// Cleared after the period: approved at once.
		c.t = at(22, 9)
		d := submit()
		if _, err := f.apps.Modes.Object(ctx, objector, d.Modes.Notice.ID, "我觉得不对"); err != nil {
			t.Fatal(err)
		}
		c.t = at(29, 9)
		task = taskOf(t, f, st.civil, "objection:2")
		if _, err := f.apps.Modes.ReviewObjection(ctx, st.civil, task.ID, 0, false, []string{"异议无事实依据"}); err != nil {
			t.Fatal(err)
		}
		if d, _ = f.apps.Drafts.Get(ctx, f.p, d.ID); d.Status != "licence_issued" {
			t.Errorf("a cleared objection after the period left it %s", d.Status)
		}
		if list, _ := f.apps.Modes.Notices(ctx); len(list) != 0 {
			t.Errorf("notices still public: %+v", list)
		}
	})
}

func TestCoPartiesConfirmRefuseOrTimeOut(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) {
			it.Parties = []catalog.Party{{Role: "elder", Label: catalog.Text{Zh: "老年人", En: "Senior"}}, {Role: "spouse", Label: catalog.Text{Zh: "配偶", En: "Spouse"}}}
		}))
		makeStaff(t, f.ids)
		c := &clock{at(15, 9)}
		f.apps.SetNow(c.now)
		spouse, spouseID := person(t, f, "19620505", "246", "钱老太")
		stranger, _ := person(t, f, "19700101", "135", "孙路人")

		named := func() application.Application {
			t.Helper()
			a := draft(t, f)
			a, err := f.apps.Modes.NameParties(ctx, f.p, a.ID, 0, "elder", []application.PartyRequest{{Role: "spouse", IDNumber: spouseID, Name: "钱老太"}})
			if err != nil {
				t.Fatal(err)
			}
			if a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, ""); err != nil {
				t.Fatal(err)
			}
			return a
		}

		a := draft(t, f)
		if _, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, ""); apperr.As(err) == nil || apperr.As(err).Code != "parties_missing" {
			t.Fatalf("submitting without the spouse: %v", err)
		}
		if _, err := f.apps.Modes.NameParties(ctx, f.p, a.ID, 0, "elder", []application.PartyRequest{{Role: "spouse", IDNumber: spouseID, Name: "别人"}}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("naming the spouse with another name: %v", err)
		}
		if _, err := f.apps.Modes.NameParties(ctx, f.p, a.ID, 0, "spouse", []application.PartyRequest{{Role: "spouse", IDNumber: spouseID, Name: "钱老太"}}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("two people in one role, and none in the other: %v", err)
		}
		if _, err := f.apps.Modes.NameParties(ctx, f.p, a.ID, 0, "elder", []application.PartyRequest{{Role: "spouse", IDNumber: f.idNum, Name: "赵老汉"}}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("the applicant in two roles: %v", err)
		}

		// Confirmed: the decision path starts (the machine approves).
		a = named()
		if a.Status != "submitted" || len(a.Modes.Parties) != 2 || a.Modes.Parties[0].Status != "confirmed" || a.Modes.Parties[1].Status != "invited" {
			t.Fatalf("waiting for the spouse: %s %+v", a.Status, a.Modes)
		}
		if m := f.notices.last(a.ID); m.Kind != notify.CopartyInvitation || m.PersonID != spouse.PersonID {
			t.Errorf("the spouse was told %+v", m)
		}
		if inv, _ := f.apps.Modes.Invitations(ctx, f.p); len(inv) != 0 {
			t.Errorf("the applicant is invited to their own application: %+v", inv)
		}
		if n := jobsOf(t, db, "coparty_timeout"); n != 1 {
			t.Errorf("%d timeouts scheduled", n)
		}
		if _, err := f.apps.Modes.AnswerInvitation(ctx, stranger, a.ID, true, ""); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a stranger confirming: %v", err)
		}
		inv, err := f.apps.Modes.Invitations(ctx, spouse)
		if err != nil || len(inv) != 1 || inv[0].Label != "配偶" || inv[0].Applicant != "赵**" && inv[0].Applicant != "赵*" {
			t.Fatalf("the spouse's invitations: %v %+v", err, inv)
		}
		if got, err := f.apps.Modes.AnswerInvitation(ctx, spouse, a.ID, true, ""); err != nil || got.Status != "confirmed" {
			t.Fatalf("confirming: %v %+v", err, got)
		}
		if a, _ = f.apps.Drafts.Get(ctx, f.p, a.ID); a.Status != "licence_issued" || a.Decision == nil {
			t.Errorf("after every co-party confirmed the machine's decision should apply: %s", a.Status)
		}

		// Refused: not accepted, with the reason.
		b := named()
		if _, err := f.apps.Modes.AnswerInvitation(ctx, spouse, b.ID, false, " "); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("refusing without a reason: %v", err)
		}
		if _, err := f.apps.Modes.AnswerInvitation(ctx, spouse, b.ID, false, "我不同意"); err != nil {
			t.Fatal(err)
		}
		if b, _ = f.apps.Drafts.Get(ctx, f.p, b.ID); b.Status != "not_accepted" || len(b.Reasons) != 1 || !strings.Contains(b.Reasons[0], "我不同意") {
			t.Errorf("after a refusal: %s %v", b.Status, b.Reasons)
		}

		// Silent: cancelled when the time is up, not before.
		d := named()
		if err := f.apps.Modes.PartiesTimedOut(ctx, d.ID); err == nil {
			t.Error("timed out early")
		}
		c.t = at(29, 9)
		if err := f.apps.Modes.PartiesTimedOut(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if d, _ = f.apps.Drafts.Get(ctx, f.p, d.ID); d.Status != "not_accepted" || d.Modes.Parties[1].Status != "lapsed" {
			t.Errorf("after the timeout: %s %+v", d.Status, d.Modes.Parties)
		}
		if _, err := f.apps.Modes.AnswerInvitation(ctx, spouse, d.ID, true, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("confirming after the timeout: %v", err)
		}
	})
}

func TestDeferredMaterialsOverdueWriteCreditThenBlacklist(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, deferrablePhoto)
		st := makeStaff(t, f.ids)
		c := &clock{at(15, 9)}
		f.apps.SetNow(c.now)

		deferred := func(due string) application.Application {
			t.Helper()
			a := draft(t, f)
			if _, err := f.apps.Modes.DeferMaterial(ctx, f.p, a.ID, 0, "id_card", due); !apperr.Is(err, apperr.Invalid) && !apperr.Is(err, apperr.Conflict) {
				t.Errorf("deferring a material the item does not let wait: %v", err)
			}
			a, err := f.apps.Modes.DeferMaterial(ctx, f.p, a.ID, 0, "photo", due)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Modes.Deferrals) != 1 {
				t.Fatalf("deferrals: %+v", a.Modes)
			}
			if a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, ""); err != nil {
				t.Fatal(err)
			}
			return a
		}

		// Supplied in time: cleared, no record.
		a := deferred("2026-06-17")
		if a.Status != "submitted" {
			t.Fatalf("processing did not go on: %s", a.Status)
		}
		if _, err := f.apps.Drafts.UploadMaterial(ctx, f.p, a.ID, 0, "photo", strings.NewReader(string(pngFile)), false); err != nil {
			t.Fatal(err)
		}
		if a, _ = f.apps.Drafts.Get(ctx, f.p, a.ID); a.Modes.Deferrals[0].SuppliedAt == nil {
			t.Errorf("supplying did not clear the deferral: %+v", a.Modes.Deferrals)
		}

		// Staff never sign the person's commitment on their own draft (a
		// clerk records it only at a window: TestOnlyThePersonSignsTheirCommitment);
		// the person defers another one, and both go overdue.
		b := draft(t, f)
		if _, err := f.apps.Modes.DeferMaterial(ctx, st.clerk, b.ID, 0, "photo", "2026-06-16"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a clerk deferring on a citizen's own draft: %v", err)
		}
		if _, err := f.apps.Modes.DeferMaterial(ctx, st.civil, b.ID, 0, "photo", "2026-06-16"); err == nil {
			t.Error("a reviewer deferred a material")
		}
		if _, err := f.apps.Modes.DeferMaterial(ctx, f.p, b.ID, 0, "photo", "2026-06-16"); err != nil {
			t.Fatalf("the person deferring: %v", err)
		}
		d := deferred("2026-06-16")
		c.t = at(18, 9)
		res := sweep(t, f)
		if res.Supplements != 2 {
			t.Errorf("the sweep found %d overdue supplements, want 2", res.Supplements)
		}
		if again := sweep(t, f); again.Supplements != 0 {
			t.Errorf("a second sweep wrote %d more", again.Supplements)
		}
		r := credit(t, f, f.idNum)
		if r["records"] != int64(2) || r["blacklisted"] != true {
			t.Errorf("after two overdue supplements (blacklist after 2): %v", r)
		}
		if d, _ = f.apps.Drafts.Get(ctx, f.p, d.ID); d.Modes.Deferrals[0].OverdueAt == nil {
			t.Errorf("the deferral is not marked overdue: %+v", d.Modes.Deferrals)
		}
		if m := f.notices.last(d.ID); m.Kind != notify.DeadlineWarning {
			t.Errorf("the applicant was told %+v", m)
		}
	})
}

// TestNoticeEndJobIsWorkedByAFreshQueue: the end of a notice is a row in the
// job table, written with the submission; a queue started later (as after a
// restart) works it and the filing is licensed.
func TestNoticeEndJobIsWorkedByAFreshQueue(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) {
			it.Approval = catalog.Approval{Mode: "filing", NoticeDays: 1}
		}))
		c := &clock{at(15, 9)}
		f.apps.SetNow(c.now)
		a, err := f.apps.Drafts.Submit(ctx, f.p, draft(t, f).ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		c.t = at(17, 9) // the notice ended on Tuesday; the job is due (June 2026 is past for the queue)

		ws := jobs.NewWorkers()
		jobs.Register(ws, application.NewNoticeWorker(f.apps.Modes))
		q, err := jobs.New(db, ws, slog.New(slog.DiscardHandler), jobs.Config{PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := q.Start(runCtx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(ctx)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if got, _ := f.apps.Drafts.Get(ctx, f.p, a.ID); got.Status == "licence_issued" {
				break
			}
			if time.Now().After(deadline) {
				got, _ := f.apps.Drafts.Get(ctx, f.p, a.ID)
				t.Fatalf("the end-of-notice job did not license the filing: %s", got.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestCommitmentAndFilingNeedEveryRequiredMaterial: no person looks at a
// commitment or filing before its approval, so a required material that is
// neither supplied nor deferred under a commitment keeps it from submission.
func TestCommitmentAndFilingNeedEveryRequiredMaterial(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) {
			it.Approval = catalog.Approval{Mode: "filing", NoticeDays: 5}
			it.Materials = append(it.Materials, catalog.Material{ID: "photo", Name: catalog.Text{Zh: "近期免冠照片", En: "Recent photo"},
				Required: true, Sources: []catalog.MaterialSource{{Upload: true}}, Trust: "C"})
		}))
		a := draft(t, f)
		_, err := f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		photo := []apperr.Detail{{Subject: "photo", Words: apperr.Words{Zh: "近期免冠照片", En: "Recent photo"}}}
		if e := apperr.As(err); e == nil || e.Code != apperr.MaterialsMissing || !reflect.DeepEqual(e.Details, photo) {
			t.Fatalf("submitting a filing without its photo: %v", err)
		}
		if _, err := f.apps.Drafts.UploadMaterial(ctx, f.p, a.ID, 0, "photo", strings.NewReader("%PDF-1.4\n%%EOF\n"), false); err != nil {
			t.Fatal(err)
		}
		if a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, ""); err != nil || a.Status == "draft" {
			t.Fatalf("submitting with the photo: %v (%s)", err, a.Status)
		}
	})
}

// TestTheBlacklistedCannotPledge: a commitment (告知承诺) and a deferral
// (容缺) are promises, closed to an applicant on the credit blacklist with
// a reason they can act on; the red-listed and everyone else may promise.
func TestTheBlacklistedCannotPledge(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, func(c *catalog.Catalogue) {
			deferrablePhoto(c)
			seniorCardAs(func(it *catalog.Item) { it.Approval = catalog.Approval{Mode: "commitment", InspectionDays: 30} })(c)
		})
		f.apps.SetNow((&clock{at(15, 9)}).now)
		who := hub.Subject{Kind: hub.Person, Key: f.idNum}
		if err := f.builtin.Put(ctx, db, "credit", who, hub.Record{"level": "C", "blacklisted": true}); err != nil {
			t.Fatal(err)
		}
		a := draft(t, f)
		_, err := f.apps.Modes.SignCommitment(ctx, f.p, a.ID, 0, a.Modes.CommitmentText)
		if e := apperr.As(err); e == nil || e.Code != apperr.CreditBlacklisted || !strings.Contains(web.ErrorText("zh", e), "失信名单") {
			t.Errorf("a blacklisted person signing a commitment: %v", err)
		}
		if _, err := f.apps.Modes.DeferMaterial(ctx, f.p, a.ID, 0, "photo", "2026-06-30"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a blacklisted person deferring a material: %v", err)
		}
		if err := f.builtin.Put(ctx, db, "credit", who, hub.Record{"level": "A", "blacklisted": false, "red_list": true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Modes.DeferMaterial(ctx, f.p, a.ID, 0, "photo", "2026-06-30"); err != nil {
			t.Errorf("a red-listed person deferring a material: %v", err)
		}
		if _, err := f.apps.Modes.SignCommitment(ctx, f.p, a.ID, 0, a.Modes.CommitmentText); err != nil {
			t.Errorf("a red-listed person signing a commitment: %v", err)
		}
	})
}
