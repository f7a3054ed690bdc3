package application

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"yiwang/internal/store"
	"yiwang/internal/workday"
	"yiwang/internal/workflow"
)

// Provisional deadlines. The working-day calendar counts a day of a year
// whose State Council notice is not loaded yet by a provisional rule
// (package workday), so that applications whose time limit reaches into
// next year can be accepted before the notice is out. Such a deadline is
// marked on the timeline and in the staff view, and Recount counts it again
// when the year is loaded.

// deadlineAfter is the end of the days-th working day after from, with the
// calendar that counted it, for provisionalNote.
func (s *core) deadlineAfter(ctx context.Context, from time.Time, days int) (time.Time, Calendar, error) {
	cal, err := s.calendars(ctx)
	if err != nil {
		return time.Time{}, nil, err
	}
	deadline, err := cal.Deadline(from, days)
	return deadline, cal, err
}

// provisionalNote is what the timeline says of a deadline counted from from
// to deadline, when that used days of a year not loaded: "" otherwise.
// recounted says whether Recount will count it again once the year is
// loaded (application and step deadlines), or it stays as set (a public
// notice's end, a co-party's reply-by day).
func provisionalNote(cal Calendar, from, deadline time.Time, recounted bool) string {
	if deadline.IsZero() || !cal.Provisional(from, deadline) {
		return ""
	}
	then := "载入后自动重算"
	if !recounted {
		then = "载入后不自动变更"
	}
	return fmt.Sprintf("期限 %s 为临时推算：所跨年份的国务院放假安排尚未载入，暂只按周末及元旦、劳动节、国庆节休息计算，%s",
		deadline.In(workday.CST).Format(time.DateOnly), then)
}

// withProvisional is note followed by provisionalNote's word, if any.
func withProvisional(note string, cal Calendar, from, deadline time.Time, recounted bool) string {
	if p := provisionalNote(cal, from, deadline, recounted); p != "" {
		return note + "（" + p + "）"
	}
	return note
}

// markProvisional records note on the timeline of an application, prefixed
// with what the deadline is of; an empty note records nothing.
func (s *core) markProvisional(ctx context.Context, tx *sql.Tx, applicationID int64, what, note string) error {
	if note == "" {
		return nil
	}
	var status string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM applications WHERE id = $1`, applicationID).Scan(&status); err != nil {
		return err
	}
	return s.record(ctx, tx, applicationID, system, "deadline_provisional", status, status, what+note, map[string]any{"deadline_provisional": true})
}

// Recount counts again the deadlines of undecided applications and of open
// steps that before counted provisionally: the same number of working days
// (by before) from the same start (acceptance, the step's opening), now by
// after. Clock stops are inside that span, so their days stay added. It runs
// inside the transaction that loads a year (workday.Store.OnLoad), so a year
// is never loaded with provisional deadlines left behind it.
func (s *Deadlines) Recount(ctx context.Context, tx *sql.Tx, before, after Calendar) error {
	type recount struct {
		app, task    int64 // task 0: the application's own deadline
		status, name string
		from, old    time.Time
	}
	apps, err := store.All(ctx, tx, func(row store.Scanner) (recount, error) {
		var r recount
		err := row.Scan(&r.app, &r.status, &r.from, &r.old)
		return r, err
	}, `SELECT id, status, accepted_at, deadline FROM applications
		WHERE deadline IS NOT NULL AND accepted_at IS NOT NULL AND decided_at IS NULL`)
	if err != nil {
		return err
	}
	tasks, err := store.All(ctx, tx, func(row store.Scanner) (recount, error) {
		var r recount
		err := row.Scan(&r.task, &r.app, &r.status, &r.name, &r.from, &r.old)
		return r, err
	}, `SELECT t.id, t.application_id, a.status, t.name_zh, t.opened_at, t.deadline FROM tasks t JOIN applications a ON a.id = t.application_id
		WHERE t.status IN ('open', 'claimed') AND t.deadline IS NOT NULL AND t.opened_at IS NOT NULL`)
	if err != nil {
		return err
	}
	var list []recount
	for _, r := range apps {
		if !workflow.Decided(workflow.Status(r.status)) && before.Provisional(r.from, r.old) {
			list = append(list, r)
		}
	}
	for _, r := range tasks {
		if before.Provisional(r.from, r.old) {
			list = append(list, r)
		}
	}
	for _, r := range list {
		n, err := before.WorkdaysLeft(r.from, r.old)
		if err != nil {
			return err
		}
		deadline, err := after.Deadline(r.from, n)
		if err != nil {
			return err
		}
		what := "办结期限"
		if r.task != 0 {
			what = "环节「" + r.name + "」期限"
			err = setTaskDeadline(ctx, tx, r.task, deadline)
		} else {
			err = recountDeadline(ctx, tx, r.app, deadline, s.now())
		}
		if err != nil {
			return err
		}
		note := fmt.Sprintf("放假安排已载入，%s按 %d 个工作日重算：%s → %s", what, n,
			r.old.In(workday.CST).Format(time.DateOnly), deadline.In(workday.CST).Format(time.DateOnly))
		if still := provisionalNote(after, r.from, deadline, true); still != "" {
			note += "；" + still
		}
		details := map[string]any{"from": r.old, "to": deadline}
		if r.task != 0 {
			details["task"] = r.task
		}
		if err := s.record(ctx, tx, r.app, system, "deadline_recounted", r.status, r.status, note, details); err != nil {
			return err
		}
	}
	return nil
}
