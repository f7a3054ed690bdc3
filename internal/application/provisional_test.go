package application_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/catalog"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

// test2027 is a made-up 2027 notice for tests (the real one is not out):
// 元旦 1–3 January with Saturday 9 January a make-up working day, so that
// deadlines counted on it differ from the provisional ones.
func test2027() workday.Notice {
	return workday.Notice{
		Year:   2027,
		Source: "国办发明电〔2026〕测试号",
		Holidays: []workday.NoticeHoliday{
			{Name: "元旦", From: "2027-01-01", To: "2027-01-03"},
			{Name: "春节", From: "2027-02-05", To: "2027-02-13"},
		},
		MakeUpDays: []workday.NoticeMakeUp{{Date: "2027-01-09", For: "元旦"}},
	}
}

// TestProvisionalDeadlinesAreCountedAgainOnLoad accepts an application with
// 20 working days on Sunday 20 December 2026, before 2027 is loaded: its
// deadline and its steps' are counted provisionally into January 2027, and
// counted again when the year is loaded.
func TestProvisionalDeadlinesAreCountedAgainOnLoad(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		days, err := workday.NewStore(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		f := setupCalendars(t, db, nil, func(c *catalog.Catalogue) {
			parallelSteps(c)
			for _, it := range c.Items {
				if it.Item.Code == seniorCard {
					it.Item.TimeLimit = catalog.TimeLimit{StatutoryDays: 20, PromisedDays: 20}
					for i := range it.Item.Steps {
						if it.Item.Steps[i].Group == "joint" {
							it.Item.Steps[i].Days = 15
						}
					}
				}
			}
		}, func(ctx context.Context) (application.Calendar, error) { return days.Calendar(ctx) })
		days.OnLoad(func(ctx context.Context, tx *sql.Tx, before, after *workday.Calendar) error {
			return f.apps.Deadlines.Recount(ctx, tx, before, after)
		})
		now := time.Date(2026, 12, 20, 10, 0, 0, 0, workday.CST)
		f.apps.SetNow(func() time.Time { return now })
		st := makeStaff(t, f.ids)
		if err := f.apps.Decisions.SetMachineSuspended(ctx, st.head, seniorCard, true, "test"); err != nil {
			t.Fatal(err)
		}
		a := submitManual(t, f)
		if _, err := f.apps.Tasks.DecideTask(ctx, st.clerk, taskOf(t, f, st.clerk, "accept").ID, 0, true, nil, ""); err != nil {
			t.Fatalf("accepting into a year not loaded: %v", err)
		}

		// 21–31 December are 9 working days; provisionally 1 January and the
		// weekends are off: the 15th working day is Monday 11 January, the
		// 20th Monday 18 January.
		v, err := f.apps.Tasks.StaffApplication(ctx, st.civil, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		end := func(day int) time.Time {
			return time.Date(2027, 1, day, 23, 59, 59, int(999*time.Millisecond), workday.CST)
		}
		if v.Deadline == nil || !v.Deadline.Equal(end(18)) || !v.DeadlineProvisional {
			t.Fatalf("provisional deadline: %v, provisional %v", v.Deadline, v.DeadlineProvisional)
		}
		for _, task := range v.Tasks {
			if task.Group == "joint" && (task.Deadline == nil || !task.Deadline.Equal(end(11)) || !task.DeadlineProvisional) {
				t.Errorf("step %s: %v, provisional %v", task.StepID, task.Deadline, task.DeadlineProvisional)
			}
		}
		if !hasEvent(v.Timeline, "accept", "临时推算") || !hasEvent(v.Timeline, "deadline_provisional", "2027-01-11") {
			t.Errorf("the timeline does not say the deadlines are provisional: %+v", v.Timeline)
		}

		// Loading 2027 counts them again: Saturday 9 January is a make-up
		// working day, so the 15th is Saturday 9 January, the 20th Friday 15.
		if _, err := days.Load(ctx, test2027(), "staff:1"); err != nil {
			t.Fatal(err)
		}
		v, err = f.apps.Tasks.StaffApplication(ctx, st.civil, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Deadline == nil || !v.Deadline.Equal(end(15)) || v.DeadlineProvisional {
			t.Errorf("after loading 2027: %v, provisional %v", v.Deadline, v.DeadlineProvisional)
		}
		for _, task := range v.Tasks {
			if task.Group == "joint" && (task.Deadline == nil || !task.Deadline.Equal(end(9)) || task.DeadlineProvisional) {
				t.Errorf("step %s after loading 2027: %v, provisional %v", task.StepID, task.Deadline, task.DeadlineProvisional)
			}
		}
		if !hasEvent(v.Timeline, "deadline_recounted", "2027-01-18 → 2027-01-15") || !hasEvent(v.Timeline, "deadline_recounted", "2027-01-11 → 2027-01-09") {
			t.Errorf("the timeline does not show the recount: %+v", v.Timeline)
		}

		// Loading it again finds nothing provisional to count.
		n := len(v.Timeline)
		if _, err := days.Load(ctx, test2027(), "staff:2"); err != nil {
			t.Fatal(err)
		}
		if v, _ = f.apps.Tasks.StaffApplication(ctx, st.civil, a.ID); len(v.Timeline) != n {
			t.Errorf("a second load recounted again: %+v", v.Timeline[n:])
		}
	})
}

func hasEvent(events []application.Event, action, note string) bool {
	return slices.ContainsFunc(events, func(e application.Event) bool { return e.Action == action && strings.Contains(e.Note, note) })
}
