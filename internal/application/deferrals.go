package application

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/workday"
	"yiwang/internal/workflow"
)

// DeferralText is what an applicant signs to supply a material (by its
// name) later, by due (YYYY-MM-DD); the portal shows it before they sign.
func DeferralText(material string, due string) string {
	return "本人承诺：于 " + due + " 前补交「" + material + "」；逾期未补交的，愿意承担记入信用记录直至列入失信名单的后果。"
}

// endOfDay is the end of a date (YYYY-MM-DD) in China.
func endOfDay(date string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, date, workday.CST)
	if err != nil || !datePattern.MatchString(date) {
		return time.Time{}, apperr.New(apperr.Invalid, apperr.BadDate, "give the date as YYYY-MM-DD")
	}
	return d.AddDate(0, 0, 1).Add(-time.Millisecond).UTC(), nil
}

// DeferMaterial marks a deferrable material of an undecided application
// pending until due (YYYY-MM-DD), under the applicant's signed commitment to
// supply it by then; the applicant or a window clerk may. Processing goes on.
func (s *Modes) DeferMaterial(ctx context.Context, p authz.Principal, id, expect int64, materialID, due string) (Application, error) {
	a, err := s.deferrable(ctx, p, id)
	if err != nil {
		return a, err
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return a, err
	}
	i := slices.IndexFunc(v.Item.Materials, func(m catalog.Material) bool { return m.ID == materialID })
	j := slices.IndexFunc(a.Materials, func(m Material) bool { return m.ID == materialID })
	switch {
	case i < 0 || j < 0:
		return a, apperr.New(apperr.NotFound, apperr.MaterialNotFound, "application %d has no material %q", id, materialID)
	case !v.Item.Materials[i].Deferrable:
		return a, apperr.New(apperr.Invalid, apperr.NotDeferrable, "「%s」 cannot be supplied later: the item does not allow it", v.Item.Materials[i].Name.Zh)
	case a.Materials[j].Attached:
		return a, apperr.New(apperr.Conflict, apperr.Attached, "「%s」 is already supplied", a.Materials[j].Name)
	}
	dueAt, err := endOfDay(due)
	if err != nil {
		return a, err
	}
	if !dueAt.After(s.now()) {
		return a, apperr.New(apperr.Invalid, apperr.DuePassed, "the due date must be in the future")
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
		cid, err := s.sign(ctx, tx, id, "deferral:"+materialID, p, d.Name, DeferralText(a.Materials[j].Name, due))
		if err != nil {
			return err
		}
		if err := upsertDeferral(ctx, tx, deferral{ApplicationID: id, MaterialID: materialID, CommitmentID: cid, DueAt: dueAt, MarkedAt: s.now()}); err != nil {
			return err
		}
		by, note, data := signedBy(p, a), a.Materials[j].Name+" 容缺，"+due+" 前补交", map[string]any{"material": materialID, "due": due}
		if by.kind == "staff" {
			note += atWindowNote
			data["signed_at_window"] = a.HallCode
		}
		if err := s.save(ctx, tx, &locked, update{}); err != nil {
			return err
		}
		return s.record(ctx, tx, id, by, "material_deferred", locked.Status, locked.Status, note, data)
	})
	if err != nil {
		return a, err
	}
	return s.appFor(ctx, p, id)
}

// deferrable is an application the caller may defer materials of: their own
// undecided one, or for a window clerk an undecided one taken in at a
// window of their hall, where the clerk records the person's signature.
func (s *core) deferrable(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	a, err := s.get(ctx, p, id)
	if err != nil && p.Kind == "staff" && p.Can(authz.WindowIntake) {
		a, err = s.loadApplication(ctx, s.db, id)
		if errors.Is(err, sql.ErrNoRows) {
			err = authz.NotYours("application")
		}
	}
	if err == nil {
		err = s.maySign(ctx, p, a)
	}
	if err == nil {
		err = s.mayPledge(ctx, &a)
	}
	if err != nil {
		return a, err
	}
	if workflow.Decided(workflow.Status(a.Status)) {
		return a, apperr.New(apperr.Conflict, apperr.AlreadyDecided, "application %d is already %s", id, a.Status)
	}
	return a, nil
}

// appFor returns the application as the caller sees it.
func (s *core) appFor(ctx context.Context, p authz.Principal, id int64) (Application, error) {
	if a, err := s.get(ctx, p, id); err == nil || p.PersonID != 0 {
		return a, err
	}
	return s.staffView(ctx, p, id)
}

// pendingDeferral reports whether a material of an application waits to be
// supplied under a deferral.
func (s *core) pendingDeferral(ctx context.Context, applicationID int64, materialID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deferrals WHERE application_id = $1 AND material_id = $2 AND supplied_at IS NULL`, applicationID, materialID).Scan(&n)
	return n > 0, err
}

// pendingDeferrals lists the materials of an application that wait under a
// signed deferral.
func (s *core) pendingDeferrals(ctx context.Context, applicationID int64) ([]string, error) {
	return store.All(ctx, s.db, func(row store.Scanner) (string, error) {
		var m string
		err := row.Scan(&m)
		return m, err
	}, `SELECT material_id FROM deferrals WHERE application_id = $1 AND supplied_at IS NULL ORDER BY material_id`, applicationID)
}

// supplied clears a deferral once its material is uploaded, inside tx.
func (s *core) supplied(ctx context.Context, tx *sql.Tx, applicationID int64, materialID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE deferrals SET supplied_at = $1 WHERE application_id = $2 AND material_id = $3 AND supplied_at IS NULL`, s.now(), applicationID, materialID)
	return err
}

// sweepDeferrals finds the supplements overdue at now: each writes one
// credit record for its applicant, who is told. It returns how many.
func (s *core) sweepDeferrals(ctx context.Context) (int, error) {
	type due struct {
		id, app int64
		mat     string
		at      time.Time
	}
	list, err := store.All(ctx, s.db, func(row store.Scanner) (due, error) {
		var d due
		err := row.Scan(&d.id, &d.app, &d.mat, &d.at)
		return d, err
	}, `SELECT id, application_id, material_id, due_at FROM deferrals WHERE supplied_at IS NULL AND overdue_at IS NULL AND due_at < $1 ORDER BY due_at, id`, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list {
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			marked, err := markDeferralOverdue(ctx, tx, d.id, s.now())
			if err != nil || !marked {
				return err
			}
			a, err := s.loadApplication(ctx, tx, d.app)
			if err != nil {
				return err
			}
			name := d.mat
			if i := slices.IndexFunc(a.Materials, func(m Material) bool { return m.ID == d.mat }); i >= 0 {
				name = a.Materials[i].Name
			}
			if _, err := s.writeCredit(ctx, tx, &a, "overdue_supplement", d.mat, "容缺材料「"+name+"」逾期未补交"); err != nil {
				return err
			}
			n++
			to := notify.Message{Kind: notify.DeadlineWarning, ApplicationID: a.ID, Link: fmt.Sprintf("/applications/%d", a.ID),
				TitleZh: "办件 " + a.Number + " 的容缺材料逾期未补交", TitleEn: "A deferred material of application " + a.Number + " is overdue",
				BodyZh: "「" + name + "」未在承诺期限 " + d.at.In(workday.CST).Format(time.DateOnly) + " 前补交，已记入信用记录。",
				BodyEn: "The material you promised by " + d.at.In(workday.CST).Format(time.DateOnly) + " was not supplied; a credit record was written."}
			to.AccountID, to.PersonID = a.recipient()
			_, err = s.notify.Send(ctx, tx, to)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("overdue supplement %d: %w", d.id, err)
		}
	}
	return n, nil
}
