package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/store"
)

// RetryFilter says which dead letters to send again: the one with ID, or
// every one of a channel, of a kind, or of both.
type RetryFilter struct {
	ID      int64  `json:"id,omitempty"`
	Channel string `json:"channel,omitempty"`
	Kind    Kind   `json:"kind,omitempty"`
}

// RetryResult is what a retry did.
type RetryResult struct {
	// Retried are the dead letters set pending again, each with a new
	// delivery job.
	Retried []int64 `json:"retried"`
	// AlreadyPending counts the deliveries asked for that a retry is still
	// sending (a button pressed twice): they are not sent a second time.
	AlreadyPending int `json:"already_pending"`
	// More is true when more dead letters match than one retry takes
	// (RetryBatch): retry again for the rest.
	More bool `json:"more"`
}

// RetryBatch is how many dead letters one retry sends again, so that its
// transaction stays short.
const RetryBatch = 500

// Retry sends dead letters again, for administrators (notify:retry): each is
// set pending and gets a new delivery job, in one transaction with its audit
// entry, exactly as a first delivery. Its earlier attempts stay in the
// delivery log and the new ones are numbered after them. Only a failed
// delivery is retried, so retrying twice never sends twice: a delivery
// still pending from the first retry is counted in AlreadyPending. A
// delivered one is a conflict; an unknown id is not found.
func (o *Outbox) Retry(ctx context.Context, p authz.Principal, f RetryFilter) (RetryResult, error) {
	if err := authz.Require(p, authz.NotifyRetry); err != nil {
		return RetryResult{}, err
	}
	switch {
	case f.ID < 0, f.ID > 0 && (f.Channel != "" || f.Kind != ""), f.ID == 0 && f.Channel == "" && f.Kind == "":
		return RetryResult{}, apperr.New(apperr.Invalid, apperr.BadRetry, "name one delivery by id, or a channel, a kind or both")
	case f.Channel != "" && !slices.Contains(channelNames, f.Channel):
		return RetryResult{}, apperr.New(apperr.Invalid, apperr.BadRetry, "channel %q is not one of %v", f.Channel, channelNames)
	case f.Kind != "" && !slices.Contains(Kinds, f.Kind):
		return RetryResult{}, apperr.New(apperr.Invalid, apperr.BadRetry, "kind %q is not one of %v", f.Kind, Kinds)
	}
	res := RetryResult{Retried: []int64{}}
	err := o.db.InTx(ctx, func(tx *sql.Tx) error {
		where, args := []string{"status = 'failed'"}, []any{}
		add := func(cond string, v any) {
			args = append(args, v)
			where = append(where, fmt.Sprintf(cond, len(args)))
		}
		if f.ID != 0 {
			add("id = $%d", f.ID)
		}
		if f.Channel != "" {
			add("channel = $%d", f.Channel)
		}
		if f.Kind != "" {
			add("kind = $%d", string(f.Kind))
		}
		cond := strings.Join(where, " AND ")
		// The status is checked again on the row itself: of two retries at
		// once, the second finds the row pending and leaves it.
		type row struct {
			id            int64
			channel, kind string
		}
		rows, err := store.All(ctx, tx, func(r store.Scanner) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.channel, &x.kind)
		}, `UPDATE outbox_messages SET status = 'pending'
			WHERE status = 'failed' AND id IN (SELECT id FROM outbox_messages WHERE `+cond+` ORDER BY id LIMIT `+strconv.Itoa(RetryBatch)+`)
			RETURNING id, channel, kind`, args...)
		if err != nil {
			return fmt.Errorf("notify: retry dead letters: %w", err)
		}
		slices.SortFunc(rows, func(a, b row) int { return int(a.id - b.id) })
		actor := audit.Person(p.Kind, p.AccountID, p.Name)
		ctx, batch := audit.Batched(ctx, tx)
		for _, x := range rows {
			if err := o.enqueue(ctx, tx, x.id); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Event{Actor: actor, Action: "notify.retry", ObjectKind: "outbox_message",
				ObjectID: strconv.FormatInt(x.id, 10), Detail: map[string]any{"channel": x.channel, "kind": x.kind}}); err != nil {
				return err
			}
			res.Retried = append(res.Retried, x.id)
		}
		if err := batch.Flush(ctx); err != nil {
			return err
		}
		if len(rows) == RetryBatch {
			var more int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox_messages WHERE `+cond, args...).Scan(&more); err != nil {
				return fmt.Errorf("notify: count dead letters: %w", err)
			}
			res.More = more > 0
		}
		if f.ID != 0 && len(rows) == 0 {
			var status string
			err := tx.QueryRowContext(ctx, `SELECT status FROM outbox_messages WHERE id = $1`, f.ID).Scan(&status)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return apperr.New(apperr.NotFound, apperr.NotificationNotFound, "no delivery %d", f.ID)
			case err != nil:
				return fmt.Errorf("notify: delivery %d: %w", f.ID, err)
			case status == StatusDelivered:
				return apperr.New(apperr.Conflict, apperr.AlreadyDelivered, "delivery %d was delivered", f.ID)
			}
			res.AlreadyPending = 1
		}
		return nil
	})
	if err != nil {
		return RetryResult{}, err
	}
	return res, nil
}
