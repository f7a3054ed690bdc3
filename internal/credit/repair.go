package credit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// RepairPledge is what a person signs when applying to repair a record.
const RepairPledge = "本人承诺：已纠正失信行为、履行相关义务，所述情况真实；如再次失信，愿意接受相应的信用惩戒。"

// Repair is an application to repair one credit record (信用修复).
type Repair struct {
	ID        int64      `json:"id"`
	RecordID  int64      `json:"record_id"`
	Kind      string     `json:"kind"` // the record's kind
	Number    string     `json:"application_number"`
	Statement string     `json:"statement"`
	Status    string     `json:"status"` // pending, approved, refused
	ByMachine bool       `json:"by_machine"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// RepairRequest is what a person sends to repair a record.
type RepairRequest struct {
	RecordID  int64  `json:"record_id"`
	Statement string `json:"statement"`
	Pledge    bool   `json:"pledge"` // they signed RepairPledge
}

// View is a subject's credit as they see it.
type View struct {
	Standing
	Enterprise string   `json:"enterprise,omitempty"` // the enterprise's name when acting for one
	Records    []Record `json:"records"`
	Pledge     string   `json:"pledge"`
}

// subjectOf is whose credit the caller acts on: the enterprise they act for, or themselves.
func subjectOf(p authz.Principal) (Subject, error) {
	if p.PersonID == 0 {
		return Subject{}, apperr.New(apperr.Forbidden, apperr.NotAllowed, "credit is a person's or an enterprise's")
	}
	if p.ActingFor != nil {
		return Subject{EnterpriseID: p.ActingFor.ID}, nil
	}
	return Subject{PersonID: p.PersonID}, nil
}

// Mine is the caller's credit: standing, records, each with its latest repair.
func (s *Service) Mine(ctx context.Context, p authz.Principal) (View, error) {
	sub, err := subjectOf(p)
	if err != nil {
		return View{}, err
	}
	v := View{Pledge: RepairPledge, Records: []Record{}}
	if p.ActingFor != nil {
		v.Enterprise = p.ActingFor.Name
	}
	if v.Standing, err = s.StandingOf(ctx, s.db, sub); err != nil {
		return v, err
	}
	list, err := records(ctx, s.db, sub)
	if err != nil {
		return v, err
	}
	for _, r := range list {
		r.RepairFrom = r.CreatedAt.Add(s.cfg.RepairAfter[r.Kind])
		rep, err := s.latestRepair(ctx, s.db, r.ID)
		if err == nil {
			r.Repair = &rep
		} else if !errors.Is(err, sql.ErrNoRows) {
			return v, err
		}
		r.CanRepair = r.RepairedAt == nil && (r.Repair == nil || r.Repair.Status != "pending") && !s.now().Before(r.RepairFrom)
		v.Records = append(v.Records, r)
	}
	return v, nil
}

const repairColumns = `r.id, r.record_id, c.kind, COALESCE(a.number, ''), r.statement, r.status, r.decided_by, r.reason, r.created_at, r.decided_at`

const repairJoins = ` FROM credit_repairs r JOIN credit_records c ON c.id = r.record_id JOIN applications a ON a.id = c.application_id`

func (s *Service) scanRepair(row store.Scanner) (Repair, error) {
	var r Repair
	var by string
	var decided sql.NullTime
	if err := row.Scan(&r.ID, &r.RecordID, &r.Kind, &r.Number, &r.Statement, &r.Status, &by, &r.Reason, &r.CreatedAt, &decided); err != nil {
		return r, err
	}
	r.ByMachine = by == audit.Machine
	if decided.Valid {
		t := decided.Time
		r.DecidedAt = &t
	}
	var err error
	r.Statement, err = s.protector.OpenFor(r.Statement, "credit_repairs.statement")
	return r, err
}

func (s *Service) latestRepair(ctx context.Context, q store.Querier, recordID int64) (Repair, error) {
	return s.scanRepair(q.QueryRowContext(ctx, `SELECT `+repairColumns+repairJoins+` WHERE r.record_id = $1 ORDER BY r.id DESC LIMIT 1`, recordID))
}

// Apply is a person applying to repair one of their (or their
// enterprise's) records. Too early, or with a repair already pending, it is
// refused. When the record is a late supplement whose material has since
// been supplied, the rules approve it at once; otherwise a reviewer of the
// department that handled the record's application decides.
func (s *Service) Apply(ctx context.Context, p authz.Principal, req RepairRequest) (Repair, error) {
	sub, err := subjectOf(p)
	if err != nil {
		return Repair{}, err
	}
	if !req.Pledge {
		return Repair{}, apperr.New(apperr.Invalid, apperr.CreditPledgeRequired, "sign the pledge (\"pledge\": true)")
	}
	req.Statement = strings.TrimSpace(req.Statement)
	if utf8.RuneCountInString(req.Statement) > 2000 {
		return Repair{}, apperr.New(apperr.Invalid, apperr.CreditStatementRequired, "the statement is longer than 2000 characters")
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		where, subID := sub.where()
		rec, err := scanRecord(tx.QueryRowContext(ctx, `SELECT c.id, c.kind, c.application_id, COALESCE(a.number, ''), c.note, c.created_at, c.repaired_at, c.ref, i.department_code
			FROM credit_records c JOIN applications a ON a.id = c.application_id JOIN catalog_items i ON i.code = a.item_code
			WHERE `+where+` AND c.id = $2`, subID, req.RecordID))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, apperr.CreditRecordNotFound, "no credit record %d among yours", req.RecordID)
		}
		if err != nil {
			return err
		}
		if rec.RepairedAt != nil {
			return apperr.New(apperr.Conflict, apperr.CreditAlreadyRepaired, "record %d is repaired", rec.ID)
		}
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM credit_repairs WHERE record_id = $1 AND status = 'pending'`, rec.ID).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return apperr.New(apperr.Conflict, apperr.CreditRepairPending, "a repair of record %d is pending", rec.ID)
		}
		now := s.now()
		if from := rec.CreatedAt.Add(s.cfg.RepairAfter[rec.Kind]); now.Before(from) {
			day := from.In(workday.CST).Format(time.DateOnly)
			return apperr.New(apperr.Invalid, apperr.CreditRepairTooEarly, "record %d may be repaired from %s", rec.ID, day).
				WithDetails([]apperr.Detail{{Subject: "repair_from", Words: apperr.Words{Zh: "可申请修复日期：" + day, En: "You may apply from " + day}}})
		}
		supplied := false
		if rec.Kind == OverdueSupplement {
			var at sql.NullTime
			err := tx.QueryRowContext(ctx, `SELECT supplied_at FROM deferrals WHERE application_id = $1 AND material_id = $2`, rec.ApplicationID, rec.ref).Scan(&at)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			supplied = at.Valid
		}
		if !supplied && req.Statement == "" {
			return apperr.New(apperr.Invalid, apperr.CreditStatementRequired, "say how the obligation was met")
		}
		sealed, err := s.protector.SealFor(req.Statement, "credit_repairs.statement")
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO credit_repairs (record_id, account_id, department, statement, pledge, status, created_at)
			VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id`, rec.ID, p.AccountID, rec.department, sealed, RepairPledge, now).Scan(&id); err != nil {
			return err
		}
		if err := recorded(ctx, tx, audit.Person("applicant", p.AccountID, ""), "repair_applied", id, map[string]any{"record": rec.ID}); err != nil {
			return err
		}
		if supplied {
			// The rules decide: the material promised has been supplied.
			return s.decide(ctx, tx, id, sub, p.AccountID, true, "容缺材料已补交，符合信用修复条件", audit.Automatic(audit.Machine, "信用修复"))
		}
		return nil
	})
	if err != nil {
		return Repair{}, err
	}
	return s.latestRepair(ctx, s.db, req.RecordID)
}

// decide settles repair id inside tx: approved marks its record repaired
// and recomputes sub's standing; either way the applicant is told.
func (s *Service) decide(ctx context.Context, tx *sql.Tx, id int64, sub Subject, account int64, approve bool, reason string, by audit.Actor) error {
	status, decidedBy := "refused", "staff:"+by.ID
	if approve {
		status = "approved"
	}
	if by.Kind == audit.Machine {
		decidedBy = audit.Machine
	}
	now := s.now()
	res, err := tx.ExecContext(ctx, `UPDATE credit_repairs SET status = $1, decided_by = $2, reason = $3, decided_at = $4 WHERE id = $5 AND status = 'pending'`,
		status, decidedBy, reason, now, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.New(apperr.Conflict, apperr.CreditRepairDecided, "repair %d is decided", id)
	}
	msg := notify.Message{Kind: notify.Decision, AccountID: account, Link: "/me/credit",
		TitleZh: "信用修复申请未获通过", TitleEn: "Your credit repair was refused",
		BodyZh: "理由：" + reason, BodyEn: "Reason: " + reason}
	if approve {
		if _, err := tx.ExecContext(ctx, `UPDATE credit_records SET repaired_at = $1, repair_id = $2 WHERE id = (SELECT record_id FROM credit_repairs WHERE id = $2)`, now, id); err != nil {
			return err
		}
		st, err := s.Recompute(ctx, tx, sub)
		if err != nil {
			return err
		}
		msg.TitleZh, msg.TitleEn = "信用修复申请已通过", "Your credit repair was approved"
		msg.BodyZh = "该信用记录已修复，当前信用等级为 " + st.Level + " 级。"
		msg.BodyEn = "The record is repaired; your credit level is now " + st.Level + "."
	}
	if _, err := s.notifier.Send(ctx, tx, msg); err != nil {
		return err
	}
	return recorded(ctx, tx, by, "repair_"+status, id, map[string]any{"status": status})
}

// Queue lists the repairs a reviewer's department decides: pending first,
// then the latest decided.
func (s *Service) Queue(ctx context.Context, p authz.Principal) ([]Repair, error) {
	if err := authz.Require(p, authz.Decide); err != nil {
		return nil, err
	}
	list, err := store.All(ctx, s.db, s.scanRepair, `SELECT `+repairColumns+repairJoins+` WHERE r.department = $1
		ORDER BY CASE WHEN r.status = 'pending' THEN 0 ELSE 1 END, r.id DESC LIMIT 200`, p.Department)
	if list == nil {
		list = []Repair{}
	}
	return list, err
}

// Decide is a reviewer of the record's department approving or refusing a
// repair; a refusal gives its reason, which the applicant is told.
func (s *Service) Decide(ctx context.Context, p authz.Principal, id int64, approve bool, reason string) (Repair, error) {
	if err := authz.Require(p, authz.Decide); err != nil {
		return Repair{}, err
	}
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return Repair{}, apperr.New(apperr.Invalid, apperr.ReasonRequired, "say why the repair is refused")
	}
	if approve && reason == "" {
		reason = "经审核，符合信用修复条件"
	}
	var recordID int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var dept string
		var account int64
		var sub Subject
		var ent sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT r.department, r.account_id, r.record_id, c.person_id, c.enterprise_id FROM credit_repairs r JOIN credit_records c ON c.id = r.record_id WHERE r.id = $1`, id).
			Scan(&dept, &account, &recordID, &sub.PersonID, &ent)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && dept != p.Department) {
			return apperr.New(apperr.NotFound, apperr.CreditRepairNotFound, "no repair %d in your department", id)
		}
		if err != nil {
			return err
		}
		if ent.Valid {
			sub = Subject{EnterpriseID: ent.Int64}
		}
		return s.decide(ctx, tx, id, sub, account, approve, reason, audit.Person("staff", p.AccountID, p.Name))
	})
	if err != nil {
		return Repair{}, err
	}
	r, err := s.scanRepair(s.db.QueryRowContext(ctx, `SELECT `+repairColumns+repairJoins+` WHERE r.id = $1`, id))
	if err != nil {
		return r, fmt.Errorf("repair %d: %w", id, err)
	}
	return r, nil
}
