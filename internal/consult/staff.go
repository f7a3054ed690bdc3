package consult

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/supervision"
	"yiwang/internal/web"
)

// Filter narrows the staff list.
type Filter struct {
	// Department: supervisors may name any; staff always see their own.
	Department string
	// Status: open, answered, closed; "" for those not closed.
	Status string
}

// canList says which department p lists: their own for department staff,
// the one asked (or all, "") for supervisors, who only read.
func canList(p authz.Principal, asked string) (string, error) {
	if p.Can(authz.ReviewTasks) && p.Department != "" {
		return p.Department, nil
	}
	if p.Can(authz.Supervise) {
		return asked, nil
	}
	return "", authz.Require(p, authz.ReviewTasks)
}

// Staff lists the consultations of p's department (a supervisor's: of the
// department asked, or all), oldest deadline first.
func (s *Service) Staff(ctx context.Context, p authz.Principal, f Filter) ([]View, error) {
	dept, err := canList(p, f.Department)
	if err != nil {
		return nil, err
	}
	where, args := []string{"1 = 1"}, []any{}
	if dept != "" {
		args = append(args, dept)
		where = append(where, fmt.Sprintf("c.department = $%d", len(args)))
	}
	switch f.Status {
	case "":
		where = append(where, "c.status <> 'closed'")
	case Open, Answered, Closed:
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("c.status = $%d", len(args)))
	default:
		return nil, apperr.New(apperr.Invalid, apperr.InvalidRequest, "the status must be open, answered or closed")
	}
	return s.list(ctx, true, `WHERE `+strings.Join(where, " AND ")+` ORDER BY c.due_at, c.id LIMIT 500`, args...)
}

// StaffOne shows one consultation to its department's staff, or to a supervisor.
func (s *Service) StaffOne(ctx context.Context, p authz.Principal, id int64) (View, error) {
	dept, err := canList(p, "")
	if err != nil {
		return View{}, err
	}
	x, err := s.load(ctx, s.d.DB, `c.id = $1`, id)
	if err != nil {
		return View{}, err
	}
	if dept != "" && x.Department != dept {
		return View{}, notFound()
	}
	return s.view(ctx, x, true, nil)
}

// handle checks, inside tx and before any write, that p works in the
// department consultation id belongs to, and returns it.
func (s *Service) handle(ctx context.Context, tx *sql.Tx, p authz.Principal, id int64) (row, error) {
	if err := authz.Require(p, authz.ReviewTasks); err != nil {
		return row{}, err
	}
	x, err := s.load(ctx, tx, `c.id = $1`, id)
	if err != nil {
		return row{}, err
	}
	if p.Department == "" || x.Department != p.Department {
		return row{}, notFound()
	}
	if x.Status == Closed {
		return row{}, apperr.New(apperr.Conflict, apperr.ConsultationClosed, "this has been closed: it takes no more answers")
	}
	return x, nil
}

// reply adds p's answer to consultation x and tells its sender, when they
// sent it under their name (an anonymous sender follows it by its code).
func (s *Service) reply(ctx context.Context, tx *sql.Tx, p authz.Principal, x row, text string, now time.Time) error {
	enc, err := s.d.Protector.SealFor(text, colReply)
	if err != nil {
		return err
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO consultation_replies (consultation_id, staff_account, staff_name, text_enc, at) VALUES ($1, $2, $3, $4, $5)`,
		x.ID, p.AccountID, p.Name, enc, now); err != nil {
		return err
	}
	if !x.account.Valid || s.d.Notifier == nil {
		return nil
	}
	_, err = s.d.Notifier.Send(ctx, tx, notify.Message{AccountID: x.account.Int64, Kind: notify.ConsultationAnswer, Link: "/me/consultations",
		TitleZh: x.DeptName.Zh + "已答复您的" + web.Label("zh", "consult_kind", x.Kind),
		TitleEn: x.DeptName.En + " has answered your " + strings.ToLower(web.Label("en", "consult_kind", x.Kind)),
		BodyZh:  "请登录查看答复，并可对答复作出评价。", BodyEn: "Sign in to read the answer; you may say whether it helped."})
	return err
}

func checkAnswer(text string) (string, error) {
	text = strings.TrimSpace(text)
	if c := utf8.RuneCountInString(text); c < 2 || c > maxText {
		return "", apperr.New(apperr.Invalid, apperr.ConsultationAnswer, "write the answer, up to %d characters", maxText)
	}
	return text, nil
}

// Answer records the department's answer; the sender sees it at once.
func (s *Service) Answer(ctx context.Context, p authz.Principal, id int64, text string) (View, error) {
	err := s.d.DB.InTx(ctx, func(tx *sql.Tx) error {
		x, err := s.handle(ctx, tx, p, id)
		if err != nil {
			return err
		}
		// What was sent is looked at once it is known to be theirs to answer.
		if text, err = checkAnswer(text); err != nil {
			return err
		}
		now := s.d.Now()
		if err := s.reply(ctx, tx, p, x, text, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE consultations SET status = 'answered', answered_at = COALESCE(answered_at, $1) WHERE id = $2`, now, x.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", p.AccountID, p.Name), Action: "consultation.answer",
			ObjectKind: "consultation", ObjectID: fmt.Sprint(x.ID), Detail: map[string]any{"department": x.Department, "late": now.After(x.DueAt)}})
	})
	if err != nil {
		return View{}, err
	}
	return s.byID(ctx, id, true)
}

// Close closes a consultation once handled, with a last answer when text
// is given; one never answered needs that answer.
func (s *Service) Close(ctx context.Context, p authz.Principal, id int64, text string) (View, error) {
	text = strings.TrimSpace(text)
	err := s.d.DB.InTx(ctx, func(tx *sql.Tx) error {
		x, err := s.handle(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if text != "" {
			if text, err = checkAnswer(text); err != nil {
				return err
			}
		}
		now := s.d.Now()
		if text == "" && x.Status == Open {
			return apperr.New(apperr.Invalid, apperr.ConsultationAnswer, "answer before closing: the sender is owed a reply")
		}
		if text != "" {
			if err := s.reply(ctx, tx, p, x, text, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE consultations SET status = 'closed', closed_at = $1, answered_at = COALESCE(answered_at, $1) WHERE id = $2`, now, x.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", p.AccountID, p.Name), Action: "consultation.close",
			ObjectKind: "consultation", ObjectID: fmt.Sprint(x.ID), Detail: map[string]any{"department": x.Department}})
	})
	if err != nil {
		return View{}, err
	}
	return s.byID(ctx, id, true)
}

// Findings are, per department, the complaints and reports (ComplaintLate)
// and the questions and suggestions (QuestionLate) still unanswered past
// their deadline: the supervision board's Watcher.
func (s *Service) Findings(ctx context.Context, now time.Time) ([]supervision.Finding, error) {
	type late struct {
		dept, kind string
		due        time.Time
	}
	// One row each, counted here: few are late, and min() of a time is
	// not a time on every backend.
	rows, err := store.All(ctx, s.d.DB, func(r store.Scanner) (late, error) {
		var l late
		return l, r.Scan(&l.dept, &l.kind, &l.due)
	}, `SELECT department, kind, due_at FROM consultations WHERE status = 'open' AND due_at < $1 ORDER BY department, due_at`, now)
	if err != nil {
		return nil, err
	}
	out := []supervision.Finding{}
	at := map[[2]string]int{}
	for _, l := range rows {
		kind := supervision.QuestionLate
		if l.kind == Complaint || l.kind == Report {
			kind = supervision.ComplaintLate
		}
		key := [2]string{l.dept, string(kind)}
		if i, ok := at[key]; ok {
			out[i].Count++
			continue
		}
		at[key] = len(out)
		out = append(out, supervision.Finding{Department: l.dept, Kind: kind, Count: 1, Oldest: l.due, Link: "/workbench/consultations?department=" + l.dept})
	}
	return out, nil
}

// Reveal shows the sender's contact in full to staff of its department
// who may see personal data, for the purpose they state; the view is
// written to the audit trail before anything is shown. (The personal-data
// access log names a person, and an anonymous sender is none.)
func (s *Service) Reveal(ctx context.Context, p authz.Principal, id int64, purpose string) (View, error) {
	if err := authz.Require(p, authz.PersonalDataRaw); err != nil {
		return View{}, err
	}
	if err := pii.CheckPurpose(purpose); err != nil {
		return View{}, err
	}
	var x row
	err := s.d.DB.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if x, err = s.load(ctx, tx, `c.id = $1`, id); err != nil {
			return err
		}
		if p.Department == "" || x.Department != p.Department {
			return notFound()
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", p.AccountID, p.Name), Action: "pii.view",
			ObjectKind: "consultation", ObjectID: fmt.Sprint(x.ID), Detail: map[string]any{"fields": []string{"contact_name", "contact_phone"}, "purpose": strings.TrimSpace(purpose)}})
	})
	if err != nil {
		return View{}, err
	}
	v, err := s.view(ctx, x, true, nil)
	if err != nil {
		return View{}, err
	}
	c, err := s.contact(x)
	if err != nil {
		return View{}, err
	}
	c.Revealed = true
	v.Contact = &c
	return v, nil
}
