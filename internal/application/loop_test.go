package application_test

import (
	"context"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

const (
	individualBusiness = "11910102MB0001111L-01-00001"
	smallCatering      = "11910102MB0001111L-01-00003"
)

// TestIndividualBusinessOpensTheFoodBusinessApplication closes the licence
// loop through the workflow itself: a person registers an individual
// business (个体工商户设立登记), the machine approves it, the business is set up
// with a new credit code and its business licence issued to it; the person
// then acts for the new business and its food-business application finds
// that licence by itself, attached at level A, its form filled from it.
func TestIndividualBusinessOpensTheFoodBusinessApplication(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		p := f.p
		p.RealNameLevel = 2 // checked against the population registry

		a, err := f.apps.Drafts.Start(ctx, p, application.StartRequest{ItemCode: individualBusiness, Answers: map[string]string{"premises": "online"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, p, a.ID, map[string]any{"business_name": "明德区赵记网店", "composition": "individual", "scope": "日用百货销售", "capital": 5.0, "employees": 1.0,
			"website": "https://shop.example.cn/zhao"}); err != nil {
			t.Fatalf("%v: %+v", err, apperr.As(err).Details)
		}
		if _, err := f.apps.Drafts.UploadMaterial(ctx, p, a.ID, 0, "premises_statement", strings.NewReader("%PDF-1.4"), false); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("uploading a file for a pledge-only material: %v, want refused", err)
		}
		a, err = f.apps.Drafts.PledgeMaterial(ctx, p, a.ID, 0, "premises_statement")
		if err != nil {
			t.Fatal(err)
		}
		if m := material(a, "premises_statement"); !m.Attached || m.Trust != "D" || m.Source != "commitment" || len(m.Ref) != 64 {
			t.Errorf("signed premises statement = %+v, want attached at trust D", m)
		}
		if _, err := f.apps.Drafts.PledgeMaterial(ctx, p, a.ID, 0, "id_card"); err == nil {
			t.Error("an ID card cannot be replaced by a pledge")
		}
		a, err = f.apps.Drafts.Submit(ctx, p, a.ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Decision == nil || a.Decision.Outcome != "approve" {
			t.Fatalf("individual business decision: %+v", a.Decision)
		}
		if a.Status != "licence_issued" {
			t.Fatalf("status after approval = %s, want licence_issued", a.Status)
		}
		bl, err := f.licences.ByApplication(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		code := bl.Content.Fields["credit_code"]
		if bl.Content.Type != "business_licence" || bl.Content.Holder.ID != code || bl.Content.Fields["name"] != "明德区赵记网店" || bl.Content.Fields["legal_rep"] != "赵老汉" {
			t.Fatalf("business licence = %+v", bl.Content)
		}
		if code[:2] != "92" {
			t.Errorf("an individual business's credit code starts 92, got %s", code)
		}

		// The operator acts for the business the approval set up.
		sess, err := f.ids.StartSession(ctx, p.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ids.ActFor(ctx, p, sess.Token, code); err != nil {
			t.Fatalf("the operator cannot act for the new business %s: %v", code, err)
		}
		forBusiness, _, err := f.ids.SessionPrincipal(ctx, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		forBusiness.RealNameLevel = 2

		food, err := f.apps.Drafts.Start(ctx, forBusiness, application.StartRequest{ItemCode: smallCatering})
		if err != nil {
			t.Fatal(err)
		}
		if m := material(food, "business_licence"); !m.Attached || m.Trust != "A" || m.Ref != bl.Content.Number || m.Source != "licence:business_licence" {
			t.Errorf("business-licence material = %+v, want attached at level A with %s", m, bl.Content.Number)
		}
		if food.Form["business_name"] != "明德区赵记网店" || food.Form["credit_code"] != code {
			t.Errorf("food-business form not filled from the business licence: %v", food.Form)
		}
	})
}

// material is the application's material with id (zero when it has none).
func material(a application.Application, id string) application.Material {
	for _, m := range a.Materials {
		if m.ID == id {
			return m
		}
	}
	return application.Material{}
}
