package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"yiwang/internal/store"
	"yiwang/internal/workflow"
)

// This file is the store of application and task rows: one function per
// kind of write, with typed parameters, so that a misspelt column is a
// compile error in one place rather than a failed statement at run time.
// Each takes the caller's transaction, or a store.Querier or store.Execer
// where its one statement is the whole action.

// insertDraft saves a new draft a (created at a.CreatedAt) and returns its
// id; intakeBy is the clerk who took it at a hall window, or 0.
func insertDraft(ctx context.Context, tx *sql.Tx, a *Application, intakeBy int64) (int64, error) {
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO applications (item_code, version_id, account_id, person_id, enterprise_id, status, answers, form, provenance, materials, mismatches,
		consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, updated_at, channel, hall_code, intake_by)
		VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9, '[]', $10, $11, $12, $13, $14, $15, $15, $16, $17, $18) RETURNING id`,
		a.ItemCode, a.VersionID, a.accountID, a.personID, nullID(a.EnterpriseID), enc(a.Answers), enc(a.Form), enc(a.Provenance), enc(a.Materials),
		a.consentID, a.FieldsTotal, a.FieldsPrefilled, a.MaterialsTotal, a.MaterialsAttached, a.CreatedAt, a.Channel, nullString(a.HallCode), nullID(intakeBy)).Scan(&id)
	return id, err
}

// nullID is NULL for the id 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// update is what an action writes to an application besides its revision.
// A zero field leaves its column as it is.
type update struct {
	Number                                       string
	SubmittedAt, AcceptedAt, DecidedAt, Deadline time.Time
	// ClockStoppedAt stops the clock at that time; RestartClock clears it.
	ClockStoppedAt time.Time
	RestartClock   bool
	// Form, Materials, Mismatches and Reasons are JSON.
	Form, Materials, Mismatches, Reasons string

	// status and stoppedFrom are set by move, with the state machine's
	// answer, never by a caller.
	status      workflow.Status
	stoppedFrom workflow.Status
}

// updateApplication writes u to application a (locked in tx), sets
// updated_at to now and bumps the revision; a change made meanwhile by
// someone else fails as stale.
func updateApplication(ctx context.Context, tx *sql.Tx, a *Application, now time.Time, u update) error {
	cols := []string{"updated_at = $1", "revision = revision + 1"}
	args := []any{now}
	set := func(column string, v any) {
		args = append(args, v)
		cols = append(cols, fmt.Sprintf("%s = $%d", column, len(args)))
	}
	for _, c := range []struct {
		column string
		value  time.Time
	}{{"accepted_at", u.AcceptedAt}, {"clock_stopped_at", u.ClockStoppedAt}, {"deadline", u.Deadline}, {"decided_at", u.DecidedAt}, {"submitted_at", u.SubmittedAt}} {
		if !c.value.IsZero() {
			set(c.column, c.value)
		}
	}
	if u.RestartClock {
		set("clock_stopped_at", nil)
	}
	for _, c := range []struct{ column, value string }{{"form", u.Form}, {"materials", u.Materials}, {"mismatches", u.Mismatches}, {"number", u.Number}, {"reasons", u.Reasons}} {
		if c.value != "" {
			set(c.column, c.value)
		}
	}
	if u.status != "" {
		set("status", string(u.status))
		set("stopped_from", nullString(string(u.stoppedFrom)))
	}
	args = append(args, a.ID, a.Revision)
	res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE applications SET %s WHERE id = $%d AND revision = $%d`, strings.Join(cols, ", "), len(args)-1, len(args)), args...)
	if err != nil {
		return fmt.Errorf("save application %d: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var current int64
		tx.QueryRowContext(ctx, `SELECT revision FROM applications WHERE id = $1`, a.ID).Scan(&current)
		return staleError(a.ID, a.Revision, current)
	}
	a.Revision++
	return nil
}

// setStage records the stage whose tasks are open.
func setStage(ctx context.Context, tx *sql.Tx, applicationID int64, stage int) error {
	_, err := tx.ExecContext(ctx, `UPDATE applications SET stage = $1 WHERE id = $2`, stage, applicationID)
	return err
}

// recountDeadline moves an application's deadline outside an action (a
// calendar year loaded), bumping its revision.
func recountDeadline(ctx context.Context, tx *sql.Tx, applicationID int64, deadline, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE applications SET deadline = $1, revision = revision + 1, updated_at = $2 WHERE id = $3`, deadline, now, applicationID)
	return err
}

// saveDraftForm writes the form of a draft; once submitted it stays.
func saveDraftForm(ctx context.Context, q store.Execer, applicationID int64, form string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE applications SET form = $1, updated_at = $2 WHERE id = $3 AND status = 'draft'`, form, now, applicationID)
	return err
}

// plannedStep is a step of the decision, waiting for its stage to open.
type plannedStep struct {
	ApplicationID int64
	Stage         int
	Step          workflow.Step
}

// insertStep plans a step of the decision.
func insertStep(ctx context.Context, tx *sql.Tx, p plannedStep) error {
	st := p.Step
	_, err := tx.ExecContext(ctx, `INSERT INTO tasks (application_id, stage, step_id, name_zh, name_en, department, role, days, grp, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'waiting')`, p.ApplicationID, p.Stage, st.ID, st.NameZh, st.NameEn, st.Department, st.Role, st.Days, st.Group)
	return err
}

// modeTask is a task of an approval mode outside the steps (an inspection,
// an objection's review), open at once for a reviewer of Department.
type modeTask struct {
	ApplicationID  int64
	StepID         string
	NameZh, NameEn string
	Department     string
	Days           int
	OpenedAt       time.Time
	Deadline       time.Time
	Note           string
}

// insertModeTask opens a mode's task and returns its id.
func insertModeTask(ctx context.Context, tx *sql.Tx, t modeTask) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO tasks (application_id, stage, step_id, name_zh, name_en, department, role, days, status, opened_at, deadline, note)
		VALUES ($1, $2, $3, $4, $5, $6, 'reviewer', $7, 'open', $8, $9, $10) RETURNING id`,
		t.ApplicationID, modeStage, t.StepID, t.NameZh, t.NameEn, t.Department, t.Days, t.OpenedAt, t.Deadline, t.Note).Scan(&id)
	return id, err
}

// openTask puts a waiting task into its department's inbox.
func openTask(ctx context.Context, tx *sql.Tx, taskID int64, openedAt, deadline time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'open', opened_at = $1, deadline = $2 WHERE id = $3`, openedAt, deadline, taskID)
	return err
}

// setTaskDeadline moves a task's deadline (a clock restarted, a year loaded).
func setTaskDeadline(ctx context.Context, tx *sql.Tx, taskID int64, deadline time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE tasks SET deadline = $1 WHERE id = $2`, deadline, taskID)
	return err
}

// cancelTasks cancels an application's tasks not yet done.
func cancelTasks(ctx context.Context, tx *sql.Tx, applicationID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'cancelled' WHERE application_id = $1 AND status IN ('waiting', 'open', 'claimed')`, applicationID)
	return err
}

// taskOutcome is how a staff member finished a task.
type taskOutcome struct {
	TaskID  int64
	Status  workflow.TaskStatus
	By      int64 // the account that finished it, now its assignee
	At      time.Time
	Reasons string         // JSON
	Note    sql.NullString // kept as it was when not valid
}

// finishTaskRow writes a task's outcome.
func finishTaskRow(ctx context.Context, tx *sql.Tx, o taskOutcome) error {
	_, err := tx.ExecContext(ctx, `UPDATE tasks SET status = $1, assignee = $2, done_at = $3, done_by = $2, reasons = $4, note = COALESCE($5, note) WHERE id = $6`,
		string(o.Status), o.By, o.At, o.Reasons, o.Note, o.TaskID)
	return err
}

// claimTask gives an open task to account; a task claimed meanwhile stays.
func claimTask(ctx context.Context, tx *sql.Tx, taskID, account int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'claimed', assignee = $1, claimed_at = $2 WHERE id = $3 AND status = 'open'`, account, at, taskID)
	return err
}

// assignTask gives a task to account, whoever held it.
func assignTask(ctx context.Context, tx *sql.Tx, taskID, account int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'claimed', assignee = $1, claimed_at = $2 WHERE id = $3`, account, at, taskID)
	return err
}

// releaseTask puts a claimed task back into its department's inbox.
func releaseTask(ctx context.Context, tx *sql.Tx, taskID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'open', assignee = NULL, claimed_at = NULL WHERE id = $1`, taskID)
	return err
}

// orEmpty turns no rows into an empty list, so that a list in a JSON answer
// reads [] rather than null.
func orEmpty[T any](list []T, err error) ([]T, error) {
	if list == nil && err == nil {
		list = []T{}
	}
	return list, err
}

// loadApplication reads application id; sql.ErrNoRows when there is none.
func loadApplication(ctx context.Context, q store.Querier, id int64) (Application, error) {
	return scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM applications WHERE id = $1`, id))
}

const columns = `id, item_code, version_id, account_id, person_id, COALESCE(enterprise_id, 0), status, answers, form, provenance, materials, mismatches,
	consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, submitted_at,
	COALESCE(number, ''), channel, COALESCE(hall_code, ''), stage, COALESCE(stopped_from, ''), accepted_at, deadline, clock_stopped_at, decided_at, reasons, revision`

func scan(row store.Scanner) (Application, error) {
	var a Application
	var answers, form, prov, mats, mism, reasons string
	var submitted, accepted, deadline, stopped, decided sql.NullTime
	err := row.Scan(&a.ID, &a.ItemCode, &a.VersionID, &a.accountID, &a.personID, &a.EnterpriseID, &a.Status, &answers, &form, &prov, &mats, &mism,
		&a.consentID, &a.FieldsTotal, &a.FieldsPrefilled, &a.MaterialsTotal, &a.MaterialsAttached, &a.CreatedAt, &submitted,
		&a.Number, &a.Channel, &a.HallCode, &a.stage, &a.stoppedFrom, &accepted, &deadline, &stopped, &decided, &reasons, &a.Revision)
	if err != nil {
		return a, err
	}
	for _, x := range []struct {
		s string
		v any
	}{{answers, &a.Answers}, {form, &a.Form}, {prov, &a.Provenance}, {mats, &a.Materials}, {mism, &a.Mismatches}, {reasons, &a.Reasons}} {
		if err := json.Unmarshal([]byte(x.s), x.v); err != nil {
			return a, fmt.Errorf("application %d is unreadable: %w", a.ID, err)
		}
	}
	for _, x := range []struct {
		n **time.Time
		v sql.NullTime
	}{{&a.SubmittedAt, submitted}, {&a.AcceptedAt, accepted}, {&a.Deadline, deadline}, {&a.clockStoppedAt, stopped}, {&a.DecidedAt, decided}} {
		if x.v.Valid {
			t := x.v.Time
			*x.n = &t
		}
	}
	a.ClockStopped = a.clockStoppedAt != nil
	return a, nil
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
