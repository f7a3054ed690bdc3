package application_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/insight"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

// rollups reads every row of insight_daily as a map from its key to its counters.
func rollups(t *testing.T, db *store.DB, table string) map[string]map[string]int64 {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT day, department, item_code, region, channel,
		received, zero_visit, one_visit, materials_saved, fields_prefilled, finished, approved, rejected, not_accepted,
		machine_approved, on_time, late, workdays_sum, stops, w0 FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names := []string{"received", "zero_visit", "one_visit", "materials_saved", "fields_prefilled", "finished", "approved", "rejected",
		"not_accepted", "machine_approved", "on_time", "late", "workdays_sum", "stops", "w0"}
	out := map[string]map[string]int64{}
	for rows.Next() {
		var day, dept, item, region, channel string
		v := make([]int64, len(names))
		dest := []any{&day, &dept, &item, &region, &channel}
		for i := range v {
			dest = append(dest, &v[i])
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for i, n := range names {
			m[n] = v[i]
		}
		out[day+"/"+dept+"/"+item+"/"+region+"/"+channel] = m
	}
	return out
}

// TestDashboardRollupsFollowTheApplications applies and decides real
// applications and reads the dashboard's rollups: what a district head sees
// changes with each move, and a rebuild from the timelines gives the same.
func TestDashboardRollupsFollowTheApplications(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, parallelSteps)
		st := makeStaff(t, f.ids)

		// One approved by the machine at submission (秒批).
		machine := submitSeniorCard(t, f)
		if machine.Status != "licence_issued" && machine.Status != "approved" {
			t.Fatalf("the machine did not approve: %s", machine.Status)
		}
		// Two to people: one corrected and approved, one not accepted.
		if err := f.apps.Decisions.SetMachineSuspended(ctx, st.head, seniorCard, true, "test"); err != nil {
			t.Fatal(err)
		}
		a := submitManual(t, f)
		accept := taskOf(t, f, st.clerk, "accept")
		if _, err := f.apps.Tasks.RequestCorrection(ctx, st.clerk, accept.ID, 0, []application.CorrectionItem{{Field: "delivery", Reason: "请改选仅电子证"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Drafts.SupplyCorrection(ctx, f.p, a.ID, 0, map[string]any{"delivery": "electronic"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Tasks.DecideTask(ctx, st.clerk, accept.ID, 0, true, nil, ""); err != nil {
			t.Fatal(err)
		}
		for _, d := range []struct {
			p    authz.Principal
			step string
		}{{st.civil, "civil_review"}, {st.property, "property_check"}, {st.head, "decide"}} {
			if _, err := f.apps.Tasks.DecideTask(ctx, d.p, taskOf(t, f, d.p, d.step).ID, 0, true, nil, ""); err != nil {
				t.Fatal(err)
			}
		}
		refused := submitManual(t, f)
		task, _ := inboxTask(t, f, st.clerk, refused.ID, "accept")
		if _, err := f.apps.Tasks.DecideTask(ctx, st.clerk, task.ID, 0, false, []string{"申请材料不齐全"}, ""); err != nil {
			t.Fatal(err)
		}

		got, months := rollups(t, db, "insight_daily"), rollups(t, db, "insight_monthly")
		if len(got) != 1 {
			t.Fatalf("three applications of one item, day and channel make %d rollup rows: %v", len(got), got)
		}
		var row map[string]int64
		var k string
		for k, row = range got {
		}
		want := map[string]int64{"received": 3, "finished": 3, "approved": 2, "not_accepted": 1, "rejected": 0,
			"machine_approved": 1, "on_time": 3, "late": 0, "stops": 1, "w0": 3}
		for n, v := range want {
			if row[n] != v {
				t.Errorf("%s: %s = %d, want %d (%v)", k, n, row[n], v, row)
			}
		}
		if row["fields_prefilled"] == 0 {
			t.Errorf("%s: the fields the registries filled are not counted: %v", k, row)
		}

		// The dashboard shows them to a supervisor and to the item's
		// department's head, not to another department's head.
		dash := insight.NewService(db)
		for _, p := range []authz.Principal{newStaff(t, f.ids, "insight.supervisor", "gsdb", authz.Supervisor), st.head} {
			d, err := dash.View(ctx, p, insight.Filter{Period: "day"})
			if err != nil {
				t.Fatal(err)
			}
			if d.Total.Received != 3 || d.Total.Finished != 3 || d.Total.MachineRate != 33.3 || d.Total.OnTimeRate != 100 || d.Total.MedianDays != 0 || len(d.Periods) != 1 {
				t.Errorf("%s's dashboard: %+v", p.Name, d.Total)
			}
			if len(d.Departments) != 1 || d.Departments[0].NameZh == "" {
				t.Errorf("%s's dashboard by department: %+v", p.Name, d.Departments)
			}
			// The whole month, read from the monthly rollups, says the same.
			day, _ := time.Parse(time.DateOnly, d.Filter.To)
			first := day.AddDate(0, 0, 1-day.Day())
			month, err := dash.View(ctx, p, insight.Filter{Period: "month", From: first.Format(time.DateOnly), To: first.AddDate(0, 1, -1).Format(time.DateOnly)})
			if err != nil {
				t.Fatal(err)
			}
			if month.Total != d.Total || len(month.Periods) != 1 {
				t.Errorf("%s's month:\n%+v\nits days:\n%+v", p.Name, month.Total, d.Total)
			}
		}
		other := newStaff(t, f.ids, "realestate.head", "realestate", authz.Head)
		if _, err := dash.View(ctx, other, insight.Filter{Department: "civil"}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("another department's head asking for civil affairs' figures: %v", err)
		}
		if d, err := dash.View(ctx, other, insight.Filter{}); err != nil || d.Total.Received != 0 {
			t.Errorf("another department's head sees %+v (%v)", d.Total, err)
		}
		if _, err := dash.View(ctx, st.civil, insight.Filter{}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a reviewer opening the dashboard: %v", err)
		}

		// Every step done is counted where it waited: acceptance twice,
		// the parallel reviews and the head's decision once each.
		steps := stepRollups(t, db)
		for step, want := range map[string]int64{"accept": 2, "civil_review": 1, "property_check": 1, "decide": 1} {
			if steps[step] != want {
				t.Errorf("steps done at %s: %d, want %d (%v)", step, steps[step], want, steps)
			}
		}
		if d, err := dash.View(ctx, newStaff(t, f.ids, "insight.supervisor2", "gsdb", authz.Supervisor), insight.Filter{}); err != nil || len(d.Bottlenecks) != 4 || d.Bottlenecks[0].NameZh == "" || d.Bottlenecks[0].DeptZh == "" {
			t.Errorf("bottlenecks: %+v (%v)", d.Bottlenecks, err)
		}

		cal, err := workday.Shipped()
		if err != nil {
			t.Fatal(err)
		}
		n, err := insight.Rebuild(ctx, db, cal)
		if err != nil {
			t.Fatal(err)
		}
		if n != 7 {
			t.Errorf("the rebuild counted %d moves, want 3 submissions, 3 decisions and 1 restart", n)
		}
		if rebuilt := rollups(t, db, "insight_daily"); !reflect.DeepEqual(rebuilt, got) {
			t.Errorf("rebuilt rollups differ from those counted as it happened:\n%v\n%v", rebuilt, got)
		}
		if rebuilt := stepRollups(t, db); !reflect.DeepEqual(rebuilt, steps) {
			t.Errorf("rebuilt steps differ from those counted as they were done:\n%v\n%v", rebuilt, steps)
		}
		if rebuilt := rollups(t, db, "insight_monthly"); !reflect.DeepEqual(rebuilt, months) {
			t.Errorf("rebuilt monthly rollups differ from those counted as it happened:\n%v\n%v", rebuilt, months)
		}
	})
}

// stepRollups reads how many of each step were done, by step.
func stepRollups(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT step_id, SUM(done) FROM insight_steps GROUP BY step_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var step string
		var n int64
		if err := rows.Scan(&step, &n); err != nil {
			t.Fatal(err)
		}
		out[step] = n
	}
	return out
}
