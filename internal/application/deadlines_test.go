package application_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/supervision"
	"yiwang/internal/workday"
)

// clock is a settable time for the service.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// at is a moment of a day in June 2026, China time. The Dragon Boat
// Festival (端午节) makes Friday 19 to Sunday 21 June days off.
func at(day, hour int) time.Time { return time.Date(2026, 6, day, hour, 0, 0, 0, workday.CST) }

// deadlineSteps are the parallel steps with a long application deadline,
// so that only the steps' two-day deadlines come near.
func deadlineSteps(c *catalog.Catalogue) {
	parallelSteps(c)
	for _, it := range c.Items {
		if it.Item.Code == seniorCard {
			it.Item.TimeLimit.PromisedDays = 10
		}
	}
}

// acceptedAt submits a manual senior card application and accepts it at the
// clock's time: its review steps open with two working days each.
func acceptedAt(t *testing.T, f fixture, st staff) application.Application {
	t.Helper()
	ctx := context.Background()
	if err := f.apps.Decisions.SetMachineSuspended(ctx, st.head, seniorCard, true, "test"); err != nil {
		t.Fatal(err)
	}
	a := submitManual(t, f)
	if _, err := f.apps.Tasks.DecideTask(ctx, st.clerk, taskOf(t, f, st.clerk, "accept").ID, 0, true, nil, ""); err != nil {
		t.Fatal(err)
	}
	return a
}

// warnings are the deadline warnings sent so far, by recipient account.
func warnings(f fixture) map[int64][]notify.Message {
	f.notices.mu.Lock()
	defer f.notices.mu.Unlock()
	out := map[int64][]notify.Message{}
	for _, m := range f.notices.sent {
		if m.Kind == notify.DeadlineWarning {
			out[m.AccountID] = append(out[m.AccountID], m)
		}
	}
	return out
}

func count(m map[int64][]notify.Message) int {
	n := 0
	for _, l := range m {
		n += len(l)
	}
	return n
}

func sweep(t *testing.T, f fixture) application.SweepResult {
	t.Helper()
	res, err := f.apps.Deadlines.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestDeadlinesTurnYellowThenRedOnceAndWriteAccountability(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, deadlineSteps)
		st := makeStaff(t, f.ids)
		c := &clock{at(16, 9)} // Tuesday
		f.apps.SetNow(c.now)
		f.apps.SetWarningDays(1)
		a := acceptedAt(t, f, st)

		// Accepted on Tuesday: two working days, to the end of Thursday.
		civil := taskOf(t, f, st.civil, "civil_review")
		if want := workday.DateOf(at(18, 0)).End(); civil.Deadline == nil || !civil.Deadline.Equal(want) {
			t.Fatalf("the step's deadline is %v, want %v", civil.Deadline, want)
		}
		if civil.Light != application.Green || civil.WorkdaysLeft == nil || *civil.WorkdaysLeft != 2 {
			t.Errorf("on Tuesday the step is %s with %v days left, want green with 2", civil.Light, civil.WorkdaysLeft)
		}
		if res := sweep(t, f); res != (application.SweepResult{}) || count(warnings(f)) != 0 {
			t.Errorf("a sweep while all is green did %+v and warned %v", res, warnings(f))
		}

		// Wednesday: one day left, yellow; the department's reviewers are
		// warned while nobody has claimed the step, once.
		c.t = at(17, 10)
		if civil = taskOf(t, f, st.civil, "civil_review"); civil.Light != application.Yellow || *civil.WorkdaysLeft != 1 {
			t.Errorf("on Wednesday the step is %s with %d days left", civil.Light, *civil.WorkdaysLeft)
		}
		if res := sweep(t, f); res.Warned != 2 || res.Overdue != 0 {
			t.Errorf("the yellow sweep did %+v, want both steps warned", res)
		}
		w := warnings(f)
		for _, p := range []authz.Principal{st.civil, st.civil2, st.property} {
			if len(w[p.AccountID]) != 1 {
				t.Errorf("%s got %d warnings, want 1", p.Name, len(w[p.AccountID]))
			}
		}
		if count(w) != 3 || w[st.civil.AccountID][0].ApplicationID != a.ID || w[st.civil.AccountID][0].TitleEn != "1 working day(s) left: the step civil_review of application "+a.Number {
			t.Errorf("warnings %+v", w)
		}
		if err := f.apps.Tasks.Claim(ctx, st.civil, civil.ID); err != nil {
			t.Fatal(err)
		}
		c.t = at(18, 15) // Thursday, the last day: still yellow, already told
		if res := sweep(t, f); res != (application.SweepResult{}) || count(warnings(f)) != 3 {
			t.Errorf("a second yellow sweep did %+v; warnings now %d", res, count(warnings(f)))
		}

		// Friday is a holiday: overdue although no working day has passed.
		c.t = at(19, 10)
		if civil = taskOf(t, f, st.civil, "civil_review"); civil.Light != application.Red || *civil.WorkdaysLeft != 0 {
			t.Errorf("on the holiday after the deadline the step is %s with %d days left", civil.Light, *civil.WorkdaysLeft)
		}
		if res := sweep(t, f); res.Overdue != 2 || res.Records != 2 || res.Warned != 0 {
			t.Errorf("the red sweep did %+v", res)
		}
		w = warnings(f)
		if len(w[st.civil.AccountID]) != 2 || len(w[st.head.AccountID]) != 1 || len(w[st.civil2.AccountID]) != 1 || len(w[st.property.AccountID]) != 2 {
			t.Errorf("after the red sweep: the assignee got %d, the head %d, the other reviewer %d, the property reviewer %d",
				len(w[st.civil.AccountID]), len(w[st.head.AccountID]), len(w[st.civil2.AccountID]), len(w[st.property.AccountID]))
		}
		if m := w[st.head.AccountID][0]; m.TitleZh != "办件 "+a.Number+" 的「民政审查」环节 已超期" {
			t.Errorf("the head was told %q", m.TitleZh)
		}
		c.t = at(19, 16)
		if res := sweep(t, f); res != (application.SweepResult{}) {
			t.Errorf("a second red sweep the same day did %+v", res)
		}

		// Monday: one working day over; the records are brought up to date, not repeated.
		c.t = at(22, 10)
		if res := sweep(t, f); res.Records != 2 || res.Overdue != 0 || count(warnings(f)) != 6 {
			t.Errorf("Monday's sweep did %+v with %d warnings in all", res, count(warnings(f)))
		}
		records, err := f.apps.Deadlines.Records(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 2 {
			t.Fatalf("%d accountability records, want 2: %+v", len(records), records)
		}
		byStep := map[string]application.Record{}
		for _, r := range records {
			byStep[r.StepID] = r
		}
		r := byStep["civil_review"]
		if r.Subject != "task" || r.ApplicationID != a.ID || r.Number != a.Number || r.TaskID != civil.ID || r.Department != "civil" || r.StepName != "民政审查" ||
			r.ResponsibleID != st.civil.AccountID || r.ResponsibleName != "civil.a" || r.DaysOver != 1 || !r.Deadline.Equal(*civil.Deadline) {
			t.Errorf("the civil review's record is %+v", r)
		}
		if r := byStep["property_check"]; r.Department != "realestate" || r.ResponsibleID != 0 || r.DaysOver != 1 {
			t.Errorf("the unclaimed property check's record is %+v", r)
		}

		// Supervisors see the board; reviewers do not.
		if _, err := f.apps.Deadlines.Overdue(ctx, st.civil, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a reviewer reading the overdue board: %v", err)
		}
		board, err := f.apps.Deadlines.Overdue(ctx, authz.Principal{AccountID: st.head.AccountID, Kind: "staff", Roles: []authz.Role{authz.Supervisor}}, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(board.Cases) != 2 || len(board.Records) != 2 || board.WarningDays != 1 {
			t.Fatalf("the board: %+v", board)
		}
		for _, c := range board.Cases {
			if c.Subject != "task" || c.Light != application.Red || c.DaysOver != 1 || c.WorkdaysLeft != -1 || c.Number != a.Number {
				t.Errorf("a case on the board: %+v", c)
			}
		}
		if i := slices.IndexFunc(board.Cases, func(c application.Case) bool { return c.StepID == "civil_review" }); i < 0 || board.Cases[i].ResponsibleName != "civil.a" || board.Cases[i].Department != "civil" {
			t.Errorf("the civil review on the board: %+v", board.Cases)
		}

		// The 电子监察 board counts them per department, and a department's
		// drill-down shows only its own cases and records.
		found, err := f.apps.Deadlines.Findings(ctx, c.t)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(found, func(a, b supervision.Finding) int { return strings.Compare(a.Department, b.Department) })
		if len(found) != 2 || found[0].Department != "civil" || found[0].Kind != supervision.Overdue || found[0].Count != 1 ||
			found[1].Department != "realestate" || found[1].Count != 1 || found[0].Link != "/workbench/overdue?department=civil" {
			t.Errorf("findings %+v", found)
		}
		civilBoard, err := f.apps.Deadlines.Overdue(ctx, authz.Principal{AccountID: st.head.AccountID, Kind: "staff", Roles: []authz.Role{authz.Supervisor}}, "civil")
		if err != nil {
			t.Fatal(err)
		}
		if civilBoard.CasesTotal != 1 || len(civilBoard.Cases) != 1 || civilBoard.Cases[0].Department != "civil" || len(civilBoard.Records) != 1 {
			t.Errorf("civil's board: %+v", civilBoard)
		}

		// A finished step leaves the board but keeps its record.
		if _, err := f.apps.Tasks.DecideTask(ctx, st.civil, civil.ID, 0, true, nil, ""); err != nil {
			t.Fatal(err)
		}
		if board, _ = f.apps.Deadlines.Overdue(ctx, authz.Principal{AccountID: st.clerk.AccountID, Kind: "staff", Roles: []authz.Role{authz.SysAdmin}}, ""); len(board.Cases) != 1 || len(board.Records) != 2 {
			t.Errorf("after the civil review was done the board has %d cases and %d records", len(board.Cases), len(board.Records))
		}
	})
}

func TestClockRestartMovesTheStepsDeadlines(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, deadlineSteps)
		st := makeStaff(t, f.ids)
		c := &clock{at(16, 9)}
		f.apps.SetNow(c.now)
		f.apps.SetWarningDays(1)
		a := acceptedAt(t, f, st)
		civil := taskOf(t, f, st.civil, "civil_review")
		c.t = at(16, 11)
		if _, err := f.apps.Tasks.RequestCorrection(ctx, st.civil, civil.ID, 0, []application.CorrectionItem{{Field: "delivery", Reason: "请改选仅电子证"}}); err != nil {
			t.Fatal(err)
		}

		// While the applicant corrects, the case is paused, not aging.
		c.t = at(19, 10)
		v, err := f.apps.Tasks.StaffApplication(ctx, st.civil, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Light != application.Paused || *v.WorkdaysLeft != 10 {
			t.Errorf("the stopped application is %s with %d days left", v.Light, *v.WorkdaysLeft)
		}
		for _, task := range v.Tasks {
			if task.StepID == "civil_review" && (task.Light != application.Paused || *task.WorkdaysLeft != 2) {
				t.Errorf("the stopped step is %s with %d days left", task.Light, *task.WorkdaysLeft)
			}
		}
		if res := sweep(t, f); res != (application.SweepResult{}) {
			t.Errorf("a sweep while the clock is stopped did %+v", res)
		}

		// Supplied on Monday: the clock stood Wednesday, Thursday and Monday,
		// so every deadline moves on by three working days.
		c.t = at(22, 10)
		if _, err := f.apps.Drafts.SupplyCorrection(ctx, f.p, a.ID, 0, map[string]any{"delivery": "electronic"}); err != nil {
			t.Fatal(err)
		}
		wednesday, thursday := workday.DateOf(at(24, 0)).End(), workday.DateOf(at(25, 0)).End()
		for _, step := range []struct {
			p  authz.Principal
			id string
		}{{st.civil, "civil_review"}, {st.property, "property_check"}} {
			task := taskOf(t, f, step.p, step.id)
			if !task.Deadline.Equal(wednesday) || task.Light != application.Green || *task.WorkdaysLeft != 2 {
				t.Errorf("after the correction %s is due %v (%s, %d left), want %v", step.id, task.Deadline, task.Light, *task.WorkdaysLeft, wednesday)
			}
		}
		got, _ := f.apps.Drafts.Get(ctx, f.p, a.ID)
		if want := workday.DateOf(time.Date(2026, 7, 6, 0, 0, 0, 0, workday.CST)).End(); !got.Deadline.Equal(want) {
			t.Errorf("the application is due %v, want %v", got.Deadline, want)
		}

		// A special procedure from Monday to Tuesday stops it one more day.
		if _, err := f.apps.Tasks.StartSpecial(ctx, st.civil, civil.ID, 0, "expert_review", "需专家论证"); err != nil {
			t.Fatal(err)
		}
		c.t = at(23, 10)
		if _, err := f.apps.Tasks.EndSpecial(ctx, st.civil, civil.ID, 0, "论证完毕"); err != nil {
			t.Fatal(err)
		}
		if task := taskOf(t, f, st.property, "property_check"); !task.Deadline.Equal(thursday) {
			t.Errorf("after the special procedure the property check is due %v, want %v", task.Deadline, thursday)
		}
		if res := sweep(t, f); res != (application.SweepResult{}) {
			t.Errorf("nothing is late, yet the sweep did %+v", res)
		}
	})
}

func TestDeadlineSweepStaysScheduledAcrossRestarts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		start := func() *jobs.Queue {
			ws := jobs.NewWorkers()
			jobs.Register(ws, application.NewSweepWorker(f.apps.Deadlines))
			q, err := jobs.New(db, ws, logger, jobs.Config{PollInterval: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := application.ScheduleSweep(ctx, db, q); err != nil {
				t.Fatal(err)
			}
			return q
		}
		jobCount := func(state string) int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'deadline_sweep' AND state = $1`, state).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		q := start()
		for give := time.Now().Add(20 * time.Second); jobCount("completed") == 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(give) {
				q.Stop(ctx)
				t.Fatal("the first sweep never ran")
			}
		}
		if err := q.Stop(ctx); err != nil {
			t.Fatal(err)
		}

		// The worker is gone; the next sweep is still a row, due later.
		var due time.Time
		if err := db.QueryRowContext(ctx, `SELECT scheduled_at FROM river_job WHERE kind = 'deadline_sweep' AND state = 'scheduled'`).Scan(&due); err != nil {
			t.Fatalf("no sweep is scheduled after the worker stopped: %v", err)
		}
		if !due.After(time.Now()) || due.After(time.Now().Add(application.SweepEvery)) {
			t.Errorf("the next sweep is due at %v", due)
		}

		// A restart schedules no second chain and does not run the first
		// period again. The test may cross a period's start, when the next
		// sweep runs on its own: let the queue settle before counting.
		var firstSlot string
		if err := db.QueryRowContext(ctx, `SELECT args FROM river_job WHERE kind = 'deadline_sweep' AND state = 'completed'`).Scan(&firstSlot); err != nil {
			t.Fatal(err)
		}
		q = start()
		defer q.Stop(ctx)
		for give := time.Now().Add(20 * time.Second); jobCount("available")+jobCount("running") > 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(give) {
				t.Fatal("the sweeps after a restart never settled")
			}
		}
		if n := jobCount("scheduled"); n != 1 {
			t.Errorf("after a restart %d sweeps wait, want 1", n)
		}
		all, err := store.All(ctx, db, store.Value[string], `SELECT args FROM river_job WHERE kind = 'deadline_sweep'`)
		if err != nil {
			t.Fatal(err)
		}
		again := 0
		for _, args := range all {
			if args == firstSlot {
				again++
			}
		}
		if again != 1 {
			t.Errorf("the first period's sweep is on record %d times after a restart, want once", again)
		}
	})
}
