package application

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/store"
)

// An Idempotency-Key makes a retried request safe: the first request with a
// key does the work and remembers which application it made or submitted;
// every retry with the same key gets that application, however often it
// comes and whichever process answers it. A key is the caller's, per account.

// maxKey bounds an Idempotency-Key, as UUIDs and similar need far less.
const maxKey = 200

// errKeyTaken: a concurrent request with the same key committed first.
var errKeyTaken = errors.New("idempotency key taken by a concurrent request")

func requestDigest(request any) string {
	b, _ := json.Marshal(request)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func checkKey(key string) error {
	if len(key) > maxKey || strings.TrimSpace(key) != key {
		return apperr.New(apperr.Invalid, apperr.BadIdempotencyKey, "an Idempotency-Key has at most %d characters and no surrounding spaces", maxKey)
	}
	return nil
}

// remembered looks a key up: the application it made, if it was used.
func (s *core) remembered(ctx context.Context, p authz.Principal, key, operation string, request any) (int64, bool, error) {
	return s.lookupKey(ctx, s.db, p, key, operation, request)
}

// rememberedTx is remembered inside a transaction.
func (s *core) rememberedTx(ctx context.Context, tx *sql.Tx, p authz.Principal, key, operation string, request any) (int64, bool, error) {
	return s.lookupKey(ctx, tx, p, key, operation, request)
}

func (s *core) lookupKey(ctx context.Context, q store.Querier, p authz.Principal, key, operation string, request any) (int64, bool, error) {
	if err := checkKey(key); err != nil {
		return 0, false, err
	}
	var id int64
	var op, digest string
	err := q.QueryRowContext(ctx, `SELECT application_id, operation, request_digest FROM idempotency_keys WHERE account_id = $1 AND key = $2`, p.AccountID, key).
		Scan(&id, &op, &digest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case op != operation || digest != requestDigest(request):
		return 0, false, apperr.New(apperr.Conflict, apperr.IdempotencyKeyReused,
			"the Idempotency-Key %q was already used for a different request (%s of application %d): use a new key for a new request", key, op, id)
	}
	return id, true, nil
}

// remember records a key's application inside the transaction that did the
// work, so the two commit together. A concurrent request that used the key
// first makes it return errKeyTaken, and the caller rolls back.
func (s *core) remember(ctx context.Context, tx *sql.Tx, p authz.Principal, key, operation string, request any, applicationID int64) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (account_id, key, operation, request_digest, application_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, key) DO NOTHING`, p.AccountID, key, operation, requestDigest(request), applicationID, s.now())
	if err != nil {
		return fmt.Errorf("remember the idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errKeyTaken
	}
	return nil
}
