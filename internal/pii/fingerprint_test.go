package pii_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestFingerprintIdentifiesTheKeyWithoutRevealingIt(t *testing.T) {
	k1, k2 := testKey(1), testKey(2)
	a, b, c := newProtector(t, k1).Fingerprint(), newProtector(t, k1).Fingerprint(), newProtector(t, k2).Fingerprint()
	if a != b {
		t.Errorf("one key, two fingerprints: %s %s", a, b)
	}
	if a == c {
		t.Errorf("two keys, one fingerprint %s", a)
	}
	plain := sha256.Sum256(k1[:])
	if len(a) != 64 || strings.Contains(a, hex.EncodeToString(k1[:])) || a == hex.EncodeToString(plain[:]) {
		t.Errorf("the fingerprint %s is the key or its plain hash", a)
	}
}

// TestCheckFingerprint: the first key a database meets is the one it keeps;
// the same key passes again, another is refused with pii_key_mismatch, in
// one line, and the stored fingerprint stays.
func TestCheckFingerprint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first, other := newProtector(t, testKey(1)), newProtector(t, testKey(2))
		if err := pii.CheckFingerprint(ctx, db.DB, first); err != nil {
			t.Fatalf("first start: %v", err)
		}
		if err := pii.CheckFingerprint(ctx, db.DB, first); err != nil {
			t.Fatalf("restart with the same key: %v", err)
		}
		err := pii.CheckFingerprint(ctx, db.DB, other)
		wantCode(t, "another key", err, apperr.Conflict, string(apperr.PIIKeyMismatch))
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "does not match the one this database was set up with") {
			t.Errorf("another key: %v, want one line saying the key does not match", err)
		}
		var stored string
		if err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, pii.FingerprintSetting).Scan(&stored); err != nil || stored != first.Fingerprint() {
			t.Errorf("stored fingerprint %q, %v; want the first key's", stored, err)
		}
	})
}

// TestCheckFingerprintOnAnOlderDatabase: a database with people sealed
// before fingerprints were kept takes the fingerprint of the key that opens
// them, and refuses, storing nothing, a key that does not.
func TestCheckFingerprintOnAnOlderDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first, other := newProtector(t, testKey(1)), newProtector(t, testKey(2))
		sealed, err := first.SealFor(idNumber, "persons.id_number")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO persons (id_number_enc, id_number_idx, name, birth_date, sex, created_at) VALUES ($1, $2, '张三', '1949-12-31', 'female', $3)`,
			sealed, first.Index(idNumber), time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "another key", pii.CheckFingerprint(ctx, db.DB, other), apperr.Conflict, string(apperr.PIIKeyMismatch))
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = $1`, pii.FingerprintSetting).Scan(&n); err != nil || n != 0 {
			t.Errorf("a refused key left %d fingerprint(s), %v", n, err)
		}
		if err := pii.CheckFingerprint(ctx, db.DB, first); err != nil {
			t.Errorf("the key that sealed the people: %v", err)
		}
		wantCode(t, "another key afterwards", pii.CheckFingerprint(ctx, db.DB, other), apperr.Conflict, string(apperr.PIIKeyMismatch))
	})
}
