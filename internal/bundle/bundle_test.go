package bundle

import (
	"testing"

	"yiwang/internal/catalog"
)

func TestAggregate(t *testing.T) {
	m := func(state, status string) MemberView { return MemberView{State: state, Status: status} }
	for _, tc := range []struct {
		name    string
		members []MemberView
		want    string
	}{
		{"one waiting", []MemberView{m(Submitted, "licence_issued"), m(Waiting, "")}, InProgress},
		{"one under review", []MemberView{m(Submitted, "licence_issued"), m(Submitted, "under_review")}, InProgress},
		{"a correction comes first", []MemberView{m(Submitted, "correction_requested"), m(Waiting, ""), m(Submitted, "rejected")}, NeedsCorrection},
		{"all through", []MemberView{m(Submitted, "licence_issued"), m(Submitted, "approved"), m(Skipped, "")}, Done},
		{"one rejected, the rest through", []MemberView{m(Submitted, "licence_issued"), m(Submitted, "rejected")}, PartlyRefused},
		{"one never submitted", []MemberView{m(Submitted, "licence_issued"), m(Failed, "")}, PartlyRefused},
		{"rejected while another runs", []MemberView{m(Submitted, "rejected"), m(Submitted, "submitted")}, InProgress},
	} {
		if got := Aggregate(tc.members); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestCombinedFormAsksEachFieldOnce: a field two members have is asked
// once; a field every member fills from a source the applicant cannot
// change is the system's; a field one member asks and another fills stays
// asked; the members that do not apply add nothing.
func TestCombinedFormAsksEachFieldOnce(t *testing.T) {
	text := func(zh string) catalog.Text { return catalog.Text{Zh: zh} }
	items := map[string]catalog.Item{
		"A": {Code: "A", Form: []catalog.Field{{ID: "name", Label: text("名称"), Type: "text"}, {ID: "phone", Type: "phone", Prefill: &catalog.Prefill{Source: "applicant.phone", Editable: true}}}},
		"B": {Code: "B", Form: []catalog.Field{{ID: "name", Type: "text", Prefill: &catalog.Prefill{Source: "licence.business_licence.name"}},
			{ID: "code", Type: "credit_code", Prefill: &catalog.Prefill{Source: "licence.business_licence.credit_code"}}, {ID: "seals", Type: "table"}}},
		"C": {Code: "C", Form: []catalog.Field{{ID: "bank", Type: "enum"}}},
	}
	b := catalog.Bundle{Members: []catalog.Member{{ID: "a", Item: "A"}, {ID: "b", Item: "B", After: []string{"a"}}, {ID: "c", Item: "C", When: catalog.When{"bank": {"yes"}}}}}
	got := map[string]Field{}
	var order []string
	for _, f := range CombinedForm(b, items, map[string]string{"bank": "no"}) {
		got[f.ID] = f
		order = append(order, f.ID)
	}
	if len(order) != 4 || order[0] != "name" {
		t.Fatalf("combined form = %v, want name, phone, code, seals", order)
	}
	if f := got["name"]; f.Auto || len(f.Members) != 2 || f.Label.Zh != "名称" {
		t.Errorf("name = %+v, want asked once for both members", f)
	}
	if !got["code"].Auto || got["seals"].Auto || got["phone"].Auto {
		t.Errorf("code auto %v, seals auto %v, phone auto %v; want only the code filled by the system", got["code"].Auto, got["seals"].Auto, got["phone"].Auto)
	}
	if _, ok := got["bank"]; ok {
		t.Error("a member that does not apply adds its fields")
	}
}
