package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestUpgradeKeepsRatings: a rating as release 27 kept it (one per
// application, by its account) is kept by migration 28 as the applicant's
// online rating, with the item's department; a co-party may now rate the
// same application, the applicant still only once.
func TestUpgradeKeepsRatings(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dsn, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := store.MigrateTo(ctx, db, 27); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		for _, q := range []string{
			`INSERT INTO regions (code, level, name_zh, name_en) VALUES ('910102', 'district', '明德区', 'Mingde')`,
			`INSERT INTO departments (code, region_code, name_zh, name_en, created_at) VALUES ('civil', '910102', '民政局', 'Civil Affairs', $1)`,
			`INSERT INTO catalog_items (code, department_code, created_at, updated_at) VALUES ('I-1', 'civil', $1, $1)`,
			`INSERT INTO catalog_versions (item_code, version, status, content_hash, content_json, source_yaml, source_file, name_zh, name_en, kind, approval_mode, imported_by, imported_at)
				VALUES ('I-1', 1, 'draft', 'h', '{}', '', 'x.yaml', '事项', 'Item', 'public_service', 'manual', 'test', $1)`,
			`INSERT INTO persons (id_number_enc, id_number_idx, name, birth_date, sex, created_at) VALUES ('v1:x', 'idx1', 'v1:n', '1980-01-01', 'male', $1)`,
			`INSERT INTO persons (id_number_enc, id_number_idx, name, birth_date, sex, created_at) VALUES ('v1:y', 'idx2', 'v1:m', '1980-01-02', 'female', $1)`,
			`INSERT INTO accounts (kind, person_id, display_name, created_at, updated_at) SELECT 'person', id, '某某', $1, $1 FROM persons WHERE id_number_idx = 'idx1'`,
			`INSERT INTO applications (item_code, version_id, account_id, person_id, status, answers, form, provenance, materials, consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, updated_at)
				SELECT 'I-1', v.id, a.id, a.person_id, 'approved', '{}', '{}', '{}', '[]', 0, 0, 0, 0, 0, $1, $1 FROM catalog_versions v, accounts a`,
			`INSERT INTO ratings (application_id, account_id, item_code, stars, comment, created_at) SELECT id, account_id, item_code, 2, '太慢', $1 FROM applications`,
		} {
			var args []any
			if strings.Contains(q, "$1") {
				args = []any{now}
			}
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		var app, person int64
		var department, channel, comment string
		var changes int
		err = db.QueryRowContext(ctx, `SELECT r.application_id, r.person_id, r.department_code, r.channel, r.changes, r.comment FROM ratings r JOIN applications a ON a.id = r.application_id AND a.person_id = r.person_id`).
			Scan(&app, &person, &department, &channel, &changes, &comment)
		if err != nil || department != "civil" || channel != "online" || changes != 0 || comment != "太慢" {
			t.Fatalf("after the upgrade the rating is %s, %s, %d changes, %q (%v); want the applicant's online rating of civil's item, its comment kept", department, channel, changes, comment, err)
		}
		insert := func(personIdx string) error {
			_, err := db.ExecContext(ctx, `INSERT INTO ratings (application_id, person_id, item_code, department_code, stars, channel, created_at, updated_at)
				SELECT $1, id, 'I-1', 'civil', 5, 'window', $2, $2 FROM persons WHERE id_number_idx = $3`, app, now, personIdx)
			return err
		}
		if err := insert("idx2"); err != nil {
			t.Errorf("a co-party's rating of the same application: %v", err)
		}
		if err := insert("idx1"); err == nil {
			t.Error("a second rating of the applicant was stored, want refused by the unique key")
		}
	})
}
