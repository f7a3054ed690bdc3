package application_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/hub"
	"yiwang/internal/licence"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

const (
	propertyTransfer      = "11910102MB00013338-07-00002"
	noHousingCertificate  = "11910102MB00013338-20-00001"
	foodLicenceCancelling = "11910102MB0001111L-01-00002"
)

// decideSteps has each step of an application decided, approving, by the
// first of the staff whose inbox holds it, until none is left.
func decideSteps(t *testing.T, f fixture, a application.Application, staff ...authz.Principal) {
	t.Helper()
	ctx := context.Background()
	for progress := true; progress; {
		progress = false
		for _, p := range staff {
			tasks, err := f.apps.Tasks.Inbox(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, task := range tasks {
				if task.ApplicationID != a.ID {
					continue
				}
				if _, err := f.apps.Tasks.DecideTask(ctx, p, task.ID, 0, true, nil, ""); err != nil {
					t.Fatalf("%s deciding %s: %v", p.Name, task.StepID, err)
				}
				progress = true
			}
		}
	}
}

// TestPropertyTransferGoesToTheBuyer drives 不动产转移登记 end to end: the
// seller holds a title certificate, applies with the buyer as co-party,
// the buyer confirms and staff take every step. The new certificate is the
// buyer's; the seller's is superseded — so says /verify's record, and no
// application of the seller finds it any more — and the buyer, now holding
// a certificate in force, is refused a 无房证明 by its rules.
func TestPropertyTransferGoesToTheBuyer(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		seller := f.p
		seller.RealNameLevel = 3
		buyer, buyerID := person(t, f, "19880808", "456", "李秀英")
		buyer.RealNameLevel = 3
		sellerSubject, buyerSubject := hub.Subject{Kind: hub.Person, Key: f.idNum}, hub.Subject{Kind: hub.Person, Key: buyerID}

		// The seller's certificate, issued here before; the registries.
		var old licence.Licence
		if err := db.InTx(ctx, func(tx *sql.Tx) (err error) {
			old, err = f.licences.IssueTx(ctx, tx, licence.Request{ItemCode: propertyTransfer, Type: "real_estate_certificate", IssuedBy: "staff:1",
				Holder: licence.Holder{Kind: hub.Person, ID: f.idNum, Name: "赵老汉"},
				Fields: map[string]string{"address": "示范市明德区幸福路88号锦绣花园3栋1204", "unit_number": "910102001001GB00088F00031204", "floor_area": "96.5"}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for subject, records := range map[hub.Subject]map[string]hub.Record{
			sellerSubject: {"property": {"owner": "赵老汉", "certificate_numbers": []string{old.Content.Number}, "housing_count": 1, "family_housing_count": 1,
				"mortgaged_certificate_numbers": []string{}, "sealed_certificate_numbers": []string{}, "pending_transfer": true, "contract_filing_number": "WQ202600000001"}},
			// The register is not updated yet: only the e-licence shows the buyer's new home.
			buyerSubject: {"population": {"name": "李秀英", "id_number": buyerID}, "credit": {"level": "A", "blacklisted": false},
				"licence.resident_id_card": {"number": buyerID, "status": "valid", "holder": "李秀英"},
				"property": {"owner": "李秀英", "certificate_numbers": []string{}, "housing_count": 0, "family_housing_count": 0,
					"mortgaged_certificate_numbers": []string{}, "sealed_certificate_numbers": []string{}, "pending_transfer": false}},
		} {
			for source, rec := range records {
				if err := f.builtin.Put(ctx, db, source, subject, rec); err != nil {
					t.Fatal(err)
				}
			}
		}

		a, err := f.apps.Drafts.Start(ctx, seller, application.StartRequest{ItemCode: propertyTransfer, Answers: map[string]string{"reason": "sale", "property_type": "residential"}})
		if err != nil {
			t.Fatal(err)
		}
		if a.Form["address"] != "示范市明德区幸福路88号锦绣花园3栋1204" || !material(a, "title").Attached {
			t.Fatalf("the seller's certificate did not fill the form or attach: %v %+v", a.Form, material(a, "title"))
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, seller, a.ID, map[string]any{"certificate_number": old.Content.Number, "area": 96.5, "price": 2100000.0,
			"contract_filing_number": "WQ202600000001", "ownership": "sole", "extra_certificates": 0.0,
			"buyers": []any{map[string]any{"name": "李秀英", "id_number": buyerID, "share": 100.0}}}); err != nil {
			t.Fatalf("%v: %+v", err, apperr.As(err).Details)
		}
		if _, err := f.apps.Drafts.PledgeMaterial(ctx, seller, a.ID, 0, "marital_status"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Modes.NameParties(ctx, seller, a.ID, 0, "seller", []application.PartyRequest{{Role: "buyer", IDNumber: buyerID, Name: "李秀英"}}); err != nil {
			t.Fatal(err)
		}
		if a, err = f.apps.Drafts.Submit(ctx, seller, a.ID, 0, ""); err != nil {
			t.Fatalf("%v: %+v", err, apperr.As(err).Details)
		}
		if _, err := f.apps.Modes.AnswerInvitation(ctx, buyer, a.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		decideSteps(t, f, a, newStaff(t, f.ids, "re.clerk", "realestate", authz.Clerk), newStaff(t, f.ids, "re.reviewer", "realestate", authz.Reviewer),
			newStaff(t, f.ids, "tax.reviewer", "tax", authz.Reviewer), newStaff(t, f.ids, "re.head", "realestate", authz.Head))
		if a, _ = f.apps.Drafts.Get(ctx, seller, a.ID); a.Status != "licence_issued" {
			t.Fatalf("after every step: %s %+v", a.Status, a.Timeline)
		}

		issued, err := f.licences.ByApplication(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if h := issued.Content.Holder; h.ID != buyerID || h.Name != "李秀英" || issued.Content.Fields["ownership"] != "单独所有" ||
			!strings.Contains(issued.Content.Fields["right_holders"], "李秀英") {
			t.Errorf("the new certificate: holder %+v, fields %q", h, issued.Content.Fields)
		}
		var toBuyer, toSeller []notify.Message
		for _, m := range f.notices.sent {
			if m.ApplicationID == a.ID && m.Kind == notify.LicenceIssued && m.PersonID == buyer.PersonID {
				toBuyer = append(toBuyer, m)
			}
			if m.ApplicationID == a.ID && m.Kind == notify.LicenceIssued && m.AccountID == seller.AccountID {
				toSeller = append(toSeller, m)
			}
		}
		if len(toBuyer) != 1 || toBuyer[0].Link != "/me/licences/"+strconv.FormatInt(issued.ID, 10) {
			t.Errorf("the buyer was told %+v", toBuyer)
		}
		if len(toSeller) != 1 || !strings.Contains(toSeller[0].BodyZh, "已签发给受让方") || strings.HasPrefix(toSeller[0].Link, "/me/licences/") {
			t.Errorf("the seller was told %+v", toSeller)
		}
		mine, err := f.licences.ForHolder(ctx, licence.Holder{Kind: hub.Person, ID: buyerID})
		if err != nil || !slices.ContainsFunc(mine, func(l licence.Licence) bool { return l.ID == issued.ID }) {
			t.Errorf("the buyer's licences %v, %v lack the new certificate", mine, err)
		}
		v, err := f.licences.VerifyNumber(ctx, old.Content.Number)
		if err != nil || v.Result != licence.Superseded || v.SupersededBy != issued.Content.Number || v.EndApplication != a.Number {
			t.Errorf("the seller's old certificate verifies as %+v, %v", v, err)
		}
		if _, err := f.builtin.Fetch(ctx, "licence.real_estate_certificate", sellerSubject, []string{"number"}); !errors.Is(err, hub.ErrNotFound) {
			t.Errorf("the seller's superseded certificate is still given to applications: %v", err)
		}

		// The buyer now holds a certificate in force: no 无房证明.
		b, err := f.apps.Drafts.Start(ctx, buyer, application.StartRequest{ItemCode: noHousingCertificate, Answers: map[string]string{"query_scope": "self"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, buyer, b.ID, map[string]any{"purpose": "talent_subsidy"}); err != nil {
			t.Fatalf("%v: %+v", err, apperr.As(err).Details)
		}
		if b, err = f.apps.Drafts.Submit(ctx, buyer, b.ID, 0, ""); err != nil {
			t.Fatalf("%v: %+v", err, apperr.As(err).Details)
		}
		if b.Status != "rejected" || b.Decision == nil || !slices.Contains(b.Decision.Reasons, "电子证照库显示您持有有效的不动产权证书，无法出具无房证明") {
			t.Errorf("the new owner's 无房证明: %s %+v", b.Status, b.Decision)
		}
	})
}

// TestFoodLicenceCancellationCancelsAndIsFinal: a food business applies to
// cancel its licence (注销); the machine approves, the licence is cancelled
// in the approving transaction — by that application, on /verify — and the
// notice prints the reason as chosen, not its code. Applying to cancel it
// again is refused by the item's rules with the one reason that says it was
// cancelled before (read from licence_last, which keeps the cancelled
// licence), not only that none is in force.
func TestFoodLicenceCancellationCancelsAndIsFinal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		code, err := identCredit("92910102MA0000071")
		if err != nil {
			t.Fatal(err)
		}
		const name = "明德区赵记小吃店"
		if _, err := f.ids.PutEnterprise(ctx, db, code, name, f.p.PersonID); err != nil {
			t.Fatal(err)
		}
		business := hub.Subject{Kind: hub.Enterprise, Key: code}
		if err := f.builtin.Put(ctx, db, "credit", business, hub.Record{"level": "A", "blacklisted": false}); err != nil {
			t.Fatal(err)
		}
		if err := f.builtin.Put(ctx, db, "enterprise", business, hub.Record{"name": name, "credit_code": code, "status": "active", "open_enforcement_case": false, "contact_phone": "13900000001"}); err != nil {
			t.Fatal(err)
		}
		var food licence.Licence
		if err := db.InTx(ctx, func(tx *sql.Tx) (err error) {
			food, err = f.licences.IssueTx(ctx, tx, licence.Request{ItemCode: smallCatering, Type: "food_business_licence", IssuedBy: "machine",
				Holder: licence.Holder{Kind: hub.Enterprise, ID: code, Name: name}, Fields: map[string]string{"name": name, "credit_code": code}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sess, err := f.ids.StartSession(ctx, f.p.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ids.ActFor(ctx, f.p, sess.Token, code); err != nil {
			t.Fatal(err)
		}
		p, _, err := f.ids.SessionPrincipal(ctx, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		p.RealNameLevel = 2

		apply := func() application.Application {
			t.Helper()
			a, err := f.apps.Drafts.Start(ctx, p, application.StartRequest{ItemCode: foodLicenceCancelling})
			if err != nil {
				t.Fatal(err)
			}
			form := map[string]any{"reason": "stopped", "stop_date": "2026-06-30", "contact_phone": "13900000001"}
			for k, v := range map[string]any{"holder_name": name, "credit_code": code, "licence_number": food.Content.Number} {
				if a.Form[k] == nil { // what the licence in force did not fill
					form[k] = v
				}
			}
			if _, err := f.apps.Drafts.UpdateForm(ctx, p, a.ID, form); err != nil {
				t.Fatalf("%v: %+v", err, apperr.As(err).Details)
			}
			if _, err := f.apps.Drafts.PledgeMaterial(ctx, p, a.ID, 0, "cancellation_statement"); err != nil {
				t.Fatal(err)
			}
			if a, err = f.apps.Drafts.Submit(ctx, p, a.ID, 0, ""); err != nil {
				t.Fatalf("%v: %+v", err, apperr.As(err).Details)
			}
			return a
		}
		// The rules read the enterprise's credit, not its agent's (clean):
		// the enterprise blacklisted, the application goes to a person.
		if err := f.builtin.Put(ctx, db, "credit", business, hub.Record{"level": "D", "blacklisted": true}); err != nil {
			t.Fatal(err)
		}
		if held := apply(); held.Status != "submitted" || held.Decision == nil || !strings.Contains(strings.Join(held.Decision.Reasons, ""), "失信") {
			t.Errorf("a blacklisted enterprise's cancellation: %s %+v", held.Status, held.Decision)
		}
		if err := f.builtin.Put(ctx, db, "credit", business, hub.Record{"level": "A", "blacklisted": false}); err != nil {
			t.Fatal(err)
		}
		a := apply()
		if a.Status != "licence_issued" {
			t.Fatalf("the cancellation: %s %+v", a.Status, a.Decision)
		}
		v, err := f.licences.VerifyNumber(ctx, food.Content.Number)
		if err != nil || v.Result != licence.Cancelled || v.EndApplication != a.Number || !strings.Contains(v.EndReason, "注销") {
			t.Errorf("the cancelled food licence verifies as %+v, %v", v, err)
		}
		notice, err := f.licences.ByApplication(ctx, a.ID)
		if err != nil || notice.Content.Type != "food_licence_cancellation" || notice.Content.Fields["reason"] != "主动终止经营" || notice.Content.Fields["licence_number"] != food.Content.Number {
			t.Errorf("the cancellation notice %+v, %v", notice.Content, err)
		}

		again := apply()
		if again.Status != "rejected" || again.Decision == nil || !slices.Equal(again.Decision.Reasons, []string{"该食品经营许可证已于此前注销，无需重复申请"}) {
			t.Errorf("cancelling the cancelled licence again: %s %+v", again.Status, again.Decision)
		}
	})
}
