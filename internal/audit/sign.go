package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"yiwang/internal/store"
)

// KeyName is the name the platform's audit key is kept under among the seal
// keys; it cannot be a department's code (those are lower-case letters).
const KeyName = "_audit"

// Keys signs with the platform's audit key and checks signatures by key id
// (*seal.Keyring).
type Keys interface {
	SignAs(ctx context.Context, tx *sql.Tx, owner string, message []byte) (keyID, signature string, err error)
	VerifyWith(ctx context.Context, keyID string, message []byte, signature string) (bool, error)
}

// Head is a signed head of the chain: the sequence number and hash of the
// newest entry when it was signed.
type Head struct {
	Seq       int64  `json:"seq"`
	Hash      string `json:"hash"`
	SignedAt  string `json:"signed_at"`
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"`
}

// Message is what the key signs.
func (h Head) Message() []byte {
	return []byte("yiwang-audit-head-v1\n" + strconv.FormatInt(h.Seq, 10) + "\n" + h.Hash + "\n" + h.SignedAt)
}

// Sign chains what is pending and signs the head of the chain, unless it is
// signed already; it returns the newest signed head and whether it made it.
// An empty chain has nothing to sign (Seq 0).
func Sign(ctx context.Context, db *store.DB, keys Keys) (Head, bool, error) {
	if _, err := Chain(ctx, db); err != nil {
		return Head{}, false, err
	}
	var h Head
	made := false
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		seq, hash, err := head(ctx, tx)
		if err != nil || seq == 0 {
			return err
		}
		last, err := lastHead(ctx, tx)
		if err != nil {
			return err
		}
		if last.Seq >= seq {
			h = last
			return nil
		}
		h = Head{Seq: seq, Hash: hash, SignedAt: time.Now().UTC().Format(TimeFormat)}
		if h.KeyID, h.Signature, err = keys.SignAs(ctx, tx, KeyName, h.Message()); err != nil {
			return fmt.Errorf("sign the audit head: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO audit_heads (seq, hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (seq) DO NOTHING`, h.Seq, h.Hash, h.SignedAt, h.KeyID, h.Signature)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		made = n == 1
		return err
	})
	return h, made, err
}

func lastHead(ctx context.Context, q store.Querier) (Head, error) {
	var h Head
	err := q.QueryRowContext(ctx, `SELECT seq, hash, signed_at, key_id, signature FROM audit_heads ORDER BY seq DESC LIMIT 1`).
		Scan(&h.Seq, &h.Hash, &h.SignedAt, &h.KeyID, &h.Signature)
	if errors.Is(err, sql.ErrNoRows) {
		return Head{}, nil
	}
	return h, err
}

func heads(ctx context.Context, q store.Querier) ([]Head, error) {
	return store.All(ctx, q, func(row store.Scanner) (Head, error) {
		var h Head
		return h, row.Scan(&h.Seq, &h.Hash, &h.SignedAt, &h.KeyID, &h.Signature)
	}, `SELECT seq, hash, signed_at, key_id, signature FROM audit_heads ORDER BY seq`)
}

// How often serve chains new entries and signs a head that moved. An entry
// is unchained for about ChainEvery after its commit, and unsigned for up to
// SignEvery: the window docs/SECURITY.md describes.
const (
	ChainEvery = time.Second
	SignEvery  = time.Minute
)

// Run chains every ChainEvery and signs every SignEvery until ctx ends.
// Every process runs it; chaining and signing are idempotent and take turns
// through the database, so it needs no leader.
func Run(ctx context.Context, db *store.DB, keys Keys, logger *slog.Logger) {
	chain := time.NewTicker(ChainEvery)
	defer chain.Stop()
	sign := time.NewTicker(SignEvery)
	defer sign.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-chain.C:
			if _, err := Chain(ctx, db); err != nil && ctx.Err() == nil {
				logger.Error("audit: chaining failed", "err", err)
			}
		case <-sign.C:
			if _, _, err := Sign(ctx, db, keys); err != nil && ctx.Err() == nil {
				logger.Error("audit: signing the head failed", "err", err)
			}
		}
	}
}
