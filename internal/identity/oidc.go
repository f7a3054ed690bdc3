package identity

import (
	"context"
	"database/sql"
	"errors"
	"net/http"

	"yiwang/internal/apperr"
	"yiwang/internal/oidc"
)

// OIDCAccounts signs people in for the unified identity platform: it links
// the platform's (issuer, subject) to an account, creating a person account
// on first sign-in when the platform vouches for an ID number.
type OIDCAccounts struct {
	Store  *Store
	Secure bool
}

// SignIn implements oidc.Accounts.
func (o OIDCAccounts) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, id oidc.Identity) (string, error) {
	s := o.Store
	level := min(max(id.RealNameLevel, 2), 3) // the platform checked the identity: at least level 2
	var accountID int64
	err := s.db.QueryRowContext(ctx, `SELECT account_id FROM oidc_links WHERE issuer = $1 AND subject = $2`, id.Issuer, id.Subject).Scan(&accountID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if id.IDNumber == "" {
			return "", apperr.New(apperr.Forbidden, apperr.OIDCNoIDNumber, "the identity platform did not share your ID number, which this site needs to know who you are; allow it to, or register here")
		}
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			personID, err := s.PutPerson(ctx, tx, id.IDNumber, id.Name, "")
			if err != nil {
				return err
			}
			err = tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE person_id = $1`, personID).Scan(&accountID)
			if errors.Is(err, sql.ErrNoRows) {
				err = tx.QueryRowContext(ctx, `INSERT INTO accounts (kind, person_id, display_name, real_name_level, created_at, updated_at)
					VALUES ('person', $1, $2, $3, $4, $4) RETURNING id`, personID, id.Name, level, s.now()).Scan(&accountID)
				if err == nil {
					_, err = tx.ExecContext(ctx, `INSERT INTO account_roles (account_id, role, granted_at) VALUES ($1, 'applicant', $2)`, accountID, s.now())
				}
			}
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO oidc_links (issuer, subject, account_id, linked_at) VALUES ($1, $2, $3, $4)`, id.Issuer, id.Subject, accountID, s.now())
			return err
		})
		if err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE accounts SET real_name_level = $1, updated_at = $2 WHERE id = $3 AND real_name_level < $1`, level, s.now(), accountID); err != nil {
		return "", err
	}
	s.forgetAccount(accountID) // its other sessions show the level raised
	if old, err := r.Cookie(SessionCookie); err == nil {
		s.EndSession(ctx, old.Value)
	}
	if err := RecordSignIn(ctx, s.db, accountID, "", "oidc", nil); err != nil {
		return "", err
	}
	sess, err := s.StartSession(ctx, accountID)
	if err != nil {
		return "", err
	}
	setSessionCookie(w, sess.Token, o.Secure)
	return "", nil
}
