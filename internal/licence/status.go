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

// signedStatus signs a licence's status as set at at with the key keyID,
// returning the time as stored and the signature.
func (s *Service) signedStatus(ctx context.Context, tx *sql.Tx, keyID, number, status string, at time.Time) (stored, signature string, err error) {
	stored = at.UTC().Format(audit.TimeFormat)
	signature, err = s.keys.Sign(ctx, tx, keyID, statusMessage(number, status, stored))
	return stored, signature, err
}

// auditStatus puts a licence's change of status on the audit trail.
func auditStatus(ctx context.Context, tx *sql.Tx, number, status string, at time.Time, action, by string) error {
	return audit.Record(ctx, tx, audit.Event{Actor: audit.ParseActor(by), Action: action, ObjectKind: "licence", ObjectID: number,
		Detail: map[string]any{"status": status}, At: at})
}

// signStatus signs licence id's status as it is set now with its issuing
// department's key in use, inside the transaction that sets it, and puts
// the change on the audit trail as action.
func (s *Service) signStatus(ctx context.Context, tx *sql.Tx, id int64, status string, at time.Time, action, by string) error {
	var number, issuer string
	if err := tx.QueryRowContext(ctx, `SELECT number, issuer FROM licences WHERE id = $1`, id).Scan(&number, &issuer); err != nil {
		return err
	}
	keyID, err := s.keys.ActiveTx(ctx, tx, issuer)
	if err != nil {
		return err
	}
	stored, sig, err := s.signedStatus(ctx, tx, keyID, number, status, at)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE licences SET status_at = $1, status_key_id = $2, status_signature = $3 WHERE id = $4`, stored, keyID, sig, id); err != nil {
		return err
	}
	return auditStatus(ctx, tx, number, status, at, action, by)
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
		type unsigned struct {
			id     int64
			status string
			at     time.Time
		}
		rows, err := store.All(ctx, tx, func(row store.Scanner) (unsigned, error) {
			var u unsigned
			var revoked sql.NullTime
			err := row.Scan(&u.id, &u.status, &u.at, &revoked)
			if revoked.Valid {
				u.at = revoked.Time
			}
			return u, err
		}, `SELECT id, status, issued_at, ended_at FROM licences WHERE status_signature = '' ORDER BY id`)
		if err != nil {
			return err
		}
		for _, u := range rows {
			if err := s.signStatus(ctx, tx, u.id, u.status, u.at, "licence.status_signed", "system:upgrade"); err != nil {
				return err
			}
		}
		n = len(rows)
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Automatic(audit.System, "upgrade"), Action: "licence.statuses_signed",
			ObjectKind: "licences", ObjectID: "*", Detail: map[string]any{"signed": n}})
	})
	return n, err
}
