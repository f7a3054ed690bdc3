package application_test

import (
	"context"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

// lookAtSeventy gives the senior card a rule that leaves applicants under
// 70 (the fixture's person is 66) to a person, and the manual route r.
func lookAtSeventy(r catalog.ManualRoute) func(*catalog.Catalogue) {
	return seniorCardAs(func(it *catalog.Item) {
		it.Rules = append(it.Rules, catalog.Rule{ID: "seventy", Description: catalog.Text{Zh: "年满70周岁"}, Expr: "applicant.age >= 70",
			Reason: catalog.Text{Zh: "未满70周岁，需人工核对"}, OnFail: "manual"})
		it.Approval.Manual = &r
	})
}

// manualTask is the manual review of application id in p's inbox, or the
// zero Task when p's inbox does not hold it.
func manualTask(t *testing.T, f fixture, p authz.Principal, id int64) application.Task {
	t.Helper()
	task, _ := inboxTask(t, f, p, id, "manual_review")
	return task
}

// dueIn checks that task is due at the end of the days-th working day
// after submission, not the day it came in.
func dueIn(t *testing.T, task application.Task, submitted time.Time, days int) {
	t.Helper()
	cal, err := workday.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	want, err := cal.Deadline(submitted, days)
	if err != nil {
		t.Fatal(err)
	}
	if task.Deadline == nil || !task.Deadline.Equal(want) {
		t.Fatalf("the manual review is due %v, want %v (%d working days)", task.Deadline, want, days)
	}
	if day := func(x time.Time) string { return x.In(workday.CST).Format(time.DateOnly) }; day(*task.Deadline) == day(submitted) {
		t.Errorf("the manual review is due the day it came in (%s)", day(submitted))
	}
}

// TestManualCasesOfAMachineItemGoToTheirDepartmentRoute: a machine item
// whose rule leaves a case to a person routed to a department gives its
// reviewers a task due in the route's working days; a reviewer of another
// department neither sees nor works it.
func TestManualCasesOfAMachineItemGoToTheirDepartmentRoute(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, lookAtSeventy(catalog.ManualRoute{Department: "civil", Role: "reviewer", Days: 3}))
		st := makeStaff(t, f.ids)
		before := time.Now()
		a := submitManual(t, f)
		if a.Status != "submitted" || a.Decision == nil || a.Decision.Outcome != "manual" {
			t.Fatalf("submitted: %s, decision %+v; want left to a person", a.Status, a.Decision)
		}
		task := manualTask(t, f, st.civil, a.ID)
		if task.ID == 0 || task.Department != "civil" || task.HallID != 0 || task.Name != "人工审核" {
			t.Fatalf("the civil reviewer's inbox has no manual review of application %d: %+v", a.ID, task)
		}
		dueIn(t, task, before, 3)

		if other := manualTask(t, f, st.property, a.ID); other.ID != 0 {
			t.Errorf("a real-estate reviewer's inbox holds civil's manual review")
		}
		if _, err := f.apps.Tasks.DecideTask(ctx, st.property, task.ID, 0, true, nil, ""); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a real-estate reviewer approved civil's manual review: %v", err)
		}
		done, err := f.apps.Tasks.DecideTask(ctx, st.civil, task.ID, 0, true, nil, "已核对")
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != "approved" && done.Status != "licence_issued" {
			t.Errorf("after the manual review the application is %s, want approved", done.Status)
		}
	})
}

// TestManualCasesGoToTheStreetHall: routed to the Fu'an street hall (as the
// demo elderly allowance is), the senior card's manual cases reach its
// reviewer — of no department of the item — who sees, opens and decides
// them within five working days; a reviewer of another hall, and the civil
// affairs reviewers of the district, do not have them to work, and the
// other hall cannot open the application.
func TestManualCasesGoToTheStreetHall(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, lookAtSeventy(catalog.ManualRoute{Hall: "fuan-street", Role: "reviewer", Days: 5}))
		st := makeStaff(t, f.ids)
		fuan := postedAt(t, f, db, "fuan.reviewer", "fuan-street", "910102001", authz.Reviewer)
		centre := postedAt(t, f, db, "centre.head", "mingde-center", "910102", authz.Reviewer, authz.Head)
		before := time.Now()
		a := submitManual(t, f)

		task := manualTask(t, f, fuan, a.ID)
		if task.ID == 0 || task.HallZh != "福安街道党群服务中心" || task.HallEn != "Fu'an Street Service Centre" || task.Role != "reviewer" {
			t.Fatalf("the Fu'an street reviewer's inbox has no manual review of application %d: %+v", a.ID, task)
		}
		dueIn(t, task, before, 5)
		if mine, err := f.apps.Tasks.InboxOf(ctx, fuan, a.ID); err != nil || len(mine) != 1 {
			t.Errorf("the application's page offers the Fu'an reviewer %v (%v), want its manual review", mine, err)
		}
		if v, err := f.apps.Tasks.StaffApplication(ctx, fuan, a.ID); err != nil || v.ID != a.ID {
			t.Errorf("the Fu'an reviewer cannot open the application: %v", err)
		}

		for who, p := range map[string]authz.Principal{"another hall's head": centre, "a civil affairs reviewer": st.civil, "the civil affairs head": st.head} {
			if other := manualTask(t, f, p, a.ID); other.ID != 0 {
				t.Errorf("%s's inbox holds the Fu'an hall's manual review", who)
			}
			if err := f.apps.Tasks.Claim(ctx, p, task.ID); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%s claimed the Fu'an hall's manual review: %v", who, err)
			}
			if _, err := f.apps.Tasks.DecideTask(ctx, p, task.ID, 0, false, []string{"不予通过"}, ""); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("%s decided the Fu'an hall's manual review: %v", who, err)
			}
		}
		if _, err := f.apps.Tasks.StaffApplication(ctx, centre, a.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("another hall's head opened the application: %v", err)
		}
		if err := f.apps.Tasks.Reassign(ctx, centre, task.ID, centre.AccountID); err == nil {
			t.Errorf("another hall's head took the Fu'an hall's manual review")
		}
		if got := manualTask(t, f, fuan, a.ID); got.Status != "open" || got.Assignee != 0 {
			t.Fatalf("the refused attempts changed the task: %+v", got)
		}

		// Past its deadline the step is the hall's to answer for: the
		// warning goes to its reviewer, not to the district's civil affairs
		// staff nor to another hall.
		f.apps.SetNow(func() time.Time { return task.Deadline.Add(72 * time.Hour) })
		if _, err := f.apps.Deadlines.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		told := map[int64]bool{}
		for _, m := range f.notices.sent {
			if m.ApplicationID == a.ID && m.Kind == notify.DeadlineWarning {
				told[m.AccountID] = true
			}
		}
		if !told[fuan.AccountID] || told[st.civil.AccountID] || told[st.head.AccountID] || told[centre.AccountID] {
			t.Errorf("the overdue manual review was told to %v; want the Fu'an reviewer %d alone", told, fuan.AccountID)
		}
		f.apps.SetNow(time.Now)

		if err := f.apps.Tasks.Claim(ctx, fuan, task.ID); err != nil {
			t.Fatal(err)
		}
		done, err := f.apps.Tasks.DecideTask(ctx, fuan, task.ID, 0, true, nil, "已电话核对")
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != "approved" && done.Status != "licence_issued" {
			t.Errorf("after the Fu'an hall's review the application is %s, want approved", done.Status)
		}
	})
}
