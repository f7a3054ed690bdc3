package application

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/insight"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/workday"
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

// recipient is who is told about a: the applicant's account, or — for a
// walk-in, or a person the platform applied for — the person, whoever's
// account took it in or made it.
func (a *Application) recipient() (account, person int64) {
	if a.HallCode != "" || a.Initiative != "" {
		return 0, a.personID
	}
	return a.accountID, 0
}

// tell writes the applicant a notice about what just happened to a.
func (s *core) tell(ctx context.Context, tx *sql.Tx, a *Application, kind string) error {
	n := notify.Message{Kind: notify.Kind(kind), Link: fmt.Sprintf("/applications/%d", a.ID), ApplicationID: a.ID}
	n.AccountID, n.PersonID = a.recipient()
	ref := a.Number
	switch kind {
	case "correction_requested":
		n.TitleZh, n.TitleEn = "办件 "+ref+" 需要补正材料", "Application "+ref+" needs corrections"
		n.BodyZh, n.BodyEn = "请查看需要补正的全部内容并一次提交；补正期间办理时限暂停。", "See everything to correct and supply it at once; the time limit is paused meanwhile."
	case "spot_check_corrected":
		n.Kind = notify.Decision
		n.TitleZh, n.TitleEn = "办件 "+ref+" 经抽查需要整改", "Application "+ref+" needs correcting after a spot check"
		n.BodyZh, n.BodyEn = "抽查发现的问题和整改要求见办件详情，请按要求整改。", "What the spot check found and what to correct are in the application's details."
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
	ID            int64  `json:"id"`
	ApplicationID int64  `json:"application_id"`
	Number        string `json:"number,omitempty"`
	ItemCode      string `json:"item_code,omitempty"`
	Stage         int    `json:"stage"`
	StepID        string `json:"step_id"`
	Name          string `json:"name"`
	NameEn        string `json:"name_en"`
	Department    string `json:"department"`
	// HallID, HallZh and HallEn name the service hall whose staff work the
	// step, when a machine item's manual route sends it to one.
	HallID   int64      `json:"hall_id,omitempty"`
	HallZh   string     `json:"hall_zh,omitempty"`
	HallEn   string     `json:"hall_en,omitempty"`
	Role     string     `json:"role"`
	Group    string     `json:"group,omitempty"`
	Status   string     `json:"status"`
	Assignee int64      `json:"assignee,omitempty"`
	OpenedAt *time.Time `json:"opened_at,omitempty"`
	Deadline *time.Time `json:"deadline,omitempty"`
	DoneAt   *time.Time `json:"done_at,omitempty"`
	Reasons  []string   `json:"reasons"`
	Note     string     `json:"note,omitempty"`
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

// proactiveActor is the platform applying for a person on its own
// initiative, under account p (免申即享).
func proactiveActor(p authz.Principal) actor { return actor{"system", p.AccountID, "主动服务"} }

var (
	machine = actor{kind: "machine", name: "自动审批"}
	system  = actor{kind: "system", name: "系统"}
)

// staleError tells a caller that someone acted on the application first.
func staleError(id, had, now int64) error {
	return apperr.New(apperr.Conflict, apperr.StaleApplication,
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
	a, err := s.scan(tx.QueryRowContext(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, apperr.New(apperr.NotFound, apperr.ApplicationNotFound, "there is no application %d", id)
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
		return apperr.Wrap(err, apperr.Conflict, apperr.NotAllowedNow, err.Error())
	}
	from := a.Status
	u.status, u.stoppedFrom = c.Status, c.StoppedFrom
	if err := s.save(ctx, tx, a, u); err != nil {
		return err
	}
	a.Status, a.stoppedFrom = string(c.Status), string(c.StoppedFrom)
	if err := s.record(ctx, tx, a.ID, by, string(action), from, a.Status, note, details); err != nil {
		return err
	}
	return s.count(ctx, tx, a, from, by, u)
}

// count adds the move of a from status from to the dashboard's rollups
// (package insight), in the move's transaction.
func (s *core) count(ctx context.Context, tx *sql.Tx, a *Application, from string, by actor, u update) error {
	if !insight.Counted(from, a.Status) {
		return nil
	}
	cal, err := s.calendars(ctx)
	if err != nil {
		return err
	}
	at := s.now()
	e := insight.Event{At: at, From: from, To: a.Status, Machine: by.kind == "machine",
		ItemCode: a.ItemCode, VersionID: a.VersionID, Number: cmp.Or(u.Number, a.Number), Channel: a.Channel,
		SubmittedAt: a.SubmittedAt, Deadline: a.Deadline, StoppedAt: a.clockStoppedAt,
		MaterialsSaved: a.MaterialsAttached, FieldsPrefilled: a.FieldsPrefilled}
	if !u.SubmittedAt.IsZero() {
		e.SubmittedAt = &u.SubmittedAt
	}
	if !u.Deadline.IsZero() {
		e.Deadline = &u.Deadline
	}
	return insight.Count(ctx, tx, cal, e)
}

// save writes u to a (locked in tx) and bumps its revision; a change made
// meanwhile by someone else fails as stale.
func (s *core) save(ctx context.Context, tx *sql.Tx, a *Application, u update) error {
	return s.updateApplication(ctx, tx, a, s.now(), u)
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
	// A note or the details may quote the applicant (a withdrawal's reason,
	// a correction): both are sealed like the form.
	sealedNote, err := s.sealColumn("application_events.note", note)
	if err != nil {
		return err
	}
	if d, err = s.sealColumn("application_events.details", d); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO application_events (application_id, at, actor_kind, actor_id, actor_name, action, from_status, to_status, note, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, applicationID, s.now(), by.kind, id, by.name, action, from, to, sealedNote, d)
	if err != nil {
		return fmt.Errorf("timeline of application %d: %w", applicationID, err)
	}
	return audit.Record(ctx, tx, audit.Event{Actor: by.audited(), Action: "application." + action, ObjectKind: "application",
		ObjectID: strconv.FormatInt(applicationID, 10), Detail: map[string]any{"from": from, "to": to}})
}

// audited is the actor as the audit trail names it: staff by name, persons
// by masked name (the trail holds no personal data in clear).
func (a actor) audited() audit.Actor {
	switch a.kind {
	case "machine":
		return audit.Automatic(audit.Machine, a.name)
	case "system":
		return audit.Automatic(audit.System, a.name)
	case "staff":
		return audit.Person(a.kind, a.id, a.name)
	}
	return audit.Person(a.kind, a.id, pii.MaskName(a.name))
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
		var note string
		if err := row.Scan(&e.At, &e.ActorKind, &e.ActorName, &e.Action, &e.From, &e.To, &note, &details); err != nil {
			return e, err
		}
		var err error
		if e.Note, err = s.openColumn("application_events.note", note); err != nil {
			return e, fmt.Errorf("timeline of application %d is unreadable: %w", applicationID, err)
		}
		if details, err = s.openColumn("application_events.details", details); err != nil {
			return e, fmt.Errorf("timeline of application %d is unreadable: %w", applicationID, err)
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

// manualSteps are the steps a case the machine leaves to a person takes:
// the item's manual route where it declares one (ManualRouteStep), else
// its steps.
func manualSteps(it catalog.Item, answers map[string]string) []workflow.Step {
	if st, ok := ManualRouteStep(it); ok {
		return []workflow.Step{st}
	}
	return stepsOf(it, answers)
}

// ManualRouteStep is the one step of a machine item's manual route
// (catalog.ManualRoute), if it declares one: worked by a hall's staff on
// behalf of the item's department, or by a department's.
func ManualRouteStep(it catalog.Item) (workflow.Step, bool) {
	r := it.Approval.Manual
	if it.Approval.Mode != "auto" || r == nil {
		return workflow.Step{}, false
	}
	return workflow.Step{ID: "manual_review", NameZh: "人工审核", NameEn: "Manual review", Department: cmp.Or(r.Department, it.Department),
		Hall: r.Hall, Role: r.Role, Days: r.Days}, true
}

// timeLimit is the application's deadline in working days (catalog.TimeLimit.Days).
func timeLimit(it catalog.Item) int { return it.TimeLimit.Days() }

// route continues a submitted application after the machine's decision (if
// any): approve and reject are final here; everything else waits for
// acceptance in the first stage's inbox — of a machine item, on its manual
// route (manualSteps).
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
	stages := workflow.Stages(manualSteps(it, a.Answers))
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
