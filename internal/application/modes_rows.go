package application

import (
	"context"
	"database/sql"
	"time"
)

// The rows of the approval modes that their actions write: a filing's
// notice and the objections to it, an application's co-parties, deferred
// materials. One function per write, inside the caller's transaction, as
// in rows.go.

// newNotice is a filing's public notice, open from StartsAt to EndsAt.
type newNotice struct {
	ApplicationID    int64
	Title            string
	Department       string
	StartsAt, EndsAt time.Time
}

// insertNotice opens a filing's notice.
func insertNotice(ctx context.Context, tx *sql.Tx, n newNotice) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO notices (application_id, status, title, department, starts_at, ends_at) VALUES ($1, 'open', $2, $3, $4, $5)`,
		n.ApplicationID, n.Title, n.Department, n.StartsAt, n.EndsAt)
	return err
}

// haltNotice halts a notice while an objection to it is reviewed.
func haltNotice(ctx context.Context, tx *sql.Tx, noticeID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'halted' WHERE id = $1`, noticeID)
	return err
}

// resumeNotice opens an application's halted notice again.
func resumeNotice(ctx context.Context, tx *sql.Tx, applicationID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'open' WHERE application_id = $1 AND status = 'halted'`, applicationID)
	return err
}

// closeNotice ends a notice that ran its course.
func closeNotice(ctx context.Context, tx *sql.Tx, noticeID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'ended' WHERE id = $1`, noticeID)
	return err
}

// rejectNotice marks an application's notice rejected by an upheld objection.
func rejectNotice(ctx context.Context, tx *sql.Tx, applicationID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'rejected' WHERE application_id = $1`, applicationID)
	return err
}

// insertObjection records an objection to a notice and returns its id.
func insertObjection(ctx context.Context, tx *sql.Tx, noticeID, account int64, reasons string, at time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO objections (notice_id, account_id, reasons, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		noticeID, account, reasons, at).Scan(&id)
	return id, err
}

// setObjectionTask ties an objection to the task that reviews it.
func setObjectionTask(ctx context.Context, tx *sql.Tx, objectionID, taskID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE objections SET task_id = $1 WHERE id = $2`, taskID, objectionID)
	return err
}

// setObjectionOutcome records the outcome of the objection a task reviewed.
func setObjectionOutcome(ctx context.Context, tx *sql.Tx, taskID int64, outcome string) error {
	_, err := tx.ExecContext(ctx, `UPDATE objections SET outcome = $1 WHERE task_id = $2`, outcome, taskID)
	return err
}

// clearPendingObjections clears the objections still pending on an
// application's notice, once one of them was upheld.
func clearPendingObjections(ctx context.Context, tx *sql.Tx, applicationID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE objections SET outcome = 'cleared' WHERE outcome = 'pending' AND notice_id = (SELECT id FROM notices WHERE application_id = $1)`, applicationID)
	return err
}

// party is a co-party as the applicant names them.
type party struct {
	ApplicationID int64
	Role          string
	PersonID      int64
	Name          string
}

// clearParties removes an application's co-parties before they are named again.
func clearParties(ctx context.Context, tx *sql.Tx, applicationID int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM application_parties WHERE application_id = $1`, applicationID)
	return err
}

// insertApplicantParty records the applicant as the party who confirmed at once.
func insertApplicantParty(ctx context.Context, tx *sql.Tx, p party, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO application_parties (application_id, role, person_id, name, status, acted_at) VALUES ($1, $2, $3, $4, 'confirmed', $5)`,
		p.ApplicationID, p.Role, p.PersonID, p.Name, at)
	return err
}

// insertNamedParty records a co-party, to be invited at submission.
func insertNamedParty(ctx context.Context, tx *sql.Tx, p party) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO application_parties (application_id, role, person_id, name, status) VALUES ($1, $2, $3, $4, 'named')`,
		p.ApplicationID, p.Role, p.PersonID, p.Name)
	return err
}

// inviteNamedParties invites an application's named co-parties, to answer by due.
func inviteNamedParties(ctx context.Context, tx *sql.Tx, applicationID int64, at, due time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE application_parties SET status = 'invited', invited_at = $1, due_at = $2 WHERE application_id = $3 AND status = 'named'`, at, due, applicationID)
	return err
}

// refuseParty records a co-party's refusal, with the reason.
func refuseParty(ctx context.Context, tx *sql.Tx, partyID int64, reason string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE application_parties SET status = 'refused', reason = $1, acted_at = $2 WHERE id = $3`, reason, at, partyID)
	return err
}

// confirmParty records a co-party's confirmation.
func confirmParty(ctx context.Context, tx *sql.Tx, partyID int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE application_parties SET status = 'confirmed', acted_at = $1 WHERE id = $2`, at, partyID)
	return err
}

// lapseParties marks the co-parties who did not answer in time.
func lapseParties(ctx context.Context, tx *sql.Tx, applicationID int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE application_parties SET status = 'lapsed', acted_at = $1 WHERE application_id = $2 AND status = 'invited'`, at, applicationID)
	return err
}

// deferral is a material the applicant will supply by DueAt, under the
// commitment they signed.
type deferral struct {
	ApplicationID int64
	MaterialID    string
	CommitmentID  int64
	DueAt         time.Time
	MarkedAt      time.Time
}

// upsertDeferral records a deferral, or moves an open one to a new date.
func upsertDeferral(ctx context.Context, tx *sql.Tx, d deferral) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO deferrals (application_id, material_id, commitment_id, due_at, marked_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (application_id, material_id) DO UPDATE SET commitment_id = excluded.commitment_id, due_at = excluded.due_at, marked_at = excluded.marked_at
		WHERE deferrals.supplied_at IS NULL AND deferrals.overdue_at IS NULL`, d.ApplicationID, d.MaterialID, d.CommitmentID, d.DueAt, d.MarkedAt)
	return err
}

// markDeferralOverdue marks an open deferral overdue at at; false when it
// was supplied or marked meanwhile.
func markDeferralOverdue(ctx context.Context, tx *sql.Tx, deferralID int64, at time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE deferrals SET overdue_at = $1 WHERE id = $2 AND overdue_at IS NULL AND supplied_at IS NULL`, at, deferralID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
