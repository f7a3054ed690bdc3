package application

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/supervision"
	"yiwang/internal/workday"
	"yiwang/internal/workflow"
)

// Spot checks (双随机一公开): approvals no person looked at before they were
// made — machine approvals (秒批) and approvals on commitment (告知承诺) —
// are sampled at the item's sample_percent (the first random draw), each
// sample assigned to a random inspector of the item's department (the
// second), never the one who decided it. The inspector finds it 合格 or
// 不合格; a failure revokes the approval and its licence, writes a credit
// record and tells the applicant. An item whose checks fail too often has
// its machine approval suspended on its own, and every result is published
// per department and month (一公开), without numbers or names.

// Defaults of the spot checks' settings (SpotChecks).
const (
	DefaultSpotCheckDays  = 10                  // working days an inspector has for a check
	DefaultErrorThreshold = 0.10                // share of failed checks that suspends an item's machine approval
	DefaultMinChecked     = 5                   // checks an item needs before its error rate counts
	DefaultErrorWindow    = 90 * 24 * time.Hour // how far back the error rate looks
	spotFailedWindow      = 30 * 24 * time.Hour // failures the supervision board reports
)

// The statuses of a spot check (migrations 0007, 0030): open, then
// confirmed (合格), violation (不合格: revoked) or corrected (不合格, but
// put right: 责令整改).
const (
	spotOpen      = "open"
	spotPassed    = "confirmed"
	spotViolation = "violation"
	spotCorrected = "corrected"
)

// SpotResult is what an inspector finds.
type SpotResult string

// The results an inspector records.
const (
	SpotPass    SpotResult = "pass"    // 合格
	SpotFail    SpotResult = "fail"    // 不合格: the approval and its licence are revoked, a credit record written
	SpotCorrect SpotResult = "correct" // 不合格 but can be put right: the applicant is told to correct it (责令整改)
)

// spotStatus is the status each result leaves.
var spotStatus = map[SpotResult]string{SpotPass: spotPassed, SpotFail: spotViolation, SpotCorrect: spotCorrected}

// SpotChecks runs the spot checks: the inspectors' results, the
// supervisors' list and department switch, the public results and the
// supervision board's findings. Its settings may be changed before use.
type SpotChecks struct {
	*core
	// Threshold is the share of failed checks (over Window, once MinChecked
	// were done) above which an item's machine approval is suspended.
	Threshold  float64
	MinChecked int
	Window     time.Duration
}

// SpotCheck is one sampled approval and its check.
type SpotCheck struct {
	ID            int64      `json:"id"`
	ApplicationID int64      `json:"application_id"`
	Number        string     `json:"number"`
	ItemCode      string     `json:"item_code"`
	ItemName      string     `json:"item_name"`
	Department    string     `json:"department"`
	DepartmentZh  string     `json:"department_name"`
	DepartmentEn  string     `json:"department_name_en"`
	Mode          string     `json:"mode"`   // auto (秒批) or commitment (告知承诺)
	Status        string     `json:"status"` // open, confirmed (合格), violation (不合格), corrected (责令整改)
	AppStatus     string     `json:"application_status"`
	Inspector     int64      `json:"inspector,omitempty"` // 0: the department has no one to check it
	InspectorName string     `json:"inspector_name,omitempty"`
	DueAt         *time.Time `json:"due_at,omitempty"`
	Overdue       bool       `json:"overdue"`
	CreatedAt     time.Time  `json:"created_at"`
	CheckedAt     *time.Time `json:"checked_at,omitempty"`
	Findings      string     `json:"findings,omitempty"`
}

// PublicResult is one checked spot check as the public sees it: no
// application number, no name, no free text.
type PublicResult struct {
	ItemCode     string    `json:"item_code"`
	ItemName     string    `json:"item_name"`
	Department   string    `json:"department"`
	DepartmentZh string    `json:"department_name"`
	DepartmentEn string    `json:"department_name_en"`
	Number       string    `json:"number"` // the application's number, masked
	CheckedAt    time.Time `json:"checked_at"`
	Result       string    `json:"result"`  // pass, fail or correct
	Summary      string    `json:"summary"` // what followed, in standard words
	SummaryEn    string    `json:"summary_en"`
}

// spotDeciderNone is the decider of an approval no staff member made.
const spotDeciderNone = 0

// sampleSpotCheck draws whether approval appID of it (decided under mode by
// decider, 0 for the machine) is checked, and if so assigns it to a random
// inspector of the item's department with a deadline, inside the
// approval's transaction.
func (s *core) sampleSpotCheck(ctx context.Context, tx *sql.Tx, appID int64, number string, it catalog.Item, mode string, decider int64, at time.Time) error {
	if it.Approval.SamplePercent <= 0 || s.sample()*100 >= it.Approval.SamplePercent {
		return nil
	}
	inspector, err := s.drawInspector(ctx, tx, it.Department, decider)
	if err != nil {
		return err
	}
	due, _, err := s.deadlineAfter(ctx, at, DefaultSpotCheckDays)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO spot_checks (application_id, item_code, status, created_at, department, mode, inspector, due_at) VALUES ($1, $2, 'open', $3, $4, $5, $6, $7)`,
		appID, it.Code, at, it.Department, mode, nullID(inspector), due); err != nil {
		return fmt.Errorf("sample for spot check: %w", err)
	}
	if inspector == 0 {
		return nil // no one to assign: the supervisors' board shows it
	}
	return s.tellInspector(ctx, tx, inspector, number, it.Name.Zh, due)
}

// tellInspector tells the inspector of a spot check what to check by when.
func (s *core) tellInspector(ctx context.Context, tx *sql.Tx, inspector int64, number, itemName string, due time.Time) error {
	day := due.In(workday.CST).Format(time.DateOnly)
	_, err := s.notify.Send(ctx, tx, notify.Message{AccountID: inspector, Kind: notify.SpotCheck, Link: "/workbench/spot-checks",
		TitleZh: "抽查任务：办件 " + number + "（" + itemName + "）", TitleEn: "Spot check: application " + number,
		BodyZh: "请于 " + day + " 前完成核查并记录结果。", BodyEn: "Check it and record the result by " + day + "."})
	return err
}

// drawInspector picks at random an active reviewer or head of dept other
// than those excluded (the decider; 0 is the machine); 0 when there is none.
func (s *core) drawInspector(ctx context.Context, tx *sql.Tx, dept string, exclude ...int64) (int64, error) {
	ids, err := store.All(ctx, tx, func(row store.Scanner) (int64, error) {
		var id int64
		return id, row.Scan(&id)
	}, `SELECT DISTINCT a.id FROM accounts a JOIN account_roles r ON r.account_id = a.id
		WHERE a.kind = 'staff' AND a.department_code = $1 AND a.disabled_at IS NULL AND r.role IN ('reviewer', 'head') ORDER BY a.id`, dept)
	if err != nil {
		return 0, err
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool { return slices.Contains(exclude, id) })
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[s.pick(len(ids))], nil
}

// Reassign draws another inspector for an open spot check that has none or
// is past its deadline — never the one it had, nor anyone who worked a step
// of the application — with a new deadline, and tells them. Supervisors
// do it; the check is anyone's department's, as they watch them all.
func (s *SpotChecks) Reassign(ctx context.Context, p authz.Principal, id int64) (SpotCheck, error) {
	if err := authz.Require(p, authz.Supervise); err != nil {
		return SpotCheck{}, err
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT sc.application_id, COALESCE(a.number, ''), v.name_zh, sc.department, COALESCE(sc.inspector, 0), sc.status, sc.due_at
			FROM spot_checks sc JOIN applications a ON a.id = sc.application_id JOIN catalog_versions v ON v.id = a.version_id WHERE sc.id = $1`
		if s.db.Backend == "postgres" {
			q += ` FOR UPDATE OF sc`
		}
		var appID, inspector int64
		var number, itemName, dept, status string
		var due sql.NullTime
		err := tx.QueryRowContext(ctx, q, id).Scan(&appID, &number, &itemName, &dept, &inspector, &status, &due)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, apperr.SpotCheckNotFound, "there is no spot check %d", id)
		}
		if err != nil {
			return err
		}
		now := s.now()
		if status != spotOpen {
			return apperr.New(apperr.Conflict, apperr.SpotCheckDone, "spot check %d is already recorded", id)
		}
		if inspector != 0 && due.Valid && !now.After(due.Time) {
			return apperr.New(apperr.Conflict, apperr.SpotCheckNotLate, "spot check %d is assigned and not yet due: its inspector has until its deadline", id)
		}
		workers, err := store.All(ctx, tx, store.Value[int64], `SELECT DISTINCT assignee FROM tasks WHERE application_id = $1 AND assignee IS NOT NULL`, appID)
		if err != nil {
			return err
		}
		next, err := s.drawInspector(ctx, tx, dept, append(workers, inspector)...)
		if err != nil {
			return err
		}
		if next == 0 {
			return apperr.New(apperr.Conflict, apperr.NoInspector, "the department has no other reviewer or head to check it")
		}
		newDue, _, err := s.deadlineAfter(ctx, now, DefaultSpotCheckDays)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE spot_checks SET inspector = $1, due_at = $2 WHERE id = $3`, next, newDue, id); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", p.AccountID, p.Name), Action: "spot_check.reassign",
			ObjectKind: "application", ObjectID: strconv.FormatInt(appID, 10), Detail: map[string]any{"spot_check": id, "from": inspector, "to": next}}); err != nil {
			return err
		}
		return s.tellInspector(ctx, tx, next, number, itemName, newDue)
	})
	if err != nil {
		return SpotCheck{}, err
	}
	return s.one(ctx, id)
}

// cryptoPick draws a uniform index below n from crypto/rand: which
// inspector checks is not for anyone to predict.
func cryptoPick(n int) int {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand never fails on a supported platform
	}
	return int(i.Int64())
}

// spotColumns and spotFrom read a SpotCheck (scanSpot).
const spotColumns = `sc.id, sc.application_id, COALESCE(a.number, ''), sc.item_code, v.name_zh, sc.department, COALESCE(dp.name_zh, sc.department), COALESCE(dp.name_en, sc.department), sc.mode, sc.status, a.status,
	COALESCE(sc.inspector, 0), COALESCE(ac.display_name, ''), sc.due_at, sc.created_at, sc.checked_at, sc.note`
const spotFrom = ` FROM spot_checks sc JOIN applications a ON a.id = sc.application_id JOIN catalog_versions v ON v.id = a.version_id
	LEFT JOIN accounts ac ON ac.id = sc.inspector LEFT JOIN departments dp ON dp.code = sc.department`

func (s *core) scanSpot(now time.Time) func(store.Scanner) (SpotCheck, error) {
	return func(row store.Scanner) (SpotCheck, error) {
		var c SpotCheck
		var due, checked sql.NullTime
		err := row.Scan(&c.ID, &c.ApplicationID, &c.Number, &c.ItemCode, &c.ItemName, &c.Department, &c.DepartmentZh, &c.DepartmentEn, &c.Mode, &c.Status, &c.AppStatus,
			&c.Inspector, &c.InspectorName, &due, &c.CreatedAt, &checked, &c.Findings)
		if err != nil {
			return c, err
		}
		if due.Valid {
			c.DueAt = &due.Time
		}
		if checked.Valid {
			c.CheckedAt = &checked.Time
		}
		c.Overdue = c.Status == spotOpen && (c.Inspector == 0 || (c.DueAt != nil && now.After(*c.DueAt)))
		if c.Findings != "" {
			if c.Findings, err = s.openColumn("spot_checks.note", c.Findings); err != nil {
				return c, fmt.Errorf("findings of spot check %d are unreadable: %w", c.ID, err)
			}
		}
		return c, nil
	}
}

// SpotFilter narrows the supervisors' list.
type SpotFilter struct {
	Status     string // open, confirmed, violation; "" for all
	Department string // "" for all
}

// List is the spot checks p may see: a supervisor all of them (by f),
// anyone else with the inspection permission those assigned to them.
// Open ones first, then the newest.
func (s *SpotChecks) List(ctx context.Context, p authz.Principal, f SpotFilter) ([]SpotCheck, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	switch {
	case p.Can(authz.Supervise):
	case p.Can(authz.Inspect):
		add("sc.inspector = $%d", p.AccountID)
	default:
		return nil, authz.Require(p, authz.Inspect)
	}
	if f.Status != "" {
		if f.Status != spotOpen && f.Status != spotPassed && f.Status != spotViolation && f.Status != spotCorrected {
			return nil, apperr.New(apperr.Invalid, apperr.BadSpotStatus, "status must be open, confirmed, violation or corrected, not %q", f.Status)
		}
		add("sc.status = $%d", f.Status)
	}
	if f.Department != "" {
		add("sc.department = $%d", f.Department)
	}
	q := `SELECT ` + spotColumns + spotFrom
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY CASE WHEN sc.status = 'open' THEN 0 ELSE 1 END, sc.created_at DESC, sc.id DESC LIMIT 500`
	return orEmpty(store.All(ctx, s.db, s.scanSpot(s.now()), q, args...))
}

// Record is the assigned inspector's result on spot check id: pass (合格)
// closes it; a failure (不合格, findings required) revokes the approval and
// its licence, writes a credit record and tells the applicant; a finding
// that can be put right (correct, findings required) tells the applicant
// what to correct. Both count against the item's error rate and may
// suspend its machine approval — all in one transaction. Staff of another
// department get not-found; others of the department, forbidden.
func (s *SpotChecks) Record(ctx context.Context, p authz.Principal, id int64, result SpotResult, findings string) (SpotCheck, error) {
	if err := authz.Require(p, authz.Inspect); err != nil {
		return SpotCheck{}, err
	}
	if _, ok := spotStatus[result]; !ok {
		return SpotCheck{}, apperr.New(apperr.Invalid, apperr.BadSpotResult, "the result must be pass, fail or correct, not %q", result)
	}
	findings = strings.TrimSpace(findings)
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT application_id, department, COALESCE(inspector, 0), status, mode, item_code FROM spot_checks WHERE id = $1`
		if s.db.Backend == "postgres" {
			q += ` FOR UPDATE`
		}
		var appID, inspector int64
		var dept, status, mode, code string
		err := tx.QueryRowContext(ctx, q, id).Scan(&appID, &dept, &inspector, &status, &mode, &code)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && dept != p.Department) {
			return apperr.New(apperr.NotFound, apperr.SpotCheckNotFound, "there is no spot check %d in your department", id)
		}
		if err != nil {
			return err
		}
		if inspector != p.AccountID {
			return apperr.New(apperr.Forbidden, apperr.NotYourSpotCheck, "spot check %d is assigned to another inspector", id)
		}
		if status != spotOpen {
			return apperr.New(apperr.Conflict, apperr.SpotCheckDone, "spot check %d is already recorded", id)
		}
		if result != SpotPass && findings == "" {
			return apperr.New(apperr.Invalid, apperr.FindingsRequired, "a failed spot check must say what was found")
		}
		if len([]rune(findings)) > 2000 {
			return apperr.New(apperr.Invalid, apperr.FindingsRequired, "say what was found in at most 2000 characters")
		}
		now := s.now()
		sealed := ""
		if findings != "" {
			if sealed, err = s.sealColumn("spot_checks.note", findings); err != nil {
				return err
			}
		}
		status = spotStatus[result]
		if _, err := tx.ExecContext(ctx, `UPDATE spot_checks SET status = $1, checked_by = $2, checked_at = $3, note = $4 WHERE id = $5`,
			status, p.AccountID, now, sealed, id); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", p.AccountID, p.Name), Action: "spot_check." + string(result),
			ObjectKind: "application", ObjectID: strconv.FormatInt(appID, 10), Detail: map[string]any{"spot_check": id}}); err != nil {
			return err
		}
		a, err := s.lockForAction(ctx, tx, appID, 0)
		if err != nil {
			return err
		}
		switch result {
		case SpotPass:
			return s.record(ctx, tx, a.ID, staffActor(p), "spot_check_passed", a.Status, a.Status, "双随机抽查合格", map[string]any{"spot_check": id})
		case SpotCorrect:
			if err := s.record(ctx, tx, a.ID, staffActor(p), "spot_check_corrected", a.Status, a.Status, "双随机抽查发现问题，责令整改："+findings, map[string]any{"spot_check": id}); err != nil {
				return err
			}
			if err := s.tell(ctx, tx, &a, "spot_check_corrected"); err != nil {
				return err
			}
			return s.suspendIfFailing(ctx, tx, code, dept, mode, now)
		}
		finding := "双随机抽查不合格：" + findings
		if a.Status != string(workflow.Revoked) { // a head may have revoked it meanwhile
			if err := s.revoke(ctx, tx, p, &a, finding); err != nil {
				return err
			}
		}
		// The credit record says what it is in standard words: the findings
		// may name people, and stay sealed on the check and the timeline.
		if _, err := s.writeCredit(ctx, tx, &a, "spot_check_failed", strconv.FormatInt(id, 10), "双随机抽查不合格"); err != nil {
			return err
		}
		return s.suspendIfFailing(ctx, tx, code, dept, mode, now)
	})
	if err != nil {
		return SpotCheck{}, err
	}
	return s.one(ctx, id)
}

// one reads spot check id, after a change to it.
func (s *SpotChecks) one(ctx context.Context, id int64) (SpotCheck, error) {
	list, err := store.All(ctx, s.db, s.scanSpot(s.now()), `SELECT `+spotColumns+spotFrom+` WHERE sc.id = $1`, id)
	if err != nil || len(list) == 0 {
		return SpotCheck{}, cmp.Or(err, fmt.Errorf("spot check %d vanished after a change", id))
	}
	return list[0], nil
}

// suspendIfFailing suspends machine approval of item code, of department
// dept, when its checks over the window fail (or need correcting) more
// often than the threshold, and tells the department's heads; inside the
// failure's tx. Only a machine approval's failure (mode auto) does: a
// commitment's has no machine approval to switch off.
func (s *SpotChecks) suspendIfFailing(ctx context.Context, tx *sql.Tx, code, dept, mode string, now time.Time) error {
	if mode != "auto" {
		return nil
	}
	var checked, failed int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN ('violation', 'corrected') THEN 1 ELSE 0 END), 0) FROM spot_checks
		WHERE item_code = $1 AND status <> 'open' AND checked_at >= $2`, code, now.Add(-s.Window)).Scan(&checked, &failed); err != nil {
		return err
	}
	if checked < s.MinChecked || float64(failed) <= s.Threshold*float64(checked) {
		return nil
	}
	var already bool
	err := tx.QueryRowContext(ctx, `SELECT machine_suspended FROM item_controls WHERE item_code = $1`, code).Scan(&already)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if already {
		return nil
	}
	rate := fmt.Sprintf("%d/%d", failed, checked)
	reason := fmt.Sprintf("近%d天双随机抽查不合格 %s 件，超过 %.0f%%，自动暂停", int(s.Window.Hours()/24), rate, s.Threshold*100)
	if err := setItemSwitch(ctx, tx, code, true, reason, 0, now); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, audit.Event{Actor: audit.Automatic(audit.System, "双随机抽查"), Action: "config.machine_approval",
		ObjectKind: "catalog_item", ObjectID: code, Detail: map[string]any{"suspended": true, "failed": failed, "checked": checked}}); err != nil {
		return err
	}
	var name string
	if err := tx.QueryRowContext(ctx, `SELECT v.name_zh FROM catalog_items i JOIN catalog_versions v ON v.item_code = i.code AND v.version = i.current_version WHERE i.code = $1`, code).Scan(&name); err != nil {
		return err
	}
	heads, err := store.All(ctx, tx, func(row store.Scanner) (int64, error) {
		var id int64
		return id, row.Scan(&id)
	}, `SELECT a.id FROM accounts a JOIN account_roles r ON r.account_id = a.id WHERE a.kind = 'staff' AND a.department_code = $1 AND a.disabled_at IS NULL AND r.role = 'head' ORDER BY a.id`, dept)
	if err != nil {
		return err
	}
	for _, h := range heads {
		if _, err := s.notify.Send(ctx, tx, notify.Message{AccountID: h, Kind: notify.SpotCheck, Link: "/workbench/spot-checks?department=" + dept,
			TitleZh: "「" + name + "」的自动审批已暂停", TitleEn: "Machine approval of an item was suspended",
			BodyZh: reason + "，新申请转人工审核。请核查原因后再申请恢复。", BodyEn: "Spot checks failed " + rate + " over the window; new applications go to people until it is resumed."}); err != nil {
			return err
		}
	}
	return nil
}

// SetDepartmentMachineSuspended switches machine approval of every item of
// dept off or on at once (a supervisor's MachineSwitch); each decision
// reads the switch.
func (s *SpotChecks) SetDepartmentMachineSuspended(ctx context.Context, p authz.Principal, dept string, suspended bool, reason string) error {
	if err := authz.Require(p, authz.MachineSwitch); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return apperr.New(apperr.Invalid, apperr.SwitchReasonRequired, "say why machine approval is switched")
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM departments WHERE code = $1`, dept).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, apperr.DepartmentNotFound, "there is no department %q", dept)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO department_controls (department_code, machine_suspended, reason, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (department_code) DO UPDATE SET machine_suspended = excluded.machine_suspended, reason = excluded.reason, changed_by = excluded.changed_by, changed_at = excluded.changed_at`,
			dept, suspended, strings.TrimSpace(reason), p.AccountID, s.now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", p.AccountID, p.Name), Action: "config.department_machine_approval",
			ObjectKind: "department", ObjectID: dept, Detail: map[string]any{"suspended": suspended}})
	})
}

// Department is a department's code and names, for the lists' filters.
type Department struct {
	Code      string `json:"code"`
	NameZh    string `json:"name"`
	NameEn    string `json:"name_en"`
	Suspended bool   `json:"machine_suspended"` // machine approval switched off for the whole department
}

// Departments lists the departments with their switch.
func (s *SpotChecks) Departments(ctx context.Context) ([]Department, error) {
	return orEmpty(store.All(ctx, s.db, func(row store.Scanner) (Department, error) {
		var d Department
		return d, row.Scan(&d.Code, &d.NameZh, &d.NameEn, &d.Suspended)
	}, `SELECT d.code, d.name_zh, d.name_en, COALESCE(c.machine_suspended, FALSE) FROM departments d
		LEFT JOIN department_controls c ON c.department_code = d.code ORDER BY d.code`))
}

// Public lists the checked spot checks of a month (period YYYY-MM, China
// time; "" for the current one), of one department or all: 一公开.
func (s *SpotChecks) Public(ctx context.Context, dept, period string) ([]PublicResult, error) {
	if period == "" {
		period = s.now().In(workday.CST).Format("2006-01")
	}
	start, err := time.ParseInLocation("2006-01", period, workday.CST)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, apperr.BadMonth, "the period is a month written YYYY-MM, not %q", period)
	}
	q := `SELECT sc.item_code, v.name_zh, sc.department, COALESCE(dp.name_zh, sc.department), COALESCE(dp.name_en, sc.department), COALESCE(a.number, ''), sc.checked_at, sc.status
		FROM spot_checks sc JOIN applications a ON a.id = sc.application_id JOIN catalog_versions v ON v.id = a.version_id LEFT JOIN departments dp ON dp.code = sc.department
		WHERE sc.status <> 'open' AND sc.checked_at >= $1 AND sc.checked_at < $2`
	args := []any{start.UTC(), start.AddDate(0, 1, 0).UTC()}
	if dept != "" {
		q += ` AND sc.department = $3`
		args = append(args, dept)
	}
	q += ` ORDER BY sc.checked_at DESC, sc.id DESC LIMIT 1000`
	return orEmpty(store.All(ctx, s.db, func(row store.Scanner) (PublicResult, error) {
		var r PublicResult
		var status string
		if err := row.Scan(&r.ItemCode, &r.ItemName, &r.Department, &r.DepartmentZh, &r.DepartmentEn, &r.Number, &r.CheckedAt, &status); err != nil {
			return r, err
		}
		r.Number = maskNumber(r.Number)
		switch status {
		case spotViolation:
			r.Result, r.Summary, r.SummaryEn = "fail", "不符合条件，已撤销审批和证照并记入信用记录", "It did not meet the conditions: the approval and its licence were revoked and a credit record written"
		case spotCorrected:
			r.Result, r.Summary, r.SummaryEn = "correct", "发现问题，已责令整改", "Problems were found and the applicant was told to put them right"
		default:
			r.Result, r.Summary, r.SummaryEn = "pass", "未发现问题", "Nothing wrong was found"
		}
		return r, nil
	}, q, args...))
}

// Findings reports, per department, the spot checks past their deadline or
// with no one to check them, the failures of the last 30 days, and the
// items whose machine approval is off (alone or with their department):
// the supervision board's Watcher.
func (s *SpotChecks) Findings(ctx context.Context, now time.Time) ([]supervision.Finding, error) {
	type row struct {
		dept string
		at   time.Time
	}
	scan := func(r store.Scanner) (row, error) {
		var x row
		return x, r.Scan(&x.dept, &x.at)
	}
	out := []supervision.Finding{}
	// add counts rows per department, in the order the query gives them.
	add := func(kind supervision.Kind, rows []row, err error) error {
		if err != nil {
			return err
		}
		at := map[string]int{}
		for _, r := range rows {
			i, ok := at[r.dept]
			if !ok {
				i, at[r.dept] = len(out), len(out)
				out = append(out, supervision.Finding{Department: r.dept, Kind: kind, Oldest: r.at, Link: "/workbench/spot-checks?department=" + r.dept})
			}
			out[i].Count++
			if r.at.Before(out[i].Oldest) {
				out[i].Oldest = r.at
			}
		}
		return nil
	}
	late, err := store.All(ctx, s.db, scan, `SELECT department, created_at FROM spot_checks
		WHERE status = 'open' AND (inspector IS NULL OR due_at < $1) ORDER BY department, id`, now)
	if err := add(supervision.SpotCheckLate, late, err); err != nil {
		return nil, err
	}
	failed, err := store.All(ctx, s.db, scan, `SELECT department, checked_at FROM spot_checks
		WHERE status IN ('violation', 'corrected') AND checked_at >= $1 ORDER BY department, id`, now.Add(-spotFailedWindow))
	if err := add(supervision.SpotCheckFailed, failed, err); err != nil {
		return nil, err
	}
	// Each switch's own time: SQLite loses a timestamp's type in COALESCE.
	off, err := store.All(ctx, s.db, func(r store.Scanner) (row, error) {
		var x row
		var item, dept sql.NullTime
		err := r.Scan(&x.dept, &item, &dept)
		x.at = item.Time
		if !item.Valid {
			x.at = dept.Time
		}
		return x, err
	}, `SELECT i.department_code, c.changed_at, d.changed_at FROM catalog_items i
		JOIN catalog_versions v ON v.item_code = i.code AND v.version = i.current_version
		LEFT JOIN item_controls c ON c.item_code = i.code AND c.machine_suspended
		LEFT JOIN department_controls d ON d.department_code = i.department_code AND d.machine_suspended
		WHERE i.retired_at IS NULL AND v.approval_mode = 'auto' AND (c.item_code IS NOT NULL OR d.department_code IS NOT NULL)
		ORDER BY i.department_code, i.code`)
	if err := add(supervision.MachineOff, off, err); err != nil {
		return nil, err
	}
	return out, nil
}

var _ supervision.Watcher = (*SpotChecks)(nil)

// maskNumber masks the middle of an application number for the public:
// the region and the last digits stay, so a person can recognise theirs.
func maskNumber(n string) string {
	r := []rune(n)
	if len(r) <= 6 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-3:])
}
