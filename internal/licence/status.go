package licence

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"yiwang/internal/audit"
	"yiwang/internal/store"
)

// Tampered is the verification result of a licence whose stored status is
// not the one its issuer signed: someone changed the record in the database.
const Tampered = "record_tampered"

// statusMessage is what a licence's status signature covers: its number,
// its status and when the status was set, so that neither an old status nor
// another licence's signature can stand in for it.
func statusMessage(number, status, at string) []byte {
	return []byte("yiwang-licence-status-v1\n" + number + "\n" + status + "\n" + at)
}

// statusChange is a licence's status as set, to be signed.
type statusChange struct {
	id     int64
	number string
	keyID  string // the issuing department's key in use if known ("": look it up)
	status string
	at     time.Time
}

// signStatus signs c with the issuing department's key in use, inside the
// transaction that sets the status, and puts the change on the audit trail
// as action.
func (s *Service) signStatus(ctx context.Context, tx *sql.Tx, c statusChange, action, by string) error {
	at := c.at.UTC().Format(audit.TimeFormat)
	msg := statusMessage(c.number, c.status, at)
	var sig string
	var err error
	if c.keyID != "" {
		sig, err = s.keys.Sign(ctx, tx, c.keyID, msg)
	} else {
		var issuer string
		if err = tx.QueryRowContext(ctx, `SELECT issuer FROM licences WHERE id = $1`, c.id).Scan(&issuer); err == nil {
			c.keyID, sig, err = s.keys.SignAs(ctx, tx, issuer, msg)
		}
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE licences SET status_at = $1, status_key_id = $2, status_signature = $3 WHERE id = $4`, at, c.keyID, sig, c.id); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{Actor: audit.ParseActor(by), Action: action, ObjectKind: "licence", ObjectID: c.number,
		Detail: map[string]any{"status": c.status}, At: c.at})
}

// statusSigned reports whether the stored status of licence number is the
// one its issuer signed.
func (s *Service) statusSigned(ctx context.Context, q store.Querier, number string) (bool, error) {
	var status, at, keyID, sig string
	err := q.QueryRowContext(ctx, `SELECT status, status_at, status_key_id, status_signature FROM licences WHERE number = $1`, number).Scan(&status, &at, &keyID, &sig)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil || sig == "" {
		return false, err
	}
	return s.keys.VerifyWith(ctx, keyID, statusMessage(number, status, at), sig)
}

// SignUnsignedStatuses signs, once, the status of the licences issued
// before statuses were signed (serve calls it at start) and returns how many
// it signed. It trusts the status they have then. The audit entry
// licence.statuses_signed marks it done — deleting that entry breaks the
// audit chain — so a signature blanked later is never signed again and
// such a licence stays "tampered".
func (s *Service) SignUnsignedStatuses(ctx context.Context) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var done int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_entries WHERE action = 'licence.statuses_signed'`).Scan(&done); err != nil || done > 0 {
			return err
		}
		rows, err := store.All(ctx, tx, func(row store.Scanner) (statusChange, error) {
			var c statusChange
			var revoked sql.NullTime
			err := row.Scan(&c.id, &c.number, &c.status, &c.at, &revoked)
			if revoked.Valid {
				c.at = revoked.Time
			}
			return c, err
		}, `SELECT id, number, status, issued_at, revoked_at FROM licences WHERE status_signature = '' ORDER BY id`)
		if err != nil {
			return err
		}
		for _, c := range rows {
			if err := s.signStatus(ctx, tx, c, "licence.status_signed", "system:upgrade"); err != nil {
				return err
			}
		}
		n = len(rows)
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Automatic(audit.System, "upgrade"), Action: "licence.statuses_signed",
			ObjectKind: "licences", ObjectID: "*", Detail: map[string]any{"signed": n}})
	})
	return n, err
}
