package consult_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/consult"
	"yiwang/internal/identity"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/org"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/supervision"
	"yiwang/internal/workday"
)

const noHousing = "11910102MB00013338-20-00001" // 无房证明, realestate

type fixture struct {
	db  *store.DB
	svc *consult.Service
	now *time.Time
	// Staff of realestate and of amr, a supervisor, a catalogue
	// administrator, and a person with an account.
	realestate, amr, supervisor, admin, person authz.Principal
}

// setup publishes the demo catalogue and makes the people the tests act as.
func setup(t *testing.T, db *store.DB) fixture {
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
	staff := func(user, dept string, role authz.Role) authz.Principal {
		a, err := ids.CreateStaff(ctx, identity.NewStaff{Username: user, DisplayName: "测试 " + user, Password: "a-long-password-1", Department: dept, Region: "910102", Roles: []authz.Role{role}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return authz.Principal{AccountID: a.ID, Kind: "staff", Name: a.DisplayName, Roles: []authz.Role{role}, Department: dept}
	}
	cal, err := workday.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	// Monday 2026-03-02, 10:00 China time.
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, workday.CST)
	f := fixture{db: db, now: &now}
	queue, err := jobs.New(db, jobs.NewWorkers(), slog.New(slog.DiscardHandler), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = consult.New(consult.Deps{DB: db, Catalog: cs, Org: org.NewStore(db.DB), Protector: protector, Limits: identity.NewLimiter(db),
		Calendar: func(context.Context) (*workday.Calendar, error) { return cal, nil }, Now: func() time.Time { return *f.now }, Notifier: notify.NewOutbox(db, queue)})
	f.realestate = staff("reviewer.re", "realestate", authz.Reviewer)
	f.amr = staff("reviewer.amr", "amr", authz.Reviewer)
	f.supervisor = staff("supervisor.x", "gsdb", authz.Supervisor)
	f.admin = staff("catalog.x", "gsdb", authz.CatalogAdmin)
	var id int64
	if err := db.QueryRowContext(ctx, `INSERT INTO accounts (kind, display_name, created_at, updated_at) VALUES ('person', '王五', $1, $1) RETURNING id`, now).Scan(&id); err != nil {
		t.Fatal(err)
	}
	f.person = authz.Principal{AccountID: id, Kind: "person", Name: "王五", Roles: []authz.Role{authz.Applicant}}
	return f
}

func code(err error) apperr.Code {
	if e := apperr.As(err); e != nil {
		return e.Code
	}
	return ""
}

func TestQuestionMatchRouteAnswerRate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()

		m, err := f.svc.Match(ctx, "无房证明能证明我在全国都没有房子吗")
		if err != nil {
			t.Fatal(err)
		}
		if len(m.FAQs) == 0 || m.FAQs[0].ItemCode != noHousing || !strings.Contains(m.FAQs[0].A.Zh, "本市不动产登记信息") {
			t.Fatalf("the FAQ of 无房证明 is not the first match: %+v", m.FAQs)
		}

		// Asked on Wednesday 30 September 2026, before the National Day holiday.
		*f.now = time.Date(2026, 9, 30, 10, 0, 0, 0, workday.CST)
		r, err := f.svc.Submit(ctx, f.person, "192.0.2.1", consult.NewConsultation{Kind: consult.Question, ItemCode: noHousing, Text: "我在外地有房，还能开无房证明吗？", ContactPhone: "13800000001"})
		if err != nil {
			t.Fatal(err)
		}
		// 5 working days: 8, 9, 10 (a make-up Saturday), 12 and 13 October.
		if r.Department != "realestate" || workday.DateOf(r.DueAt).String() != "2026-10-13" || r.Anonymous {
			t.Fatalf("receipt %+v: want realestate, due 2026-10-13 end of day, named", r)
		}
		if len(strings.ReplaceAll(r.Code, "-", "")) != 12 {
			t.Fatalf("query code %q", r.Code)
		}

		// The department sees it, contact masked; another department does not.
		list, err := f.svc.Staff(ctx, f.realestate, consult.Filter{})
		if err != nil || len(list) != 1 || list[0].ID != r.ID || list[0].Contact == nil || list[0].Contact.Phone == "13800000001" || !strings.Contains(list[0].Contact.Phone, "*") {
			t.Fatalf("realestate's list %+v, %v", list, err)
		}
		if list, _ := f.svc.Staff(ctx, f.amr, consult.Filter{Department: "realestate"}); len(list) != 0 {
			t.Fatalf("amr's staff see realestate's questions: %+v", list)
		}
		if _, err := f.svc.Answer(ctx, f.amr, r.ID, "可以开具。"); code(err) != apperr.ConsultationNotFound {
			t.Fatalf("amr answered realestate's question: %v", err)
		}
		if _, err := f.svc.Close(ctx, f.amr, r.ID, "已办结"); code(err) != apperr.ConsultationNotFound {
			t.Fatalf("amr closed realestate's question: %v", err)
		}
		if _, err := f.svc.Answer(ctx, f.supervisor, r.ID, "可以开具。"); code(err) != apperr.PermissionDenied {
			t.Fatalf("a supervisor answered: %v", err)
		}
		var replies int
		db.QueryRowContext(ctx, `SELECT count(*) FROM consultation_replies`).Scan(&replies)
		if replies != 0 {
			t.Fatalf("a refused answer wrote %d replies", replies)
		}
		// The sender cannot rate before the answer.
		if _, err := f.svc.Rate(ctx, f.person, "192.0.2.8", r.ID, "", consult.Satisfied); code(err) != apperr.ConsultationNotAnswered {
			t.Fatalf("rated before the answer: %v", err)
		}

		v, err := f.svc.Answer(ctx, f.realestate, r.ID, "无房证明只证明本市范围内无登记住房，外地住房不影响开具。")
		if err != nil || v.Status != consult.Answered || len(v.Replies) != 1 {
			t.Fatalf("answer: %+v, %v", v, err)
		}
		mine, err := f.svc.Mine(ctx, f.person)
		if err != nil || len(mine) != 1 || mine[0].Replies[0].Text != "无房证明只证明本市范围内无登记住房，外地住房不影响开具。" || mine[0].Replies[0].Staff != "" || !mine[0].MayRate {
			t.Fatalf("the sender's list %+v, %v", mine, err)
		}
		// The sender, who asked under their name, is told of the answer.
		var told string
		if err := db.QueryRowContext(ctx, `SELECT title_zh FROM outbox_messages WHERE account_id = $1 AND kind = 'consultation_answer'`, f.person.AccountID).Scan(&told); err != nil || !strings.Contains(told, "已答复您的咨询") {
			t.Fatalf("the sender was told %q (%v)", told, err)
		}
		// Another person cannot rate it; its sender rates once.
		other := authz.Principal{AccountID: f.amr.AccountID + 1000, Kind: "person"}
		if _, err := f.svc.Rate(ctx, other, "192.0.2.8", r.ID, "", consult.Satisfied); code(err) != apperr.ConsultationNotFound {
			t.Fatalf("another person rated: %v", err)
		}
		if v, err := f.svc.Rate(ctx, f.person, "192.0.2.8", r.ID, "", consult.Satisfied); err != nil || v.Rating != consult.Satisfied || v.MayRate {
			t.Fatalf("rate: %+v, %v", v, err)
		}
		if _, err := f.svc.Rate(ctx, authz.Anonymous, "192.0.2.8", r.ID, r.Code, consult.Unsatisfied); code(err) != apperr.ConsultationRated {
			t.Fatalf("rated twice: %v", err)
		}

		// Closed, it takes no more answers.
		if _, err := f.svc.Close(ctx, f.realestate, r.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Answer(ctx, f.realestate, r.ID, "补充"); code(err) != apperr.ConsultationClosed {
			t.Fatalf("answered a closed question: %v", err)
		}
	})
}

func TestAnonymousComplaintTrackedByCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		text := "某某饭店后厨卫生很差，出售过期食品。"
		r, err := f.svc.Submit(ctx, authz.Anonymous, "192.0.2.9", consult.NewConsultation{Kind: consult.Complaint, Area: "food", Text: text, ContactName: "赵六", ContactPhone: "13900000002"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Department != "amr" || !r.Anonymous || workday.DateOf(r.DueAt).String() != "2026-03-11" {
			t.Fatalf("receipt %+v: want amr, anonymous, due in 7 working days", r)
		}

		// Sealed at rest: neither the text nor the contact nor the code is stored in clear.
		var acct *int64
		var textEnc, name, phone, hash string
		if err := db.QueryRowContext(ctx, `SELECT account_id, text_enc, contact_name, contact_phone, code_hash FROM consultations WHERE id = $1`, r.ID).Scan(&acct, &textEnc, &name, &phone, &hash); err != nil {
			t.Fatal(err)
		}
		if acct != nil || strings.Contains(textEnc, "饭店") || strings.Contains(name, "赵") || strings.Contains(phone, "139") || strings.Contains(hash, strings.ReplaceAll(r.Code, "-", "")) {
			t.Fatalf("stored in clear: account %v, text %q, name %q, phone %q, hash %q", acct, textEnc, name, phone, hash)
		}

		v, err := f.svc.Track(ctx, "192.0.2.9", r.Code)
		if err != nil || v.Status != consult.Open || v.Text != text || v.Kind != consult.Complaint || v.Contact != nil {
			t.Fatalf("track: %+v, %v", v, err)
		}
		// A wrong code finds nothing, and says nothing more.
		wrong := "ABCD-EFGH-JKLM"
		if _, err := f.svc.Track(ctx, "192.0.2.9", wrong); code(err) != apperr.ConsultationNotFound {
			t.Fatalf("wrong code: %v", err)
		}
		// The code works in lower case and without dashes.
		if _, err := f.svc.Track(ctx, "192.0.2.9", strings.ToLower(strings.ReplaceAll(r.Code, "-", ""))); err != nil {
			t.Fatal(err)
		}

		// realestate's staff cannot answer; amr's can, seeing no identity but the masked contact.
		if _, err := f.svc.Answer(ctx, f.realestate, r.ID, "收到"); code(err) != apperr.ConsultationNotFound {
			t.Fatalf("realestate answered amr's complaint: %v", err)
		}
		list, err := f.svc.Staff(ctx, f.amr, consult.Filter{})
		if err != nil || len(list) != 1 || list[0].Contact == nil || list[0].Contact.Name == "赵六" || list[0].Contact.Phone == "13900000002" {
			t.Fatalf("amr's list %+v, %v", list, err)
		}
		// Seen in full only by its department, for a stated purpose, and audited.
		if _, err := f.svc.Reveal(ctx, f.realestate, r.ID, "联系投诉人核实情况"); code(err) != apperr.ConsultationNotFound {
			t.Fatalf("realestate saw amr's complainant: %v", err)
		}
		if _, err := f.svc.Reveal(ctx, f.amr, r.ID, "看"); code(err) != apperr.PurposeRequired {
			t.Fatalf("revealed without a purpose: %v", err)
		}
		full, err := f.svc.Reveal(ctx, f.amr, r.ID, "联系投诉人核实情况")
		if err != nil || full.Contact == nil || full.Contact.Name != "赵六" || full.Contact.Phone != "13900000002" {
			t.Fatalf("reveal: %+v, %v", full.Contact, err)
		}
		var views int
		db.QueryRowContext(ctx, `SELECT count(*) FROM audit_entries WHERE action = 'pii.view' AND object_kind = 'consultation'`).Scan(&views)
		if views != 1 {
			t.Fatalf("%d audited views of the contact, want 1", views)
		}
		answer := "已受理，执法人员将于三个工作日内现场检查。"
		if _, err := f.svc.Answer(ctx, f.amr, r.ID, answer); err != nil {
			t.Fatal(err)
		}
		v, err = f.svc.Track(ctx, "192.0.2.10", r.Code)
		if err != nil || v.Status != consult.Answered || len(v.Replies) != 1 || v.Replies[0].Text != answer || v.Replies[0].Staff != "" {
			t.Fatalf("track after the answer: %+v, %v", v, err)
		}
		// The code holder rates it, once.
		if _, err := f.svc.Rate(ctx, authz.Anonymous, "192.0.2.8", 0, r.Code, consult.Unsatisfied); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Rate(ctx, authz.Anonymous, "192.0.2.8", 0, r.Code, consult.Satisfied); code(err) != apperr.ConsultationRated {
			t.Fatalf("rated twice: %v", err)
		}
		// Signed in but anonymous: no account is stored, so it is not in their list.
		if _, err := f.svc.Submit(ctx, f.person, "192.0.2.1", consult.NewConsultation{Kind: consult.Report, Area: "environment", Text: "河边有工厂夜间偷排污水。", Anonymous: true}); err != nil {
			t.Fatal(err)
		}
		if mine, err := f.svc.Mine(ctx, f.person); err != nil || len(mine) != 0 {
			t.Fatalf("an anonymous report is in the sender's list: %+v, %v", mine, err)
		}
		var counted int
		db.QueryRowContext(ctx, `SELECT count(*) FROM rate_events WHERE account_id = $1`, f.person.AccountID).Scan(&counted)
		if counted != 0 {
			t.Fatalf("the limiter's log ties the anonymous report to the account (%d rows)", counted)
		}
		// Too many lookups from one address are refused.
		for i := 0; ; i++ {
			_, err := f.svc.Track(ctx, "192.0.2.77", wrong)
			if code(err) == apperr.RateLimited {
				break
			}
			if i > 30 {
				t.Fatal("lookups are not limited")
			}
		}
	})
}

func TestLateFindings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		for _, n := range []consult.NewConsultation{
			{Kind: consult.Complaint, Area: "food", Text: "买到的牛奶过期了。"},
			{Kind: consult.Report, Area: "food", Text: "某超市无证经营。"},
			{Kind: consult.Question, Department: "realestate", Text: "办理不动产登记要多久？"},
		} {
			if _, err := f.svc.Submit(ctx, authz.Anonymous, "192.0.2.5", n); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := f.svc.Findings(ctx, *f.now); err != nil || len(got) != 0 {
			t.Fatalf("findings before any deadline: %+v, %v", got, err)
		}
		got, err := f.svc.Findings(ctx, f.now.AddDate(0, 0, 20))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]supervision.Finding{
			"amr":        {Department: "amr", Kind: supervision.ComplaintLate, Count: 2, Link: "/workbench/consultations?department=amr"},
			"realestate": {Department: "realestate", Kind: supervision.QuestionLate, Count: 1, Link: "/workbench/consultations?department=realestate"},
		}
		if len(got) != 2 {
			t.Fatalf("findings %+v", got)
		}
		for _, g := range got {
			w := want[g.Department]
			if g.Kind != w.Kind || g.Count != w.Count || g.Link != w.Link || g.Oldest.IsZero() {
				t.Fatalf("finding %+v, want %+v", g, w)
			}
		}
		// A supervisor lists any department, read-only.
		if list, err := f.svc.Staff(ctx, f.supervisor, consult.Filter{Department: "amr"}); err != nil || len(list) != 2 {
			t.Fatalf("supervisor's list of amr: %d, %v", len(list), err)
		}
		if _, err := f.svc.Staff(ctx, f.person, consult.Filter{}); code(err) != apperr.PermissionDenied {
			t.Fatalf("a citizen listed staff's consultations: %v", err)
		}
	})
}

func TestFrequentQuestionSuggested(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		ctx := context.Background()
		ask := func(text string) {
			t.Helper()
			r, err := f.svc.Submit(ctx, authz.Anonymous, "192.0.2.6", consult.NewConsultation{Kind: consult.Question, ItemCode: noHousing, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Answer(ctx, f.realestate, r.ID, "可以，持身份证在网上申请即可，当场出具。"); err != nil {
				t.Fatal(err)
			}
		}
		ask("无房证明可以帮父母代办吗？")
		ask("无房证明可以帮父母代办吗")
		if s, err := f.svc.Suggestions(ctx, f.admin); err != nil || len(s) != 0 {
			t.Fatalf("suggested after two: %+v, %v", s, err)
		}
		ask("无房证明 可以 帮父母代办吗?")
		ask("社保卡丢了怎么补办？") // another question, once
		if _, err := f.svc.Suggestions(ctx, f.amr); code(err) != apperr.PermissionDenied {
			t.Fatalf("a reviewer saw suggestions: %v", err)
		}
		s, err := f.svc.Suggestions(ctx, f.admin)
		if err != nil || len(s) != 1 || s[0].ItemCode != noHousing || s[0].Count != 3 || !strings.Contains(s[0].YAML, "当场出具") || !strings.Contains(s[0].YAML, "- q: {zh: ") {
			t.Fatalf("suggestions %+v, %v", s, err)
		}
		if err := f.svc.Dismiss(ctx, f.admin, s[0].ItemCode, s[0].Key); err != nil {
			t.Fatal(err)
		}
		if s, err := f.svc.Suggestions(ctx, f.admin); err != nil || len(s) != 0 {
			t.Fatalf("a dismissed suggestion is back: %+v, %v", s, err)
		}
	})
}
