package supervision

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// Alerts tells a department's heads what the board finds in their
// department: each working morning by a durable job, or when a supervisor
// asks — at most once a day per department, whoever sends it.
type Alerts struct {
	db     *store.DB
	board  *Board
	outbox *notify.Outbox
	// heads lists a department's heads (identity.Store.StaffOf) in tx.
	heads func(ctx context.Context, q store.Querier, department string) ([]int64, error)
	// workday tells whether a day is a working day (the calendar).
	workday func(ctx context.Context, day time.Time) (bool, error)
}

// NewAlerts returns the alerts of board's findings.
func NewAlerts(db *store.DB, board *Board, outbox *notify.Outbox,
	heads func(ctx context.Context, q store.Querier, department string) ([]int64, error),
	isWorkday func(ctx context.Context, day time.Time) (bool, error)) *Alerts {
	return &Alerts{db: db, board: board, outbox: outbox, heads: heads, workday: isWorkday}
}

// Alerted is what one alert did.
type Alerted struct {
	Department string `json:"department"`
	Findings   int    `json:"findings"`
	Heads      int    `json:"heads"` // how many heads were told; 0 when the department has none
}

// Send alerts the heads of department now, on a supervisor's request.
func (a *Alerts) Send(ctx context.Context, p authz.Principal, department string) (Alerted, error) {
	if err := authz.Require(p, authz.Supervise); err != nil {
		return Alerted{}, err
	}
	if _, err := a.board.org.Department(ctx, department); err != nil {
		return Alerted{}, err
	}
	v, err := a.board.look(ctx, department)
	if err != nil {
		return Alerted{}, err
	}
	if len(v.Departments) == 0 {
		return Alerted{}, apperr.New(apperr.Conflict, apperr.NothingToAlert, "this department has nothing to attend to now; no alert was sent")
	}
	out, sent, err := a.send(ctx, v.Departments[0], v.At, audit.Person("staff", p.AccountID, p.Name), p.AccountID)
	if err == nil && !sent {
		err = apperr.New(apperr.Conflict, apperr.AlreadyAlerted, "this department's heads were alerted today already; the next alert can be sent tomorrow")
	}
	return out, err
}

// Daily alerts every department with findings, unless day is not a
// working day; departments alerted today already are skipped.
func (a *Alerts) Daily(ctx context.Context, day time.Time) ([]Alerted, error) {
	if ok, err := a.workday(ctx, day); err != nil || !ok {
		return nil, err
	}
	v, err := a.board.look(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []Alerted
	for _, row := range v.Departments {
		one, sent, err := a.send(ctx, row, v.At, audit.Automatic(audit.System, "电子监察"), 0)
		if err != nil {
			return out, fmt.Errorf("alert %s: %w", row.Code, err)
		}
		if sent {
			out = append(out, one)
		}
	}
	return out, nil
}

// send writes the day's alert of row and its messages in one transaction;
// sent is false when the department was alerted that day already.
func (a *Alerts) send(ctx context.Context, row DepartmentRow, at time.Time, by audit.Actor, byAccount int64) (out Alerted, sent bool, err error) {
	out = Alerted{Department: row.Code, Findings: row.Total}
	zh, en := summary(row)
	day := at.In(workday.CST).Format(time.DateOnly)
	sender := sql.NullInt64{Int64: byAccount, Valid: byAccount != 0}
	err = a.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO supervision_alerts (department, day, findings, summary, sent_by, sent_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (department, day) DO NOTHING`, row.Code, day, row.Total, zh, sender, at.UTC())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		sent = true
		heads, err := a.heads(ctx, tx, row.Code)
		if err != nil {
			return err
		}
		for _, h := range heads {
			if _, err := a.outbox.Send(ctx, tx, notify.Message{AccountID: h, Kind: notify.SupervisionAlert, Link: "/workbench",
				TitleZh: "电子监察提醒：" + row.Name("zh") + "有 " + fmt.Sprint(row.Total) + " 项需要督办",
				TitleEn: fmt.Sprintf("E-supervision: %d matters to attend to in %s", row.Total, row.Name("en")),
				BodyZh:  zh, BodyEn: en}); err != nil {
				return err
			}
		}
		out.Heads = len(heads)
		if _, err := tx.ExecContext(ctx, `UPDATE supervision_alerts SET heads = $1 WHERE department = $2 AND day = $3`, len(heads), row.Code, day); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: by, Action: "supervision.alert", ObjectKind: "department", ObjectID: row.Code,
			Detail: map[string]any{"findings": row.Total, "heads": len(heads)}})
	})
	return out, sent, err
}

// summary lists a row's findings in words, one per line.
func summary(row DepartmentRow) (zh, en string) {
	var z, e []string
	for _, f := range row.Findings {
		z = append(z, fmt.Sprintf("%s：%d", Label(f.Kind, "zh"), f.Count))
		e = append(e, fmt.Sprintf("%s: %d", Label(f.Kind, "en"), f.Count))
	}
	return strings.Join(z, "\n"), strings.Join(e, "\n")
}

// AlertHour and AlertMinute are when, China time, the daily alerts go:
// as a working day starts.
const (
	AlertHour   = 8
	AlertMinute = 30
)

// AlertArgs is the daily alert of one day. Each run enqueues the next
// day's first, so the schedule survives restarts; a day's run is unique.
type AlertArgs struct {
	Day string `json:"day" river:"unique"`
}

// Kind implements river.JobArgs.
func (AlertArgs) Kind() string { return "supervision_alerts" }

// alertAt is the next daily alert due after at.
func alertAt(at time.Time) (AlertArgs, *river.InsertOpts) {
	local := at.In(workday.CST)
	due := time.Date(local.Year(), local.Month(), local.Day(), AlertHour, AlertMinute, 0, 0, workday.CST)
	if !due.After(local) {
		due = due.AddDate(0, 0, 1)
	}
	return AlertArgs{Day: due.Format(time.DateOnly)}, &river.InsertOpts{ScheduledAt: due, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Schedule makes sure the next daily alert is due: serve calls it at start.
func Schedule(ctx context.Context, db *store.DB, q *jobs.Queue) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := alertAt(time.Now())
		_, err := q.Enqueue(ctx, tx, args, opts)
		return err
	})
}

// AlertWorker works AlertArgs jobs.
type AlertWorker struct {
	river.WorkerDefaults[AlertArgs]
	a *Alerts
}

// NewAlertWorker returns the worker; register it with jobs.Register.
func NewAlertWorker(a *Alerts) *AlertWorker { return &AlertWorker{a: a} }

// Work schedules the next day's alert, committed first so that a failing
// run cannot end the chain, then alerts.
func (w *AlertWorker) Work(ctx context.Context, job *river.Job[AlertArgs]) error {
	day, err := time.ParseInLocation(time.DateOnly, job.Args.Day, workday.CST)
	if err != nil {
		return err
	}
	err = w.a.db.InTx(ctx, func(tx *sql.Tx) error {
		args, opts := alertAt(day.Add(AlertHour*time.Hour + AlertMinute*time.Minute + time.Minute))
		_, err := jobs.EnqueueFromJob(ctx, tx, args, opts)
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.a.Daily(ctx, day)
	return err
}
