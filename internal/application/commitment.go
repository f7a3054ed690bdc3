package application

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/credit"
	"yiwang/internal/workday"
	"yiwang/internal/workflow"
)

// commitmentText is what an applicant signs for an item approved on commitment.
func commitmentText(it catalog.Item) string {
	if it.Approval.Commitment != nil && strings.TrimSpace(it.Approval.Commitment.Zh) != "" {
		return it.Approval.Commitment.Zh
	}
	return "本人承诺：已知晓「" + it.Name.Zh + "」的全部条件和要求，所填信息和所交材料真实、准确、完整，符合条件；如有虚假承诺，愿意承担撤销许可、记入信用记录等法律责任。"
}

// SignCommitment is the applicant signing the item's commitment on a draft
// of an item approved on commitment; submission needs it. At a window the
// clerk who took the draft in records the person's signature (maySign).
func (s *Modes) SignCommitment(ctx context.Context, p authz.Principal, id, expect int64, text string) (Application, error) {
	a, it, err := s.draftOf(ctx, p, id)
	if err != nil {
		return a, err
	}
	if it.Approval.Mode != "commitment" {
		return a, apperr.New(apperr.Invalid, apperr.NoCommitment, "「%s」 is not approved on commitment: there is nothing to sign", it.Name.Zh)
	}
	want := commitmentText(it)
	if text != want {
		return a, apperr.New(apperr.Invalid, apperr.CommitmentText, "sign the commitment exactly as the item words it (GET the application's modes.commitment_text)").
			WithDetails([]apperr.Detail{detail("commitment_text", want, "Sign this text word for word: "+want)})
	}
	if err := s.maySign(ctx, p, a); err != nil {
		return a, err
	}
	if err := s.mayPledge(ctx, &a); err != nil {
		return a, err
	}
	d, err := s.ids.PersonDetails(ctx, s.db, a.personID)
	if err != nil {
		return a, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		locked, err := s.lockForAction(ctx, tx, id, expect)
		if err != nil {
			return err
		}
		if _, err := s.sign(ctx, tx, id, "approval", p, d.Name, want); err != nil {
			return err
		}
		return s.save(ctx, tx, &locked, update{})
	})
	if err != nil {
		return a, err
	}
	return s.get(ctx, p, id)
}

// approveOnCommitment approves at once, issues the licence, and puts an
// inspection in the department's inbox, due within the item's inspection days.
func (s *core) approveOnCommitment(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item) error {
	now := s.now()
	by := actor{kind: "machine", name: "告知承诺审批"}
	if err := s.move(ctx, tx, a, workflow.Approve, by, "申请人已签署告知承诺书", nil, update{DecidedAt: now, Reasons: "[]"}); err != nil {
		return err
	}
	if err := s.approved(ctx, tx, a, it, by); err != nil {
		return err
	}
	days := it.Approval.InspectionDays
	if days <= 0 {
		days = defaultInspectionDays
	}
	// Inspection days are working days. Months ahead the working-day
	// calendar may not hold the year yet: then the deadline is provisional,
	// and counted again when the year is loaded (Recount).
	due, cal, err := s.deadlineAfter(ctx, now, days)
	if err != nil {
		return err
	}
	day := due.In(workday.CST).Format(time.DateOnly)
	if _, err := insertModeTask(ctx, tx, modeTask{ApplicationID: a.ID, StepID: inspectionStep, NameZh: "告知承诺核查", NameEn: "Inspection of a commitment",
		Department: it.Department, Days: days, OpenedAt: now, Deadline: due, Note: "核查期限 " + day}); err != nil {
		return fmt.Errorf("plan the inspection of application %d: %w", a.ID, err)
	}
	if err := s.record(ctx, tx, a.ID, system, "inspection_scheduled", a.Status, a.Status, withProvisional("核查期限 "+day, cal, now, due, true), map[string]any{"due": day}); err != nil {
		return err
	}
	// Approved with no one looking: sampled like a machine approval (双随机).
	return s.sampleSpotCheck(ctx, tx, a.ID, a.Number, it, "commitment", spotDeciderNone, now)
}

// RecordInspection is an inspector's finding on a commitment approval:
// fine closes the inspection; a false commitment revokes the approval and
// its licence and writes a credit record for the applicant.
func (s *Modes) RecordInspection(ctx context.Context, p authz.Principal, taskID, expect int64, truthful bool, note string) (Application, error) {
	if err := authz.Require(p, authz.Inspect); err != nil {
		return Application{}, err
	}
	note = strings.TrimSpace(note)
	if !truthful && note == "" {
		return Application{}, apperr.New(apperr.Invalid, apperr.InspectionNoteRequired, "a false commitment must say what was found")
	}
	var appID int64
	err := s.withTask(ctx, p, taskID, expect, func(tx *sql.Tx, t Task, a *Application) error {
		if t.ModeTask() != "inspection" {
			return apperr.New(apperr.Conflict, apperr.NotAnInspection, "task %d is not an inspection", t.ID)
		}
		if err := mustBeWorkable(p, t, a); err != nil {
			return err
		}
		appID = a.ID
		status, finding := workflow.TaskApproved, "核查属实"
		if !truthful {
			status, finding = workflow.TaskRejected, "虚假承诺："+note
		}
		if _, err := finishTask(ctx, tx, p, t, status, []string{finding}, sql.NullString{}, s.now()); err != nil {
			return err
		}
		by := staffActor(p)
		if truthful {
			return s.record(ctx, tx, a.ID, by, "inspection_passed", a.Status, a.Status, note, map[string]any{"task": t.ID})
		}
		if err := s.move(ctx, tx, a, workflow.Revoke, by, finding, map[string]any{"task": t.ID}, update{}); err != nil {
			return err
		}
		if err := s.revokeLicence(ctx, tx, a, finding, by); err != nil {
			return err
		}
		// The record says what it is; the finding stays on the sealed timeline.
		if _, err := s.writeCredit(ctx, tx, a, "false_commitment", "", "告知承诺核查不实"); err != nil {
			return err
		}
		return s.tell(ctx, tx, a, "revoked")
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, appID)
}

// writeCredit writes a credit record about the applicant of a (the
// enterprise, when a was made for one), once per (kind, ref), and has the
// credit service recompute their level and lists into the credit registry
// (信用库) where rules read them, in tx. It reports whether it was new.
func (s *core) writeCredit(ctx context.Context, tx *sql.Tx, a *Application, kind, ref, note string) (bool, error) {
	enterprise := sql.NullInt64{Int64: a.EnterpriseID, Valid: a.EnterpriseID != 0}
	res, err := tx.ExecContext(ctx, `INSERT INTO credit_records (person_id, enterprise_id, application_id, kind, ref, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (application_id, kind, ref) DO NOTHING`, a.personID, enterprise, a.ID, kind, ref, note, s.now())
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	st, err := s.credit.Recompute(ctx, tx, creditSubject(a))
	if err != nil {
		return false, fmt.Errorf("credit record of application %d: %w", a.ID, err)
	}
	note = kind
	if st.Blacklisted {
		note += "；列入失信名单"
	}
	return true, s.record(ctx, tx, a.ID, system, "credit_record", a.Status, a.Status, note, map[string]any{"kind": kind, "ref": ref, "blacklisted": st.Blacklisted, "level": st.Level})
}

// creditSubject is whose credit a's records are and whose standing its
// commitments rest on: the enterprise it was made for, or the person.
func creditSubject(a *Application) credit.Subject {
	if a.EnterpriseID != 0 {
		return credit.Subject{EnterpriseID: a.EnterpriseID}
	}
	return credit.Subject{PersonID: a.personID}
}

// mayPledge refuses a commitment or a deferral to an applicant on the
// credit blacklist (credit.MayPledge decides).
func (s *core) mayPledge(ctx context.Context, a *Application) error {
	return s.credit.MayPledge(ctx, s.db, creditSubject(a))
}
