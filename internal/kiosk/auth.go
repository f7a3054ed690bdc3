// Package kiosk is the self-service terminal mode (/kiosk) of a service
// hall or street centre: large touch targets, sign-in with the ID card and
// a second factor, certificates to print, and 无房证明 applied for and
// printed on the spot. Sessions end on their own after a short inactivity.
package kiosk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/identity"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// Authenticator checks the person standing at the kiosk: the ID number is
// what the card reader read, secret the second factor. Face recognition
// (人脸识别) is a hardware integration point: a terminal with a camera
// implements Authenticator by matching the face against the card's photo
// through the identity platform; the demo uses PINs.
type Authenticator interface {
	Authenticate(ctx context.Context, idNumber, secret string) (accountID int64, err error)
}

// PINs is the PIN Authenticator: a six-digit PIN per person account, kept
// as an argon2id hash, locked for a while after repeated failures.
type PINs struct {
	db  *store.DB
	ids *identity.Store
	now func() time.Time
}

// NewPINs returns the PIN authenticator.
func NewPINs(db *store.DB, ids *identity.Store) *PINs {
	return &PINs{db: db, ids: ids, now: time.Now}
}

var pinPattern = regexp.MustCompile(`^[0-9]{6}$`)

// Lockout: after maxFailures wrong PINs in a row the PIN is locked for
// lockFor — a six-digit PIN must not be guessable by trying.
const (
	maxFailures = 5
	lockFor     = 15 * time.Minute
)

// hashInput binds the PIN to its account, and makes it long enough for the
// password hasher that stores it.
func hashInput(accountID int64, pin string) string {
	return fmt.Sprintf("kiosk-pin:%d:%s", accountID, pin)
}

// Set sets (or replaces) the kiosk PIN of a person's account.
func (p *PINs) Set(ctx context.Context, accountID int64, pin string) error {
	if !pinPattern.MatchString(pin) {
		return apperr.New(apperr.Invalid, apperr.BadPIN, "a kiosk PIN is six digits")
	}
	hash, err := identity.HashPassword(hashInput(accountID, pin))
	if err != nil {
		return err
	}
	_, err = p.db.ExecContext(ctx, `INSERT INTO kiosk_pins (account_id, pin_hash, failures, updated_at) VALUES ($1, $2, 0, $3)
		ON CONFLICT (account_id) DO UPDATE SET pin_hash = excluded.pin_hash, failures = 0, locked_until = NULL, updated_at = excluded.updated_at`,
		accountID, hash, p.now())
	return err
}

// SetFor sets the PIN of the person account of idNumber.
func (p *PINs) SetFor(ctx context.Context, idNumber, pin string) error {
	id, err := p.account(ctx, idNumber)
	if err != nil {
		return err
	}
	return p.Set(ctx, id, pin)
}

// account is the person account of idNumber.
func (p *PINs) account(ctx context.Context, idNumber string) (int64, error) {
	person, err := p.ids.PersonByIDNumber(ctx, p.ids.DB(), idNumber)
	if err != nil {
		return 0, err
	}
	var id int64
	err = p.db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE person_id = $1 AND kind = 'person' AND disabled_at IS NULL`, person.ID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, apperr.New(apperr.NotFound, apperr.NoAccount, "this person has no account")
	}
	return id, err
}

var wrongPIN = apperr.New(apperr.Unauthenticated, apperr.BadPIN, "the ID card and PIN do not match")

// refused is the one answer to a failed kiosk sign-in after a check of the
// same cost, whatever the cause: no account, no PIN, a locked PIN or a
// wrong one. The cause stays for logs.
func (p *PINs) refused(ctx context.Context, pin string, cause error) (int64, error) {
	if _, err := p.ids.Passwords().Verify(ctx, "", pin); err != nil {
		return 0, err
	}
	if cause == nil {
		return 0, wrongPIN
	}
	return 0, apperr.Wrap(cause, apperr.Unauthenticated, apperr.BadPIN, wrongPIN.Message)
}

// Authenticate implements Authenticator. Errors never say whether the
// person has an account or a PIN, nor that the PIN is locked: each answers
// the same after one PIN check (a dummy one when there is nothing to
// check). The holder is told by a notification when their PIN locks.
// Every attempt, right or refused, goes on the audit trail.
func (p *PINs) Authenticate(ctx context.Context, idNumber, pin string) (account int64, authErr error) {
	defer func() {
		authErr = identity.RecordSignIn(ctx, p.db, account, pii.MaskIDNumber(strings.TrimSpace(idNumber)), "kiosk", authErr)
	}()
	id, err := p.account(ctx, idNumber)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Invalid) {
		return p.refused(ctx, pin, nil)
	}
	if err != nil {
		return 0, err
	}
	var hash string
	err = p.db.QueryRowContext(ctx, `SELECT pin_hash FROM kiosk_pins WHERE account_id = $1`, id).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return p.refused(ctx, pin, nil)
	}
	if err != nil {
		return 0, err
	}
	failures, err := p.reserveAttempt(ctx, id)
	if e := apperr.As(err); e != nil && e.Code == apperr.PINLocked {
		return p.refused(ctx, pin, err)
	}
	if err != nil {
		return 0, err
	}
	ok, err := p.ids.Passwords().Verify(ctx, hash, hashInput(id, pin))
	if err != nil {
		return 0, err
	}
	if !ok || !pinPattern.MatchString(pin) {
		if failures == maxFailures {
			err := p.db.InTx(ctx, func(tx *sql.Tx) error {
				return p.ids.TellHolder(ctx, tx, id, "您的自助终端密码已被暂时锁定", "Your kiosk PIN is locked for a while",
					fmt.Sprintf("自助终端连续%d次输入的密码错误，密码已锁定%d分钟。如果不是您本人，请到窗口修改密码。", failures, int(lockFor/time.Minute)),
					fmt.Sprintf("After %d wrong PINs in a row at a kiosk your PIN is locked for %d minutes. If it was not you, change it at a service window.", failures, int(lockFor/time.Minute)))
			})
			if err != nil {
				return 0, err
			}
		}
		return 0, wrongPIN
	}
	_, err = p.db.ExecContext(ctx, `UPDATE kiosk_pins SET failures = 0, locked_until = NULL WHERE account_id = $1`, id)
	return id, err
}

// reserveAttempt counts an attempt as failed before its PIN is checked, in
// one statement (a right PIN resets the count), and locks the PIN with the
// attempt that reaches maxFailures: however many attempts arrive at once,
// at most maxFailures PINs are checked before the lock. It returns the
// count, this attempt included.
func (p *PINs) reserveAttempt(ctx context.Context, id int64) (int, error) {
	now := p.now()
	var failures int
	err := p.db.QueryRowContext(ctx, `UPDATE kiosk_pins SET failures = failures + 1,
			locked_until = CASE WHEN failures + 1 >= $2 THEN $3 ELSE locked_until END
		WHERE account_id = $1 AND (locked_until IS NULL OR locked_until <= $4) RETURNING failures`, id, maxFailures, now.Add(lockFor), now).Scan(&failures)
	if !errors.Is(err, sql.ErrNoRows) {
		return failures, err
	}
	var until time.Time
	if err := p.db.QueryRowContext(ctx, `SELECT locked_until FROM kiosk_pins WHERE account_id = $1`, id).Scan(&until); err != nil {
		return 0, err
	}
	return 0, apperr.New(apperr.TooMany, apperr.PINLocked, "too many wrong PINs: try again after %s, or ask at the window", until.Local().Format("15:04"))
}

// DemoPIN is the kiosk PIN of the demo people (demo mode only).
const DemoPIN = "246810"

// SeedDemo gives each demo person without a kiosk PIN the DemoPIN.
func (p *PINs) SeedDemo(ctx context.Context, idNumbers ...string) error {
	for _, n := range idNumbers {
		id, err := p.account(ctx, n)
		if err != nil {
			return fmt.Errorf("demo kiosk PIN: %w", err)
		}
		var has int
		if err := p.db.QueryRowContext(ctx, `SELECT count(*) FROM kiosk_pins WHERE account_id = $1`, id).Scan(&has); err != nil {
			return err
		}
		if has == 0 {
			if err := p.Set(ctx, id, DemoPIN); err != nil {
				return err
			}
		}
	}
	return nil
}
