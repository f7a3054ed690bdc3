package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"yiwang/internal/jobs"
	"yiwang/internal/store"
)

// Channel delivers messages by one means: the inbox, email, SMS, a webhook.
//
// Deliver is called by the delivery job outside any database transaction
// (an SMTP server or SMS gateway must not hold the database), and the
// message is marked delivered only after it returns nil. A crash between the
// two makes the job run again, so a channel that sends outside the platform
// delivers at least once and should pass Message.ID as its idempotency key
// where the other side takes one. An error is retried with backoff; wrap it
// in Permanent when retrying cannot help (no email address on file).
type Channel interface {
	// Name is the channel's name in Message.Channel, such as "email".
	Name() string
	Deliver(ctx context.Context, m Message) error
}

// InApp is the platform's own inbox. Its delivery is the job marking the
// message delivered, in the transaction that completes the job: from then on
// the inbox shows it, and it is shown once however often the job is retried.
// There is nothing further to send.
type InApp struct{}

// Name is ChannelInApp.
func (InApp) Name() string { return ChannelInApp }

// Deliver has nothing to do: the inbox lists delivered in-app messages.
func (InApp) Deliver(context.Context, Message) error { return nil }

// Permanent marks a delivery error that retrying cannot fix: the message is
// marked failed at once.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Worker is the delivery job's worker. Register it with jobs.Register on
// every process that works jobs.
type Worker struct {
	river.WorkerDefaults[DeliverArgs]
	db       *store.DB
	channels map[string]Channel
	now      func() time.Time
	backoff  func(attempt int) time.Duration // nil: River's attempt⁴ seconds
}

// NewWorker returns the worker delivering through channels; pass InApp{}
// and whatever other channels this deployment has.
func NewWorker(db *store.DB, channels ...Channel) *Worker {
	w := &Worker{db: db, channels: map[string]Channel{}, now: func() time.Time { return time.Now().UTC() }}
	for _, c := range channels {
		w.channels[c.Name()] = c
	}
	return w
}

// RetryAfter replaces River's backoff (attempt⁴ seconds) between attempts;
// tests use a short one so that retries and dead letters show in seconds.
func (w *Worker) RetryAfter(backoff func(attempt int) time.Duration) *Worker {
	w.backoff = backoff
	return w
}

// NextRetry schedules the next attempt after a failed one.
func (w *Worker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	if w.backoff == nil {
		return time.Time{}
	}
	return w.now().Add(w.backoff(job.Attempt))
}

// Work delivers one message. A message already delivered or failed (a job
// run again after a crash) completes without a second delivery.
func (w *Worker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	m, err := load(ctx, w.db, job.Args.MessageID)
	if errors.Is(err, sql.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("outbox message %d does not exist", job.Args.MessageID))
	}
	if err != nil {
		return err
	}
	if m.Status != StatusPending {
		return w.db.InTx(ctx, func(tx *sql.Tx) error { return jobs.CompleteTx(ctx, tx, job) })
	}
	ch, ok := w.channels[m.Channel]
	if !ok {
		return w.fail(ctx, job, m, permanentError{fmt.Errorf("no %s channel is configured on this platform", m.Channel)})
	}
	if err := ch.Deliver(ctx, m); err != nil {
		return w.fail(ctx, job, m, err)
	}
	return w.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox_messages SET status = $1, delivered_at = $2, attempts = attempts + 1
			WHERE id = $3 AND status = $4`, StatusDelivered, w.now(), m.ID, StatusPending); err != nil {
			return fmt.Errorf("mark message %d delivered: %w", m.ID, err)
		}
		if err := w.logAttempt(ctx, tx, m, ""); err != nil {
			return err
		}
		return jobs.CompleteTx(ctx, tx, job)
	})
}

// fail records a failed attempt. The message is failed for good when the
// error is permanent or this was the last attempt; otherwise the job is
// retried.
func (w *Worker) fail(ctx context.Context, job *river.Job[DeliverArgs], m Message, cause error) error {
	var perm permanentError
	final := errors.As(cause, &perm) || job.Attempt >= job.MaxAttempts
	status := StatusPending
	if final {
		status = StatusFailed
	}
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	err := w.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox_messages SET status = $1, attempts = attempts + 1, last_error = $2
			WHERE id = $3 AND status = $4`, status, msg, m.ID, StatusPending); err != nil {
			return err
		}
		if err := w.logAttempt(ctx, tx, m, msg); err != nil {
			return err
		}
		if final {
			return jobs.CompleteTx(ctx, tx, job)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record failed delivery of message %d: %w (delivery: %v)", m.ID, err, cause)
	}
	if final {
		return nil
	}
	return fmt.Errorf("deliver %s message %d by %s: %w", m.Kind, m.ID, m.Channel, cause)
}

// logAttempt writes one attempt of m to the delivery log; failure is its
// error, empty for a success.
func (w *Worker) logAttempt(ctx context.Context, tx *sql.Tx, m Message, failure string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox_attempts (message_id, attempt, at, ok, error) VALUES ($1, $2, $3, $4, $5)`,
		m.ID, m.Attempts+1, w.now(), failure == "", failure)
	if err != nil {
		return fmt.Errorf("log delivery attempt of message %d: %w", m.ID, err)
	}
	return nil
}

const columns = `id, account_id, person_id, kind, channel, title_zh, title_en, body_zh, body_en, link, application_id,
	source_id, target, status, attempts, created_at, delivered_at, read_at`

func scanMessage(row store.Scanner) (Message, error) {
	var m Message
	var account, person, application, source sql.NullInt64
	var delivered, read sql.NullTime
	var kind string
	err := row.Scan(&m.ID, &account, &person, &kind, &m.Channel, &m.TitleZh, &m.TitleEn, &m.BodyZh, &m.BodyEn, &m.Link, &application,
		&source, &m.Target, &m.Status, &m.Attempts, &m.CreatedAt, &delivered, &read)
	if err != nil {
		return m, err
	}
	m.Kind = Kind(kind)
	m.AccountID, m.PersonID, m.ApplicationID, m.SourceID = account.Int64, person.Int64, application.Int64, source.Int64
	if delivered.Valid {
		m.DeliveredAt = &delivered.Time
	}
	if read.Valid {
		m.ReadAt = &read.Time
	}
	return m, nil
}

func load(ctx context.Context, db *store.DB, id int64) (Message, error) {
	return scanMessage(db.QueryRowContext(ctx, `SELECT `+columns+` FROM outbox_messages WHERE id = $1`, id))
}
