package licence_test

import (
	"context"
	"testing"

	"yiwang/internal/licence"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestStatusSetBackInTheDatabaseIsTampering revokes a licence, then sets it
// back to valid directly in the database, as someone with access to it
// might: verification says the record was tampered with, by number and by
// file, not "valid". A status signature copied from another licence does
// not pass either.
func TestStatusSetBackInTheDatabaseIsTampering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		l := f.issue(t, businessLicence(creditCode(t, "92910102MA0000001")))
		other := f.issue(t, businessLicence(creditCode(t, "92910102MA0000002")))
		if v, err := f.svc.VerifyNumber(ctx, l.Content.Number); err != nil || v.Result != licence.Valid {
			t.Fatalf("freshly issued: %+v, %v", v, err)
		}
		if _, err := f.svc.Revoke(ctx, l.Content.Number, "抽查发现申请材料虚假", "staff:1"); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.svc.VerifyNumber(ctx, l.Content.Number); v.Result != licence.Revoked {
			t.Fatalf("revoked: %+v", v)
		}
		if _, err := db.ExecContext(ctx, `UPDATE licences SET status = 'valid', ended_at = NULL, end_reason = '', ended_by = '' WHERE number = $1`, l.Content.Number); err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.VerifyNumber(ctx, l.Content.Number)
		if err != nil || v.Result != licence.Tampered {
			t.Fatalf("set back to valid in the database: %+v, %v", v, err)
		}
		file, _ := f.svc.Export(l)
		if v, _ := f.svc.VerifyFile(ctx, file); v.Result != licence.Tampered {
			t.Errorf("its file verifies as %q", v.Result)
		}
		// The other licence's valid status, signature and all, put on this one.
		if _, err := db.ExecContext(ctx, `UPDATE licences SET (status_at, status_key_id, status_signature) =
			(SELECT status_at, status_key_id, status_signature FROM licences WHERE number = $1) WHERE number = $2`, other.Content.Number, l.Content.Number); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.svc.VerifyNumber(ctx, l.Content.Number); v.Result != licence.Tampered {
			t.Errorf("with another licence's status signature: %q", v.Result)
		}
		if v, _ := f.svc.VerifyNumber(ctx, other.Content.Number); v.Result != licence.Valid {
			t.Errorf("the untouched licence: %q", v.Result)
		}
		// A status with no signature at all is not trusted either.
		if _, err := db.ExecContext(ctx, `UPDATE licences SET status_signature = '' WHERE number = $1`, other.Content.Number); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.svc.VerifyNumber(ctx, other.Content.Number); v.Result != licence.Tampered {
			t.Errorf("without a status signature: %q", v.Result)
		}
	})
}

// TestStatusesOfOlderLicencesAreSignedOnce signs the statuses of licences
// issued before statuses were signed at the first start, and never again:
// a signature blanked afterwards leaves the licence "tampered".
func TestStatusesOfOlderLicencesAreSignedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		l := f.issue(t, businessLicence(creditCode(t, "92910102MA0000001")))
		blank := func() {
			if _, err := db.ExecContext(ctx, `UPDATE licences SET status_at = '', status_key_id = '', status_signature = ''`); err != nil {
				t.Fatal(err)
			}
		}
		blank() // as a licence issued before migration 0017 is
		if n, err := f.svc.SignUnsignedStatuses(ctx); err != nil || n != 1 {
			t.Fatalf("signed %d, %v", n, err)
		}
		if v, _ := f.svc.VerifyNumber(ctx, l.Content.Number); v.Result != licence.Valid {
			t.Fatalf("after signing: %q", v.Result)
		}
		blank()
		if n, err := f.svc.SignUnsignedStatuses(ctx); err != nil || n != 0 {
			t.Fatalf("signed again: %d, %v", n, err)
		}
		if v, _ := f.svc.VerifyNumber(ctx, l.Content.Number); v.Result != licence.Tampered {
			t.Fatalf("blanked later: %q", v.Result)
		}
	})
}
