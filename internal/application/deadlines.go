package application

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/authz"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/supervision"
	"yiwang/internal/workday"
)

// Light says how near a running deadline is, counted in working days.
type Light string

// The lights. A stopped clock (correction, special procedure) is paused: the
// case does not age while it waits.
const (
	Green  Light = "green"  // more than the warning days left
	Yellow Light = "yellow" // at most the warning days left (0: the last day)
	Red    Light = "red"    // overdue
	Paused Light = "paused" // the clock is stopped
)

// lightOf is the light of a deadline at now: paused when the clock stopped
// at stopped (the working days left are then those left when it stopped).
// It also returns the working days left, negative when over.
func lightOf(cal Calendar, now, deadline time.Time, stopped *time.Time, warn int) (Light, int, error) {
	if stopped != nil {
		left, err := cal.WorkdaysLeft(*stopped, deadline)
		return Paused, left, err
	}
	left, err := cal.WorkdaysLeft(now, deadline)
	switch {
	case err != nil:
		return "", 0, err
	case now.After(deadline):
		return Red, left, nil
	case left <= warn:
		return Yellow, left, nil
	}
	return Green, left, nil
}

// lightTasks sets the light of the tasks that have a running deadline: open
// or claimed ones. stopped is when their application's clock stopped, if it did.
func (s *core) lightTasks(ctx context.Context, tasks []Task, stopped func(Task) *time.Time) error {
	if len(tasks) == 0 {
		return nil
	}
	cal, err := s.calendars(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	for i := range tasks {
		t := &tasks[i]
		if t.Deadline == nil || (t.Status != "open" && t.Status != "claimed") {
			continue
		}
		light, left, err := lightOf(cal, now, *t.Deadline, stopped(*t), s.warnDays)
		if err != nil {
			return err
		}
		t.Light, t.WorkdaysLeft = light, &left
		t.DeadlineProvisional = t.OpenedAt != nil && cal.Provisional(*t.OpenedAt, *t.Deadline)
	}
	return nil
}

// Case is a running deadline that is yellow or red: a task's, or an
// application's as a whole.
type Case struct {
	Subject         string    `json:"subject"` // task or application
	ApplicationID   int64     `json:"application_id"`
	Number          string    `json:"number"`
	TaskID          int64     `json:"task_id,omitempty"`
	Department      string    `json:"department"` // for an application: that of its most urgent open step
	StepID          string    `json:"step_id"`
	StepName        string    `json:"step_name"`
	ResponsibleID   int64     `json:"responsible_id,omitempty"` // the assignee; none while unclaimed
	ResponsibleName string    `json:"responsible_name,omitempty"`
	Deadline        time.Time `json:"deadline"`
	Light           Light     `json:"light"`
	WorkdaysLeft    int       `json:"workdays_left"` // negative when over
	DaysOver        int       `json:"days_over"`     // working days past the deadline; 0 just after it on a weekend or holiday

	role  string
	hall  int64  // the hall whose staff work the step, if a hall's (Task.HallID)
	steps []Case // an application's open steps, whose staff answer for it
}

// The queries of lateCases: the running steps, and the applications under
// way with a running step, whose deadline is before $1, the nearest $2
// first; how many there are; the running steps of some applications.
const (
	stepColumns = `SELECT t.id, t.application_id, COALESCE(a.number, ''), t.step_id, t.name_zh, t.department, t.role,
		COALESCE(t.assignee, 0), COALESCE(u.display_name, ''), t.deadline, COALESCE(t.hall_id, 0)
		FROM tasks t JOIN applications a ON a.id = t.application_id LEFT JOIN accounts u ON u.id = t.assignee
		WHERE t.status IN ('open', 'claimed') AND t.deadline IS NOT NULL AND a.status NOT IN ('correction_requested', 'special_procedure')`
	lateStepsQuery = stepColumns + ` AND t.deadline < $1 ORDER BY t.deadline, t.id LIMIT $2`
	// lateStepsCountQuery counts from the index of running steps alone,
	// less the few of applications whose clock is stopped: the same count
	// as counting the steps lateStepsQuery reads, without reading an
	// application for every step.
	lateStepsCountQuery = `SELECT (SELECT count(*) FROM tasks WHERE status IN ('open', 'claimed') AND deadline < $1)
		- (SELECT count(*) FROM applications a JOIN tasks t ON t.application_id = a.id
			WHERE a.status IN ('correction_requested', 'special_procedure') AND t.status IN ('open', 'claimed') AND t.deadline < $1)`
	runningApplications = `FROM applications a WHERE a.status IN ('accepted', 'under_review') AND a.deadline < $1 AND a.clock_stopped_at IS NULL
		AND EXISTS (SELECT 1 FROM tasks t WHERE t.application_id = a.id AND t.status IN ('open', 'claimed') AND t.deadline IS NOT NULL)`
	lateApplicationsQuery      = `SELECT a.id, COALESCE(a.number, ''), a.deadline ` + runningApplications + ` ORDER BY a.deadline, a.id LIMIT $2`
	lateApplicationsCountQuery = `SELECT count(*) ` + runningApplications
)

// everyCase is lateCases' limit for all of them (the sweep's).
const everyCase = 1 << 30

func stepsOfQuery(applicationIDs []string) string {
	return stepColumns + ` AND t.application_id IN (` + strings.Join(applicationIDs, ", ") + `) ORDER BY t.deadline, t.id`
}

// lateCases lists the running deadlines that are yellow or red at now, the
// nearest limit first (everyCase for all), and how many there are: open
// steps of applications whose clock runs, and accepted applications under
// way. Exactly the deadlines before the (warning days + 1)th working day
// after today are yellow or red, so only those are read — along the indexes
// of running steps and applications by deadline (migration 0019) — however
// many steps are open.
func (s *core) lateCases(ctx context.Context, now time.Time, limit int) ([]Case, int, error) {
	cal, err := s.calendars(ctx)
	if err != nil {
		return nil, 0, err
	}
	green, err := cal.Deadline(now, s.warnDays+1)
	if err != nil {
		return nil, 0, err
	}
	y, m, d := green.In(workday.CST).Date()
	cutoff := time.Date(y, m, d, 0, 0, 0, 0, workday.CST) // the first day whose deadlines are green
	scanStep := func(row store.Scanner) (Case, error) {
		c := Case{Subject: "task"}
		err := row.Scan(&c.TaskID, &c.ApplicationID, &c.Number, &c.StepID, &c.StepName, &c.Department, &c.role, &c.ResponsibleID, &c.ResponsibleName, &c.Deadline, &c.hall)
		return c, err
	}
	tasks, err := store.All(ctx, s.db, scanStep, lateStepsQuery, cutoff, limit)
	if err != nil {
		return nil, 0, err
	}
	apps, err := store.All(ctx, s.db, func(row store.Scanner) (Case, error) {
		c := Case{Subject: "application"}
		err := row.Scan(&c.ApplicationID, &c.Number, &c.Deadline)
		return c, err
	}, lateApplicationsQuery, cutoff, limit)
	if err != nil {
		return nil, 0, err
	}
	total := len(tasks) + len(apps)
	if len(tasks) == limit || len(apps) == limit {
		var steps, applications int
		if err := s.db.QueryRowContext(ctx, lateStepsCountQuery, cutoff).Scan(&steps); err != nil {
			return nil, 0, err
		}
		if err := s.db.QueryRowContext(ctx, lateApplicationsCountQuery, cutoff).Scan(&applications); err != nil {
			return nil, 0, err
		}
		total = steps + applications
	}
	var out []Case
	light := func(c *Case) (bool, error) {
		var err error
		c.Light, c.WorkdaysLeft, err = lightOf(cal, now, c.Deadline, nil, s.warnDays)
		c.DaysOver = max(-c.WorkdaysLeft, 0)
		return c.Light == Yellow || c.Light == Red, err
	}
	for _, c := range append(tasks, apps...) {
		if late, err := light(&c); err != nil {
			return nil, 0, err
		} else if late {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b Case) int { return a.Deadline.Compare(b.Deadline) })
	out = out[:min(len(out), limit)]

	// The open steps of the applications kept, whatever their own
	// deadlines, by the application's key: those who answer for a late
	// application (its most urgent step).
	var ids []string
	for _, c := range out {
		if c.Subject == "application" {
			ids = append(ids, strconv.FormatInt(c.ApplicationID, 10))
		}
	}
	stepsOf := map[int64][]Case{}
	for at := 0; at < len(ids); at += 500 {
		steps, err := store.All(ctx, s.db, scanStep, stepsOfQuery(ids[at:min(at+500, len(ids))]))
		if err != nil {
			return nil, 0, err
		}
		for _, t := range steps {
			stepsOf[t.ApplicationID] = append(stepsOf[t.ApplicationID], t)
		}
	}
	kept := out[:0]
	for _, c := range out {
		if c.Subject == "application" {
			if c.steps = stepsOf[c.ApplicationID]; len(c.steps) == 0 {
				continue // its steps were done meanwhile
			}
			first := c.steps[0] // the most urgent step: tasks are in deadline order
			c.Department, c.StepID, c.StepName, c.ResponsibleID, c.ResponsibleName = first.Department, first.StepID, first.StepName, first.ResponsibleID, first.ResponsibleName
		}
		kept = append(kept, c)
	}
	return kept, total, nil
}

// SweepResult counts what one sweep did.
type SweepResult struct {
	Warned  int // yellow warnings sent (cases, not messages)
	Overdue int // red cases told about for the first time
	Records int // accountability records written or brought up to date
	// Supplements are deferred materials (容缺) found overdue, each of which
	// wrote a credit record (deferrals.go).
	Supplements int
}

// Sweep looks at every running deadline once: a case that turned yellow is
// told to its responsible staff, once; one that turned red writes (or
// updates the days over of) its accountability record and is told to its
// responsible staff and the department's head, once. Each case commits on
// its own, so a failure midway keeps what was done. Deferred materials
// gone overdue write their credit records in the same sweep.
func (s *Deadlines) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	cases, _, err := s.lateCases(ctx, s.now(), everyCase)
	if err != nil {
		return res, err
	}
	for _, c := range cases {
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			if c.Light == Red {
				n, err := s.account(ctx, tx, c)
				if err != nil {
					return err
				}
				res.Records += n
			}
			first, err := s.rememberWarning(ctx, tx, c)
			if err != nil || !first {
				return err
			}
			if c.Light == Red {
				res.Overdue++
			} else {
				res.Warned++
			}
			return s.warn(ctx, tx, c)
		})
		if err != nil {
			return res, fmt.Errorf("deadline of %s %d: %w", c.Subject, subjectID(c), err)
		}
	}
	res.Supplements, err = s.sweepDeferrals(ctx)
	return res, err
}

func subjectID(c Case) int64 {
	if c.Subject == "task" {
		return c.TaskID
	}
	return c.ApplicationID
}

// rememberWarning notes that c's light was told, reporting whether it is the first time.
func (s *core) rememberWarning(ctx context.Context, tx *sql.Tx, c Case) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO deadline_warnings (subject, subject_id, light, sent_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (subject, subject_id, light) DO NOTHING`, c.Subject, subjectID(c), string(c.Light), s.now())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// account writes the accountability record of an overdue case, or brings
// its days over up to date; the person responsible is the first one found
// (an unclaimed step gets one once someone claims it).
func (s *core) account(ctx context.Context, tx *sql.Tx, c Case) (int, error) {
	var task, responsible any
	if c.TaskID != 0 {
		task = c.TaskID
	}
	if c.ResponsibleID != 0 {
		responsible = c.ResponsibleID
	}
	now := s.now()
	res, err := tx.ExecContext(ctx, `INSERT INTO accountability_records (subject, subject_id, application_id, task_id, department, step_id, step_name,
		responsible_id, responsible_name, deadline, days_over, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
		ON CONFLICT (subject, subject_id) DO UPDATE SET days_over = excluded.days_over, updated_at = excluded.updated_at,
			responsible_id = COALESCE(accountability_records.responsible_id, excluded.responsible_id),
			responsible_name = CASE WHEN accountability_records.responsible_id IS NULL THEN excluded.responsible_name ELSE accountability_records.responsible_name END
		WHERE accountability_records.days_over <> excluded.days_over OR (accountability_records.responsible_id IS NULL AND excluded.responsible_id IS NOT NULL)`,
		c.Subject, subjectID(c), c.ApplicationID, task, c.Department, c.StepID, c.StepName, responsible, c.ResponsibleName, c.Deadline, c.DaysOver, now)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// warn tells the staff responsible for c that it turned yellow or red; red
// goes to the heads of the department (or hall) that works it too.
func (s *core) warn(ctx context.Context, tx *sql.Tx, c Case) error {
	steps := c.steps
	if c.Subject == "task" {
		steps = []Case{c}
	}
	var to []int64
	for _, st := range steps {
		ids, err := responsibleFor(ctx, tx, st)
		if err != nil {
			return err
		}
		to = append(to, ids...)
		if c.Light == Red {
			heads, err := staffWith(ctx, tx, authz.Head, st)
			if err != nil {
				return err
			}
			to = append(to, heads...)
		}
	}
	slices.Sort(to)
	to = slices.Compact(to)
	what, whatEn := "办件 "+c.Number, "application "+c.Number
	if c.Subject == "task" {
		what, whatEn = "办件 "+c.Number+" 的「"+c.StepName+"」环节", "the step "+c.StepID+" of application "+c.Number
	}
	m := notify.Message{Kind: notify.DeadlineWarning, Link: fmt.Sprintf("/api/v1/staff/applications/%d", c.ApplicationID), ApplicationID: c.ApplicationID}
	day := c.Deadline.In(workday.CST).Format(time.DateOnly)
	if c.Light == Red {
		m.TitleZh, m.TitleEn = what+" 已超期", "Overdue: "+whatEn
		m.BodyZh = fmt.Sprintf("办理时限截至 %s，已超期 %d 个工作日，已记入电子监察问责记录。请尽快办结。", day, c.DaysOver)
		m.BodyEn = fmt.Sprintf("The time limit ran out on %s; it is %d working day(s) over and an accountability record was written for the supervisors. Please finish it at once.", day, c.DaysOver)
	} else {
		m.TitleZh, m.TitleEn = fmt.Sprintf("%s 剩余 %d 个工作日", what, c.WorkdaysLeft), fmt.Sprintf("%d working day(s) left: %s", c.WorkdaysLeft, whatEn)
		m.BodyZh = fmt.Sprintf("办理时限截至 %s（剩余 %d 个工作日），请及时办理，避免超期。", day, c.WorkdaysLeft)
		m.BodyEn = fmt.Sprintf("The time limit runs out on %s (%d working day(s) left): please act before it is overdue.", day, c.WorkdaysLeft)
	}
	for _, id := range to {
		m.AccountID = id
		if _, err := s.notify.Send(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// responsibleFor is who answers for a step: its assignee, or while nobody
// has claimed it, the staff who may claim it (the reviewers of its
// department or hall, their heads for a head's step, the window clerks for
// acceptance).
func responsibleFor(ctx context.Context, tx *sql.Tx, step Case) ([]int64, error) {
	if step.ResponsibleID != 0 {
		return []int64{step.ResponsibleID}, nil
	}
	switch step.role {
	case "clerk":
		return staffWith(ctx, tx, authz.Clerk, Case{})
	case "head":
		return staffWith(ctx, tx, authz.Head, step)
	}
	ids, err := staffWith(ctx, tx, authz.Reviewer, step)
	if err == nil && len(ids) == 0 {
		return staffWith(ctx, tx, authz.Head, step)
	}
	return ids, err
}

// staffWith lists the enabled staff accounts with role who work where step
// is worked: those posted to its hall for a hall's step, else those of its
// department (any department when it names none).
func staffWith(ctx context.Context, tx *sql.Tx, role authz.Role, step Case) ([]int64, error) {
	q := `SELECT a.id FROM accounts a JOIN account_roles r ON r.account_id = a.id
		WHERE a.kind = 'staff' AND a.disabled_at IS NULL AND r.role = $1`
	args := []any{string(role)}
	switch {
	case step.hall != 0:
		q += ` AND a.hall_id = $2`
		args = append(args, step.hall)
	case step.Department != "":
		q += ` AND a.department_code = $2`
		args = append(args, step.Department)
	}
	return store.All(ctx, tx, store.Value[int64], q+` ORDER BY a.id`, args...)
}

// Record is an accountability record: a step or an application that ran
// over its time limit, and who answered for it then.
type Record struct {
	ID              int64     `json:"id"`
	Subject         string    `json:"subject"`
	ApplicationID   int64     `json:"application_id"`
	Number          string    `json:"number"`
	TaskID          int64     `json:"task_id,omitempty"`
	Department      string    `json:"department"`
	StepID          string    `json:"step_id"`
	StepName        string    `json:"step_name"`
	ResponsibleID   int64     `json:"responsible_id,omitempty"`
	ResponsibleName string    `json:"responsible_name,omitempty"`
	Deadline        time.Time `json:"deadline"`
	DaysOver        int       `json:"days_over"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// Records lists the accountability records, the newest first.
func (s *Deadlines) Records(ctx context.Context) ([]Record, error) {
	return orEmpty(store.All(ctx, s.db, func(row store.Scanner) (Record, error) {
		var r Record
		err := row.Scan(&r.ID, &r.Subject, &r.ApplicationID, &r.Number, &r.TaskID, &r.Department, &r.StepID, &r.StepName,
			&r.ResponsibleID, &r.ResponsibleName, &r.Deadline, &r.DaysOver, &r.CreatedAt, &r.UpdatedAt)
		return r, err
	}, `SELECT r.id, r.subject, r.application_id, COALESCE(a.number, ''), COALESCE(r.task_id, 0), r.department, r.step_id, r.step_name,
		COALESCE(r.responsible_id, 0), r.responsible_name, r.deadline, r.days_over, r.created_at, r.updated_at
		FROM accountability_records r JOIN applications a ON a.id = r.application_id ORDER BY r.created_at DESC, r.id DESC LIMIT 1000`))
}

// Board is what supervisors see of deadlines: the cases yellow or red now,
// and the accountability records written so far.
type Board struct {
	WarningDays int    `json:"warning_days"`
	Cases       []Case `json:"cases"` // the BoardCases nearest deadlines
	// CasesTotal is how many cases are yellow or red: with step time limits
	// of a few days, a busy district has thousands, more than a page shows.
	CasesTotal int      `json:"cases_total"`
	Records    []Record `json:"records"`
	// Department is the department the board is of, or empty for all.
	Department string `json:"department,omitempty"`
}

// BoardCases is how many cases the board shows, the nearest deadlines.
const BoardCases = 500

// Overdue returns the supervisors' board of deadlines (超期督办), of one
// department's cases when department is not empty (the drill-down from the
// 电子监察 board), otherwise of all.
func (s *Deadlines) Overdue(ctx context.Context, p authz.Principal, department string) (Board, error) {
	if err := authz.Require(p, authz.OverdueView); err != nil {
		return Board{}, err
	}
	b := Board{WarningDays: s.warnDays, Cases: []Case{}, Department: department}
	if department == "" {
		cases, total, err := s.lateCases(ctx, s.now(), BoardCases)
		if err != nil {
			return b, err
		}
		b.CasesTotal = total
		b.Cases = append(b.Cases, cases...)
	} else {
		// A department's cases are found among all, as the sweep finds them:
		// a late application belongs to the department of its most urgent step.
		cases, _, err := s.lateCases(ctx, s.now(), everyCase)
		if err != nil {
			return b, err
		}
		for _, c := range cases {
			if c.Department == department {
				b.CasesTotal++
				if len(b.Cases) < BoardCases {
					b.Cases = append(b.Cases, c)
				}
			}
		}
	}
	records, err := s.Records(ctx)
	if err != nil {
		return b, err
	}
	b.Records = []Record{}
	for _, r := range records {
		if department == "" || r.Department == department {
			b.Records = append(b.Records, r)
		}
	}
	return b, nil
}

// Findings counts, per department, the cases red (supervision.Overdue)
// and yellow (supervision.NearOverdue) at now, for the supervisors' board:
// a late application counts in the department of its most urgent step.
func (s *Deadlines) Findings(ctx context.Context, now time.Time) ([]supervision.Finding, error) {
	cases, _, err := s.lateCases(ctx, now, everyCase)
	if err != nil {
		return nil, err
	}
	type key struct {
		department string
		kind       supervision.Kind
	}
	byKey := map[key]*supervision.Finding{}
	var out []supervision.Finding
	for _, c := range cases {
		k := key{c.Department, supervision.NearOverdue}
		if c.Light == Red {
			k.kind = supervision.Overdue
		}
		f, ok := byKey[k]
		if !ok {
			out = append(out, supervision.Finding{Department: k.department, Kind: k.kind, Oldest: c.Deadline,
				Link: "/workbench/overdue?department=" + url.QueryEscape(k.department)})
			f = &out[len(out)-1]
			byKey[k] = f
		}
		f.Count++
		if c.Deadline.Before(f.Oldest) {
			f.Oldest = c.Deadline
		}
	}
	return out, nil
}

// SweepArgs is the durable job that sweeps deadlines. Each run first
// enqueues the next one, so the schedule is a row in the database that
// survives restarts. A sweep is unique per slot (the start of its period),
// so processes starting at once, or a retry, do not make a second chain.
type SweepArgs struct {
	Slot time.Time `json:"slot" river:"unique"`
}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return "deadline_sweep" }

// SweepEvery is how often deadlines are swept. Deadlines end with a working
// day, so a quarter of an hour is prompt enough.
const SweepEvery = 15 * time.Minute

// sweepAt is the sweep of the period that holds at, due at its start.
func sweepAt(at time.Time) (SweepArgs, *river.InsertOpts) {
	slot := at.UTC().Truncate(SweepEvery)
	return SweepArgs{Slot: slot}, &river.InsertOpts{ScheduledAt: slot, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ScheduleSweep makes sure a sweep is due now (unless this period's ran or
// waits already): serve calls it at start, which also restarts a chain that
// was lost. The schedule follows the real clock, as the queue does.
func ScheduleSweep(ctx context.Context, db *store.DB, q *jobs.Queue) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := sweepAt(time.Now())
		_, err := q.Enqueue(ctx, tx, args, opts)
		return err
	})
}

// SweepWorker works SweepArgs jobs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	svc *Deadlines
}

// NewSweepWorker returns the worker; register it with jobs.Register.
func NewSweepWorker(svc *Deadlines) *SweepWorker { return &SweepWorker{svc: svc} }

// Work schedules the next sweep, committed before this one's work so that a
// failing sweep cannot end the chain, then sweeps. A sweep run twice does no
// harm: what was told is remembered.
func (w *SweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	err := w.svc.db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := sweepAt(time.Now().Add(SweepEvery))
		_, err := jobs.EnqueueFromJob(ctx, tx, args, opts)
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.svc.Sweep(ctx)
	return err
}
