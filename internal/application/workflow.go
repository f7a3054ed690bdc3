package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"yiwang/internal/store"
	"yiwang/internal/workday"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/notify"
	"yiwang/internal/rules"
	"yiwang/internal/workflow"
)

// Calendar counts statutory deadlines in working days (*workday.Calendar).
type Calendar interface {
	// Deadline is the end of the n-th working day after the day of t.
	Deadline(t time.Time, n int) (time.Time, error)
	// WorkdaysLeft counts the working days after now's day up to and
	// including the deadline's day (negative once past it).
	WorkdaysLeft(now, deadline time.Time) (int, error)
	// Provisional reports whether counting from from's day to to's used
	// days of a year whose holiday notice is not loaded (counted by the
	// provisional rule of package workday).
	Provisional(from, to time.Time) bool
}

// Calendars returns the calendar in force; an administrator may load a new
// year at any time (workday.Store).
type Calendars func(context.Context) (Calendar, error)

// FixedCalendar is a calendar that never changes: for tools and tests.
func FixedCalendar(c Calendar) Calendars {
	return func(context.Context) (Calendar, error) { return c, nil }
}

// Notifier writes a message to the notifications outbox inside tx, so it
// exists only if the change that causes it commits (*notify.Outbox).
type Notifier interface {
	Send(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
}

// tell writes the applicant a notice about what just happened to a.
func (s *core) tell(ctx context.Context, tx *sql.Tx, a *Application, kind string) error {
	n := notify.Message{AccountID: a.accountID, Kind: notify.Kind(kind), Link: fmt.Sprintf("/applications/%d", a.ID), ApplicationID: a.ID}
	if a.HallCode != "" {
		n.AccountID, n.PersonID = 0, a.personID // a walk-in: told as the person, whoever's account took it in
	}
	ref := a.Number
	switch kind {
	case "correction_requested":
		n.TitleZh, n.TitleEn = "办件 "+ref+" 需要补正材料", "Application "+ref+" needs corrections"
		n.BodyZh, n.BodyEn = "请查看需要补正的全部内容并一次提交；补正期间办理时限暂停。", "See everything to correct and supply it at once; the time limit is paused meanwhile."
	case "revoked":
		n.Kind = notify.Decision
		n.TitleZh, n.TitleEn = "办件 "+ref+" 的许可已被撤销", "The approval of application "+ref+" was revoked"
		n.BodyZh, n.BodyEn = "撤销原因见办件详情。", "The reason is in the application's details."
	default:
		n.Kind = notify.Decision
		zh, en := map[string]string{"approved": "已准予", "rejected": "未予准许", "not_accepted": "不予受理"}[a.Status], map[string]string{"approved": "approved", "rejected": "rejected", "not_accepted": "not accepted"}[a.Status]
		if zh == "" {
			return nil
		}
		n.TitleZh, n.TitleEn = "办件 "+ref+" "+zh, "Application "+ref+" "+en
		n.BodyZh, n.BodyEn = "详情及理由见办件页面。", "The details and reasons are on the application's page."
	}
	_, err := s.notify.Send(ctx, tx, n)
	return err
}

// Event is one entry of an application's timeline.
type Event struct {
	At        time.Time       `json:"at"`
	ActorKind string          `json:"actor_kind"` // applicant, staff, machine, system, party
	ActorName string          `json:"actor_name"`
	Action    string          `json:"action"`
	From      string          `json:"from"`
	To        string          `json:"to"`
	Note      string          `json:"note,omitempty"`
	Details   json.RawMessage `json:"details,omitempty"`
}

// Task is one back-office step of one application, in a department's inbox.
type Task struct {
	ID            int64      `json:"id"`
	ApplicationID int64      `json:"application_id"`
	Number        string     `json:"number,omitempty"`
	ItemCode      string     `json:"item_code,omitempty"`
	Stage         int        `json:"stage"`
	StepID        string     `json:"step_id"`
	Name          string     `json:"name"`
	NameEn        string     `json:"name_en"`
	Department    string     `json:"department"`
	Role          string     `json:"role"`
	Group         string     `json:"group,omitempty"`
	Status        string     `json:"status"`
	Assignee      int64      `json:"assignee,omitempty"`
	OpenedAt      *time.Time `json:"opened_at,omitempty"`
	Deadline      *time.Time `json:"deadline,omitempty"`
	DoneAt        *time.Time `json:"done_at,omitempty"`
	Reasons       []string   `json:"reasons"`
	Note          string     `json:"note,omitempty"`
	// Light and WorkdaysLeft are set on open and claimed steps: how near
	// their deadline is (see deadline.go), left negative when over.
	Light        Light `json:"light,omitempty"`
	WorkdaysLeft *int  `json:"workdays_left,omitempty"`
	// DeadlineProvisional is set on open and claimed steps whose deadline
	// is counted on a year not loaded yet (see Recount).
	DeadlineProvisional bool `json:"deadline_provisional,omitempty"`
}

// CorrectionItem is one thing the applicant must supply (一次性告知).
type CorrectionItem struct {
	Field    string `json:"field,omitempty"`    // a form field to correct, or
	Material string `json:"material,omitempty"` // a material to supply
	Reason   string `json:"reason"`             // what is wrong or missing
}

// Correction is an open request to supply what is missing.
type Correction struct {
	ID          int64            `json:"id"`
	RequestedAt time.Time        `json:"requested_at"`
	Items       []CorrectionItem `json:"items"`
}

// actor is who does something to an application, for the timeline.
type actor struct {
	kind string
	id   int64
	name string
}

func staffActor(p authz.Principal) actor { return actor{"staff", p.AccountID, p.Name} }

var (
	machine = actor{kind: "machine", name: "自动审批"}
	system  = actor{kind: "system", name: "系统"}
)

// staleError tells a caller that someone acted on the application first.
func staleError(id, had, now int64) error {
	return apperr.New(apperr.Conflict, "stale_application",
		"application %d changed since you loaded it (revision %d, now %d): reload it and try again", id, had, now)
}

// lockForAction reads an application for a change inside tx, holding it so
// that concurrent actions on it run one after another. expect, when not 0,
// is the revision the caller saw (If-Match): an older one fails clearly.
func (s *core) lockForAction(ctx context.Context, tx *sql.Tx, id, expect int64) (Application, error) {
	q := `SELECT ` + columns + ` FROM applications WHERE id = $1`
	if s.db.Backend == "postgres" {
		q += ` FOR UPDATE`
	}
	a, err := scan(tx.QueryRowContext(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, apperr.New(apperr.NotFound, "application_not_found", "there is no application %d", id)
	}
	if err != nil {
		return a, err
	}
	if expect != 0 && expect != a.Revision {
		return a, staleError(id, expect, a.Revision)
	}
	return a, nil
}

// move applies action to a (locked in tx), saves the new status with u,
// bumps the revision and writes the timeline entry.
func (s *core) move(ctx context.Context, tx *sql.Tx, a *Application, action workflow.Action, by actor, note string, details any, u update) error {
	c, err := workflow.Case{Status: workflow.Status(a.Status), StoppedFrom: workflow.Status(a.stoppedFrom)}.Next(action)
	if err != nil {
		return apperr.Wrap(err, apperr.Conflict, "not_allowed_now", err.Error())
	}
	from := a.Status
	u.status, u.stoppedFrom = c.Status, c.StoppedFrom
	if err := s.save(ctx, tx, a, u); err != nil {
		return err
	}
	a.Status, a.stoppedFrom = string(c.Status), string(c.StoppedFrom)
	return s.record(ctx, tx, a.ID, by, string(action), from, a.Status, note, details)
}

// save writes u to a (locked in tx) and bumps its revision; a change made
// meanwhile by someone else fails as stale.
func (s *core) save(ctx context.Context, tx *sql.Tx, a *Application, u update) error {
	return updateApplication(ctx, tx, a, s.now(), u)
}

// record writes one timeline entry.
func (s *core) record(ctx context.Context, tx *sql.Tx, applicationID int64, by actor, action, from, to, note string, details any) error {
	d := "{}"
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return err
		}
		d = string(b)
	}
	var id any
	if by.id != 0 {
		id = by.id
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO application_events (application_id, at, actor_kind, actor_id, actor_name, action, from_status, to_status, note, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, applicationID, s.now(), by.kind, id, by.name, action, from, to, note, d)
	if err != nil {
		return fmt.Errorf("timeline of application %d: %w", applicationID, err)
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// timeline lists an application's events, oldest first.
func (s *core) timeline(ctx context.Context, applicationID int64) ([]Event, error) {
	return orEmpty(store.All(ctx, s.db, func(row store.Scanner) (Event, error) {
		var e Event
		var details string
		if err := row.Scan(&e.At, &e.ActorKind, &e.ActorName, &e.Action, &e.From, &e.To, &e.Note, &details); err != nil {
			return e, err
		}
		if details != "{}" {
			e.Details = json.RawMessage(details)
		}
		return e, nil
	}, `SELECT at, actor_kind, actor_name, action, from_status, to_status, note, details FROM application_events
		WHERE application_id = $1 ORDER BY id`, applicationID))
}

// nextNumber assigns an application number: the region, the date in China
// and a sequence of that day and region, e.g. 910102-20261122-000042.
func (s *core) nextNumber(ctx context.Context, tx *sql.Tx, region string, at time.Time) (string, error) {
	prefix := region + "-" + at.In(workday.CST).Format("20060102")
	n, err := s.nextSequence(ctx, tx, prefix)
	if err != nil {
		return "", fmt.Errorf("number an application: %w", err)
	}
	return fmt.Sprintf("%s-%06d", prefix, n), nil
}

// nextSequence returns the next number, from 1, of the sequence named
// prefix, inside tx: a rolled-back transaction gives its number back.
func (s *core) nextSequence(ctx context.Context, tx *sql.Tx, prefix string) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO application_numbers (prefix, last) VALUES ($1, 1)
		ON CONFLICT (prefix) DO UPDATE SET last = application_numbers.last + 1 RETURNING last`, prefix).Scan(&n)
	return n, err
}

// stepsOf are an item's steps that apply under the answers, or the default.
func stepsOf(it catalog.Item, answers map[string]string) []workflow.Step {
	var out []workflow.Step
	for _, st := range it.Steps {
		if st.When.Matches(answers) {
			out = append(out, workflow.Step{ID: st.ID, NameZh: st.Name.Zh, NameEn: st.Name.En, Department: st.Department, Role: st.Role, Days: st.Days, Group: st.Group})
		}
	}
	if len(out) == 0 {
		return workflow.DefaultSteps(it.Department, max(it.TimeLimit.PromisedDays, 1))
	}
	return out
}

// timeLimit is the application's deadline in working days: the promised
// time where the item promises one, else the statutory time.
func timeLimit(it catalog.Item) int {
	if it.TimeLimit.PromisedDays > 0 {
		return it.TimeLimit.PromisedDays
	}
	return it.TimeLimit.StatutoryDays
}

// route continues a submitted application after the machine's decision (if
// any): approve and reject are final here; everything else waits for
// acceptance in the first stage's inbox.
func (s *core) route(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item, d *rules.Decision) error {
	now := s.now()
	if d != nil && d.Outcome != rules.Manual {
		action, reasons := workflow.Approve, []string{}
		if d.Outcome == rules.Reject {
			action, reasons = workflow.Reject, d.ApplicantReasons("zh")
		}
		rs, _ := json.Marshal(reasons)
		if err := s.move(ctx, tx, a, action, machine, strings.Join(reasons, "；"), nil, update{DecidedAt: now, Reasons: string(rs)}); err != nil {
			return err
		}
		if action == workflow.Approve {
			return s.approved(ctx, tx, a, it, machine)
		}
		return s.tell(ctx, tx, a, "decision")
	}
	stages := workflow.Stages(stepsOf(it, a.Answers))
	for i, stage := range stages {
		for _, st := range stage {
			if err := insertStep(ctx, tx, plannedStep{ApplicationID: a.ID, Stage: i, Step: st}); err != nil {
				return fmt.Errorf("plan the steps of application %d: %w", a.ID, err)
			}
		}
	}
	return s.openStage(ctx, tx, a.ID, 0, now)
}

// openStage puts the tasks of a stage into their departments' inboxes, each
// with its deadline in working days.
func (s *core) openStage(ctx context.Context, tx *sql.Tx, applicationID int64, stage int, now time.Time) error {
	type open struct {
		id   int64
		days int
	}
	list, err := store.All(ctx, tx, func(row store.Scanner) (open, error) {
		var o open
		err := row.Scan(&o.id, &o.days)
		return o, err
	}, `SELECT id, days FROM tasks WHERE application_id = $1 AND stage = $2`, applicationID, stage)
	if err != nil {
		return err
	}
	cal, err := s.calendars(ctx)
	if err != nil {
		return err
	}
	var latest time.Time
	for _, o := range list {
		deadline, err := cal.Deadline(now, o.days)
		if err != nil {
			return err
		}
		if err := openTask(ctx, tx, o.id, now, deadline); err != nil {
			return err
		}
		if deadline.After(latest) {
			latest = deadline
		}
	}
	if err := setStage(ctx, tx, applicationID, stage); err != nil {
		return err
	}
	return s.markProvisional(ctx, tx, applicationID, "环节", provisionalNote(cal, now, latest, true))
}

const taskColumns = `t.id, t.application_id, COALESCE(a.number, ''), a.item_code, t.stage, t.step_id, t.name_zh, t.name_en, t.department, t.role, t.grp, t.status,
	COALESCE(t.assignee, 0), t.opened_at, t.deadline, t.done_at, t.reasons, t.note`

func scanTask(row store.Scanner) (Task, error) {
	var t Task
	var opened, deadline, done sql.NullTime
	var reasons string
	err := row.Scan(&t.ID, &t.ApplicationID, &t.Number, &t.ItemCode, &t.Stage, &t.StepID, &t.Name, &t.NameEn, &t.Department, &t.Role, &t.Group, &t.Status,
		&t.Assignee, &opened, &deadline, &done, &reasons, &t.Note)
	if err != nil {
		return t, err
	}
	for _, x := range []struct {
		n **time.Time
		v sql.NullTime
	}{{&t.OpenedAt, opened}, {&t.Deadline, deadline}, {&t.DoneAt, done}} {
		if x.v.Valid {
			tm := x.v.Time
			*x.n = &tm
		}
	}
	if err := json.Unmarshal([]byte(reasons), &t.Reasons); err != nil {
		return t, fmt.Errorf("task %d is unreadable: %w", t.ID, err)
	}
	return t, nil
}

func (s *core) queryTasks(ctx context.Context, q store.Querier, where string, args ...any) ([]Task, error) {
	return orEmpty(store.All(ctx, q, scanTask, `SELECT `+taskColumns+` FROM tasks t JOIN applications a ON a.id = t.application_id WHERE `+where, args...))
}

// tasksOf lists an application's tasks in stage order.
func (s *core) tasksOf(ctx context.Context, applicationID int64) ([]Task, error) {
	return s.queryTasks(ctx, s.db, `t.application_id = $1 ORDER BY t.stage, t.id`, applicationID)
}

// canWork reports whether a staff member may work a task: clerks work the
// acceptance of any department at the comprehensive window (一窗受理);
// reviewers and heads work their own department's steps, a head also a
// reviewer's.
func canWork(p authz.Principal, t Task) bool {
	switch t.Role {
	case "clerk":
		return p.Has(authz.Clerk)
	case "reviewer":
		return p.Department == t.Department && (p.Has(authz.Reviewer) || p.Has(authz.Head))
	case "head":
		return p.Department == t.Department && p.Has(authz.Head)
	}
	return false
}

// Inbox lists the tasks a staff member can work, open or claimed by them,
// the nearest deadline first.
func (s *Tasks) Inbox(ctx context.Context, p authz.Principal) ([]Task, error) {
	if err := authz.Require(p, authz.ReviewTasks); err != nil {
		return nil, err
	}
	var roles []any
	roles = append(roles, p.Department, p.AccountID)
	list, err := s.queryTasks(ctx, s.db, `(t.status = 'open' OR (t.status = 'claimed' AND t.assignee = $2))
		AND (t.department = $1 OR t.role = 'clerk') AND a.status NOT IN ('correction_requested', 'special_procedure')
		ORDER BY t.deadline IS NULL, t.deadline, t.id LIMIT 500`, roles...)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, t := range list {
		if canWork(p, t) {
			out = append(out, t)
		}
	}
	return out, s.lightTasks(ctx, out, func(Task) *time.Time { return nil }) // the inbox leaves out stopped clocks
}

// loadTask reads a task inside tx and checks that p may work it.
func (s *core) loadTask(ctx context.Context, tx *sql.Tx, p authz.Principal, taskID int64) (Task, error) {
	list, err := s.queryTasks(ctx, tx, `t.id = $1`, taskID)
	if err != nil {
		return Task{}, err
	}
	if len(list) == 0 || !canWork(p, list[0]) {
		return Task{}, apperr.New(apperr.NotFound, "task_not_found", "there is no task %d in your inbox", taskID)
	}
	return list[0], nil
}

// withTask runs fn on a task and its locked application in one transaction.
func (s *core) withTask(ctx context.Context, p authz.Principal, taskID, expect int64, fn func(tx *sql.Tx, t Task, a *Application) error) error {
	if err := authz.Require(p, authz.ReviewTasks); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		t, err := s.loadTask(ctx, tx, p, taskID)
		if err != nil {
			return err
		}
		a, err := s.lockForAction(ctx, tx, t.ApplicationID, expect)
		if err != nil {
			return err
		}
		return fn(tx, t, &a)
	})
}

// finishTask records p's outcome of task t at now: its status, the reasons
// given and, if valid, p's note (an inspection's or an objection review's
// note is what it is about, and stays). It returns the reasons as stored.
func finishTask(ctx context.Context, tx *sql.Tx, p authz.Principal, t Task, status workflow.TaskStatus, reasons []string, note sql.NullString, now time.Time) (string, error) {
	rs, err := json.Marshal(reasons)
	if err != nil {
		return "", err
	}
	err = finishTaskRow(ctx, tx, taskOutcome{TaskID: t.ID, Status: status, By: p.AccountID, At: now, Reasons: string(rs), Note: note})
	return string(rs), err
}

// mustBeWorkable refuses work on a task that is not open, or claimed by
// someone else, or whose application waits for the applicant.
func mustBeWorkable(p authz.Principal, t Task, a *Application) error {
	switch {
	case !workflow.TaskStatus(t.Status).Active():
		return apperr.New(apperr.Conflict, "task_done", "task %d is already %s", t.ID, t.Status)
	case t.Status == string(workflow.TaskClaimed) && t.Assignee != p.AccountID:
		return apperr.New(apperr.Conflict, "task_claimed", "task %d is claimed by another reviewer; ask them or the department head to release it", t.ID)
	case workflow.ClockStopped(workflow.Status(a.Status)):
		return apperr.New(apperr.Conflict, "clock_stopped", "application %d is %s: it waits for that to end", a.ID, a.Status)
	}
	return nil
}

// Claim takes an open task into the staff member's own hands.
func (s *Tasks) Claim(ctx context.Context, p authz.Principal, taskID int64) error {
	return s.withTask(ctx, p, taskID, 0, func(tx *sql.Tx, t Task, a *Application) error {
		if err := mustBeWorkable(p, t, a); err != nil {
			return err
		}
		if t.Status == string(workflow.TaskClaimed) {
			return nil
		}
		if err := claimTask(ctx, tx, t.ID, p.AccountID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, a.ID, staffActor(p), "claim", a.Status, a.Status, t.Name, map[string]any{"task": t.ID})
	})
}

// Release puts a claimed task back into the department's inbox.
func (s *Tasks) Release(ctx context.Context, p authz.Principal, taskID int64) error {
	return s.withTask(ctx, p, taskID, 0, func(tx *sql.Tx, t Task, a *Application) error {
		if t.Status != string(workflow.TaskClaimed) || (t.Assignee != p.AccountID && !p.Has(authz.Head)) {
			return apperr.New(apperr.Conflict, "not_claimed", "task %d is not claimed by you", t.ID)
		}
		if err := releaseTask(ctx, tx, t.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, a.ID, staffActor(p), "release", a.Status, a.Status, t.Name, map[string]any{"task": t.ID})
	})
}

// Reassign hands a task to another staff member of the department: only the
// department head may.
func (s *Tasks) Reassign(ctx context.Context, p authz.Principal, taskID, to int64) error {
	return s.withTask(ctx, p, taskID, 0, func(tx *sql.Tx, t Task, a *Application) error {
		if !p.Has(authz.Head) || p.Department != t.Department {
			return apperr.New(apperr.Forbidden, "head_only", "only the head of %s may reassign its tasks", t.Department)
		}
		if !workflow.TaskStatus(t.Status).Active() {
			return apperr.New(apperr.Conflict, "task_done", "task %d is already %s", t.ID, t.Status)
		}
		staff, err := s.ids.StaffPrincipal(ctx, to)
		if err != nil || !canWork(staff, t) {
			return apperr.New(apperr.Invalid, "cannot_work_task", "account %d cannot work a %s step of %s", to, t.Role, t.Department)
		}
		if err := assignTask(ctx, tx, t.ID, to, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, a.ID, staffActor(p), "reassign", a.Status, a.Status, t.Name+" → "+staff.Name, map[string]any{"task": t.ID, "to": to})
	})
}

// DecideTask approves or rejects one step. Approving the acceptance step
// accepts the application and starts the clock; when every step of a stage
// has approved, the next stage opens, and after the last the application is
// approved. Any rejection rejects the application (or, at acceptance, does
// not accept it) with the reasons, and cancels the other open steps.
func (s *Tasks) DecideTask(ctx context.Context, p authz.Principal, taskID, expect int64, approve bool, reasons []string, note string) (Application, error) {
	var out Application
	reasons = cleanReasons(reasons)
	if !approve && len(reasons) == 0 {
		return out, apperr.New(apperr.Invalid, "reasons_required", "a rejection must give the applicant its reasons")
	}
	err := s.withTask(ctx, p, taskID, expect, func(tx *sql.Tx, t Task, a *Application) error {
		if err := mustBeWorkable(p, t, a); err != nil {
			return err
		}
		if t.Stage == modeStage {
			return notAStep(t)
		}
		if t.Stage != a.stage {
			return apperr.New(apperr.Conflict, "not_this_stage", "task %d belongs to stage %d; the application is at stage %d", t.ID, t.Stage, a.stage)
		}
		now := s.now()
		status := workflow.TaskApproved
		if !approve {
			status = workflow.TaskRejected
		}
		rs, err := finishTask(ctx, tx, p, t, status, reasons, sql.NullString{String: note, Valid: true}, now)
		if err != nil {
			return err
		}
		stage, err := store.All(ctx, tx, store.Value[workflow.TaskStatus], `SELECT status FROM tasks WHERE application_id = $1 AND stage = $2`, a.ID, t.Stage)
		if err != nil {
			return err
		}
		by := staffActor(p)
		details := map[string]any{"task": t.ID, "step": t.StepID}
		switch workflow.Outcome(stage) {
		case workflow.StagePending:
			return s.record(ctx, tx, a.ID, by, "step_approved", a.Status, a.Status, t.Name, details)
		case workflow.StageRejected:
			if err := cancelTasks(ctx, tx, a.ID); err != nil {
				return err
			}
			action := workflow.Reject
			if t.Stage == 0 && a.Status == string(workflow.Submitted) {
				action = workflow.Refuse
			}
			if err := s.move(ctx, tx, a, action, by, t.Name+"："+strings.Join(reasons, "；"), details, update{DecidedAt: now, Reasons: string(rs)}); err != nil {
				return err
			}
			return s.tell(ctx, tx, a, "decision")
		}
		// The stage passed.
		if a.Status == string(workflow.Submitted) {
			if err := s.accept(ctx, tx, a, by, now); err != nil {
				return err
			}
		}
		var next int
		err = tx.QueryRowContext(ctx, `SELECT COALESCE(MIN(stage), -1) FROM tasks WHERE application_id = $1 AND stage > $2`, a.ID, t.Stage).Scan(&next)
		if err != nil {
			return err
		}
		if next >= 0 {
			if a.Status == string(workflow.Accepted) {
				if err := s.move(ctx, tx, a, workflow.StartReview, system, "", nil, update{}); err != nil {
					return err
				}
			} else if err := s.record(ctx, tx, a.ID, by, "step_approved", a.Status, a.Status, t.Name, details); err != nil {
				return err
			}
			return s.openStage(ctx, tx, a.ID, next, now)
		}
		if err := s.move(ctx, tx, a, workflow.Approve, by, t.Name, details, update{DecidedAt: now}); err != nil {
			return err
		}
		v, err := s.catalog.VersionByID(ctx, a.VersionID)
		if err != nil {
			return err
		}
		return s.approved(ctx, tx, a, v.Item, by)
	})
	if err != nil {
		return out, err
	}
	return s.staffView(ctx, p, s.taskApplication(ctx, taskID))
}

// accept moves a submitted application to accepted and starts its clock.
func (s *core) accept(ctx context.Context, tx *sql.Tx, a *Application, by actor, now time.Time) error {
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return err
	}
	deadline, cal, err := s.deadlineAfter(ctx, now, timeLimit(v.Item))
	if err != nil {
		return err
	}
	note := provisionalNote(cal, now, deadline, true)
	details := map[string]any{"deadline": deadline}
	if note != "" {
		note, details["deadline_provisional"] = "办结"+note, true
	}
	return s.move(ctx, tx, a, workflow.Accept, by, note, details, update{AcceptedAt: now, Deadline: deadline})
}

func (s *core) taskApplication(ctx context.Context, taskID int64) int64 {
	var id int64
	s.db.QueryRowContext(ctx, `SELECT application_id FROM tasks WHERE id = $1`, taskID).Scan(&id)
	return id
}

func cleanReasons(reasons []string) []string {
	out := []string{}
	for _, r := range reasons {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// RequestCorrection tells the applicant at once everything that is missing
// or wrong (一次性告知) and stops the clock until they supply it. The
// reviewer must hold the task of the current stage.
func (s *Tasks) RequestCorrection(ctx context.Context, p authz.Principal, taskID, expect int64, items []CorrectionItem) (Application, error) {
	var kept []CorrectionItem
	var problems []string
	for i, it := range items {
		it.Reason = strings.TrimSpace(it.Reason)
		switch {
		case (it.Field == "") == (it.Material == ""):
			problems = append(problems, fmt.Sprintf("item %d: name either a field or a material", i+1))
		case it.Reason == "":
			problems = append(problems, fmt.Sprintf("item %d: say what is wrong or missing", i+1))
		default:
			kept = append(kept, it)
		}
	}
	if len(kept) == 0 && len(problems) == 0 {
		problems = append(problems, "list at least one thing to correct")
	}
	if len(problems) > 0 {
		return Application{}, apperr.New(apperr.Invalid, "bad_correction", "the correction request is incomplete").WithDetails(problems)
	}
	var appID int64
	err := s.withTask(ctx, p, taskID, expect, func(tx *sql.Tx, t Task, a *Application) error {
		if err := mustBeWorkable(p, t, a); err != nil {
			return err
		}
		if t.Stage == modeStage {
			return notAStep(t)
		}
		appID = a.ID
		if err := s.checkCorrectionItems(ctx, a, kept); err != nil {
			return err
		}
		now := s.now()
		b, _ := json.Marshal(kept)
		if _, err := tx.ExecContext(ctx, `INSERT INTO corrections (application_id, requested_by, requested_at, items) VALUES ($1, $2, $3, $4)`, a.ID, p.AccountID, now, string(b)); err != nil {
			return err
		}
		if err := s.move(ctx, tx, a, workflow.RequestCorrection, staffActor(p), fmt.Sprintf("%d 项需补正", len(kept)), map[string]any{"items": kept, "task": t.ID},
			update{ClockStoppedAt: now}); err != nil {
			return err
		}
		return s.tell(ctx, tx, a, "correction_requested")
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, appID)
}

// checkCorrectionItems insists each item names a field or material of the application.
func (s *core) checkCorrectionItems(ctx context.Context, a *Application, items []CorrectionItem) error {
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return err
	}
	fields, _ := applicable(v.Item, a.Answers)
	var problems []string
	for _, it := range items {
		switch {
		case it.Field != "" && !slices.ContainsFunc(fields, func(f catalog.Field) bool { return f.ID == it.Field }):
			problems = append(problems, fmt.Sprintf("the form has no field %q", it.Field))
		case it.Material != "" && !slices.ContainsFunc(a.Materials, func(m Material) bool { return m.ID == it.Material }):
			problems = append(problems, fmt.Sprintf("the application has no material %q", it.Material))
		}
	}
	if len(problems) > 0 {
		return apperr.New(apperr.Invalid, "bad_correction", "the correction names things the application does not have").WithDetails(problems)
	}
	return nil
}

// openCorrection returns the correction waiting for the applicant, if any.
func (s *core) openCorrection(ctx context.Context, applicationID int64) (*Correction, error) {
	var c Correction
	var items string
	err := s.db.QueryRowContext(ctx, `SELECT id, requested_at, items FROM corrections WHERE application_id = $1 AND supplied_at IS NULL ORDER BY id DESC LIMIT 1`, applicationID).
		Scan(&c.ID, &c.RequestedAt, &items)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, json.Unmarshal([]byte(items), &c.Items)
}

// SupplyCorrection is the applicant's answer to a correction: new values for
// the fields named (materials are uploaded separately first). The clock
// starts again, the deadline moved by the working days it stood still.
func (s *Drafts) SupplyCorrection(ctx context.Context, p authz.Principal, id, expect int64, values map[string]any) (Application, error) {
	a, err := s.get(ctx, p, id)
	if err != nil {
		return a, err
	}
	c, err := s.openCorrection(ctx, id)
	if err != nil {
		return a, err
	}
	if c == nil || a.Status != string(workflow.Correction) {
		return a, apperr.New(apperr.Conflict, "no_correction", "application %d has no correction waiting for you", id)
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return a, err
	}
	fields, _ := applicable(v.Item, a.Answers)
	var problems []string
	for _, it := range c.Items {
		if it.Field != "" {
			if _, ok := values[it.Field]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %s", it.Field, it.Reason))
			}
		}
		if it.Material != "" {
			if i := slices.IndexFunc(a.Materials, func(m Material) bool { return m.ID == it.Material }); i < 0 || !a.Materials[i].Attached {
				problems = append(problems, fmt.Sprintf("%s: %s (upload it first)", it.Material, it.Reason))
			}
		}
	}
	for k, val := range values {
		named := slices.ContainsFunc(c.Items, func(it CorrectionItem) bool { return it.Field == k })
		i := slices.IndexFunc(fields, func(f catalog.Field) bool { return f.ID == k })
		switch {
		case !named:
			problems = append(problems, fmt.Sprintf("%s: the correction did not ask for it", k))
		case i < 0:
			problems = append(problems, fmt.Sprintf("%s: the form has no such field", k))
		default:
			if err := checkValue(fields[i], val); err != nil {
				problems = append(problems, fmt.Sprintf("%s (%s): %v", k, fields[i].Label.Zh, err))
			} else {
				a.Form[k] = val
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return a, apperr.New(apperr.Invalid, "correction_incomplete", "the correction is not complete yet").WithDetails(problems)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		locked, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		now := s.now()
		u, err := s.restartClock(ctx, tx, locked, now)
		if err != nil {
			return err
		}
		form, _ := json.Marshal(a.Form)
		u.Form = string(form)
		if _, err := tx.ExecContext(ctx, `UPDATE corrections SET supplied_at = $1 WHERE id = $2`, now, c.ID); err != nil {
			return err
		}
		return s.move(ctx, tx, &locked, workflow.Supply, actor{"applicant", p.AccountID, p.Name}, "", map[string]any{"correction": c.ID}, u)
	})
	if err != nil {
		return a, err
	}
	return s.get(ctx, p, id)
}

// restartClock starts a stopped clock again: the application's deadline and
// those of its open steps move on by the working days the clock stood still.
// It returns the application's update; the steps are moved in tx.
func (s *core) restartClock(ctx context.Context, tx *sql.Tx, a Application, now time.Time) (update, error) {
	u := update{RestartClock: true}
	if a.clockStoppedAt == nil {
		return u, nil
	}
	cal, err := s.calendars(ctx)
	if err != nil {
		return u, err
	}
	stood, err := cal.WorkdaysLeft(*a.clockStoppedAt, now)
	if err != nil || stood <= 0 {
		return u, err
	}
	var latest time.Time
	if a.Deadline != nil {
		deadline, err := cal.Deadline(*a.Deadline, stood)
		if err != nil {
			return u, err
		}
		u.Deadline, latest = deadline, deadline
	}
	open, err := s.queryTasks(ctx, tx, `t.application_id = $1 AND t.status IN ('open', 'claimed') AND t.deadline IS NOT NULL`, a.ID)
	if err != nil {
		return u, err
	}
	for _, t := range open {
		deadline, err := cal.Deadline(*t.Deadline, stood)
		if err != nil {
			return u, err
		}
		if err := setTaskDeadline(ctx, tx, t.ID, deadline); err != nil {
			return u, err
		}
		if deadline.After(latest) {
			latest = deadline
		}
	}
	return u, s.markProvisional(ctx, tx, a.ID, "顺延后", provisionalNote(cal, *a.clockStoppedAt, latest, true))
}

// SpecialKinds are the special procedures that stop the clock (特别程序).
var SpecialKinds = map[string]string{"hearing": "听证", "testing": "检验检测", "expert_review": "专家评审", "site_inspection": "现场勘验"}

// StartSpecial stops the clock for a hearing, testing or expert review.
func (s *Tasks) StartSpecial(ctx context.Context, p authz.Principal, taskID, expect int64, kind, reason string) (Application, error) {
	label, ok := SpecialKinds[kind]
	if !ok || strings.TrimSpace(reason) == "" {
		return Application{}, apperr.New(apperr.Invalid, "bad_special_procedure", "name the procedure (hearing, testing, expert_review or site_inspection) and say why")
	}
	var appID int64
	err := s.withTask(ctx, p, taskID, expect, func(tx *sql.Tx, t Task, a *Application) error {
		if err := mustBeWorkable(p, t, a); err != nil {
			return err
		}
		if t.Stage == modeStage {
			return notAStep(t)
		}
		appID = a.ID
		return s.move(ctx, tx, a, workflow.StartSpecial, staffActor(p), label+"："+reason, map[string]any{"kind": kind, "task": t.ID}, update{ClockStoppedAt: s.now()})
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, appID)
}

// EndSpecial ends a special procedure and starts the clock again.
func (s *Tasks) EndSpecial(ctx context.Context, p authz.Principal, taskID, expect int64, note string) (Application, error) {
	if err := authz.Require(p, authz.ReviewTasks); err != nil {
		return Application{}, err
	}
	var appID int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		t, err := s.loadTask(ctx, tx, p, taskID)
		if err != nil {
			return err
		}
		a, err := s.lockForAction(ctx, tx, t.ApplicationID, expect)
		if err != nil {
			return err
		}
		appID = a.ID
		u, err := s.restartClock(ctx, tx, a, s.now())
		if err != nil {
			return err
		}
		return s.move(ctx, tx, &a, workflow.EndSpecial, staffActor(p), note, map[string]any{"task": t.ID}, u)
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, appID)
}

// Withdraw lets the applicant withdraw an application before its decision.
func (s *Drafts) Withdraw(ctx context.Context, p authz.Principal, id, expect int64, reason string) (Application, error) {
	if _, err := s.get(ctx, p, id); err != nil {
		return Application{}, err
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		if workflow.Decided(workflow.Status(a.Status)) {
			return apperr.New(apperr.Conflict, "already_decided", "application %d is already %s and can no longer be withdrawn", id, a.Status)
		}
		if err := cancelTasks(ctx, tx, id); err != nil {
			return err
		}
		return s.move(ctx, tx, &a, workflow.Withdraw, actor{"applicant", p.AccountID, p.Name}, strings.TrimSpace(reason), nil, update{})
	})
	if err != nil {
		return Application{}, err
	}
	return s.get(ctx, p, id)
}

// Revoke withdraws an approval after the fact (撤销), with a reason.
func (s *Tasks) Revoke(ctx context.Context, p authz.Principal, id, expect int64, reason string) (Application, error) {
	if err := authz.Require(p, authz.Decide); err != nil {
		return Application{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return Application{}, apperr.New(apperr.Invalid, "reason_required", "a revocation must say why")
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		if err := s.move(ctx, tx, &a, workflow.Revoke, staffActor(p), reason, nil, update{}); err != nil {
			return err
		}
		if err := s.revokeLicence(ctx, tx, &a, reason, staffActor(p)); err != nil {
			return err
		}
		return s.tell(ctx, tx, &a, "revoked")
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, id)
}

// StaffView is an application as back-office staff see it: everything the
// applicant sees, the steps, the machine's full trace and the timeline.
type StaffView struct {
	Application
	Tasks      []Task          `json:"tasks"`
	Timeline   []Event         `json:"timeline"`
	Correction *Correction     `json:"correction,omitempty"`
	Trace      *rules.Decision `json:"trace,omitempty"`
	// Light and WorkdaysLeft say how near the application's deadline is,
	// while it has one and is undecided.
	Light        Light `json:"light,omitempty"`
	WorkdaysLeft *int  `json:"workdays_left,omitempty"`
	// DeadlineProvisional says that the deadline is counted on a year not
	// loaded yet: it is counted again when the year is loaded (Recount).
	DeadlineProvisional bool `json:"deadline_provisional,omitempty"`
}

func (s *core) staffView(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	v, err := s.staffApplication(ctx, p, id)
	return v.Application, err
}

// StaffApplication returns an application for staff who have (or had) one
// of its steps in their department, clerks, and supervisors.
func (s *core) staffApplication(ctx context.Context, p authz.Principal, id int64) (StaffView, error) {
	if err := authz.Require(p, authz.ReviewTasks); err != nil && !p.Can(authz.Supervise) {
		return StaffView{}, err
	}
	a, err := loadApplication(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) {
		return StaffView{}, apperr.New(apperr.NotFound, "application_not_found", "there is no application %d", id)
	}
	if err != nil {
		return StaffView{}, err
	}
	tasks, err := s.tasksOf(ctx, id)
	if err != nil {
		return StaffView{}, err
	}
	if !p.Can(authz.Supervise) && !p.Has(authz.Clerk) && !slices.ContainsFunc(tasks, func(t Task) bool { return t.Department == p.Department }) {
		return StaffView{}, apperr.New(apperr.NotFound, "application_not_found", "there is no application %d in your department", id)
	}
	if err := s.complete(ctx, &a); err != nil {
		return StaffView{}, err
	}
	view := StaffView{Application: a, Tasks: tasks}
	if err := s.lightTasks(ctx, view.Tasks, func(Task) *time.Time { return a.clockStoppedAt }); err != nil {
		return view, err
	}
	if a.Deadline != nil && !workflow.Decided(workflow.Status(a.Status)) {
		cal, err := s.calendars(ctx)
		if err != nil {
			return view, err
		}
		light, left, err := lightOf(cal, s.now(), *a.Deadline, a.clockStoppedAt, s.warnDays)
		if err != nil {
			return view, err
		}
		view.Light, view.WorkdaysLeft = light, &left
		view.DeadlineProvisional = a.AcceptedAt != nil && cal.Provisional(*a.AcceptedAt, *a.Deadline)
	}
	if view.Timeline, err = s.timeline(ctx, id); err != nil {
		return view, err
	}
	if view.Correction, err = s.openCorrection(ctx, id); err != nil {
		return view, err
	}
	if d, err := s.decisionRecord(ctx, id); err == nil {
		view.Trace = &d
	} else if !apperr.Is(err, apperr.NotFound) {
		return view, err
	}
	return view, nil
}
