package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/store"
)

// Inbox is a page of a recipient's in-app messages, newest first.
type Inbox struct {
	Messages []Message `json:"notifications"`
	Unread   int       `json:"unread"` // over the whole inbox, not just this page
	// NextBefore is the Before that fetches the next, older page; 0 at the end.
	NextBefore int64 `json:"next_before,omitempty"`
}

// InboxQuery selects a page of the inbox.
type InboxQuery struct {
	Before     int64 // only messages with a smaller id; 0 for the newest
	Limit      int   // at most this many; 0 means 20, at most 100
	UnreadOnly bool
}

// mine is the condition for the principal's own delivered in-app messages:
// those to their account and those to their person. $1 is the account, $2
// the person (0 matches nothing: ids start at 1).
const mine = `channel = 'in_app' AND status = 'delivered' AND (account_id = $1 OR person_id = $2)`

// mineIDs selects the ids of the messages of mine that also meet and, as
// two selects — those to the account, those to the person — each read
// along its own index in id order (and, for the unread, the partial
// indexes of unread messages: migration 0019), each ended by tail. The
// OR of mine would read through neither index.
func mineIDs(and, tail string) string {
	part := func(who, name string) string {
		return `SELECT id FROM (SELECT id FROM outbox_messages WHERE ` + who + ` AND channel = 'in_app' AND status = 'delivered'` + and + tail + `) ` + name
	}
	return part("account_id = $1", "to_account") + " UNION " + part("person_id = $2", "to_person")
}

// unreadQuery counts the unread messages of account $1 and person $2.
var unreadQuery = `SELECT count(*) FROM (` + mineIDs(` AND read_at IS NULL`, "") + `) unread`

// pageQuery selects the $3 newest messages of account $1 and person $2
// that also meet and.
func pageQuery(and string) string {
	return `SELECT ` + columns + ` FROM outbox_messages WHERE id IN (` + mineIDs(and, ` ORDER BY id DESC LIMIT $3`) + `) ORDER BY id DESC LIMIT $3`
}

// Inbox returns a page of p's messages and the number unread.
func (o *Outbox) Inbox(ctx context.Context, p authz.Principal, q InboxQuery) (Inbox, error) {
	if !p.SignedIn() {
		return Inbox{}, authz.Require(p, authz.SignedIn)
	}
	switch {
	case q.Limit == 0:
		q.Limit = 20
	case q.Limit < 0 || q.Limit > 100:
		return Inbox{}, apperr.New(apperr.Invalid, apperr.BadLimit, "limit must be between 1 and 100")
	}
	if q.Before < 0 {
		return Inbox{}, apperr.New(apperr.Invalid, apperr.BadBefore, "before must be a message id")
	}
	in := Inbox{Messages: []Message{}}
	if err := o.db.QueryRowContext(ctx, unreadQuery, p.AccountID, p.PersonID).Scan(&in.Unread); err != nil {
		return Inbox{}, fmt.Errorf("notify: count unread: %w", err)
	}
	var and string
	args := []any{p.AccountID, p.PersonID, q.Limit + 1}
	if q.Before > 0 {
		and += ` AND id < $4`
		args = append(args, q.Before)
	}
	if q.UnreadOnly {
		and += ` AND read_at IS NULL`
	}
	messages, err := store.All(ctx, o.db, scanMessage, pageQuery(and), args...)
	if err != nil {
		return Inbox{}, fmt.Errorf("notify: inbox: %w", err)
	}
	in.Messages = append(in.Messages, messages...)
	if len(in.Messages) > q.Limit {
		in.Messages = in.Messages[:q.Limit]
		in.NextBefore = in.Messages[q.Limit-1].ID
	}
	return in, nil
}

// MarkRead marks p's message id read and returns it. Reading it again keeps
// the first time. Another person's message, or one not yet delivered, is
// not found.
func (o *Outbox) MarkRead(ctx context.Context, p authz.Principal, id int64) (Message, error) {
	if !p.SignedIn() {
		return Message{}, authz.Require(p, authz.SignedIn)
	}
	var m Message
	err := o.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox_messages SET read_at = $3 WHERE `+mine+` AND id = $4 AND read_at IS NULL`,
			p.AccountID, p.PersonID, o.now(), id); err != nil {
			return err
		}
		var err error
		m, err = scanMessage(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM outbox_messages WHERE `+mine+` AND id = $3`, p.AccountID, p.PersonID, id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, authz.NotYours("notification")
	}
	if err != nil {
		return Message{}, fmt.Errorf("notify: mark read: %w", err)
	}
	return m, nil
}
