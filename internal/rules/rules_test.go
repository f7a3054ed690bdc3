package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"yiwang/internal/workday"

	"yiwang/internal/catalog"
	"yiwang/internal/hub"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/rules/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is meant):\n--- got\n%s", path, got)
	}
}

// testItem is a small item for engine tests: a form of a few types, two
// materials, one situation, and the given rules.
func testItem(rs ...catalog.Rule) catalog.Item {
	return catalog.Item{
		Code:       "11910102MB00011858-07-00099",
		Situations: []catalog.Situation{{ID: "kind", Answers: []catalog.Answer{{Value: "new"}, {Value: "renew"}}}},
		Form: []catalog.Field{
			{ID: "area", Type: "number"},
			{ID: "name", Type: "text"},
			{ID: "start", Type: "date"},
			{ID: "agree", Type: "bool"},
			{ID: "rows", Type: "table", Columns: []catalog.Field{{ID: "name", Type: "text"}, {ID: "share", Type: "number"}}},
		},
		Materials: []catalog.Material{{ID: "id_card"}, {ID: "photo"}},
		Rules:     rs,
	}
}

func rule(id, expr, onFail string) catalog.Rule {
	return catalog.Rule{
		ID: id, Expr: expr, OnFail: onFail,
		Description: catalog.Text{Zh: "规则" + id, En: "Rule " + id},
		Reason:      catalog.Text{Zh: id + "不符合", En: id + " not met"},
	}
}

func from(r catalog.Rule, day string) catalog.Rule { r.EffectiveFrom = day; return r }

func when(r catalog.Rule, answers ...string) catalog.Rule {
	r.When = catalog.When{"kind": answers}
	return r
}

// baseInput has every source the tests read, all in order.
func baseInput() Input {
	return Input{
		Applicant: Applicant{Name: "王建国", IDNumber: "910102196005121232", Kind: "person", RealNameLevel: 3},
		Answers:   map[string]string{"kind": "new"},
		Form: map[string]any{
			"area": 40.0, "name": "明德示范", "start": "2025-01-01", "agree": true,
			"rows": []any{map[string]any{"name": "甲", "share": 60.0}, map[string]any{"name": "乙", "share": 40.0}},
		},
		Sources: map[string]hub.Record{
			"population": {"household_region": "910102001001", "gender": "male", "alive": true, "children_count": int64(2)},
			"vehicle":    {"drink_driving_record": false, "points_history": []string{"0", "3"}, "driving_years": int64(10), "licence_date": "2016-03-01"},
			"credit":     {"level": "A", "blacklisted": false},
			"enterprise": {"status": "active"},
		},
		Licences:  map[string]hub.Record{"driving_licence": {"status": "valid", "class": "C1", "expiry_date": "2030-01-01"}},
		Materials: map[string]Material{"id_card": {Present: true, Trust: "A"}},
		Credit:    &Credit{Level: "A"},
	}
}

var decisionDay = time.Date(2026, 11, 22, 10, 30, 0, 0, workday.CST)

func TestDecide(t *testing.T) {
	runaway := "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, [1,2,3,4,5,6,7,8,9,10].map(d, a + b + c + d)))).size() > 0"
	tests := []struct {
		name    string
		rules   []catalog.Rule
		min     string // the item's min_credit_level
		input   func(in *Input)
		at      time.Time
		want    Outcome
		reasons []string
		golden  bool // also compare the whole record with testdata/decisions/NAME.json
	}{
		{name: "approve", golden: true, rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
			rule("local", `sources.population.household_region.startsWith("910102")`, "reject"),
			rule("shares", "form.rows.map(r, r.share).exists(s, s >= 50.0)", "manual"),
		}, want: Approve},
		{name: "reject with its reason", rules: []catalog.Rule{
			rule("age", "applicant.age >= 70", "reject"),
			rule("local", `sources.population.household_region.startsWith("910102")`, "reject"),
		}, want: Reject, reasons: []string{"age"}},
		{name: "every failed reject reason", rules: []catalog.Rule{
			rule("age", "applicant.age >= 70", "reject"),
			rule("area", "form.area > 50.0", "reject"),
		}, want: Reject, reasons: []string{"age", "area"}},
		{name: "reject beats manual", golden: true, rules: []catalog.Rule{
			rule("employer", `form.name == "别的名字"`, "manual"),
			rule("age", "applicant.age >= 70", "reject"),
		}, want: Reject, reasons: []string{"age"}},
		{name: "reject on known data beats unknown data", rules: []catalog.Rule{
			rule("age", "applicant.age >= 70", "reject"),
			rule("local", `sources.population.household_region.startsWith("910102")`, "reject"),
		}, input: func(in *Input) { in.Unknown = []string{"sources.population"} }, want: Reject, reasons: []string{"age"}},
		{name: "manual rule fails", rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
			rule("employer", `form.name == "别的名字"`, "manual"),
		}, want: Manual, reasons: []string{"employer"}},
		{name: "unknown source never approves", golden: true, rules: []catalog.Rule{
			rule("local", `sources.population.household_region.startsWith("910102")`, "reject"),
		}, input: func(in *Input) { delete(in.Sources, "population") }, want: Manual, reasons: []string{"local"}},
		{name: "unknown under a reject rule is manual, not reject", rules: []catalog.Rule{
			rule("not_local", `sources.population.household_region.startsWith("999")`, "reject"),
		}, input: func(in *Input) { in.Unknown = []string{"sources.population.household_region"} }, want: Manual, reasons: []string{"not_local"}},
		{name: "negation of unknown is unknown", rules: []catalog.Rule{
			rule("clean", "!sources.credit.blacklisted", "reject"),
		}, input: func(in *Input) { in.Unknown = []string{"sources.credit"} }, want: Manual, reasons: []string{"clean"}},
		{name: "negation of a membership in unknown data is unknown", rules: []catalog.Rule{
			rule("no_card", `!("disability_card" in sources.licence)`, "reject"),
		}, input: func(in *Input) { in.Licences = nil }, want: Manual, reasons: []string{"no_card"}},
		{name: "unknown or true is true: the result does not depend on it", rules: []catalog.Rule{
			rule("trick", "sources.vehicle.drink_driving_record || true", "reject"),
		}, input: func(in *Input) { in.Unknown = []string{"sources.vehicle"} }, want: Approve},
		{name: "unknown or false is unknown", rules: []catalog.Rule{
			rule("trick", "!sources.vehicle.drink_driving_record || false", "reject"),
		}, input: func(in *Input) { in.Unknown = []string{"sources.vehicle"} }, want: Manual, reasons: []string{"trick"}},
		{name: "unknown and false is false on known data", rules: []catalog.Rule{
			rule("both", "!sources.vehicle.drink_driving_record && form.area > 100.0", "reject"),
		}, input: func(in *Input) { in.Unknown = []string{"sources.vehicle"} }, want: Reject, reasons: []string{"both"}},
		{name: "conditional on unknown is unknown", rules: []catalog.Rule{
			rule("legal_age", `sources.population.gender == "male" ? applicant.age >= 22 : applicant.age >= 20`, "manual"),
		}, input: func(in *Input) { in.Unknown = []string{"sources.population.gender"} }, want: Manual, reasons: []string{"legal_age"}},
		{name: "has on unknown is unknown", rules: []catalog.Rule{
			rule("has", "has(sources.enterprise.status)", "manual"),
		}, input: func(in *Input) { delete(in.Sources, "enterprise") }, want: Manual, reasons: []string{"has"}},
		{name: "list test on unknown is unknown", rules: []catalog.Rule{
			rule("no_12", `!sources.vehicle.points_history.exists(p, p == "12")`, "reject"),
		}, input: func(in *Input) { in.Unknown = []string{"sources.vehicle.points_history"} }, want: Manual, reasons: []string{"no_12"}},
		{name: "unknown credit", rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
		}, input: func(in *Input) { in.Credit = nil }, want: Manual, reasons: []string{"credit.unknown"}},
		{name: "absent field is an error, and has() tests it", rules: []catalog.Rule{
			rule("dead", "sources.population.death_date < today", "manual"),
			rule("alive", "!has(sources.population.death_date)", "reject"),
		}, want: Manual, reasons: []string{"dead"}},
		{name: "licence_last shows a cancelled licence that licence hides", rules: []catalog.Rule{
			rule("not_cancelled", notCancelled, "reject"),
			rule("holds", `"driving_licence" in sources.licence`, "manual"),
		}, input: func(in *Input) {
			delete(in.Licences, "driving_licence")
			in.LicencesLast = map[string]hub.Record{"driving_licence": {"status": "cancelled", "class": "C1", "expiry_date": "2030-01-01"}}
		}, want: Reject, reasons: []string{"not_cancelled"}},
		{name: "licence_last of a licence in force", rules: []catalog.Rule{
			rule("not_cancelled", notCancelled, "reject"),
			rule("expired", `sources.licence_last.driving_licence.expiry_date < today`, "manual"),
		}, input: func(in *Input) {
			in.LicencesLast = map[string]hub.Record{"driving_licence": {"status": "valid", "expiry_date": "2030-01-01"}}
		}, want: Manual, reasons: []string{"expired"}},
		{name: "licence_last of a type never held", rules: []catalog.Rule{
			rule("not_cancelled", notCancelled, "reject"),
		}, input: func(in *Input) { in.LicencesLast = map[string]hub.Record{} }, want: Approve},
		{name: "licence_last unknown when the library did not answer", rules: []catalog.Rule{
			rule("not_cancelled", notCancelled, "reject"),
		}, want: Manual, reasons: []string{"not_cancelled"}},
		{name: "licence_last of one type unknown", rules: []catalog.Rule{
			rule("not_cancelled", notCancelled, "reject"),
		}, input: func(in *Input) {
			in.Unknown = []string{"sources.licence_last.driving_licence"}
			in.LicencesLast = map[string]hub.Record{}
		}, want: Manual, reasons: []string{"not_cancelled"}},
		{name: "missing e-licence is an error", rules: []catalog.Rule{
			rule("exam", `sources.licence.ride_hailing_exam_result.status == "valid"`, "reject"),
		}, want: Manual, reasons: []string{"exam"}},
		{name: "overflow is an error", rules: []catalog.Rule{
			rule("overflow", "applicant.age + 9223372036854775807 > 0", "reject"),
		}, want: Manual, reasons: []string{"overflow"}},
		{name: "division by zero is an error", rules: []catalog.Rule{
			rule("div", "10 / (applicant.age - applicant.age) > 0", "reject"),
		}, want: Manual, reasons: []string{"div"}},
		{name: "cost limit runaway", golden: true, rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
			rule("runaway", runaway, "reject"),
		}, want: Manual, reasons: []string{"runaway"}},
		{name: "rule not yet in force is skipped", golden: true, rules: []catalog.Rule{
			rule("age_60", "applicant.age >= 60", "reject"),
			from(rule("age_70", "applicant.age >= 70", "reject"), "2026-11-23"),
		}, want: Approve},
		{name: "rule in force from its day", rules: []catalog.Rule{
			rule("age_60", "applicant.age >= 60", "reject"),
			from(rule("age_70", "applicant.age >= 70", "reject"), "2026-11-22"),
		}, want: Reject, reasons: []string{"age_70"}},
		{name: "the day is counted in China", rules: []catalog.Rule{
			from(rule("age_70", "applicant.age >= 70", "reject"), "2026-11-23"),
		}, at: time.Date(2026, 11, 22, 16, 30, 0, 0, time.UTC), want: Reject, reasons: []string{"age_70"}},
		{name: "rule for other answers is skipped", rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
			when(rule("renewal", "false", "reject"), "renew"),
		}, want: Approve},
		{name: "no rule applies", rules: []catalog.Rule{
			when(rule("renewal", "true", "reject"), "renew"),
		}, want: Manual, reasons: []string{"rules.none"}},
		{name: "blacklisted", golden: true, rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
		}, input: func(in *Input) { in.Credit.Blacklisted = true }, want: Manual, reasons: []string{"credit.blacklisted"}},
		{name: "credit below the minimum", min: "B", rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
		}, input: func(in *Input) { in.Credit.Level = "C" }, want: Manual, reasons: []string{"credit.level"}},
		{name: "credit at the minimum", min: "B", rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
		}, input: func(in *Input) { in.Credit.Level = "B" }, want: Approve},
		{name: "credit level unknown with a minimum", min: "B", rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
		}, input: func(in *Input) { in.Credit.Level = "" }, want: Manual, reasons: []string{"credit.unknown"}},
		{name: "malformed input", rules: []catalog.Rule{
			rule("age", "applicant.age >= 60", "reject"),
		}, input: func(in *Input) { in.Form["area"] = "big" }, want: Manual, reasons: []string{"input.invalid"}},
		{name: "age from the ID number on the birthday", rules: []catalog.Rule{
			rule("age", "applicant.age >= 66", "reject"),
		}, at: time.Date(2026, 5, 12, 0, 30, 0, 0, workday.CST), want: Approve},
		{name: "age from the ID number the day before", rules: []catalog.Rule{
			rule("age", "applicant.age >= 66", "reject"),
		}, at: time.Date(2026, 5, 11, 23, 30, 0, 0, workday.CST), want: Reject, reasons: []string{"age"}},
		{name: "date helpers", rules: []catalog.Rule{
			rule("years", "years_between(sources.vehicle.licence_date, today) == 10", "reject"),
			rule("days", `days_between(date("2026-11-01"), today) == 21`, "reject"),
			rule("duration", `today - sources.vehicle.licence_date > duration("87600h")`, "reject"),
			rule("year", "today.getFullYear() == 2026 && today.getMonth() == 10 && today.getDate() == 22", "reject"),
			rule("start", `form.start < date("2025-06-01")`, "reject"),
			rule("expiry", `sources.licence.driving_licence.expiry_date > today`, "reject"),
		}, want: Approve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item := testItem(tt.rules...)
			if tt.min != "" {
				item.Requirements = &catalog.Requirements{MinCreditLevel: tt.min}
			}
			p, problems := Compile(item)
			if len(problems) > 0 {
				t.Fatalf("compile: %v", problems)
			}
			in := baseInput()
			if tt.input != nil {
				tt.input(&in)
			}
			at := tt.at
			if at.IsZero() {
				at = decisionDay
			}
			d := p.Decide(in, at)
			if d.Outcome != tt.want {
				t.Errorf("outcome %s, want %s%s", d.Outcome, tt.want, summary(d))
			}
			if got := d.ReasonCodes(); !slices.Equal(got, tt.reasons) && (len(got) > 0 || len(tt.reasons) > 0) {
				t.Errorf("reasons %v, want %v%s", got, tt.reasons, summary(d))
			}
			for _, r := range d.ApplicantReasons("zh") {
				if strings.Contains(r, "applicant.") || strings.Contains(r, "sources.") || strings.Contains(r, "error") {
					t.Errorf("an applicant reason shows an expression or an error: %q", r)
				}
			}
			if _, err := json.Marshal(d); err != nil {
				t.Errorf("the decision is not JSON: %v", err)
			}
			if tt.golden {
				golden(t, "decisions/"+strings.ReplaceAll(tt.name, " ", "_")+".json", traceJSON(t, d))
			}
		})
	}
}

// notCancelled is the rule of the demo cancellation item, on a driving
// licence: an explicit read of the licence's history.
const notCancelled = `!("driving_licence" in sources.licence_last) || sources.licence_last.driving_licence.status != "cancelled"`

// A rule naming sources.licence_last makes the application read
// licence_last.TYPE, apart from the licence in force.
func TestNeedsLicenceLast(t *testing.T) {
	p, problems := Compile(testItem(
		rule("not_cancelled", notCancelled, "reject"),
		rule("class", `sources.licence.driving_licence.class == "C1"`, "reject"),
		rule("held", `"disability_card" in sources.licence_last`, "manual"),
	))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	needs := p.Needs()
	for src, want := range map[string][]string{
		"licence_last.driving_licence": {"status"}, "licence.driving_licence": {"class"}, "licence_last.disability_card": {"status"},
	} {
		if !slices.Equal(needs[src], want) {
			t.Errorf("needs[%s] = %v, want %v (all: %v)", src, needs[src], want, needs)
		}
	}
}

// traceJSON renders a decision with the timings zeroed, for golden files.
func traceJSON(t *testing.T, d Decision) []byte {
	t.Helper()
	d.TookNS = 0
	for i := range d.Rules {
		d.Rules[i].TookNS = 0
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestDecisionRecord(t *testing.T) {
	p, problems := Compile(testItem(rule("age", "applicant.age >= 70", "reject"), rule("local", `sources.population.household_region.startsWith("910102")`, "reject")))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	in := baseInput()
	d1 := p.Decide(in, decisionDay)
	d2 := p.Decide(baseInput(), decisionDay)
	if d1.InputsDigest != d2.InputsDigest || d1.RulesDigest != d2.RulesDigest {
		t.Error("the same input and rules give different digests")
	}
	in.Form["area"] = 41.0
	if p.Decide(in, decisionDay).InputsDigest == d1.InputsDigest {
		t.Error("a different input gives the same digest")
	}
	p2, _ := Compile(testItem(rule("age", "applicant.age >= 71", "reject")))
	if p2.RulesDigest() == p.RulesDigest() {
		t.Error("different rules give the same digest")
	}
	if d1.Actor != "machine" || d1.Item != p.ItemCode() || d1.Today != "2026-11-22" {
		t.Errorf("actor %q item %q today %q", d1.Actor, d1.Item, d1.Today)
	}
	var in2 Input
	if err := json.Unmarshal(d1.Inputs, &in2); err != nil || in2.Applicant.IDNumber != in.Applicant.IDNumber {
		t.Errorf("the inputs snapshot does not read back: %v", err)
	}
	got := d1.ApplicantReasons("en")
	if !slices.Equal(got, []string{"age not met"}) {
		t.Errorf("applicant reasons %q", got)
	}
	var looked []string
	for _, r := range d1.Rules {
		for _, l := range r.Looked {
			looked = append(looked, fmt.Sprintf("%s=%v", l.Path, l.Value))
		}
	}
	if want := []string{"applicant.age=66", "sources.population.household_region=910102001001"}; !slices.Equal(looked, want) {
		t.Errorf("looked at %v, want %v", looked, want)
	}
}

// TestCompileProblems checks the type errors found when a catalogue is
// validated, with their places in the file: testdata/bad is a catalogue
// whose one item has a rule per kind of mistake.
func TestCompileProblems(t *testing.T) {
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c, loadProblems := schemas.LoadFS(os.DirFS("testdata/bad"))
	var out bytes.Buffer
	for _, p := range loadProblems {
		fmt.Fprintf(&out, "load: %s\n", p)
	}
	for _, p := range CheckCatalogue(c) {
		fmt.Fprintln(&out, p)
	}
	golden(t, "bad.golden", out.Bytes())
}

func TestCompileOneItem(t *testing.T) {
	tests := []struct {
		name, expr string
		want       string // part of the message; "" for none
	}{
		{"comparing int with string", `applicant.age >= "60"`, "(int, string)"},
		{"no such source field", "sources.population.shoe_size > 40", `the population source has no field "shoe_size"`},
		{"not a boolean", "applicant.age + 1", "must be true or false"},
		{"dyn is not a boolean", "sources.licence.x.own_field", "must be true or false"},
		{"int with double", "form.area <= 50", "integers and decimals do not mix"},
		{"table column", `form.rows.all(r, r.nmae != "")`, `a row of table rows has no column "nmae"`},
		{"shadowing variable", `form.rows.all(form, form.name != "")`, ""},
		{"licence own fields are dyn", `sources.licence.x.own_field == "a"`, ""},
		{"licence common fields are typed", `sources.licence.x.expiry_date == "2025-01-01"`, "(timestamp, string)"},
		{"materials", `materials.id_card.present && materials.photo.trust == "A"`, ""},
		{"no such material", "materials.passport.present", `no material "passport"`},
		{"constructing a declared type", "yiwang.Credit{level: 'A'}.level == 'A'", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := Compile(testItem(rule("r", tt.expr, "reject")))
			msgs := fmt.Sprint(problems)
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("unexpected problems: %s", msgs)
			case tt.want != "" && !strings.Contains(msgs, tt.want):
				t.Errorf("problems %s, want one containing %q", msgs, tt.want)
			}
		})
	}
}

func TestConstructionFailsAtRunTime(t *testing.T) {
	p, problems := Compile(testItem(rule("r", "yiwang.Credit{level: 'A'}.level == 'A'", "reject")))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if d := p.Decide(baseInput(), decisionDay); d.Outcome != Manual || d.Rules[0].Result != Error {
		t.Errorf("outcome %s, result %s", d.Outcome, d.Rules[0].Result)
	}
}

func TestCache(t *testing.T) {
	var c Cache
	item := testItem(rule("age", "applicant.age >= 60", "reject"))
	var wg sync.WaitGroup
	progs := make([]*Program, 20)
	for i := range progs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.Get(7, item)
			if err != nil {
				t.Error(err)
			}
			progs[i] = p
		}()
	}
	wg.Wait()
	for _, p := range progs {
		if p != progs[0] {
			t.Fatal("concurrent first calls compiled twice")
		}
	}
	for range 8 { // one program decides for many requests at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d := progs[0].Decide(baseInput(), decisionDay); d.Outcome != Approve {
				t.Errorf("outcome %s", d.Outcome)
			}
		}()
	}
	wg.Wait()
	if d := progs[0].Decide(baseInput(), decisionDay); d.Version != 7 {
		t.Errorf("version %d, want 7", d.Version)
	}
	_, err := c.Get(8, testItem(rule("bad", `applicant.age >= "60"`, "reject")))
	if _, ok := err.(*CompileError); !ok || !strings.Contains(err.Error(), "rule bad") {
		t.Errorf("error %v, want a CompileError naming the rule", err)
	}
	if c.Len() != 2 {
		t.Errorf("%d entries, want 2", c.Len())
	}
}

func TestDateHelpers(t *testing.T) {
	d := func(s string) time.Time { t, _ := parseDay(s); return t }
	tests := []struct {
		a, b        string
		years, days int64
	}{
		{"2000-02-29", "2001-02-28", 0, 365},
		{"2000-02-29", "2001-03-01", 1, 366},
		{"1960-05-12", "2026-05-11", 65, 24105},
		{"1960-05-12", "2026-05-12", 66, 24106},
		{"2026-05-12", "1960-05-12", -66, -24106},
		{"2026-11-22", "2026-11-22", 0, 0},
	}
	for _, tt := range tests {
		if got := yearsBetween(d(tt.a), d(tt.b)); got != tt.years {
			t.Errorf("years_between(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.years)
		}
		if got := daysBetween(d(tt.a), d(tt.b)); got != tt.days {
			t.Errorf("days_between(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.days)
		}
	}
	if got := dayOf(time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)); got.Format(time.DateOnly) != "2027-01-01" {
		t.Errorf("16:00 UTC on 31 December is %s in China, want 2027-01-01", got.Format(time.DateOnly))
	}
}

// TestDemoCatalogueRuleTests runs every tests file of the demo catalogue,
// and checks that each machine-approved item has one: an approval, each
// rule failing alone, and a case of missing data going to a person.
func TestDemoCatalogueRuleTests(t *testing.T) {
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "catalog")
	c, problems := schemas.LoadFS(os.DirFS(dir))
	problems = append(problems, CheckCatalogue(c)...)
	for _, p := range problems {
		t.Errorf("catalogue: %s", p)
	}
	r := RunTests(os.DirFS(dir), c)
	for _, f := range r.Failures {
		t.Errorf("%s", f)
	}
	if r.Passed == 0 {
		t.Fatal("no rule tests ran")
	}
	t.Logf("%d passed, %d failed in %d files", r.Passed, r.Failed, r.Files)
	for _, it := range c.Items {
		if it.Approval.Mode != "auto" {
			continue
		}
		var cases []TestCase
		for _, tc := range r.Cases {
			if tc.Item == it.Code {
				cases = append(cases, tc)
			}
		}
		if len(cases) == 0 {
			t.Errorf("%s (%s): no rule tests; write %s", it.Code, it.File, strings.TrimSuffix(it.File, ".yaml")+TestsSuffix)
			continue
		}
		approves := slices.ContainsFunc(cases, func(tc TestCase) bool { return tc.Decision.Outcome == Approve })
		missing := slices.ContainsFunc(cases, func(tc TestCase) bool {
			return tc.Decision.Outcome == Manual && slices.ContainsFunc(tc.Decision.Rules, func(rt RuleTrace) bool { return rt.Result == Unknown })
		})
		if !approves {
			t.Errorf("%s: no test approves", it.File)
		}
		if !missing {
			t.Errorf("%s: no test shows missing data going to a person", it.File)
		}
		for _, rl := range it.Rules {
			alone := slices.ContainsFunc(cases, func(tc TestCase) bool {
				failed := 0
				mine := false
				for _, rt := range tc.Decision.Rules {
					if rt.Result == False || rt.Result == Unknown || rt.Result == Error {
						failed++
						mine = mine || (rt.ID == rl.ID && rt.Result == False)
					}
				}
				return mine && failed == 1
			})
			if !alone {
				t.Errorf("%s: no test where rule %s fails alone", it.File, rl.ID)
			}
		}
	}
}

// TestTestsFiles checks how the runner reports broken tests files.
func TestTestsFiles(t *testing.T) {
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c, problems := schemas.LoadFS(os.DirFS("../../catalog"))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	r := RunTests(os.DirFS("testdata/testsfiles"), c)
	var out bytes.Buffer
	for _, f := range r.Failures {
		fmt.Fprintln(&out, f)
	}
	fmt.Fprintf(&out, "%d passed, %d failed\n", r.Passed, r.Failed)
	golden(t, "testsfiles.golden", out.Bytes())
}

// FuzzCompileDecide compiles arbitrary expressions as a rule and decides
// with them: nothing may panic, and an approval needs a true rule.
func FuzzCompileDecide(f *testing.F) {
	for _, s := range []string{
		"applicant.age >= 60", `sources.population.household_region.startsWith("910102")`,
		"!sources.credit.blacklisted", "sources.vehicle.drink_driving_record || true",
		`form.rows.all(r, r.share > 0.0)`, `"x" in sources.licence`, "today - form.start > duration('24h')",
		"years_between(applicant.birth_date, today) >= 18", `date("2026-02-30") < today`, "1/0 == 1",
		"[1,2,3].map(a, [1,2,3].map(b, a*b)).size() > 2", `materials.id_card.trust == "A"`, "has(form.name)",
		"sources.licence.driving_licence.class.matches('^[A-C][1-2]$')", "int(form.area) == 40", ")(",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		p, problems := Compile(testItem(rule("r", expr, "reject")))
		if len(problems) > 0 {
			return
		}
		for _, in := range []Input{baseInput(), {}} {
			d := p.Decide(in, decisionDay)
			if d.Outcome == Approve && d.Rules[0].Result != True {
				t.Fatalf("approved with rule result %s", d.Rules[0].Result)
			}
		}
	})
}

func benchmarkItem(b *testing.B, file string) (*Program, Input) {
	b.Helper()
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		b.Fatal(err)
	}
	c, problems := schemas.LoadFS(os.DirFS("../../catalog"))
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	r := RunTests(os.DirFS("../../catalog"), c)
	for _, tc := range r.Cases {
		if strings.HasSuffix(tc.File, file) && tc.Decision.Outcome == Approve {
			var in Input
			if err := json.Unmarshal(tc.Decision.Inputs, &in); err != nil {
				b.Fatal(err)
			}
			for _, it := range c.Items {
				if it.Code == tc.Item {
					p, problems := Compile(it.Item)
					if len(problems) > 0 {
						b.Fatal(problems)
					}
					return p, in
				}
			}
		}
	}
	b.Fatalf("no approving test in %s", file)
	return nil, Input{}
}

// BenchmarkDecide decides the first approving test case of an item: the
// senior card (2 rules) and the ride-hailing driver permit (7 rules).
func BenchmarkDecide(b *testing.B) {
	for _, bc := range []struct{ name, file string }{
		{"senior_card_2_rules", "civil/senior_card.tests.yaml"},
		{"ride_hailing_7_rules", "transport/ride_hailing_driver_permit.tests.yaml"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, in := benchmarkItem(b, bc.file)
			at := time.Date(2026, 9, 1, 12, 0, 0, 0, workday.CST)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if d := p.Decide(in, at); d.Outcome != Approve {
					b.Fatalf("outcome %s%s", d.Outcome, summary(d))
				}
			}
		})
	}
}

// BenchmarkCompile compiles the senior card's rules: what the cache saves.
func BenchmarkCompile(b *testing.B) {
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("../../catalog/items/civil/senior_card.yaml")
	if err != nil {
		b.Fatal(err)
	}
	it, problems := schemas.ParseItem("senior_card.yaml", data)
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, problems := Compile(it.Item); len(problems) > 0 {
			b.Fatal(problems)
		}
	}
}
