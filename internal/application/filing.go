package application

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/workday"
	"yiwang/internal/workflow"
)

// NoticeEndArgs is the durable job that ends a filing's notice period.
type NoticeEndArgs struct {
	ApplicationID int64 `json:"application_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (NoticeEndArgs) Kind() string { return "filing_notice_end" }

// openNotice puts a filing on public notice for the item's notice days and
// schedules the job that ends it.
func (s *core) openNotice(ctx context.Context, tx *sql.Tx, a *Application, it catalog.Item) error {
	now := s.now()
	days := it.Approval.NoticeDays
	if days <= 0 {
		days = defaultNoticeDays
	}
	ends, cal, err := s.deadlineAfter(ctx, now, days)
	if err != nil {
		return err
	}
	d, err := s.ids.PersonDetails(ctx, tx, a.personID)
	if err != nil {
		return err
	}
	title := "「" + it.Name.Zh + "」备案 — 申请人 " + pii.MaskName(d.Name)
	if err := insertNotice(ctx, tx, newNotice{ApplicationID: a.ID, Title: title, Department: it.Department, StartsAt: now, EndsAt: ends}); err != nil {
		return err
	}
	if err := s.schedule(ctx, tx, NoticeEndArgs{ApplicationID: a.ID}, ends); err != nil {
		return err
	}
	return s.record(ctx, tx, a.ID, system, "notice_opened", a.Status, a.Status, withProvisional("公示至 "+ends.In(workday.CST).Format(time.DateOnly), cal, now, ends, false), map[string]any{"ends_at": ends})
}

// schedule enqueues a mode's job for at, inside tx.
func (s *core) schedule(ctx context.Context, tx *sql.Tx, args river.JobArgs, at time.Time) error {
	if s.queue == nil {
		return errors.New("no job queue to schedule " + args.Kind())
	}
	_, err := s.queue.Enqueue(ctx, tx, args, &river.InsertOpts{ScheduledAt: at, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

const noticeColumns = `n.id, n.application_id, COALESCE(a.number, ''), n.title, n.department, n.status, n.starts_at, n.ends_at, a.person_id`

func (s *core) queryNotices(ctx context.Context, q store.Querier, where string, args ...any) ([]Notice, error) {
	return orEmpty(store.All(ctx, q, func(row store.Scanner) (Notice, error) {
		var n Notice
		err := row.Scan(&n.ID, &n.ApplicationID, &n.Number, &n.Title, &n.Department, &n.Status, &n.StartsAt, &n.EndsAt, &n.applicant)
		return n, err
	}, `SELECT `+noticeColumns+` FROM notices n JOIN applications a ON a.id = n.application_id WHERE `+where, args...))
}

// Notices lists the filings on public notice now, or halted by an
// objection, the newest first. Anyone may see them.
func (s *Modes) Notices(ctx context.Context) ([]Notice, error) {
	return s.queryNotices(ctx, s.db, `n.status IN ('open', 'halted') AND a.status = 'submitted' ORDER BY n.starts_at DESC, n.id DESC LIMIT 500`)
}

// Object is a signed-in person objecting to a filing on notice, with
// reasons: the notice halts and the department reviews the objection.
func (s *Modes) Object(ctx context.Context, p authz.Principal, noticeID int64, reasons string) (Notice, error) {
	if err := authz.Require(p, authz.SignedIn); err != nil {
		return Notice{}, err
	}
	if p.PersonID == 0 {
		return Notice{}, apperr.New(apperr.Forbidden, apperr.PersonsOnly, "objections are made by people, in their own name")
	}
	if reasons = strings.TrimSpace(reasons); reasons == "" || len([]rune(reasons)) > 2000 {
		return Notice{}, apperr.New(apperr.Invalid, apperr.ReasonsRequired, "say why you object (up to 2000 characters)")
	}
	var out Notice
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		list, err := s.queryNotices(ctx, tx, `n.id = $1`, noticeID)
		if err != nil {
			return err
		}
		if len(list) == 0 || (list[0].Status != "open" && list[0].Status != "halted") {
			return apperr.New(apperr.NotFound, apperr.NoticeNotFound, "there is no notice %d open for objections", noticeID)
		}
		n := list[0]
		now := s.now()
		if n.Status == "open" && !now.Before(n.EndsAt) {
			return apperr.New(apperr.Conflict, apperr.NoticeEnded, "the notice period of %s has ended", n.Number)
		}
		if n.FiledBy(p) {
			// An objection is the public's check on a filing; the applicant
			// who wants it stopped withdraws it instead.
			return apperr.New(apperr.Forbidden, apperr.OwnFiling, "you cannot object to your own filing; withdraw it instead")
		}
		a, err := s.lockForAction(ctx, tx, n.ApplicationID, 0)
		if err != nil {
			return err
		}
		oid, err := insertObjection(ctx, tx, n.ID, p.AccountID, reasons, now)
		if err != nil {
			return err
		}
		deadline, cal, err := s.deadlineAfter(ctx, now, objectionReviewDays)
		if err != nil {
			return err
		}
		tid, err := insertModeTask(ctx, tx, modeTask{ApplicationID: a.ID, StepID: fmt.Sprintf("%s:%d", objectionStep, oid), NameZh: "公示异议审查", NameEn: "Review of an objection",
			Department: n.Department, Days: objectionReviewDays, OpenedAt: now, Deadline: deadline, Note: reasons})
		if err != nil {
			return err
		}
		if err := setObjectionTask(ctx, tx, oid, tid); err != nil {
			return err
		}
		if err := haltNotice(ctx, tx, n.ID); err != nil {
			return err
		}
		n.Status = "halted"
		out = n
		if err := s.save(ctx, tx, &a, update{}); err != nil {
			return err
		}
		return s.record(ctx, tx, a.ID, actor{kind: "system", name: "公示异议"}, "objection", a.Status, a.Status, withProvisional(reasons, cal, now, deadline, true), map[string]any{"objection": oid, "task": tid})
	})
	return out, err
}

// ReviewObjection is the department's answer to an objection: upheld, the
// filing is rejected with the reasons; cleared, the notice goes on (and a
// notice whose period ended meanwhile approves at once).
func (s *Modes) ReviewObjection(ctx context.Context, p authz.Principal, taskID, expect int64, uphold bool, reasons []string) (Application, error) {
	reasons = cleanReasons(reasons)
	if uphold && len(reasons) == 0 {
		return Application{}, apperr.New(apperr.Invalid, apperr.UpholdReasonsRequired, "upholding an objection must give the applicant its reasons")
	}
	var appID int64
	err := s.withTask(ctx, p, taskID, expect, func(tx *sql.Tx, t Task, a *Application) error {
		if t.ModeTask() != "objection" {
			return apperr.New(apperr.Conflict, apperr.NotAnObjection, "task %d is not the review of an objection", t.ID)
		}
		if err := mustBeWorkable(p, t, a); err != nil {
			return err
		}
		appID = a.ID
		now := s.now()
		status, outcome := workflow.TaskApproved, "cleared"
		if uphold {
			status, outcome = workflow.TaskRejected, "upheld"
		}
		rs, err := finishTask(ctx, tx, p, t, status, reasons, sql.NullString{}, now)
		if err != nil {
			return err
		}
		if err := setObjectionOutcome(ctx, tx, t.ID, outcome); err != nil {
			return err
		}
		by := staffActor(p)
		if uphold {
			if err := cancelTasks(ctx, tx, a.ID); err != nil {
				return err
			}
			if err := clearPendingObjections(ctx, tx, a.ID); err != nil {
				return err
			}
			if err := rejectNotice(ctx, tx, a.ID); err != nil {
				return err
			}
			if err := s.move(ctx, tx, a, workflow.Reject, by, "异议成立："+strings.Join(reasons, "；"), map[string]any{"task": t.ID}, update{DecidedAt: now, Reasons: string(rs)}); err != nil {
				return err
			}
			return s.tell(ctx, tx, a, "decision")
		}
		if err := s.record(ctx, tx, a.ID, by, "objection_cleared", a.Status, a.Status, strings.Join(reasons, "；"), map[string]any{"task": t.ID}); err != nil {
			return err
		}
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM objections o JOIN notices n ON n.id = o.notice_id WHERE n.application_id = $1 AND o.outcome = 'pending'`, a.ID).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return nil
		}
		if err := resumeNotice(ctx, tx, a.ID); err != nil {
			return err
		}
		return s.endNotice(ctx, tx, a)
	})
	if err != nil {
		return Application{}, err
	}
	return s.staffView(ctx, p, appID)
}

// EndNotice ends the notice of a filing whose period is over: with no
// objection open, the filing is approved and its licence issued. Early, it
// fails so that the job is tried again later; done already, it does nothing.
func (s *Modes) EndNotice(ctx context.Context, applicationID int64) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		a, err := s.lockForAction(ctx, tx, applicationID, 0)
		if err != nil {
			return err
		}
		list, err := s.queryNotices(ctx, tx, `n.application_id = $1`, applicationID)
		if err != nil || len(list) == 0 || list[0].Status != "open" {
			return err // halted: the objection's review decides; ended or rejected: done
		}
		if s.now().Before(list[0].EndsAt) {
			return fmt.Errorf("the notice of application %d runs until %s", applicationID, list[0].EndsAt.Format(time.RFC3339))
		}
		return s.endNotice(ctx, tx, &a)
	})
}

// endNotice approves a filing whose notice is open and over, inside tx.
func (s *core) endNotice(ctx context.Context, tx *sql.Tx, a *Application) error {
	list, err := s.queryNotices(ctx, tx, `n.application_id = $1`, a.ID)
	if err != nil || len(list) == 0 || list[0].Status != "open" || s.now().Before(list[0].EndsAt) || a.Status != string(workflow.Submitted) {
		return err
	}
	if err := closeNotice(ctx, tx, list[0].ID); err != nil {
		return err
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return err
	}
	by := actor{kind: "system", name: "公示期满无异议"}
	if err := s.move(ctx, tx, a, workflow.Approve, by, "公示期满无异议，予以备案", nil, update{DecidedAt: s.now(), Reasons: "[]"}); err != nil {
		return err
	}
	return s.approved(ctx, tx, a, v.Item, by)
}

// NoticeWorker works NoticeEndArgs jobs.
type NoticeWorker struct {
	river.WorkerDefaults[NoticeEndArgs]
	svc *Modes
}

// NewNoticeWorker returns the worker; register it with jobs.Register.
func NewNoticeWorker(svc *Modes) *NoticeWorker { return &NoticeWorker{svc: svc} }

// Work ends the notice.
func (w *NoticeWorker) Work(ctx context.Context, job *river.Job[NoticeEndArgs]) error {
	return w.svc.EndNotice(ctx, job.Args.ApplicationID)
}
