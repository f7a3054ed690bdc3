package application

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/credit"
	"yiwang/internal/insight"
	"yiwang/internal/licence"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/workflow"
)

// canWork reports whether a staff member may work a task: clerks work the
// acceptance of any department at the comprehensive window (一窗受理);
// reviewers and heads work the steps that reach them (Reaches), a head
// also a reviewer's.
func canWork(p authz.Principal, t Task) bool {
	switch t.Role {
	case "clerk":
		return p.Has(authz.Clerk)
	case "reviewer":
		return t.Reaches(p) && (p.Has(authz.Reviewer) || p.Has(authz.Head))
	case "head":
		return t.Reaches(p) && p.Has(authz.Head)
	}
	return false
}

// Reaches reports whether the step's route reaches staff member p: the
// staff posted to its hall for a step of a hall (a machine item's manual
// route), else the staff of its department. Roles are canWork's to weigh.
func (t Task) Reaches(p authz.Principal) bool {
	if t.HallID != 0 {
		return p.HallID == t.HallID
	}
	return p.Department == t.Department
}

// Inbox lists the tasks a staff member can work, open or claimed by them,
// the nearest deadline first.
func (s *Tasks) Inbox(ctx context.Context, p authz.Principal) ([]Task, error) {
	if err := authz.Require(p, authz.ReviewTasks); err != nil {
		return nil, err
	}
	q, args := inboxQuery(p)
	list, err := s.queryTasks(ctx, s.db, q, args...)
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

// InboxOf lists the tasks of one application that p's inbox holds — the
// steps p can work, open or claimed by p — read by the application's key,
// for its page: however full the inbox, and wherever in it they stand.
func (s *Tasks) InboxOf(ctx context.Context, p authz.Principal, applicationID int64) ([]Task, error) {
	if err := authz.Require(p, authz.ReviewTasks); err != nil {
		return nil, err
	}
	list, err := s.queryTasks(ctx, s.db, `t.application_id = $1 AND a.status NOT IN ('correction_requested', 'special_procedure')
		ORDER BY t.deadline, t.id`, applicationID)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, t := range list {
		if (t.Status == "open" || t.Status == "claimed" && t.Assignee == p.AccountID) && canWork(p, t) {
			out = append(out, t)
		}
	}
	return out, s.lightTasks(ctx, out, func(Task) *time.Time { return nil })
}

// inboxLimit is how many tasks the inbox shows.
const inboxLimit = 500

// inboxQuery is the condition of p's inbox for queryTasks: the ids of the
// first tasks by deadline of each kind p works — the open steps of each
// role p may take in p's department, and in p's hall, the open acceptance
// steps (any department, for a clerk) and the steps p has claimed — each
// read in deadline order along its own index (migrations 0019, 0022), then
// the nearest of them all. Open and claimed steps always have a deadline:
// a step gets it when it opens. Steps whose application's clock is
// stopped are left out, as the inbox leaves out stopped clocks.
func inboxQuery(p authz.Principal) (string, []any) {
	args := []any{p.AccountID} // then the department and the hall, where a part names them
	const part = `SELECT id FROM (SELECT t.id FROM tasks t JOIN applications a ON a.id = t.application_id WHERE %s
		AND a.status NOT IN ('correction_requested', 'special_procedure') ORDER BY t.deadline, t.id LIMIT %d) %s`
	parts := []string{fmt.Sprintf(part, `t.assignee = $1 AND t.status = 'claimed'`, inboxLimit, "claimed")}
	if p.Has(authz.Clerk) {
		parts = append(parts, fmt.Sprintf(part, `t.role = 'clerk' AND t.status = 'open'`, inboxLimit, "clerk"))
	}
	dept, hall := 0, 0 // their $ numbers
	for _, role := range []string{"reviewer", "head"} {
		if canWork(p, Task{Role: role, Department: p.Department}) {
			if dept == 0 {
				args = append(args, p.Department)
				dept = len(args)
			}
			parts = append(parts, fmt.Sprintf(part, fmt.Sprintf(`t.department = $%d AND t.hall_id IS NULL AND t.role = '%s' AND t.status = 'open'`, dept, role), inboxLimit, role))
		}
		if p.HallID != 0 && canWork(p, Task{Role: role, HallID: p.HallID}) {
			if hall == 0 {
				args = append(args, p.HallID)
				hall = len(args)
			}
			parts = append(parts, fmt.Sprintf(part, fmt.Sprintf(`t.hall_id = $%d AND t.role = '%s' AND t.status = 'open'`, hall, role), inboxLimit, "hall_"+role))
		}
	}
	return fmt.Sprintf(`t.id IN (%s) ORDER BY t.deadline, t.id LIMIT %d`, strings.Join(parts, " UNION ALL "), inboxLimit), args
}

// clerkSees reports whether a window clerk may see application a, whose
// steps are tasks: one taken in at a window of the clerk's hall, or one
// that went to the comprehensive window's acceptance (一窗受理, a clerk
// step). A citizen's own draft has neither, so it stays theirs.
func (s *core) clerkSees(ctx context.Context, p authz.Principal, a Application, tasks []Task) (bool, error) {
	if slices.ContainsFunc(tasks, func(t Task) bool { return t.Role == "clerk" }) {
		return true, nil
	}
	if a.HallCode == "" || p.HallID == 0 {
		return false, nil
	}
	hall, _, err := s.hallOf(ctx, p)
	if apperr.Is(err, apperr.Forbidden) { // the hall is gone
		return false, nil
	}
	return hall == a.HallCode, err
}

// loadTask reads a task inside tx and checks that p may work it.
func (s *core) loadTask(ctx context.Context, tx *sql.Tx, p authz.Principal, taskID int64) (Task, error) {
	list, err := s.queryTasks(ctx, tx, `t.id = $1`, taskID)
	if err != nil {
		return Task{}, err
	}
	if len(list) == 0 || !canWork(p, list[0]) {
		return Task{}, apperr.New(apperr.NotFound, apperr.TaskNotFound, "there is no task %d in your inbox", taskID)
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
	if err = finishTaskRow(ctx, tx, taskOutcome{TaskID: t.ID, Status: status, By: p.AccountID, At: now, Reasons: string(rs), Note: note}); err != nil {
		return "", err
	}
	if t.OpenedAt != nil { // where applications wait: the dashboard's bottlenecks
		err = insight.CountStep(ctx, tx, insight.Step{Department: t.Department, StepID: t.StepID, NameZh: t.Name, NameEn: t.NameEn, Opened: *t.OpenedAt, Done: now})
	}
	return string(rs), err
}

// mustBeWorkable refuses work on a task that is not open, or claimed by
// someone else, or whose application waits for the applicant.
func mustBeWorkable(p authz.Principal, t Task, a *Application) error {
	switch {
	case !workflow.TaskStatus(t.Status).Active():
		return apperr.New(apperr.Conflict, apperr.TaskDone, "task %d is already %s", t.ID, t.Status)
	case t.Status == string(workflow.TaskClaimed) && t.Assignee != p.AccountID:
		return apperr.New(apperr.Conflict, apperr.TaskClaimed, "task %d is claimed by another reviewer; ask them or the department head to release it", t.ID)
	case workflow.ClockStopped(workflow.Status(a.Status)):
		return apperr.New(apperr.Conflict, apperr.ClockStopped, "application %d is %s: it waits for that to end", a.ID, a.Status)
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
			return apperr.New(apperr.Conflict, apperr.NotClaimed, "task %d is not claimed by you", t.ID)
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
		if !p.Has(authz.Head) || !t.Reaches(p) {
			return apperr.New(apperr.Forbidden, apperr.HeadOnly, "only the head of %s may reassign its tasks", cmp.Or(t.HallZh, t.Department))
		}
		if !workflow.TaskStatus(t.Status).Active() {
			return apperr.New(apperr.Conflict, apperr.TaskDone, "task %d is already %s", t.ID, t.Status)
		}
		staff, err := s.ids.StaffPrincipal(ctx, to)
		if err != nil || !canWork(staff, t) {
			return apperr.New(apperr.Invalid, apperr.CannotWorkTask, "account %d cannot work a %s step of %s", to, t.Role, t.Department)
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
		return out, apperr.New(apperr.Invalid, apperr.RejectionReasonsRequired, "a rejection must give the applicant its reasons")
	}
	err := s.withTask(ctx, p, taskID, expect, func(tx *sql.Tx, t Task, a *Application) error {
		if err := mustBeWorkable(p, t, a); err != nil {
			return err
		}
		if t.Stage == modeStage {
			return notAStep(t)
		}
		if t.Stage != a.stage {
			return apperr.New(apperr.Conflict, apperr.NotThisStage, "task %d belongs to stage %d; the application is at stage %d", t.ID, t.Stage, a.stage)
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
	var problems []apperr.Detail
	for i, it := range items {
		it.Reason = strings.TrimSpace(it.Reason)
		item := fmt.Sprintf("item %d", i+1)
		switch {
		case (it.Field == "") == (it.Material == ""):
			problems = append(problems, detail(item,
				fmt.Sprintf("第%d项：请指明一个表单项或一份材料。", i+1), fmt.Sprintf("Item %d: name either a field or a material.", i+1)))
		case it.Reason == "":
			problems = append(problems, detail(item,
				fmt.Sprintf("第%d项：请写明有什么问题或缺少什么。", i+1), fmt.Sprintf("Item %d: say what is wrong or missing.", i+1)))
		default:
			kept = append(kept, it)
		}
	}
	if len(kept) == 0 && len(problems) == 0 {
		problems = append(problems, detail("items", "请至少列出一项需要补正的内容。", "List at least one thing to correct."))
	}
	if len(problems) > 0 {
		return Application{}, apperr.New(apperr.Invalid, apperr.BadCorrection, "the correction request is incomplete: %s", apperr.JoinEnglish(problems)).WithDetails(problems)
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
	var problems []apperr.Detail
	for _, it := range items {
		switch {
		case it.Field != "" && !slices.ContainsFunc(fields, func(f catalog.Field) bool { return f.ID == it.Field }):
			problems = append(problems, noSuchField(it.Field))
		case it.Field != "" && slices.ContainsFunc(fields, func(f catalog.Field) bool { return f.ID == it.Field && f.Computed != nil }):
			l := fieldLabel(fields, it.Field)
			problems = append(problems, detail(it.Field,
				fmt.Sprintf("“%s”由系统计算，申请人无法补正；如有误，请在审核中核定。", l.Zh),
				fmt.Sprintf("“%s” is computed by the system, so the applicant cannot correct it; if it is wrong, settle it in the review.", l.In("en"))))
		case it.Material != "" && !slices.ContainsFunc(a.Materials, func(m Material) bool { return m.ID == it.Material }):
			problems = append(problems, detail(it.Material,
				fmt.Sprintf("本申请没有“%s”这份材料。", it.Material), fmt.Sprintf("The application has no material %q.", it.Material)))
		}
	}
	if len(problems) > 0 {
		return apperr.New(apperr.Invalid, apperr.BadCorrection, "the correction names things the application does not have: %s", apperr.JoinEnglish(problems)).WithDetails(problems)
	}
	return nil
}

// SpecialKinds are the special procedures that stop the clock (特别程序).
var SpecialKinds = map[string]string{"hearing": "听证", "testing": "检验检测", "expert_review": "专家评审", "site_inspection": "现场勘验"}

// StartSpecial stops the clock for a hearing, testing or expert review.
func (s *Tasks) StartSpecial(ctx context.Context, p authz.Principal, taskID, expect int64, kind, reason string) (Application, error) {
	label, ok := SpecialKinds[kind]
	if !ok || strings.TrimSpace(reason) == "" {
		return Application{}, apperr.New(apperr.Invalid, apperr.BadSpecialProcedure, "name the procedure (hearing, testing, expert_review or site_inspection) and say why")
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
	var appID int64
	err := s.withTask(ctx, p, taskID, expect, func(tx *sql.Tx, t Task, a *Application) error {
		appID = a.ID
		u, err := s.restartClock(ctx, tx, *a, s.now())
		if err != nil {
			return err
		}
		return s.move(ctx, tx, a, workflow.EndSpecial, staffActor(p), note, map[string]any{"task": t.ID}, u)
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, appID)
}

// Revoke withdraws an approval after the fact (撤销), with a reason.
func (s *Tasks) Revoke(ctx context.Context, p authz.Principal, id, expect int64, reason string) (Application, error) {
	if err := authz.Require(p, authz.Decide); err != nil {
		return Application{}, err
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Whose it is first: another department learns nothing of its
		// state (a stale revision) nor of the request's faults.
		if err := s.mayRevoke(ctx, tx, p, id); err != nil {
			return err
		}
		if err := reasonGiven(reason); err != nil {
			return err
		}
		a, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		return s.revoke(ctx, tx, p, &a, reason)
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, id)
}

// RevokeLicence revokes an e-licence through the application it was
// issued for, so that the application's status, timeline and notification
// follow in the same transaction and the same department check applies:
// only a head of the deciding department. Supervisors watch and report;
// they do not revoke another department's decisions. A licence
// without an application (imported from a registry) only a head of its
// issuing department may revoke. The licence API calls it (licence.Revoker).
func (s *Tasks) RevokeLicence(ctx context.Context, p authz.Principal, number, reason string) error {
	if err := authz.Require(p, authz.LicenceRevoke); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		id, issuer, err := licence.Owner(ctx, tx, number)
		if err != nil {
			return err
		}
		if id == 0 {
			if !p.Has(authz.Head) || p.Department != issuer {
				return apperr.New(apperr.NotFound, apperr.LicenceNotFound, "licence %s is not one your department issued", number)
			}
			if err := reasonGiven(reason); err != nil {
				return err
			}
			_, err := s.licences.RevokeTx(ctx, tx, number, reason, fmt.Sprintf("staff:%d", p.AccountID))
			return err
		}
		if err := s.mayRevoke(ctx, tx, p, id); err != nil {
			return err
		}
		if err := reasonGiven(reason); err != nil {
			return err
		}
		a, err := s.lockForAction(ctx, tx, id, 0)
		if err != nil {
			return err
		}
		return s.revoke(ctx, tx, p, &a, reason)
	})
}

// reasonGiven insists a revocation says why.
func reasonGiven(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return apperr.New(apperr.Invalid, apperr.RevocationReasonRequired, "a revocation must say why")
	}
	return nil
}

// revoke revokes a (locked in tx) and its licence; the caller has decided
// with mayRevoke that p may.
func (s *core) revoke(ctx context.Context, tx *sql.Tx, p authz.Principal, a *Application, reason string) error {
	if err := s.move(ctx, tx, a, workflow.Revoke, staffActor(p), reason, nil, update{}); err != nil {
		return err
	}
	if err := s.revokeLicence(ctx, tx, a, reason, staffActor(p)); err != nil {
		return err
	}
	return s.tell(ctx, tx, a, "revoked")
}

// mayRevoke decides, inside tx and before anything is written or any other
// check is made, whether p may revoke application id: staff of the
// department whose item it is, the deciding department (the callers
// require the permission: a head's authz.Decide, or authz.LicenceRevoke).
// Another department's application answers 404, as reading it would.
func (s *core) mayRevoke(ctx context.Context, tx *sql.Tx, p authz.Principal, id int64) error {
	dept, err := departmentOf(ctx, tx, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && p.Department != dept) { // no exception for supervisors: the deciding department answers for its decisions
		return apperr.New(apperr.NotFound, apperr.ApplicationNotFound, "there is no application %d in your department", id)
	}
	return err
}

// departmentOf is the department that decides application id, the one
// whose item it is, read through q (the caller's transaction, if any).
func departmentOf(ctx context.Context, q store.Querier, id int64) (string, error) {
	var dept string
	err := q.QueryRowContext(ctx, `SELECT i.department_code FROM applications a JOIN catalog_items i ON i.code = a.item_code WHERE a.id = $1`, id).Scan(&dept)
	return dept, err
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
	// Masked says that personal values (ID numbers, phones, addresses,
	// names) are shown masked; Purpose is the stated purpose of a full view.
	Masked  bool   `json:"masked"`
	Purpose string `json:"purpose,omitempty"`
	// Department is the department that decides the application (its
	// item's): the one whose head may revoke it.
	Department string `json:"department"`
	// Credit is the applicant's credit standing (the enterprise's, for an
	// application made for one), as the rules read it.
	Credit credit.Standing `json:"credit"`
}

func (s *core) staffView(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	v, err := s.staffApplication(ctx, p, id)
	return v.Application, err
}

// staffApplication returns an application for staff who have (or had) one
// of its steps in their department, clerks, and supervisors, with its
// personal data masked (masking.go).
func (s *core) staffApplication(ctx context.Context, p authz.Principal, id int64) (StaffView, error) {
	v, item, err := s.staffApplicationOf(ctx, p, id)
	if err != nil {
		return StaffView{}, err
	}
	if _, err := maskPersonal(&v, item); err != nil {
		return StaffView{}, err
	}
	v.Masked = true
	return v, nil
}

// staffApplicationOf is staffApplication in full, with the item version
// the application was made under; the callers mask it or log its view.
func (s *core) staffApplicationOf(ctx context.Context, p authz.Principal, id int64) (StaffView, catalog.Item, error) {
	v, err := s.staffApplicationUnmasked(ctx, p, id)
	if err != nil {
		return StaffView{}, catalog.Item{}, err
	}
	ver, err := s.catalog.VersionByID(ctx, v.VersionID)
	if err != nil {
		return StaffView{}, catalog.Item{}, err
	}
	v.Department = ver.Item.Department
	return v, ver.Item, nil
}

func (s *core) staffApplicationUnmasked(ctx context.Context, p authz.Principal, id int64) (StaffView, error) {
	if err := authz.Require(p, authz.ReviewTasks); err != nil && !p.Can(authz.Supervise) {
		return StaffView{}, err
	}
	a, err := s.loadApplication(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) {
		return StaffView{}, apperr.New(apperr.NotFound, apperr.ApplicationNotFound, "there is no application %d", id)
	}
	if err != nil {
		return StaffView{}, err
	}
	tasks, err := s.tasksOf(ctx, id)
	if err != nil {
		return StaffView{}, err
	}
	// A citizen's own draft is theirs alone: supervisors see what was
	// submitted, or taken in at a window (a clerk's draft is a case).
	supervises := p.Can(authz.Supervise) && (a.Status != "draft" || a.HallCode != "")
	sees := supervises || slices.ContainsFunc(tasks, func(t Task) bool { return t.Department == p.Department || t.HallID != 0 && t.Reaches(p) })
	if !sees && p.Has(authz.Clerk) {
		if sees, err = s.clerkSees(ctx, p, a, tasks); err != nil {
			return StaffView{}, err
		}
	}
	if !sees && a.Status != "draft" && p.Department != "" {
		// The department whose item it is answers for its decisions, those
		// the machine took without a step too (revocation, spot checks).
		dept, err := departmentOf(ctx, s.db, id)
		if err != nil {
			return StaffView{}, err
		}
		sees = dept == p.Department
	}
	if !sees {
		return StaffView{}, apperr.New(apperr.NotFound, apperr.ApplicationNotFound, "there is no application %d in your department", id)
	}
	if err := s.complete(ctx, &a); err != nil {
		return StaffView{}, err
	}
	view := StaffView{Application: a, Tasks: tasks}
	if view.Credit, err = s.credit.StandingOf(ctx, s.db, creditSubject(&a)); err != nil {
		return view, err
	}
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
		if d.Inputs, err = maskInputs(d.Inputs); err != nil {
			return view, err
		}
		view.Trace = &d
	} else if !apperr.Is(err, apperr.NotFound) {
		return view, err
	}
	return view, nil
}
