package pii

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"yiwang/internal/apperr"
)

// FingerprintSetting is the settings row that holds the data key's
// fingerprint.
const FingerprintSetting = "data_key_fingerprint"

// Fingerprint identifies the master key: an HMAC-SHA256 of a fixed label
// under a subkey derived for this purpose alone, hex-encoded. Equal keys give
// equal fingerprints; the fingerprint reveals neither the key nor the subkeys
// that seal and index, so it may be stored beside the data.
func (p *Protector) Fingerprint() string { return p.fingerprint }

// CheckFingerprint makes sure the database is used with one data key only.
// The first process to start stores p's fingerprint; every later one must
// present the same key, or gets PIIKeyMismatch before it writes anything:
// with another key it could read none of the sealed data and would seal new
// data no other process can read.
func CheckFingerprint(ctx context.Context, db *sql.DB, p *Protector) error {
	if _, err := db.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
		FingerprintSetting, p.fingerprint, time.Now().UTC()); err != nil {
		return fmt.Errorf("store the data key's fingerprint: %w", err)
	}
	var stored string
	if err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, FingerprintSetting).Scan(&stored); err != nil {
		return fmt.Errorf("read the data key's fingerprint: %w", err)
	}
	if stored != p.fingerprint {
		return apperr.New(apperr.Conflict, apperr.PIIKeyMismatch,
			"the data key (--data-key or YIWANG_DATA_KEY) does not match the one this database was set up with: start with the original key")
	}
	return nil
}
