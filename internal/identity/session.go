package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/store"
)

// Session lifetimes: a session ends after idleTimeout without use or
// maxSession after sign-in, whichever comes first.
const (
	idleTimeout = 2 * time.Hour
	maxSession  = 12 * time.Hour
)

// Session is a signed-in browser.
type Session struct {
	Token string // the cookie value; only its hash is stored
	CSRF  string // the token forms and API calls must echo
}

// StartSession signs accountID in and returns the new session. Signing in
// always makes a new session, so a session fixed before sign-in is useless.
func (s *Store) StartSession(ctx context.Context, accountID int64) (Session, error) {
	sess := Session{Token: newSecret("ys_"), CSRF: newSecret("")}
	now := s.now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $4)`,
		hashSecret(sess.Token), accountID, sess.CSRF, now, now.Add(maxSession))
	if err != nil {
		return Session{}, fmt.Errorf("start session: %w", err)
	}
	return sess, nil
}

// EndSession signs a session out.
func (s *Store) EndSession(ctx context.Context, token string) error {
	hash := hashSecret(token)
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
	s.principals.forget(hash)
	return err
}

// errSessionInvalid means the cookie names no live session: expired, signed
// out, or never issued.
var errSessionInvalid = errors.New("session invalid")

// SessionPrincipal returns who a session cookie belongs to and its CSRF
// token. It answers from memory what it read from the database less than
// RecheckEvery ago; the session's expiry and idle timeout are checked on
// every call all the same.
func (s *Store) SessionPrincipal(ctx context.Context, token string) (authz.Principal, string, error) {
	if !strings.HasPrefix(token, "ys_") || len(token) > 100 {
		return authz.Anonymous, "", errSessionInvalid
	}
	hash := hashSecret(token)
	now := s.now()
	e, ok := s.principals.get(hash, now)
	if !ok || sessionEnded(e, now) { // an end is confirmed in the database: another process may have used it since
		var err error
		if e, err = s.readSession(ctx, hash, now); err != nil {
			return authz.Anonymous, "", err
		}
	}
	if sessionEnded(e, now) {
		s.EndSession(ctx, token)
		return authz.Anonymous, "", errSessionInvalid
	}
	if now.Sub(e.lastSeen) > time.Minute { // touch at most once a minute
		s.principals.seen(hash, now)
		s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2`, now, hash)
	}
	return e.principal(), e.csrf, nil
}

// sessionEnded reports whether a session is past its lifetime or has been
// idle too long at now.
func sessionEnded(e remembered, now time.Time) bool {
	return now.After(e.expires) || now.Sub(e.lastSeen) > idleTimeout
}

// readSession reads a session and its principal from the database and
// remembers them. A session that has ended is returned unremembered, for
// the caller to end.
func (s *Store) readSession(ctx context.Context, hash string, now time.Time) (remembered, error) {
	gen := s.principals.generation()
	var e remembered
	var accountID int64
	var actingFor sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT account_id, csrf_token, acting_for, expires_at, last_seen_at FROM sessions WHERE token_hash = $1`, hash).
		Scan(&accountID, &e.csrf, &actingFor, &e.expires, &e.lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return e, errSessionInvalid
	}
	if err != nil || sessionEnded(e, now) {
		return e, err
	}
	a, err := s.Account(ctx, accountID)
	if err != nil {
		return e, err
	}
	if a.Disabled {
		return e, errSessionInvalid
	}
	e.p = a.principal("session")
	e.recheckAt = now.Add(s.principals.every)
	if actingFor.Valid {
		if ent, until, err := s.actingAs(ctx, e.p, actingFor.Int64); err == nil {
			e.p.ActingFor = &ent
			if !until.IsZero() && until.Before(e.recheckAt) {
				e.recheckAt = until // an authorisation ends to the second
			}
		}
	}
	s.principals.remember(hash, e, gen, now)
	return e, nil
}

// Token is an API token as listed; the secret itself is shown only once.
type Token struct {
	ID         int64              `json:"id"`
	Name       string             `json:"name"`
	AccountID  int64              `json:"account_id"`
	Scopes     []authz.Permission `json:"scopes"`
	CreatedAt  time.Time          `json:"created_at"`
	ExpiresAt  *time.Time         `json:"expires_at,omitempty"`
	RevokedAt  *time.Time         `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time         `json:"last_used_at,omitempty"`
}

// IssueToken creates an API token for a system account, limited to scopes,
// and returns its secret — stored only as a hash, so shown only now.
func (s *Store) IssueToken(ctx context.Context, accountID int64, name string, scopes []authz.Permission, expires time.Time, by int64) (string, Token, error) {
	a, err := s.Account(ctx, accountID)
	if err != nil {
		return "", Token{}, err
	}
	if a.Kind != "system" {
		return "", Token{}, apperr.New(apperr.Invalid, apperr.NotASystemAccount, "API tokens are for other systems' accounts; account %d is a %s account", accountID, a.Kind)
	}
	if len(scopes) == 0 {
		return "", Token{}, apperr.New(apperr.Invalid, apperr.ScopesRequired, "give at least one scope: %v", authz.Scopes)
	}
	var names []string
	for _, sc := range scopes {
		if !containsPerm(authz.Scopes, sc) {
			return "", Token{}, apperr.New(apperr.Invalid, apperr.UnknownScope, "%q is not a token scope; scopes are %v", sc, authz.Scopes)
		}
		names = append(names, string(sc))
	}
	if strings.TrimSpace(name) == "" {
		return "", Token{}, apperr.New(apperr.Invalid, apperr.NameRequired, "name the token after what uses it")
	}
	now := s.now()
	var exp any
	if !expires.IsZero() {
		if !expires.After(now) {
			return "", Token{}, apperr.New(apperr.Invalid, apperr.BadExpiry, "the expiry must be in the future")
		}
		exp = expires.UTC()
	}
	var by_ any
	if by != 0 {
		by_ = by
	}
	secret := newSecret("yt_")
	var id int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (name, token_hash, account_id, scopes, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			name, hashSecret(secret), accountID, strings.Join(names, " "), by_, now, exp).Scan(&id)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: adminActor(by), Action: "identity.token_issue", ObjectKind: "api_token",
			ObjectID: strconv.FormatInt(id, 10), Detail: map[string]any{"account": accountID, "scopes": names}})
	})
	if err != nil {
		return "", Token{}, err
	}
	t, err := s.tokenByID(ctx, s.db, id)
	return secret, t, err
}

func containsPerm(list []authz.Permission, p authz.Permission) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

const tokenColumns = `id, name, account_id, scopes, created_at, expires_at, revoked_at, last_used_at`

func scanToken(row store.Scanner) (Token, error) {
	var t Token
	var scopes string
	var exp, rev, used sql.NullTime
	if err := row.Scan(&t.ID, &t.Name, &t.AccountID, &scopes, &t.CreatedAt, &exp, &rev, &used); err != nil {
		return t, err
	}
	for _, sc := range strings.Fields(scopes) {
		t.Scopes = append(t.Scopes, authz.Permission(sc))
	}
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = nullTime(exp), nullTime(rev), nullTime(used)
	return t, nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}

func (s *Store) tokenByID(ctx context.Context, q store.Querier, id int64) (Token, error) {
	t, err := scanToken(q.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, apperr.New(apperr.NotFound, apperr.TokenNotFound, "no API token has the id %d", id)
	}
	return t, err
}

// Tokens lists every API token, newest first.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	out, err := store.All(ctx, s.db, scanToken, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id DESC`)
	if out == nil {
		out = []Token{}
	}
	return out, err
}

// RevokeToken stops a token working at once; by is the administrator's
// account (0: the command line).
func (s *Store) RevokeToken(ctx context.Context, id, by int64) error {
	defer s.principals.forgetWhere(func(e remembered) bool { return e.tokenID == id })
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, s.now(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := s.tokenByID(ctx, tx, id); err != nil {
				return err
			}
			return apperr.New(apperr.Conflict, apperr.AlreadyRevoked, "API token %d is already revoked", id)
		}
		return audit.Record(ctx, tx, audit.Event{Actor: adminActor(by), Action: "identity.token_revoke", ObjectKind: "api_token", ObjectID: strconv.FormatInt(id, 10)})
	})
}

// TokenPrincipal returns who an API token speaks for, or an error saying why
// the token is refused. Like SessionPrincipal it answers from memory for up
// to RecheckEvery, checking the token's expiry on every call.
func (s *Store) TokenPrincipal(ctx context.Context, secret string) (authz.Principal, error) {
	if !strings.HasPrefix(secret, "yt_") || len(secret) > 100 {
		return authz.Anonymous, errBadToken()
	}
	hash := hashSecret(secret)
	now := s.now()
	e, ok := s.principals.get(hash, now)
	if !ok {
		var err error
		if e, err = s.readToken(ctx, hash, now); err != nil {
			return authz.Anonymous, err
		}
	}
	if tokenExpired(e, now) {
		return authz.Anonymous, apperr.New(apperr.Unauthenticated, apperr.TokenExpired, "this API token expired on %s: ask for a new one", e.expires.Format("2006-01-02"))
	}
	if now.Sub(e.lastSeen) > time.Minute {
		s.principals.seen(hash, now)
		s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, now, e.tokenID)
	}
	return e.principal(), nil
}

func errBadToken() error {
	return apperr.New(apperr.Unauthenticated, apperr.BadToken, "the API token is not valid: check it was copied whole, or ask for a new one")
}

func tokenExpired(e remembered, now time.Time) bool {
	return !e.expires.IsZero() && now.After(e.expires)
}

// readToken reads an API token and its principal from the database and
// remembers them. An expired token is returned unremembered, for the caller
// to refuse.
func (s *Store) readToken(ctx context.Context, hash string, now time.Time) (remembered, error) {
	gen := s.principals.generation()
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return remembered{}, errBadToken()
	}
	if err != nil {
		return remembered{}, err
	}
	if t.RevokedAt != nil {
		return remembered{}, apperr.New(apperr.Unauthenticated, apperr.TokenRevoked, "this API token was revoked on %s: ask for a new one", t.RevokedAt.Format("2006-01-02"))
	}
	e := remembered{tokenID: t.ID}
	if t.ExpiresAt != nil {
		e.expires = *t.ExpiresAt
	}
	if t.LastUsedAt != nil {
		e.lastSeen = *t.LastUsedAt
	}
	if tokenExpired(e, now) {
		return e, nil
	}
	a, err := s.Account(ctx, t.AccountID)
	if err != nil {
		return e, err
	}
	if a.Disabled {
		return e, apperr.New(apperr.Unauthenticated, apperr.AccountDisabled, "the account this token belongs to is disabled")
	}
	e.p = a.principal("token")
	e.p.Scopes = t.Scopes
	e.recheckAt = now.Add(s.principals.every)
	s.principals.remember(hash, e, gen, now)
	return e, nil
}
