package licence_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/hub"
	"yiwang/internal/licence"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

const (
	propertyTransfer = "11910102MB00013338-07-00002"
	seller           = "王建国"
	buyer            = "李秀英"
)

func (f fixture) inTx(t *testing.T, do func(tx *sql.Tx) error) error {
	t.Helper()
	return f.db.InTx(context.Background(), do)
}

func foodLicence(code string) licence.Request {
	return licence.Request{ApplicationNumber: "YW-TEST-2", ItemCode: "11910102MB0001111L-01-00003", Type: "food_business_licence",
		Holder: licence.Holder{Kind: hub.Enterprise, ID: code, Name: "明德区老街坊小吃店"},
		Fields: map[string]string{"name": "明德区老街坊小吃店", "credit_code": code}, IssuedBy: "machine"}
}

func titleCertificate(id, name string) licence.Request {
	return licence.Request{ApplicationNumber: "YW-TEST-3", ItemCode: propertyTransfer, Type: "real_estate_certificate",
		Holder: licence.Holder{Kind: hub.Person, ID: id, Name: name}, Fields: map[string]string{"address": "示范市明德区幸福路88号3栋1204"}, IssuedBy: "staff:7"}
}

// inForce is the licence of typ the data hub gives applications of the
// holder: its number, or "" when it gives none.
func (f fixture) inForce(t *testing.T, typ string, h licence.Holder) string {
	t.Helper()
	rec, err := f.hub.Fetch(context.Background(), "licence."+typ, hub.Subject{Kind: h.Kind, Key: h.ID}, []string{"number"})
	if errors.Is(err, hub.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec["number"].(string)
}

// TestCancellationIsSignedVerifiedAndFinal: a licence cancelled on its
// holder's request (注销) says so on verification, with when, why and the
// application; the data hub no longer gives it to applications; it cannot be
// cancelled or revoked again; and setting it back in the database is seen.
func TestCancellationIsSignedVerifiedAndFinal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		_, get := publicServer(t, f)
		code := creditCode(t, "92910102MA0000021")
		l := f.issue(t, foodLicence(code))
		held := licence.Held{Type: "food_business_licence", Holder: licence.Holder{Kind: hub.Enterprise, ID: code}}
		if f.inForce(t, "food_business_licence", held.Holder) != l.Content.Number {
			t.Fatal("the issued licence is not in force in the data hub")
		}
		end := licence.End{Reason: "持证人申请注销（食品经营许可证注销）", By: "machine", ApplicationNumber: "910102-20260615-000009"}
		var cancelled licence.Licence
		if err := f.inTx(t, func(tx *sql.Tx) (err error) {
			cancelled, err = f.svc.CancelTx(ctx, tx, held, end)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if cancelled.Content.Number != l.Content.Number || cancelled.Status != licence.Cancelled {
			t.Fatalf("cancelled %+v", cancelled)
		}
		v, err := f.svc.VerifyNumber(ctx, l.Content.Number)
		if err != nil || v.Result != licence.Cancelled || v.EndReason != end.Reason || v.EndApplication != end.ApplicationNumber || v.EndedAt == nil || v.RevokedAt != nil {
			t.Fatalf("a cancelled licence verifies as %+v, %v", v, err)
		}
		if st, body := get("/verify/" + l.Content.Number); st != 200 || !strings.Contains(body, "已注销") || !strings.Contains(body, end.ApplicationNumber) || strings.Contains(body, ">cancelled<") {
			t.Errorf("verify page of a cancelled licence %d:\n%s", st, body)
		}
		if st, body := get("/verify/" + l.Content.Number + "?lang=en"); st != 200 || !strings.Contains(body, "Cancelled at the holder") {
			t.Errorf("English verify page of a cancelled licence %d:\n%s", st, body)
		}
		if st, body := get("/api/v1/licences/" + l.Content.Number + "/verification"); st != 200 || !strings.Contains(body, `"result":"cancelled"`) {
			t.Errorf("verification API of a cancelled licence %d: %s", st, body)
		}
		if n := f.inForce(t, "food_business_licence", held.Holder); n != "" {
			t.Errorf("the data hub still gives the cancelled licence %s to applications", n)
		}
		_, getMine := serverAs(t, f, authz.Principal{AccountID: 9, Kind: "person", Roles: []authz.Role{authz.Applicant}, ActingFor: &authz.Enterprise{CreditCode: code, Name: "明德区老街坊小吃店"}})
		if st, body := getMine("/api/v1/me/licences"); st != 200 || !strings.Contains(body, `"status":"cancelled","status_text":{"zh":"已注销","en":"Cancelled"}`) {
			t.Errorf("my licences list the cancelled licence as %d %s", st, body)
		}
		if err := f.inTx(t, func(tx *sql.Tx) error { _, err := f.svc.CancelTx(ctx, tx, held, end); return err }); apperr.As(err) == nil || apperr.As(err).Code != apperr.NoLicenceInForce {
			t.Errorf("cancelling a cancelled licence again: %v", err)
		}
		if _, err := f.svc.Revoke(ctx, l.Content.Number, "抽查", "staff:1"); apperr.As(err) == nil || apperr.As(err).Code != apperr.LicenceEnded {
			t.Errorf("revoking a cancelled licence: %v", err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE licences SET status = 'valid' WHERE number = $1`, l.Content.Number); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.svc.VerifyNumber(ctx, l.Content.Number); v.Result != licence.Tampered {
			t.Errorf("a cancelled licence set back to valid in the database verifies as %q", v.Result)
		}
	})
}

// TestSupersedingTakesTheOldLicenceOutOfForce: a licence issued in place
// of another (a transfer to someone else, or a change for the same holder)
// supersedes it in the same transaction — pointing to the new one — whether
// the old one was issued here or imported from a registry.
func TestSupersedingTakesTheOldLicenceOutOfForce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		_, get := publicServer(t, f)
		giver := licence.Holder{Kind: hub.Person, ID: idNumber("91010219650412123"), Name: seller}
		receiver := licence.Holder{Kind: hub.Person, ID: idNumber("91010219880808456"), Name: buyer}
		old := f.issue(t, titleCertificate(giver.ID, giver.Name))

		// A transfer: the receiver's certificate supersedes the giver's.
		req := titleCertificate(receiver.ID, receiver.Name)
		req.Supersedes = &licence.Held{Type: "real_estate_certificate", Holder: giver}
		transferred := f.issue(t, req)
		v, err := f.svc.VerifyNumber(ctx, old.Content.Number)
		if err != nil || v.Result != licence.Superseded || v.SupersededBy != transferred.Content.Number || v.EndApplication != "YW-TEST-3" {
			t.Fatalf("the giver's certificate verifies as %+v, %v", v, err)
		}
		if st, body := get("/verify/" + old.Content.Number); st != 200 || !strings.Contains(body, "已被取代") || !strings.Contains(body, "/verify/"+transferred.Content.Number) {
			t.Errorf("verify page of a superseded certificate %d:\n%s", st, body)
		}
		if v, _ := f.svc.VerifyNumber(ctx, transferred.Content.Number); v.Result != licence.Valid {
			t.Errorf("the new certificate verifies as %q", v.Result)
		}
		if n := f.inForce(t, "real_estate_certificate", giver); n != "" {
			t.Errorf("the giver still holds %s in force", n)
		}
		if n := f.inForce(t, "real_estate_certificate", receiver); n != transferred.Content.Number {
			t.Errorf("the receiver holds %q in force, want %s", n, transferred.Content.Number)
		}

		// A change for the same holder: the new one replaces the old in the hub.
		change := titleCertificate(receiver.ID, receiver.Name)
		change.Supersedes = &licence.Held{Type: "real_estate_certificate", Holder: receiver}
		changed := f.issue(t, change)
		if v, _ := f.svc.VerifyNumber(ctx, transferred.Content.Number); v.Result != licence.Superseded || v.SupersededBy != changed.Content.Number {
			t.Errorf("after a change the old certificate verifies as %+v", v)
		}
		if n := f.inForce(t, "real_estate_certificate", receiver); n != changed.Content.Number {
			t.Errorf("after a change the holder has %q in force, want %s", n, changed.Content.Number)
		}

		// A certificate imported from the registry (no row here) is
		// superseded in the data hub.
		elder := licence.Holder{Kind: hub.Person, ID: idNumber("91010219500101789"), Name: "张三"}
		if err := f.hub.Put(ctx, db, "licence.real_estate_certificate", hub.Subject{Kind: hub.Person, Key: elder.ID},
			hub.Record{"number": "示（2008）示范市不动产权第90000001号", "holder": "张三", "status": "valid"}); err != nil {
			t.Fatal(err)
		}
		gift := titleCertificate(giver.ID, giver.Name)
		gift.Supersedes = &licence.Held{Type: "real_estate_certificate", Holder: elder}
		f.issue(t, gift)
		if n := f.inForce(t, "real_estate_certificate", elder); n != "" {
			t.Errorf("the imported certificate %s is still in force", n)
		}
		if rec, _ := f.hub.RecordTx(ctx, db, "licence.real_estate_certificate", hub.Subject{Kind: hub.Person, Key: elder.ID}); rec["status"] != licence.Superseded {
			t.Errorf("the imported certificate's record: %v", rec)
		}
	})
}

// TestLicencesPrintLabelsOfTheDemoCatalogue: the title certificate a
// property transfer issues prints the form of ownership by its label and
// the buyers' table row by row, as the licence is read.
func TestLicencesPrintLabelsOfTheDemoCatalogue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		v, err := f.catalog.Current(ctx, propertyTransfer)
		if err != nil {
			t.Fatal(err)
		}
		var typ licence.Type
		if err := f.inTx(t, func(tx *sql.Tx) (err error) { typ, err = licence.TypeTx(ctx, tx, v.Item.Output.Licence); return err }); err != nil {
			t.Fatal(err)
		}
		form := map[string]any{"ownership": "joint", "address": "示范市明德区幸福路88号3栋1204", "area": 96.5, "unit_number": "910102001001GB00088F00031204",
			"buyers": []any{map[string]any{"name": buyer, "id_number": "910102198808084562", "share": 50.0}, map[string]any{"name": "周强", "id_number": "910102198703035671", "share": 50.0}}}
		got := typ.FieldsFromForm(form, v.Item.Form)
		if got["ownership"] != "共同共有" || got["floor_area"] != "96.5" ||
			got["right_holders"] != "姓名或名称："+buyer+"，证件号码：910102198808084562，份额（%）：50；姓名或名称：周强，证件号码：910102198703035671，份额（%）：50" {
			t.Errorf("title certificate fields = %q", got)
		}
		l := f.issue(t, licence.Request{ItemCode: propertyTransfer, Type: typ.Code, Holder: licence.Holder{Kind: hub.Person, ID: idNumber("91010219880808456"), Name: buyer},
			Fields: got, IssuedBy: "staff:7"})
		page, err := f.svc.View(ctx, l, nil, "zh")
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range page.Rows {
			if strings.Contains(row[1], "joint") || strings.Contains(row[1], "map[") {
				t.Errorf("the licence prints a stored value: %+v", row)
			}
		}
	})
}
