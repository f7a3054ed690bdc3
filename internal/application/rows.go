package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/pii"
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
func (s *core) insertDraft(ctx context.Context, tx *sql.Tx, a *Application, intakeBy int64) (int64, error) {
	var cols [5]string
	for i, c := range []struct {
		column string
		v      any
	}{{"answers", a.Answers}, {"form", a.Form}, {"provenance", a.Provenance}, {"materials", a.Materials}, {"mismatches", []Mismatch{}}} {
		b, _ := json.Marshal(c.v)
		var err error
		if cols[i], err = s.sealColumn("applications."+c.column, string(b)); err != nil {
			return 0, err
		}
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO applications (item_code, version_id, account_id, person_id, enterprise_id, status, answers, form, provenance, materials, mismatches,
		consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, updated_at, channel, hall_code, intake_by, initiative)
		VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17, $18, $19, $20) RETURNING id`,
		a.ItemCode, a.VersionID, a.accountID, a.personID, nullID(a.EnterpriseID), cols[0], cols[1], cols[2], cols[3], cols[4],
		a.consentID, a.FieldsTotal, a.FieldsPrefilled, a.MaterialsTotal, a.MaterialsAttached, a.CreatedAt, a.Channel, nullString(a.HallCode), nullID(intakeBy), a.Initiative).Scan(&id)
	return id, err
}

// sealedColumns are the columns that hold personal data (ID numbers, phones,
// addresses in forms, their sources and the decision's input snapshot), each
// stored sealed with the data key, bound to its table.column. They are
// sealed and opened here and in SealPlaintext only.
var sealedColumns = []struct{ table, column string }{
	{"applications", "answers"}, {"applications", "form"}, {"applications", "provenance"}, {"applications", "materials"},
	{"applications", "mismatches"}, {"decisions", "record"}, {"application_events", "note"}, {"application_events", "details"},
}

// sealColumn seals plaintext for column ("table.column").
func (s *core) sealColumn(column, plaintext string) (string, error) {
	if s.pii == nil {
		return "", errNoProtector
	}
	return s.pii.SealFor(plaintext, column)
}

// openColumn opens what sealColumn sealed for column.
func (s *core) openColumn(column, sealed string) (string, error) {
	if s.pii == nil {
		return "", errNoProtector
	}
	return s.pii.OpenFor(sealed, column)
}

// errNoProtector is a wiring fault: services made without Deps.Protector
// cannot read or write the sealed columns.
var errNoProtector = apperr.New(apperr.Internal, apperr.PIICipher, "the application services were set up without the personal-data key")

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
func (s *core) updateApplication(ctx context.Context, tx *sql.Tx, a *Application, now time.Time, u update) error {
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
	for _, c := range []struct{ column, value string }{{"form", u.Form}, {"materials", u.Materials}, {"mismatches", u.Mismatches}} {
		if c.value != "" {
			sealed, err := s.sealColumn("applications."+c.column, c.value)
			if err != nil {
				return err
			}
			set(c.column, sealed)
		}
	}
	for _, c := range []struct{ column, value string }{{"number", u.Number}, {"reasons", u.Reasons}} {
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
func (s *core) saveDraftForm(ctx context.Context, q store.Execer, applicationID int64, form string, now time.Time) error {
	sealed, err := s.sealColumn("applications.form", form)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE applications SET form = $1, updated_at = $2 WHERE id = $3 AND status = 'draft'`, sealed, now, applicationID)
	return err
}

// plannedStep is a step of the decision, waiting for its stage to open.
type plannedStep struct {
	ApplicationID int64
	Stage         int
	Step          workflow.Step
}

// insertStep plans a step of the decision. A step of a hall needs the
// hall in the directory: importing the catalogue that names it puts it there.
func insertStep(ctx context.Context, tx *sql.Tx, p plannedStep) error {
	st := p.Step
	var hall any
	if st.Hall != "" {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM halls WHERE code = $1`, st.Hall).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.Invalid, apperr.HallNotFound, "step %s goes to hall %q, which is not in the directory: import the catalogue that declares it", st.ID, st.Hall)
		}
		if err != nil {
			return err
		}
		hall = id
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO tasks (application_id, stage, step_id, name_zh, name_en, department, role, days, grp, status, hall_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'waiting', $10)`, p.ApplicationID, p.Stage, st.ID, st.NameZh, st.NameEn, st.Department, st.Role, st.Days, st.Group, hall)
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
func (s *core) loadApplication(ctx context.Context, q store.Querier, id int64) (Application, error) {
	return s.scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM applications WHERE id = $1`, id))
}

const columns = `id, item_code, version_id, account_id, person_id, COALESCE(enterprise_id, 0), status, answers, form, provenance, materials, mismatches,
	consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, submitted_at,
	COALESCE(number, ''), channel, COALESCE(hall_code, ''), stage, COALESCE(stopped_from, ''), accepted_at, deadline, clock_stopped_at, decided_at, reasons, revision, initiative`

// scan reads an application row, opening its sealed columns.
func (s *core) scan(row store.Scanner) (Application, error) {
	var a Application
	var answers, form, prov, mats, mism, reasons string
	var submitted, accepted, deadline, stopped, decided sql.NullTime
	err := row.Scan(&a.ID, &a.ItemCode, &a.VersionID, &a.accountID, &a.personID, &a.EnterpriseID, &a.Status, &answers, &form, &prov, &mats, &mism,
		&a.consentID, &a.FieldsTotal, &a.FieldsPrefilled, &a.MaterialsTotal, &a.MaterialsAttached, &a.CreatedAt, &submitted,
		&a.Number, &a.Channel, &a.HallCode, &a.stage, &a.stoppedFrom, &accepted, &deadline, &stopped, &decided, &reasons, &a.Revision, &a.Initiative)
	if err != nil {
		return a, err
	}
	for _, x := range []struct {
		column string // "" for a column kept in plaintext
		s      string
		v      any
	}{{"answers", answers, &a.Answers}, {"form", form, &a.Form}, {"provenance", prov, &a.Provenance}, {"materials", mats, &a.Materials}, {"mismatches", mism, &a.Mismatches}, {"", reasons, &a.Reasons}} {
		plain := x.s
		if x.column != "" {
			if plain, err = s.openColumn("applications."+x.column, x.s); err != nil {
				return a, fmt.Errorf("application %d is unreadable: %w", a.ID, err)
			}
		}
		if err := json.Unmarshal([]byte(plain), x.v); err != nil {
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
	COALESCE(t.assignee, 0), t.opened_at, t.deadline, t.done_at, t.reasons, t.note, COALESCE(t.hall_id, 0),
	COALESCE((SELECT name_zh FROM halls WHERE id = t.hall_id), ''), COALESCE((SELECT name_en FROM halls WHERE id = t.hall_id), '')`

func scanTask(row store.Scanner) (Task, error) {
	var t Task
	var opened, deadline, done sql.NullTime
	var reasons string
	err := row.Scan(&t.ID, &t.ApplicationID, &t.Number, &t.ItemCode, &t.Stage, &t.StepID, &t.Name, &t.NameEn, &t.Department, &t.Role, &t.Group, &t.Status,
		&t.Assignee, &opened, &deadline, &done, &reasons, &t.Note, &t.HallID, &t.HallZh, &t.HallEn)
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

// sealBatch is how many values SealPlaintext seals in one transaction.
const sealBatch = 500

// SealPlaintext seals the values of the sealed columns still stored in
// plaintext, as a database written before they were sealed holds them (a
// sealed value starts with "v1:"). serve runs it on every start, before it
// serves. It works in batches of its own transactions and rewrites a value
// only if it is still the plaintext it read, so it can be cut short and run
// again, beside a process already serving. It returns how many it sealed.
// A pass that finishes leaves a settings row behind, and later starts read
// only that: every value written since was sealed when written, and a
// large database's columns are not read in full on every start.
func SealPlaintext(ctx context.Context, db *store.DB, protector *pii.Protector) (int, error) {
	var done int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, sealedSetting).Scan(&done); err != nil || done > 0 {
		return 0, err
	}
	s := &core{db: db, pii: protector}
	total := 0
	for _, c := range sealedColumns {
		for {
			read, sealed, err := s.sealPlaintextBatch(ctx, c.table, c.column)
			total += sealed
			if err != nil {
				return total, fmt.Errorf("seal %s.%s: %w", c.table, c.column, err)
			}
			if read < sealBatch {
				break
			}
		}
	}
	_, err := db.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, 'v1', $2) ON CONFLICT (key) DO NOTHING`, sealedSetting, time.Now().UTC())
	return total, err
}

// sealedSetting is the settings row SealPlaintext leaves when every value
// of the sealed columns is sealed.
const sealedSetting = "pii_sealed_at_rest"

// sealPlaintextBatch seals up to sealBatch plaintext values of one column;
// it returns how many it read and how many it sealed (fewer when another
// process sealed some meanwhile).
func (s *core) sealPlaintextBatch(ctx context.Context, table, column string) (read, sealed int, err error) {
	type plain struct {
		id    int64
		value string
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		read, sealed = 0, 0
		rows, err := store.All(ctx, tx, func(row store.Scanner) (plain, error) {
			var p plain
			return p, row.Scan(&p.id, &p.value)
		}, fmt.Sprintf(`SELECT id, %s FROM %s WHERE %s NOT LIKE 'v1:%%' ORDER BY id LIMIT %d`, column, table, column, sealBatch))
		if err != nil {
			return err
		}
		for _, r := range rows {
			v, err := s.sealColumn(table+"."+column, r.value)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE id = $2 AND %s = $3`, table, column, column), v, r.id, r.value)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			sealed += int(n)
		}
		read = len(rows)
		return nil
	})
	return read, sealed, err
}
