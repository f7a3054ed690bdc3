package store_test

import (
	"context"
	"testing"
	"time"

	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestUpgradeKeepsLicencesAndTheirShares: a database as release 20 left it,
// with a revoked licence and a share link to it, is migrated to the newest
// schema (migration 21 rebuilds the licences table on SQLite, to allow the
// statuses cancelled and superseded): the licence keeps its revocation as
// its end of force, the share link still points to it, and no reference is
// broken.
func TestUpgradeKeepsLicencesAndTheirShares(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dsn, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := store.MigrateTo(ctx, db, 20); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO licence_types (code, name_zh, name_en, issuer, holder) VALUES ('permit', '许可证', 'Permit', 'civil', 'person')`, nil},
			{`INSERT INTO seal_keys (id, department, public_key, private_key, created_at) VALUES ('k1', 'civil', 'pub', 'priv', $1)`, []any{now}},
			{`INSERT INTO licences (number, type, issuer, holder_kind, holder_idx, content, digest, signature, key_id, issued_by, issued_at, status, revoked_at, revoke_reason, revoked_by)
				VALUES ('N-1', 'permit', 'civil', 'person', 'idx', '{}', 'd', 's', 'k1', 'machine', $1, 'revoked', $1, '以欺骗手段取得', 'staff:7')`, []any{now}},
			{`INSERT INTO licence_shares (licence_id, token_hash, recipient, purpose, created_by, created_at, expires_at)
				SELECT id, 'h', '示范银行', '贷款审批', 1, $1, $1 FROM licences WHERE number = 'N-1'`, []any{now}},
		} {
			if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		var status, reason, by string
		var id, shared int64
		if err := db.QueryRowContext(ctx, `SELECT id, status, end_reason, ended_by FROM licences WHERE number = 'N-1'`).Scan(&id, &status, &reason, &by); err != nil {
			t.Fatal(err)
		}
		if status != "revoked" || reason != "以欺骗手段取得" || by != "staff:7" {
			t.Errorf("after the upgrade the licence is %s, %q by %q; want revoked with its reason and who", status, reason, by)
		}
		if err := db.QueryRowContext(ctx, `SELECT licence_id FROM licence_shares WHERE token_hash = 'h'`).Scan(&shared); err != nil || shared != id {
			t.Errorf("the share link points to licence %d (%v), want %d", shared, err, id)
		}
		if db.Backend == store.SQLite {
			rows, err := db.QueryContext(ctx, `PRAGMA foreign_key_check`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			if rows.Next() {
				t.Error("the upgrade left a broken reference")
			}
		}
	})
}
