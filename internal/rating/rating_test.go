package rating_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/rating"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/supervision"
	"yiwang/internal/workday"
)

const (
	civilItem = "11910102MB00011858-05-00002" // 高龄津贴, department civil
	psbItem   = "11910102MB0001037K-08-00006" // department psb
)

type fixture struct {
	db  *store.DB
	svc *rating.Service
	ids *identity.Store
	now time.Time
	seq int
}

// setup publishes the demo catalogue and wires the service as serve does,
// its clock at a Monday morning in China.
func setup(t testing.TB, db *store.DB) *fixture {
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
	queue, err := jobs.New(db, jobs.NewWorkers(), slog.New(slog.DiscardHandler), jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cal, err := workday.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, ids: identity.NewStore(db, protector), now: time.Date(2026, 12, 7, 9, 0, 0, 0, workday.CST)}
	f.svc = rating.New(rating.Deps{DB: db, Protector: protector, Catalog: cs, Calendars: application.FixedCalendar(cal), Notifier: notify.NewOutbox(db, queue), Site: "https://yiwang.test"})
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

// citizen registers a person with an account and returns them as a principal.
func (f *fixture) citizen(t testing.TB, name string) authz.Principal {
	t.Helper()
	f.seq++
	body := fmt.Sprintf("91010219800101%03d", f.seq)
	c, _ := ident.IDNumberCheck(body)
	acc, err := f.ids.RegisterPerson(context.Background(), body+string(c), name, "13900000001", "a long enough password 1")
	if err != nil {
		t.Fatal(err)
	}
	return authz.Principal{AccountID: acc.ID, Kind: "person", Name: name, PersonID: acc.PersonID, Roles: []authz.Role{authz.Applicant}, RealNameLevel: 2}
}

// staff creates a staff member of department with roles.
func (f *fixture) staff(t testing.TB, username, department string, roles ...authz.Role) authz.Principal {
	t.Helper()
	acc, err := f.ids.CreateStaff(context.Background(), identity.NewStaff{Username: username, DisplayName: username, Password: "a long enough password 1",
		Department: department, Region: "910102", Roles: roles}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return authz.Principal{AccountID: acc.ID, Kind: "staff", Name: username, Roles: roles, Department: department, Region: "910102"}
}

// application writes an application of item by p in status, decided at decided.
func (f *fixture) application(t testing.TB, p authz.Principal, item, status string, decided time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	var version int64
	if err := f.db.QueryRowContext(ctx, `SELECT id FROM catalog_versions WHERE item_code = $1 AND status = 'published'`, item).Scan(&version); err != nil {
		t.Fatal(err)
	}
	f.seq++
	var id int64
	err := f.db.QueryRowContext(ctx, `INSERT INTO applications (item_code, version_id, account_id, person_id, status, answers, form, provenance, materials, consent_id,
		fields_total, fields_prefilled, materials_total, materials_attached, created_at, updated_at, submitted_at, number, decided_at)
		VALUES ($1, $2, $3, $4, $5, '{}', '{}', '{}', '[]', 0, 0, 0, 0, 0, $6, $6, $6, $7, $8) RETURNING id`,
		item, version, p.AccountID, p.PersonID, status, decided.UTC(), fmt.Sprintf("T%05d", f.seq), decided.UTC()).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func wantErr(t *testing.T, what string, err error, kind apperr.Kind, code apperr.Code) {
	t.Helper()
	e := apperr.As(err)
	if e == nil || e.Kind != kind || e.Code != code {
		t.Errorf("%s: %v, want %v %s", what, err, kind, code)
	}
}

func count(t testing.TB, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRatingLevelsChannelsAndOneChange: a finished application is rated
// in one of five levels, by its applicant online and by the walk-in holder
// of the window's token without an account; a rating changes once, a
// second change is refused, and a late one too; an unfinished application
// and another person's cannot be rated; the comment is sealed at rest.
func TestRatingLevelsChannelsAndOneChange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		ann, bob := f.citizen(t, "安安"), f.citizen(t, "薄薄")
		done := f.application(t, ann, civilItem, "approved", f.now.Add(-48*time.Hour))

		for _, in := range []rating.Input{{Stars: 0}, {Stars: 6}, {Stars: 3, Comment: strings.Repeat("好", rating.MaxComment+1)}} {
			_, err := f.svc.RateOnline(ctx, ann, done, in)
			wantErr(t, fmt.Sprintf("%d stars, %d characters", in.Stars, len([]rune(in.Comment))), err, apperr.Invalid, map[bool]apperr.Code{true: apperr.BadStars, false: apperr.CommentTooLong}[in.Stars != 3])
		}
		_, err := f.svc.RateOnline(ctx, bob, done, rating.Input{Stars: 5})
		wantErr(t, "another person's application", err, apperr.NotFound, apperr.ApplicationNotFound)
		open := f.application(t, ann, civilItem, "under_review", f.now)
		_, err = f.svc.RateOnline(ctx, ann, open, rating.Input{Stars: 5})
		wantErr(t, "an application under review", err, apperr.Conflict, apperr.NotFinished)

		rt, err := f.svc.RateOnline(ctx, ann, done, rating.Input{Stars: 4, Comment: "  窗口很耐心 "})
		if err != nil {
			t.Fatal(err)
		}
		if rt.Channel != rating.Online || rt.Stars != 4 || rt.Comment != "窗口很耐心" {
			t.Errorf("rating = %+v", rt)
		}
		var sealed string
		if err := db.QueryRowContext(ctx, `SELECT comment FROM ratings WHERE id = $1`, rt.ID).Scan(&sealed); err != nil || strings.Contains(sealed, "耐心") || !strings.HasPrefix(sealed, "v1:") {
			t.Errorf("the comment is stored as %q (%v), want it sealed", sealed, err)
		}
		// The same party again: the one change, through the window's token.
		pt, err := f.svc.ForParty(ctx, ann, done)
		if err != nil || pt.Rating == nil || pt.Rating.Comment != "窗口很耐心" || !pt.Open {
			t.Fatalf("the applicant sees %+v, %v", pt, err)
		}
		if _, err := f.svc.RateByToken(ctx, pt.Token, rating.Window, rating.Input{Stars: 5}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.RateOnline(ctx, ann, done, rating.Input{Stars: 3})
		wantErr(t, "a second change", err, apperr.Conflict, apperr.RatingChangedOnce)
		if n := count(t, db, `SELECT COUNT(*) FROM ratings WHERE application_id = $1 AND stars = 5 AND channel = 'window' AND changes = 1`, done); n != 1 {
			t.Errorf("%d ratings changed to 5 stars at the window, want 1", n)
		}

		// A walk-in applicant of another application, with only its token.
		walkIn := f.application(t, bob, psbItem, "not_accepted", f.now.Add(-time.Hour))
		bobs, err := f.svc.ForParty(ctx, bob, walkIn)
		if err != nil {
			t.Fatal(err)
		}
		forged := bobs.Token[:len(bobs.Token)-1] + string(bobs.Token[len(bobs.Token)-1]^1) // a character changed
		_, err = f.svc.RateByToken(ctx, forged, rating.Kiosk, rating.Input{Stars: 2})
		wantErr(t, "a forged token", err, apperr.NotFound, apperr.BadRatingToken)
		if _, err := f.svc.RateByToken(ctx, bobs.Token, rating.Kiosk, rating.Input{Stars: 3}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM ratings WHERE application_id = $1 AND channel = 'kiosk' AND account_id IS NULL`, walkIn); n != 1 {
			t.Errorf("%d kiosk ratings without an account, want 1", n)
		}

		// Finished more than the days ago: too late.
		old := f.application(t, ann, civilItem, "licence_issued", f.now.AddDate(0, 0, -rating.DefaultDays-1))
		_, err = f.svc.RateOnline(ctx, ann, old, rating.Input{Stars: 5})
		wantErr(t, "a rating after the days", err, apperr.Conflict, apperr.RatingClosed)
		f.svc.Days = 30
		if _, err := f.svc.RateOnline(ctx, ann, old, rating.Input{Stars: 5}); err != nil {
			t.Errorf("with 30 days: %v", err)
		}
	})
}

// TestBadRatingIsRectified: a rating of 1 opens a rectification for the
// item's department due in 5 working days; staff of another department
// neither see nor answer it; the department answers and the person is
// told; a supervisor calls back and closes it; the person sees the answer
// and the call's result and judges it once; the board counts it until closed.
func TestBadRatingIsRectified(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		ann := f.citizen(t, "安安")
		civil := f.staff(t, "reviewer.civil", "civil", authz.Reviewer)
		psb := f.staff(t, "head.psb", "psb", authz.Head)
		sup := f.staff(t, "supervisor", "gsdb", authz.Supervisor)
		app := f.application(t, ann, civilItem, "approved", f.now.Add(-time.Hour))
		other := f.application(t, ann, psbItem, "approved", f.now.Add(-time.Hour))

		if _, err := f.svc.RateOnline(ctx, ann, app, rating.Input{Stars: 1, Comment: "跑了三趟"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RateOnline(ctx, ann, other, rating.Input{Stars: 2}); err != nil {
			t.Fatal(err)
		}
		// Friday 2026-12-11 is the 4th working day after Monday the 7th; the
		// 5th is Monday the 14th, at its end.
		mine, err := f.svc.List(ctx, civil, rating.Filter{Department: "psb"})
		if err != nil || len(mine) != 1 || mine[0].ApplicationID != app || mine[0].Comment != "跑了三趟" {
			t.Fatalf("civil's list = %+v, %v; want its one rectification (the filter of another department ignored)", mine, err)
		}
		x := mine[0]
		if due := x.DueAt.In(workday.CST); due.Format(time.DateOnly) != "2026-12-14" {
			t.Errorf("due at %v, want the end of Monday 2026-12-14 (5 working days)", due)
		}
		theirs, err := f.svc.List(ctx, psb, rating.Filter{})
		if err != nil || len(theirs) != 1 || theirs[0].ApplicationID != other {
			t.Fatalf("psb's list = %+v, %v", theirs, err)
		}
		_, err = f.svc.Get(ctx, psb, x.ID)
		wantErr(t, "psb reads civil's rectification", err, apperr.NotFound, apperr.RectificationNotFound)
		wantErr(t, "psb answers civil's rectification", f.svc.Answer(ctx, psb, x.ID, "我们改了"), apperr.NotFound, apperr.RectificationNotFound)
		wantErr(t, "a supervisor answers for the department", f.svc.Answer(ctx, sup, x.ID, "我们改了"), apperr.Forbidden, apperr.PermissionDenied)
		wantErr(t, "a callback before the answer", f.svc.Callback(ctx, sup, x.ID, "已回访", true), apperr.Conflict, apperr.RectificationState)
		_, err = f.svc.List(ctx, ann, rating.Filter{})
		wantErr(t, "a citizen lists rectifications", err, apperr.Forbidden, apperr.PermissionDenied)

		// The board: two bad ratings open, none late yet; late after the 14th.
		findings, err := f.svc.Findings(ctx, f.now)
		if err != nil {
			t.Fatal(err)
		}
		if len(findings) != 2 || findings[0].Kind != supervision.BadRating || findings[0].Department != "civil" || findings[0].Count != 1 ||
			findings[0].Link != "/workbench/rectifications?department=civil" {
			t.Errorf("findings = %+v", findings)
		}
		if late, _ := f.svc.Findings(ctx, f.now.AddDate(0, 0, 8)); len(late) != 4 || late[2].Kind != supervision.RectificationLate {
			t.Errorf("findings a week later = %+v, want the two late too", late)
		}

		if err := f.svc.Answer(ctx, civil, x.ID, "已简化材料，一次办成"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "a second answer", f.svc.Answer(ctx, civil, x.ID, "again"), apperr.Conflict, apperr.RectificationState)
		if n := count(t, db, `SELECT COUNT(*) FROM outbox_messages WHERE person_id = $1 AND kind = 'rectification_answer' AND link = $2`, ann.PersonID, fmt.Sprintf("/me/applications/%d#rating", app)); n != 1 {
			t.Errorf("%d notices of the answer to the applicant, want 1", n)
		}
		if err := f.svc.Callback(ctx, sup, x.ID, "电话回访，群众认可", true); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_entries WHERE action IN ('rectification.answer', 'rectification.callback')`); n != 2 {
			t.Errorf("%d audited staff actions, want 2", n)
		}

		pt, err := f.svc.ForParty(ctx, ann, app)
		if err != nil {
			t.Fatal(err)
		}
		if r := pt.Rectification; r == nil || r.Status != rating.Closed || r.Answer != "已简化材料，一次办成" || r.Resolved == nil || !*r.Resolved || r.CallbackNote != "电话回访，群众认可" {
			t.Fatalf("the applicant sees %+v", pt.Rectification)
		}
		wantErr(t, "a bad verdict", f.svc.VerdictOnline(ctx, ann, app, "meh"), apperr.Invalid, apperr.BadVerdict)
		if err := f.svc.VerdictOnline(ctx, ann, app, rating.Satisfied); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "a second verdict", f.svc.VerdictOnline(ctx, ann, app, rating.Unsatisfied), apperr.Conflict, apperr.VerdictGiven)
		wantErr(t, "a verdict before the answer", f.svc.VerdictOnline(ctx, ann, other, rating.Satisfied), apperr.Conflict, apperr.RectificationState)

		if findings, _ := f.svc.Findings(ctx, f.now); len(findings) != 1 || findings[0].Department != "psb" {
			t.Errorf("findings after closing = %+v, want psb's only", findings)
		}
	})
}

// TestSummaryFigures: on a known set — civil: 5, 4, 2 (rectified), 1 (not
// closed); psb: 3 and 1 (closed, not resolved) — the counts by level, the
// satisfaction and rectification rates are exact, and ratings of past
// months count in the year but not the month.
func TestSummaryFigures(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		civil := f.staff(t, "reviewer.civil", "civil", authz.Reviewer)
		psb := f.staff(t, "reviewer.psb", "psb", authz.Reviewer)
		sup := f.staff(t, "supervisor", "gsdb", authz.Supervisor)
		rate := func(item string, stars int, at time.Time) int64 {
			t.Helper()
			p := f.citizen(t, "某某")
			id := f.application(t, p, item, "approved", at)
			saved := f.now
			f.now = at
			defer func() { f.now = saved }()
			if _, err := f.svc.RateOnline(ctx, p, id, rating.Input{Stars: stars}); err != nil {
				t.Fatal(err)
			}
			return id
		}
		close := func(by authz.Principal, app int64, resolved bool) {
			t.Helper()
			var id int64
			if err := db.QueryRowContext(ctx, `SELECT id FROM rectifications WHERE application_id = $1`, app).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Answer(ctx, by, id, "已整改"); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Callback(ctx, sup, id, "已回访", resolved); err != nil {
				t.Fatal(err)
			}
		}
		rate(civilItem, 5, f.now)
		rate(civilItem, 4, f.now)
		close(civil, rate(civilItem, 2, f.now), true)
		rate(civilItem, 1, f.now)
		rate(psbItem, 3, f.now.AddDate(0, -2, 0))
		close(psb, rate(psbItem, 1, f.now.AddDate(0, -2, 0)), false)

		year, err := f.svc.Summary(ctx, rating.ThisYear)
		if err != nil {
			t.Fatal(err)
		}
		if tot := year.Total; tot.Total != 6 || tot.ByLevel != [5]int{2, 1, 1, 1, 1} || tot.Bad != 3 || tot.Resolved != 1 || tot.Rate != 2.0/6 || tot.Rectify != 1.0/3 {
			t.Errorf("the year's total = %+v", tot)
		}
		if len(year.Departments) != 2 || len(year.Items) != 2 {
			t.Fatalf("departments %+v, items %+v", year.Departments, year.Items)
		}
		c := year.Departments[0]
		if c.Code != "civil" || c.NameZh == "" || c.Total != 4 || c.ByLevel != [5]int{1, 1, 0, 1, 1} || c.Rate != 0.5 || c.Rectify != 0.5 {
			t.Errorf("civil = %+v", c)
		}
		p := year.Departments[1]
		if p.Code != "psb" || p.Total != 2 || p.Rate != 0 || p.Rectify != 0 {
			t.Errorf("psb = %+v", p)
		}
		if it := year.Items[0]; it.Code != civilItem || it.NameZh != "高龄津贴" && it.NameZh == "" {
			t.Errorf("the first item = %+v", it)
		}
		month, err := f.svc.Summary(ctx, rating.ThisMonth)
		if err != nil {
			t.Fatal(err)
		}
		if month.Total.Total != 4 || len(month.Departments) != 1 {
			t.Errorf("this month = %+v", month.Total)
		}
		_, err = f.svc.Summary(ctx, "week")
		wantErr(t, "a week", err, apperr.Invalid, apperr.BadPeriod)
	})
}

// TestPhoneRatingIsRecordedByStaff: a supervisor records what the
// applicant said on the phone, audited; a reviewer may not.
func TestPhoneRatingIsRecordedByStaff(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		ann := f.citizen(t, "安安")
		sup := f.staff(t, "supervisor", "gsdb", authz.Supervisor)
		civil := f.staff(t, "reviewer.civil", "civil", authz.Reviewer)
		app := f.application(t, ann, civilItem, "delivered", f.now.Add(-time.Hour))
		var number string
		if err := db.QueryRowContext(ctx, `SELECT number FROM applications WHERE id = $1`, app).Scan(&number); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.RatePhone(ctx, civil, number, rating.Input{Stars: 5})
		wantErr(t, "a reviewer records a phone rating", err, apperr.Forbidden, apperr.PermissionDenied)
		if _, err := f.svc.RatePhone(ctx, sup, number, rating.Input{Stars: 2, Comment: "电话里说等太久"}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM ratings WHERE application_id = $1 AND channel = 'phone' AND recorded_by = $2 AND person_id = $3`, app, sup.AccountID, ann.PersonID); n != 1 {
			t.Errorf("%d phone ratings recorded by the supervisor for the applicant, want 1", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM rectifications WHERE application_id = $1 AND department_code = 'civil'`, app); n != 1 {
			t.Errorf("%d rectifications opened by the phone rating, want 1", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_entries WHERE action = 'rating.phone'`); n != 1 {
			t.Errorf("%d audited phone ratings, want 1", n)
		}
	})
}

// TestSealPlaintextSealsOldComments: a comment an earlier version kept in
// plaintext is sealed at start, and still reads the same.
func TestSealPlaintextSealsOldComments(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		ann := f.citizen(t, "安安")
		app := f.application(t, ann, civilItem, "approved", f.now)
		if _, err := f.svc.RateOnline(ctx, ann, app, rating.Input{Stars: 4}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE ratings SET comment = '旧的评价' WHERE application_id = $1`, app); err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.SealPlaintext(ctx); err != nil || n != 1 {
			t.Fatalf("sealed %d (%v), want 1", n, err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM ratings WHERE comment LIKE 'v1:%'`); n != 1 {
			t.Errorf("%d sealed comments, want 1", n)
		}
		if pt, err := f.svc.ForParty(ctx, ann, app); err != nil || pt.Rating.Comment != "旧的评价" {
			t.Errorf("the comment reads %+v (%v)", pt.Rating, err)
		}
	})
}
