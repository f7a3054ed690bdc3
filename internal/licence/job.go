package licence

import (
	"context"
	"database/sql"

	"github.com/riverqueue/river"

	"yiwang/internal/apperr"
	"yiwang/internal/jobs"
	"yiwang/internal/store"
)

// IssueArgs is the durable job that issues an application's licence, for
// when issuing should not hold up the approving request: enqueue it with
// jobs.Queue.Enqueue in the approving transaction. ApplicationID must be set:
// it is what makes a retried job find the licence it already issued.
type IssueArgs struct {
	Request Request `json:"request"`
}

// Kind implements river.JobArgs.
func (IssueArgs) Kind() string { return "licence_issue" }

// IssueWorker works IssueArgs jobs.
type IssueWorker struct {
	river.WorkerDefaults[IssueArgs]
	db  *store.DB
	svc *Service
}

// NewIssueWorker returns the worker; register it with jobs.Register.
func NewIssueWorker(db *store.DB, svc *Service) *IssueWorker { return &IssueWorker{db: db, svc: svc} }

// Work issues the licence and completes the job in one transaction: a job
// that crashes after the commit is not run again, and one that crashes
// before it leaves nothing behind.
func (w *IssueWorker) Work(ctx context.Context, job *river.Job[IssueArgs]) error {
	if job.Args.Request.ApplicationID == 0 {
		return river.JobCancel(errNoApplication)
	}
	err := w.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := w.svc.IssueTx(ctx, tx, job.Args.Request); err != nil {
			return err
		}
		return jobs.CompleteTx(ctx, tx, job)
	})
	if apperr.Is(err, apperr.Invalid) {
		return river.JobCancel(err) // retrying a bad request cannot help; it waits for a person
	}
	return err
}

type jobError string

func (e jobError) Error() string { return string(e) }

const errNoApplication = jobError("a licence_issue job needs the application id, which keeps it from issuing twice")
