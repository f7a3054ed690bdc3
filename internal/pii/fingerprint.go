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
				return mismatch()
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
		return mismatch()
	}
	return nil
}

func storedFingerprint(ctx context.Context, db *sql.DB) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, FingerprintSetting).Scan(&v)
	return v, err
}

func mismatch() error {
	return apperr.New(apperr.Conflict, apperr.PIIKeyMismatch,
		"the data key (--data-key or YIWANG_DATA_KEY) does not match the one this database was set up with: start with the original key")
}
