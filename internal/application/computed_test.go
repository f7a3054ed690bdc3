package application_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/rules"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/web"
)

const noHousing = "11910102MB00013338-20-00001"

// TestComputedValueLandsInFormTraceAndLicence: the no-housing
// certificate's use-by date is computed by the system — shown as such on
// the draft, refused when the applicant tries to set it, worked out again
// at submission, kept in the decision trace and printed on the licence.
func TestComputedValueLandsInFormTraceAndLicence(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		if err := f.builtin.Put(ctx, db, "property", hub.Subject{Kind: hub.Person, Key: f.idNum},
			hub.Record{"housing_count": 0, "family_housing_count": 0, "pending_transfer": false, "certificate_numbers": []string{}}); err != nil {
			t.Fatal(err)
		}
		f.p.RealNameLevel = 2 // the item needs an identity checked against the population registry
		a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: noHousing, Answers: map[string]string{"query_scope": "self"}})
		if err != nil {
			t.Fatal(err)
		}
		if pv := a.Provenance["use_by"]; pv.Status != "computed" || pv.Source != "computed" || pv.Editable {
			t.Errorf("use_by provenance = %+v, want computed by the system", pv)
		}
		if a.FieldsPrefilled != 3 || a.FieldsTotal != 4 {
			t.Errorf("%d of %d fields filled for the applicant, want 3 of 4: name, ID number and the computed use-by date", a.FieldsPrefilled, a.FieldsTotal)
		}
		drafted, _ := a.Form["use_by"].(string)
		if _, err := time.Parse(time.DateOnly, drafted); err != nil {
			t.Errorf("use_by on the draft = %v, want a date computed when the form was filled", a.Form["use_by"])
		}

		// The applicant cannot choose the value, nor with another one at once.
		_, err = f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"use_by": "2099-12-31", "purpose": "purchase"})
		if e := apperr.As(err); e == nil || e.Code != apperr.BadForm || !strings.Contains(strings.Join(web.ErrorDetails("zh", e), ""), "由系统根据有关数据计算") ||
			!strings.Contains(strings.Join(web.ErrorDetails("en", e), ""), "computed by the system") {
			t.Fatalf("setting the computed use-by date: %v", err)
		}
		if a, err = f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"purpose": "purchase"}); err != nil {
			t.Fatal(err)
		}
		if a.Form["use_by"] != drafted {
			t.Errorf("use_by after the refused change = %v, want %s", a.Form["use_by"], drafted)
		}

		a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Decision == nil || a.Decision.Outcome != "approve" || a.Status != "licence_issued" {
			t.Fatalf("decision %+v, status %s; want approved and licensed", a.Decision, a.Status)
		}
		rec, err := f.apps.Decisions.DecisionRecord(ctx, newStaff(t, f.ids, "realestate.reviewer", "realestate", authz.Reviewer), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		day, err := time.Parse(time.DateOnly, rec.Today)
		if err != nil {
			t.Fatal(err)
		}
		want := day.AddDate(0, 0, 30).Format(time.DateOnly)
		i := slices.IndexFunc(rec.Computed, func(c rules.Computation) bool { return c.Field == "use_by" })
		if i < 0 || rec.Computed[i].Result != rules.ComputedValue || rec.Computed[i].Value != want || !strings.Contains(rec.Computed[i].Expr, "720h") {
			t.Fatalf("computations in the trace = %+v, want use_by = %s", rec.Computed, want)
		}
		if a.Form["use_by"] != want {
			t.Errorf("stored form use_by = %v, want %s", a.Form["use_by"], want)
		}
		l, err := f.licences.ByApplication(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.Content.Fields["use_by"] != want || l.Content.Fields["purpose"] != "购房资格审核" {
			t.Errorf("licence fields = %v, want use_by %s and the purpose's label", l.Content.Fields, want)
		}
	})
}

// TestComputedValueWithoutDataGoesToAPerson: a computed value whose data
// cannot be read at submission is left empty, never guessed nor kept from
// the draft, and the application goes to a person with that reason.
func TestComputedValueWithoutDataGoesToAPerson(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		down := &atomic.Bool{}
		f := setupWith(t, db, func(c hub.Connector) hub.Connector { return flaky{c, down} }, withCardBand)
		a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		if a.Form["card_band"] != "60至69岁" {
			t.Fatalf("card_band on the draft = %v, want 60至69岁 from the population registry", a.Form["card_band"])
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
			t.Fatal(err)
		}
		down.Store(true)
		a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Decision == nil || a.Decision.Outcome != "manual" || !slices.ContainsFunc(a.Decision.Reasons, func(r string) bool { return strings.Contains(r, "优待档次") }) {
			t.Fatalf("decision %+v; want manual, saying the band could not be worked out", a.Decision)
		}
		if v, ok := a.Form["card_band"]; ok {
			t.Errorf("card_band = %v after submission without the data; want empty for a person to settle", v)
		}
		rec, err := f.apps.Decisions.DecisionRecord(ctx, newStaff(t, f.ids, "civil.reviewer", "civil", authz.Reviewer), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Computed) != 1 || rec.Computed[0].Result != rules.Unknown || !slices.Equal(rec.Computed[0].Waiting, []string{"sources.population"}) {
			t.Errorf("computations in the trace = %+v, want card_band unknown waiting for the population registry", rec.Computed)
		}
	})
}

// withCardBand gives the senior card a band computed from the population
// registry's birth date.
func withCardBand(c *catalog.Catalogue) {
	for _, it := range c.Items {
		if it.Code == seniorCard {
			it.Form = append(it.Form, catalog.Field{ID: "card_band", Label: catalog.Text{Zh: "优待档次", En: "Band"}, Type: "text",
				Computed: &catalog.Computed{Expr: `years_between(sources.population.birth_date, today) >= 70 ? "70岁以上" : "60至69岁"`}})
		}
	}
}

// TestComputedWhileMachineApprovalSuspended: with machine approval
// suspended a person decides, but the value is still the system's, worked
// out again on the data as they are at submission.
func TestComputedWhileMachineApprovalSuspended(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setupWith(t, db, nil, withCardBand)
		a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		if a.Form["card_band"] != "60至69岁" {
			t.Fatalf("card_band on the draft = %v", a.Form["card_band"])
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
			t.Fatal(err)
		}
		admin := authz.Principal{AccountID: f.p.AccountID, Kind: "staff", Roles: []authz.Role{authz.Supervisor}}
		if err := f.apps.Decisions.SetMachineSuspended(ctx, admin, seniorCard, true, "抽查发现问题，暂停自动审批"); err != nil {
			t.Fatal(err)
		}
		// The registry corrects the birth date before the submission.
		if err := f.builtin.Put(ctx, db, "population", hub.Subject{Kind: hub.Person, Key: f.idNum}, hub.Record{"name": "赵老汉", "id_number": f.idNum,
			"address": "示范市明德区福安街道幸福路1号", "household": "HH-001", "household_region": "910102001001", "birth_date": "1950-03-15"}); err != nil {
			t.Fatal(err)
		}
		a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		if a.Decision == nil || a.Decision.Outcome != "manual" {
			t.Fatalf("decision %+v; want manual while machine approval is suspended", a.Decision)
		}
		if a.Form["card_band"] != "70岁以上" {
			t.Errorf("card_band = %v after submission, want 70岁以上 computed on the data read at submission", a.Form["card_band"])
		}

		// Nor can staff send it back to the applicant to correct.
		st := makeStaff(t, f.ids)
		review := taskOf(t, f, st.civil, "manual_review") // the route of the card's manual cases
		_, err = f.apps.Tasks.RequestCorrection(ctx, st.civil, review.ID, 0, []application.CorrectionItem{{Field: "card_band", Reason: "档次不对"}})
		if e := apperr.As(err); e == nil || e.Code != apperr.BadCorrection || !strings.Contains(strings.Join(web.ErrorDetails("zh", e), ""), "由系统计算") {
			t.Errorf("asking the applicant to correct a computed field: %v", err)
		}
	})
}
