package pii

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"yiwang/internal/apperr"
)

// FingerprintSetting is the settings row that holds the data key's
// fingerprint.
const FingerprintSetting = "data_key_fingerprint"

// personsIDNumber is the context internal/identity seals ID numbers for;
// CheckFingerprint opens one to try a key on a database from before
// fingerprints.
const personsIDNumber = "persons.id_number"

// Fingerprint identifies the master key: an HMAC-SHA256 of a fixed label
// under a subkey derived for this purpose alone, hex-encoded. Equal keys give
// equal fingerprints; the fingerprint reveals neither the key nor the subkeys
// that seal and index, so it may be stored beside the data.
func (p *Protector) Fingerprint() string { return p.fingerprint }

// CheckFingerprint makes sure the database is used with one data key only.
// The first process to start stores p's fingerprint; every later one must
// present the same key, or gets PIIKeyMismatch before it writes anything:
// with another key it could read none of the sealed data and would seal new
// data no other process can read. A database that holds people but no
// fingerprint yet (set up by an earlier version) takes p's only if p opens
// the first person's sealed ID number.
func CheckFingerprint(ctx context.Context, db *sql.DB, p *Protector) error {
	stored, err := storedFingerprint(ctx, db)
	if errors.Is(err, sql.ErrNoRows) {
		var sealed string
		switch err := db.QueryRowContext(ctx, `SELECT id_number_enc FROM persons ORDER BY id LIMIT 1`).Scan(&sealed); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("try the data key: %w", err)
		default:
			if _, err := p.OpenFor(sealed, personsIDNumber); err != nil {
				return Mismatch("this database")
			}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
			FingerprintSetting, p.fingerprint, time.Now().UTC()); err != nil {
			return fmt.Errorf("store the data key's fingerprint: %w", err)
		}
		stored, err = storedFingerprint(ctx, db) // another process may have stored its own meanwhile
	}
	if err != nil {
		return fmt.Errorf("read the data key's fingerprint: %w", err)
	}
	if stored != p.fingerprint {
		return Mismatch("this database")
	}
	return nil
}

func storedFingerprint(ctx context.Context, q querier) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, FingerprintSetting).Scan(&v)
	return v, err
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// StoredFingerprint is the fingerprint of the key the database was set up
// with, "" before any process stored one. A backup records it, read in its
// snapshot, so that a restore can refuse another key before it writes.
func StoredFingerprint(ctx context.Context, q querier) (string, error) {
	v, err := storedFingerprint(ctx, q)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// Mismatch is the error of a key that is not the database's; what names
// the other side ("this database", "the backup").
func Mismatch(what string) error {
	return apperr.New(apperr.Conflict, apperr.PIIKeyMismatch,
		"the data key (--data-key, YIWANG_DATA_KEY or data.key in --data-dir) does not match the one %s was set up with: give the original key", what)
}
