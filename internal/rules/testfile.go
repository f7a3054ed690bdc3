package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"
	"yiwang/internal/workday"

	"go.yaml.in/yaml/v3"

	"yiwang/internal/catalog"
)

// TestsSuffix ends the name of a rule tests file, written beside its item:
// civil/senior_card.yaml is tested by civil/senior_card.tests.yaml. The
// format is described in docs/RULES.md.
const TestsSuffix = ".tests.yaml"

// TestFailure is one failed rule test, or a problem with a tests file
// itself (an unknown item or rule, a key misspelt), at a line of the file.
type TestFailure struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Test    string `json:"test,omitempty"`
	Message string `json:"message"`
}

// String renders the failure as file:line: test: message.
func (f TestFailure) String() string {
	if f.Test == "" {
		return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Message)
	}
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Test, f.Message)
}

// TestReport is the result of running rule tests. A problem with a tests
// file counts as one failure.
type TestReport struct {
	Files    int           `json:"files"`
	Passed   int           `json:"passed"`
	Failed   int           `json:"failed"`
	Failures []TestFailure `json:"failures,omitempty"`
	// Cases are the tests run, for coverage checks.
	Cases []TestCase `json:"-"`
}

// TestCase is one test as run: what it expected and what was decided.
type TestCase struct {
	File     string
	Name     string
	Item     string
	Expect   Expectation
	Decision Decision
}

// Expectation is what a test expects.
type Expectation struct {
	Outcome    Outcome           `json:"outcome"`
	Reasons    []string          `json:"reasons,omitempty"`
	Results    map[string]Result `json:"results,omitempty"`
	NotInForce []string          `json:"not_in_force,omitempty"`
	// Computed are the values computed fields must have; null expects
	// none (the value could not be computed).
	Computed   map[string]any `json:"computed,omitempty"`
	hasReasons bool
}

// standardCodes are the reason codes of the engine itself.
var standardCodes = []string{"credit.blacklisted", "credit.level", "credit.unknown", "input.invalid", "rules.none"}

// inputKeys are the keys of input: at the top of a tests file and in each test.
var inputKeys = []string{"applicant", "answers", "form", "sources", "licences", "licences_last", "materials", "credit", "unknown"}

// RunTests runs every tests file under fsys (a catalogue folder) against
// the items of c.
func RunTests(fsys fs.FS, c *catalog.Catalogue) TestReport {
	var r TestReport
	items := map[string]*catalog.LoadedItem{}
	for _, it := range c.Items {
		items[it.Code] = it
	}
	programs := map[string]*Program{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, TestsSuffix) {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			r.fail(TestFailure{File: p, Line: 1, Message: "cannot read: " + err.Error()})
			return nil
		}
		r.Files++
		runFile(&r, p, b, items, programs)
		return nil
	})
	if err != nil {
		r.fail(TestFailure{File: ".", Line: 1, Message: "cannot read the catalogue folder: " + err.Error()})
	}
	return r
}

func (r *TestReport) fail(f TestFailure) {
	r.Failed++
	r.Failures = append(r.Failures, f)
}

// runFile runs the tests of one file.
func runFile(r *TestReport, file string, data []byte, items map[string]*catalog.LoadedItem, programs map[string]*Program) {
	bad := func(line int, format string, args ...any) {
		r.fail(TestFailure{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		bad(1, "not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		bad(1, "a tests file is a mapping with item, input and tests")
		return
	}
	root := doc.Content[0]
	var code, today string
	itemLine := root.Line
	var input, tests *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "item":
			code, itemLine = v.Value, v.Line
		case "today":
			today = v.Value
		case "input":
			input = v
		case "tests":
			tests = v
		default:
			bad(k.Line, "unknown key %q; a tests file has item, today, input and tests", k.Value)
			return
		}
	}
	it, ok := items[code]
	switch {
	case code == "":
		bad(root.Line, "missing item: name the item code the tests are for")
		return
	case !ok:
		bad(itemLine, "item %s is not in the catalogue", code)
		return
	case tests == nil || tests.Kind != yaml.SequenceNode || len(tests.Content) == 0:
		bad(root.Line, "no tests: write a list under tests")
		return
	}
	p := programs[code]
	if p == nil {
		var problems []Problem
		if p, problems = Compile(it.Item); len(problems) > 0 {
			bad(root.Line, "the rules of item %s do not compile: run yiwang catalog validate", code)
			return
		}
		programs[code] = p
	}
	base := map[string]any{}
	if input != nil {
		var err error
		if base, err = inputMap(input); err != nil {
			bad(input.Line, "input: %v", err)
			return
		}
	}
	ruleIDs := map[string]bool{}
	for _, rule := range it.Rules {
		ruleIDs[rule.ID] = true
	}
	for _, f := range ComputedFields(it.Item) {
		ruleIDs[ComputedReason(f)] = true // the reason when it cannot be computed
	}
	for _, tn := range tests.Content {
		tc, failures := runTest(file, tn, base, today, p, ruleIDs)
		if tc != nil {
			tc.Item = code
			r.Cases = append(r.Cases, *tc)
		}
		if len(failures) > 0 {
			r.Failed++
			r.Failures = append(r.Failures, failures...)
		} else {
			r.Passed++
		}
	}
}

// runTest runs one test; it returns the case when it could be run and the
// failures.
func runTest(file string, tn *yaml.Node, base map[string]any, today string, p *Program, ruleIDs map[string]bool) (*TestCase, []TestFailure) {
	tc := &TestCase{File: file}
	var failures []TestFailure
	fail := func(line int, format string, args ...any) {
		failures = append(failures, TestFailure{File: file, Line: line, Test: tc.Name, Message: fmt.Sprintf(format, args...)})
	}
	if tn.Kind != yaml.MappingNode {
		fail(tn.Line, "a test is a mapping with name, expect and input keys")
		return nil, failures
	}
	over := &yaml.Node{Kind: yaml.MappingNode}
	var expect *yaml.Node
	for i := 0; i+1 < len(tn.Content); i += 2 {
		k, v := tn.Content[i], tn.Content[i+1]
		switch {
		case k.Value == "name":
			tc.Name = v.Value
		case k.Value == "today":
			today = v.Value
		case k.Value == "expect":
			expect = v
		case slices.Contains(inputKeys, k.Value):
			over.Content = append(over.Content, k, v)
		default:
			fail(k.Line, "unknown key %q; a test has name, today, expect and %s", k.Value, strings.Join(inputKeys, ", "))
		}
	}
	if tc.Name == "" {
		fail(tn.Line, "missing name: say what the test shows")
	}
	if expect == nil {
		fail(tn.Line, "missing expect: say what the decision must be")
	}
	day, err := parseDay(today)
	if err != nil {
		fail(tn.Line, "today is %q: write the decision day as YYYY-MM-DD, in the test or at the top of the file", today)
	}
	ov, err := inputMap(over)
	if err != nil {
		fail(tn.Line, "%v", err)
	}
	if len(failures) > 0 {
		return nil, failures
	}
	exp, line, err := parseExpect(expect, ruleIDs)
	if err != nil {
		fail(line, "expect: %v", err)
		return nil, failures
	}
	tc.Expect = exp
	merged := merge(base, ov)
	if u, ok := ov["unknown"].([]any); ok {
		bu, _ := base["unknown"].([]any)
		merged["unknown"] = append(slices.Clone(bu), u...)
	}
	in, err := toInput(merged)
	if err != nil {
		fail(tn.Line, "input: %v", err)
		return nil, failures
	}
	d := p.Decide(in, DecisionTime(workday.Date{Year: day.Year(), Month: day.Month(), Day: day.Day()}))
	tc.Decision = d
	for _, prob := range d.InputProblems {
		fail(tn.Line, "the test's input is wrong: %s", prob)
	}
	if len(d.InputProblems) > 0 {
		return tc, failures // the outcome of a wrong input says nothing
	}
	if d.Outcome != exp.Outcome {
		fail(tn.Line, "want %s, got %s%s", exp.Outcome, d.Outcome, summary(d))
	} else if exp.hasReasons && !sameSet(exp.Reasons, d.ReasonCodes()) {
		fail(tn.Line, "want reasons [%s], got [%s]%s", strings.Join(exp.Reasons, " "), strings.Join(d.ReasonCodes(), " "), summary(d))
	}
	for _, id := range sortedKeys(exp.Results) {
		for _, t := range d.Rules {
			if t.ID == id && t.Result != exp.Results[id] {
				msg := fmt.Sprintf("rule %s: want %s, got %s", id, exp.Results[id], t.Result)
				if t.Error != "" {
					msg += " (" + t.Error + ")"
				}
				fail(tn.Line, "%s", msg)
			}
		}
	}
	for _, id := range sortedKeys(exp.Computed) {
		want := exp.Computed[id]
		i := slices.IndexFunc(d.Computed, func(c Computation) bool { return c.Field == id })
		switch {
		case i < 0:
			fail(tn.Line, "computed %s: the item has no such computed field", id)
		case want == nil && d.Computed[i].Result == ComputedValue:
			fail(tn.Line, "computed %s: want no value, got %v", id, d.Computed[i].Value)
		case want != nil && (d.Computed[i].Result != ComputedValue || !sameValue(want, d.Computed[i].Value)):
			fail(tn.Line, "computed %s: want %v, got %s", id, want, d.Computed[i])
		}
	}
	if exp.NotInForce != nil && !sameSet(exp.NotInForce, d.NotInForce) {
		fail(tn.Line, "want not in force [%s], got [%s]", strings.Join(exp.NotInForce, " "), strings.Join(d.NotInForce, " "))
	}
	return tc, failures
}

// summary says briefly why a decision came out as it did.
func summary(d Decision) string {
	var parts []string
	for _, t := range d.Rules {
		switch t.Result {
		case False:
			parts = append(parts, t.ID+" false")
		case Unknown:
			parts = append(parts, fmt.Sprintf("%s unknown (waiting for %s)", t.ID, strings.Join(t.Waiting, ", ")))
		case Error:
			parts = append(parts, fmt.Sprintf("%s error (%s)", t.ID, t.Error))
		}
	}
	for _, r := range d.Reasons {
		if strings.Contains(r.Code, ".") {
			parts = append(parts, r.Code)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

// sameValue compares an expected computed value, as YAML reads it, with
// the value computed: numbers by value, dates as written.
func sameValue(want, got any) bool {
	w, ok1 := toDouble(want)
	g, ok2 := toDouble(got)
	if ok1 && ok2 {
		return w == g
	}
	return fmt.Sprint(datesAsText(want)) == fmt.Sprint(got)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// parseExpect reads expect, checking that it names the item's rules.
func parseExpect(n *yaml.Node, ruleIDs map[string]bool) (Expectation, int, error) {
	var e Expectation
	if n.Kind != yaml.MappingNode {
		return e, n.Line, fmt.Errorf("write a mapping, e.g. {outcome: reject, reasons: [age_60]}")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "outcome":
			e.Outcome = Outcome(v.Value)
			if !slices.Contains([]Outcome{Approve, Reject, Manual}, e.Outcome) {
				return e, v.Line, fmt.Errorf("outcome %q: it is approve, reject or manual", v.Value)
			}
		case "reasons":
			if err := v.Decode(&e.Reasons); err != nil {
				return e, v.Line, fmt.Errorf("reasons: a list of rule ids")
			}
			e.hasReasons = true
			for _, id := range e.Reasons {
				if !ruleIDs[id] && !slices.Contains(standardCodes, id) {
					if f, ok := strings.CutPrefix(id, "computed."); ok {
						return e, v.Line, fmt.Errorf("reason %q: the item has no computed field %q", id, f)
					}
					return e, v.Line, fmt.Errorf("reason %q is neither a rule of the item nor one of %s", id, strings.Join(standardCodes, ", "))
				}
			}
		case "results":
			if err := v.Decode(&e.Results); err != nil {
				return e, v.Line, fmt.Errorf("results: a mapping of rule id to true, false, unknown, error or skipped")
			}
			for id, res := range e.Results {
				if !ruleIDs[id] || strings.HasPrefix(id, "computed.") {
					return e, v.Line, fmt.Errorf("results: the item has no rule %q", id)
				}
				if !slices.Contains([]Result{True, False, Unknown, Error, Skipped}, res) {
					return e, v.Line, fmt.Errorf("results: %s is %q; a result is true, false, unknown, error or skipped", id, res)
				}
			}
		case "not_in_force":
			if err := v.Decode(&e.NotInForce); err != nil {
				return e, v.Line, fmt.Errorf("not_in_force: a list of rule ids")
			}
			if e.NotInForce == nil {
				e.NotInForce = []string{}
			}
			for _, id := range e.NotInForce {
				if !ruleIDs[id] {
					return e, v.Line, fmt.Errorf("not_in_force: the item has no rule %q", id)
				}
			}
		case "computed":
			if err := v.Decode(&e.Computed); err != nil || e.Computed == nil {
				return e, v.Line, fmt.Errorf("computed: a mapping of computed field id to its value, e.g. {band: \"A\"}")
			}
		default:
			return e, k.Line, fmt.Errorf("unknown key %q; expect has outcome, reasons, results, not_in_force and computed", k.Value)
		}
	}
	if e.Outcome == "" {
		return e, n.Line, fmt.Errorf("missing outcome: approve, reject or manual")
	}
	return e, 0, nil
}

// inputMap decodes the input keys of a mapping node into plain values,
// refusing other keys.
func inputMap(n *yaml.Node) (map[string]any, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("write a mapping of %s", strings.Join(inputKeys, ", "))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(inputKeys, k.Value) {
			return nil, fmt.Errorf("line %d: unknown key %q; the input has %s", k.Line, k.Value, strings.Join(inputKeys, ", "))
		}
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// merge lays over on base: mappings merge key by key, a null removes the
// key, anything else replaces.
func merge(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		if v == nil {
			delete(out, k)
			continue
		}
		bm, ok1 := out[k].(map[string]any)
		om, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = merge(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

// toInput turns the merged plain values into an Input, refusing unknown keys.
func toInput(m map[string]any) (Input, error) {
	var in Input
	b, err := json.Marshal(datesAsText(m))
	if err != nil {
		return in, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return in, nil
}

// datesAsText writes the dates YAML reads from unquoted 2024-07-01 as
// text, the form an Input carries them in.
func datesAsText(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.Format(time.DateOnly)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = datesAsText(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = datesAsText(e)
		}
		return out
	}
	return v
}
