package rules

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"yiwang/internal/catalog"
)

// computedItem is testItem with three computed fields: an allowance band
// from registry data, a fee from the form and an expiry date from the day.
func computedItem(rs ...catalog.Rule) catalog.Item {
	it := testItem(rs...)
	it.Form = append(it.Form,
		catalog.Field{ID: "band", Label: catalog.Text{Zh: "救助档次", En: "Band"}, Type: "enum",
			Options:  []catalog.Answer{{Value: "A"}, {Value: "B"}},
			Computed: &catalog.Computed{Expr: `sources.population.children_count >= 2 ? "A" : "B"`}},
		catalog.Field{ID: "fee", Label: catalog.Text{Zh: "费用", En: "Fee"}, Type: "number",
			Computed: &catalog.Computed{Expr: `form.area > 100.0 ? 500 : 200`}},
		catalog.Field{ID: "valid_until", Label: catalog.Text{Zh: "有效期至", En: "Valid until"}, Type: "date",
			Computed: &catalog.Computed{Expr: `add_years(today, 3)`}, When: catalog.When{"kind": {"new"}}},
	)
	return it
}

func TestComputedCompileProblems(t *testing.T) {
	tests := []struct {
		name  string
		field catalog.Field
		want  string
	}{
		{"type must fit", catalog.Field{ID: "x", Type: "number", Computed: &catalog.Computed{Expr: `"A"`}},
			"computed field x: the field is of type number, so the expression must give a number"},
		{"no computed field read", catalog.Field{ID: "x", Type: "text", Computed: &catalog.Computed{Expr: `form.x`}},
			"reads form.x, which is computed too"},
		{"names checked", catalog.Field{ID: "x", Type: "number", Computed: &catalog.Computed{Expr: `sources.population.incme`}},
			`the population source has no field "incme"`},
		{"date from a timestamp only", catalog.Field{ID: "x", Type: "date", Computed: &catalog.Computed{Expr: `today.getFullYear()`}},
			"must give a date"},
		{"not a table", catalog.Field{ID: "x", Type: "table", Computed: &catalog.Computed{Expr: `[]`}},
			"a table field cannot be computed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := testItem(rule("r", "true", "reject"))
			it.Form = append(it.Form, tt.field)
			_, problems := Compile(it)
			if len(problems) == 0 {
				t.Fatalf("compiled; want a problem saying %q", tt.want)
			}
			if !strings.Contains(problems[0].Message, tt.want) || problems[0].Ptr != "/form/5/computed/expr" {
				t.Errorf("problem %s; want one at /form/5/computed/expr saying %q", problems[0], tt.want)
			}
		})
	}
}

func TestComputedDecide(t *testing.T) {
	p, problems := Compile(computedItem(
		rule("band_a", `form.band == "A"`, "manual"),
		rule("age", "applicant.age >= 60", "reject"),
	))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	byField := func(d Decision) map[string]Computation {
		out := map[string]Computation{}
		for _, c := range d.Computed {
			out[c.Field] = c
		}
		return out
	}

	t.Run("values fill the form the rules read", func(t *testing.T) {
		in := baseInput()
		in.Form["band"], in.Form["fee"] = "B", "free" // the applicant's own values are not used, nor even read
		d := p.Decide(in, decisionDay)
		if d.Outcome != Approve || len(d.InputProblems) > 0 {
			t.Fatalf("outcome %s, reasons %v; want approve on the computed band A", d.Outcome, d.ReasonCodes())
		}
		cs := byField(d)
		if c := cs["band"]; c.Result != ComputedValue || c.Value != "A" || len(c.Looked) != 1 || c.Looked[0].Path != "sources.population.children_count" || c.Looked[0].Value != int64(2) {
			t.Errorf("band = %+v; want A, having looked at children_count 2", c)
		}
		if c := cs["fee"]; c.Value != 200.0 {
			t.Errorf("fee = %+v; want 200 (an integer made a number)", c)
		}
		if c := cs["valid_until"]; c.Value != "2029-11-22" {
			t.Errorf("valid_until = %+v; want 2029-11-22", c)
		}
		form := map[string]any{"band": "B", "fee": 1.0}
		SetComputed(form, d.Computed)
		if form["band"] != "A" || form["fee"] != 200.0 || form["valid_until"] != "2029-11-22" {
			t.Errorf("form after SetComputed = %v", form)
		}
		// The record keeps the computations through JSON, as it is stored.
		b, _ := json.Marshal(d)
		var back Decision
		if err := json.Unmarshal(b, &back); err != nil || len(back.Computed) != 3 || back.Computed[0].Expr == "" {
			t.Errorf("stored record computations = %+v (%v)", back.Computed, err)
		}
	})

	t.Run("unknown data leave the field empty and go to a person", func(t *testing.T) {
		in := baseInput()
		delete(in.Sources, "population")
		in.Form["band"] = "A" // an old value must not stand in for the missing data
		d := p.Decide(in, decisionDay)
		c := byField(d)["band"]
		if c.Result != Unknown || !slices.Equal(c.Waiting, []string{"sources.population"}) || c.Value != nil {
			t.Errorf("band = %+v; want unknown, waiting for sources.population", c)
		}
		if d.Outcome != Manual || !slices.Contains(d.ReasonCodes(), "computed.band") || !slices.Contains(d.ReasonCodes(), "band_a") {
			t.Errorf("outcome %s, reasons %v; want manual with computed.band and band_a (unknown)", d.Outcome, d.ReasonCodes())
		}
		for _, r := range d.Rules {
			if r.ID == "band_a" && r.Result != Unknown {
				t.Errorf("rule band_a %s; want unknown: it reads a value that could not be computed", r.Result)
			}
		}
		for _, r := range d.Reasons {
			if r.Code == "computed.band" && !strings.Contains(r.Text.Zh, "救助档次") {
				t.Errorf("reason %q does not name the field", r.Text.Zh)
			}
		}
		form := map[string]any{"band": "A"}
		SetComputed(form, d.Computed)
		if _, ok := form["band"]; ok {
			t.Errorf("band stays in the form as %v; want it empty", form["band"])
		}
	})

	t.Run("a field for other answers is skipped", func(t *testing.T) {
		in := baseInput()
		in.Answers["kind"] = "renew"
		d := p.Decide(in, decisionDay)
		if c := byField(d)["valid_until"]; c.Result != Skipped || c.Applies {
			t.Errorf("valid_until = %+v; want skipped", c)
		}
	})

	t.Run("a value outside the options is an error", func(t *testing.T) {
		it := computedItem(rule("age", "applicant.age >= 60", "reject"))
		it.Form[5].Computed.Expr = `"C"`
		p, problems := Compile(it)
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		d := p.Decide(baseInput(), decisionDay)
		if c := byField(d)["band"]; c.Result != Error || !strings.Contains(c.Error, "not one of the field's options") {
			t.Errorf("band = %+v; want an error", c)
		}
		if d.Outcome != Manual || !slices.Contains(d.ReasonCodes(), "computed.band") {
			t.Errorf("outcome %s %v; want manual for computed.band", d.Outcome, d.ReasonCodes())
		}
	})

	t.Run("Compute alone gives the same values", func(t *testing.T) {
		cs := p.Compute(baseInput(), decisionDay)
		if len(cs) != 3 || cs[0].Value != "A" || cs[1].Value != 200.0 {
			t.Errorf("Compute = %+v", cs)
		}
		if needs := p.ComputedNeeds(); !slices.Equal(needs["population"], []string{"children_count"}) || len(needs) != 1 {
			t.Errorf("ComputedNeeds = %v; want population.children_count only", needs)
		}
	})
}

func TestAddYears(t *testing.T) {
	d := func(s string) string { t, _ := parseDay(s); return t.Format("2006-01-02") }
	for _, tt := range []struct {
		from string
		n    int64
		want string
	}{
		{"2024-02-29", 1, "2025-02-28"},
		{"2024-02-29", 4, "2028-02-29"},
		{"2026-11-22", 3, "2029-11-22"},
		{"2026-01-31", -1, "2025-01-31"},
	} {
		from, _ := parseDay(tt.from)
		if got := addYears(from, tt.n).Format("2006-01-02"); got != d(tt.want) {
			t.Errorf("add_years(%s, %d) = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}
