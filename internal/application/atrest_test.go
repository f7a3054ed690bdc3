package application_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"yiwang/internal/application"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// sealed are the columns the application store keeps sealed.
var sealed = []struct{ table, column string }{
	{"applications", "answers"}, {"applications", "form"}, {"applications", "provenance"}, {"applications", "materials"},
	{"applications", "mismatches"}, {"decisions", "record"}, {"application_events", "note"}, {"application_events", "details"},
}

// columnValues reads one column of every row of a table, by id.
func columnValues(t *testing.T, db *store.DB, table, column string) map[int64]string {
	t.Helper()
	type row struct {
		id    int64
		value string
	}
	rows, err := store.All(context.Background(), db, func(r store.Scanner) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.value)
	}, fmt.Sprintf(`SELECT id, %s FROM %s`, column, table))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, r := range rows {
		out[r.id] = r.value
	}
	return out
}

// TestPersonalDataIsSealedAndOldRowsAreSealedOnStart: an approved
// application's form, sources, decision record and timeline are stored
// sealed (the applicant's ID number appears nowhere); rows an earlier
// version left in plaintext are sealed by SealPlaintext, read back the
// same, and a second run finds nothing left.
func TestPersonalDataIsSealedAndOldRowsAreSealedOnStart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Drafts.Withdraw(ctx, f.p, a.ID, 0, "电话13912345678联系我"); err != nil {
			t.Fatal(err)
		}
		if b := submitSeniorCard(t, f); b.Decision == nil {
			t.Fatalf("no machine decision: %+v", b)
		}
		want, err := f.apps.Drafts.Get(ctx, f.p, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		plaintexts := 0
		for _, c := range sealed {
			values := columnValues(t, db, c.table, c.column)
			if len(values) == 0 {
				t.Fatalf("no rows in %s", c.table)
			}
			for id, v := range values {
				if !strings.HasPrefix(v, "v1:") || strings.Contains(v, f.idNum) || strings.Contains(v, "13912345678") {
					t.Errorf("%s.%s of row %d is not sealed: %.60s", c.table, c.column, id, v)
				}
				// What an earlier version stored: the plaintext.
				plain, err := f.pii.OpenFor(v, c.table+"."+c.column)
				if err != nil {
					t.Fatalf("%s.%s: %v", c.table, c.column, err)
				}
				if _, err := db.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE id = $2`, c.table, c.column), plain, id); err != nil {
					t.Fatal(err)
				}
				plaintexts++
			}
		}
		n, err := application.SealPlaintext(ctx, db, f.pii)
		if err != nil || n != plaintexts {
			t.Fatalf("SealPlaintext = %d, %v; want %d", n, err, plaintexts)
		}
		for _, c := range sealed {
			for id, v := range columnValues(t, db, c.table, c.column) {
				if !strings.HasPrefix(v, "v1:") {
					t.Errorf("%s.%s of row %d is left in plaintext", c.table, c.column, id)
				}
			}
		}
		got, err := f.apps.Drafts.Get(ctx, f.p, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Form, want.Form) || !reflect.DeepEqual(got.Provenance, want.Provenance) || !reflect.DeepEqual(got.Timeline, want.Timeline) {
			t.Errorf("after sealing the application reads\n%+v\nbefore\n%+v", got, want)
		}
		if n, err := application.SealPlaintext(ctx, db, f.pii); err != nil || n != 0 {
			t.Errorf("a second run sealed %d, %v; want 0", n, err)
		}
		var done int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = 'pii_sealed_at_rest'`).Scan(&done); err != nil || done != 1 {
			t.Errorf("a finished pass is not on record (%d, %v): every start would read the columns in full again", done, err)
		}
	})
}
