package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"yiwang/internal/catalog"
)

// ComputedValue is the result of a computed field that was worked out.
// A computation is otherwise Unknown (it depends on data not available),
// Error or Skipped (the field does not apply to the answers).
const ComputedValue Result = "computed"

// Computation is what one computed field (catalog.Computed) did in a
// decision: the expression, the inputs it looked at and the value, as the
// form holds it, or why there is none.
type Computation struct {
	Field   string   `json:"field"`
	Expr    string   `json:"expr"`
	Applies bool     `json:"applies"`
	Result  Result   `json:"result"`
	Value   any      `json:"value,omitempty"` // a number, text, YYYY-MM-DD or true/false
	Looked  []Looked `json:"looked,omitempty"`
	Waiting []string `json:"waiting,omitempty"`
	Error   string   `json:"error,omitempty"` // for staff only
	Cost    uint64   `json:"cost"`
	TookNS  int64    `json:"took_ns"`
}

type compiledComputation struct {
	field catalog.Field
	out   *types.Type // the field's type in the form
	prg   cel.Program
	paths [][]string
}

// compileComputed compiles the computed fields of item in env, as rules
// are compiled, and checks what rules cannot get wrong: the value must fit
// the field, and no computed field may read a computed field.
func (p *Program) compileComputed(env *cel.Env, item catalog.Item, licences map[string]bool) []Problem {
	computed := map[string]bool{}
	for _, f := range item.Form {
		if f.Computed != nil {
			computed[f.ID] = true
		}
	}
	var problems []Problem
	for i, f := range item.Form {
		if f.Computed == nil {
			continue
		}
		ptr := fmt.Sprintf("/form/%d/computed/expr", i)
		var ps []Problem
		add := func(line, col int, syntax bool, format string, args ...any) {
			ps = append(ps, Problem{Rule: f.ID, Ptr: ptr, Line: line, Col: col, Syntax: syntax,
				Message: fmt.Sprintf("computed field %s: ", f.ID) + fmt.Sprintf(format, args...)})
		}
		want := formType(f)
		if f.Type == "table" || f.Type == "file" {
			add(0, 0, false, "a %s field cannot be computed", f.Type)
			problems = append(problems, ps...)
			continue
		}
		parsed, iss := env.Parse(f.Computed.Expr)
		if iss.Err() != nil {
			for _, e := range iss.Errors() {
				add(e.Location.Line(), e.Location.Column()+1, true, "%s", firstLine(e.Message))
			}
			problems = append(problems, ps...)
			continue
		}
		names := checkNames(p.schema, parsed.NativeRep(), licences)
		checked, iss := env.Check(parsed)
		if iss.Err() != nil {
			for _, e := range iss.Errors() {
				line, col := e.Location.Line(), e.Location.Column()+1
				if slices.ContainsFunc(names, func(n nameProblem) bool { return n.line == line && n.col == col }) {
					continue
				}
				add(line, col, false, "%s", hint(firstLine(e.Message)))
			}
		}
		for _, n := range names {
			add(n.line, n.col, false, "%s", n.msg)
		}
		if len(ps) == 0 {
			paths := referencedPaths(checked.NativeRep())
			for _, path := range paths {
				if len(path) >= 2 && path[0] == varForm && computed[path[1]] {
					add(0, 0, false, "reads form.%s, which is computed too: a computed field is computed from the data themselves, not from another computed field", path[1])
				}
			}
			if got := checked.OutputType(); !fits(got, want) {
				add(0, 0, false, "the field is of type %s, so the expression must give %s, but it gives %s", f.Type, fieldTypeWords[want.Kind()], typeName(got))
			}
			if len(ps) == 0 {
				prg, err := env.Program(checked, cel.EvalOptions(cel.OptPartialEval, cel.OptOptimize), cel.CostLimit(CostLimit))
				if err != nil {
					add(0, 0, false, "cannot be prepared for evaluation: %v", err)
				}
				p.computed = append(p.computed, compiledComputation{field: f, out: want, prg: prg, paths: paths})
			}
		}
		problems = append(problems, ps...)
	}
	return problems
}

// fieldTypeWords say what a field of a CEL type takes.
var fieldTypeWords = map[types.Kind]string{
	types.DoubleKind:    "a number (a decimal or an integer)",
	types.StringKind:    "text (string)",
	types.TimestampKind: "a date (timestamp), e.g. today + duration(\"720h\") or add_years(today, 3)",
	types.BoolKind:      "true or false (bool)",
}

// fits reports whether an expression of type got can fill a field of type
// want: exactly, or an integer for a number.
func fits(got, want *types.Type) bool {
	return got.IsExactType(want) || (want.IsExactType(types.DoubleType) && got.IsExactType(types.IntType))
}

// Compute works out the computed fields of the item on in, as Decide does
// before it decides: the values the form is filled with.
func (p *Program) Compute(in Input, at time.Time) []Computation {
	act := p.activation(in, dayOf(at))
	return p.compute(act, in.Answers)
}

// isComputed reports whether the form field id is computed.
func (p *Program) isComputed(id string) bool {
	return slices.ContainsFunc(p.computed, func(c compiledComputation) bool { return c.field.ID == id })
}

// compute evaluates every computed field on act and puts the values in
// its form, where the rules read them; an applicant's own value for a
// computed field never got into act (activation leaves it out). A value that cannot be computed for want
// of data is unknown to the rules; one that fails is left out.
func (p *Program) compute(act *activation, answers map[string]string) []Computation {
	if len(p.computed) == 0 {
		return nil
	}
	form, _ := act.vars[varForm].(map[string]any)
	vars, err := act.partial()
	var out []Computation
	for _, c := range p.computed {
		t := Computation{Field: c.field.ID, Expr: c.field.Computed.Expr, Applies: c.field.When.Matches(answers)}
		if !t.Applies {
			t.Result = Skipped
			out = append(out, t)
			continue
		}
		if err != nil {
			t.Result, t.Error = Error, "the input could not be given to the computation"
			out = append(out, t)
			continue
		}
		var val any
		var evalErr error
		val, t.Cost, t.TookNS, evalErr = evalTraced(c.prg, vars)
		switch v := val.(type) {
		case *types.Unknown:
			t.Result, t.Waiting = Unknown, waiting(v)
		default:
			if evalErr != nil {
				t.Result, t.Error = Error, evalError(evalErr)
				break
			}
			fv, msg := formValue(c.field, v)
			if msg != "" {
				t.Result, t.Error = Error, msg
				break
			}
			cv, convErr := p.schema.convert(c.out, fv)
			if convErr != nil {
				t.Result, t.Error = Error, convErr.Error()
				break
			}
			t.Result, t.Value = ComputedValue, fv
			form[c.field.ID] = cv
		}
		for _, path := range c.paths {
			t.Looked = append(t.Looked, look(act, path))
		}
		out = append(out, t)
	}
	// What could not be computed for want of data is unknown to the rules
	// too, so a rule reading it sends the case to a person.
	for _, t := range out {
		if t.Result == Unknown {
			act.markUnknown(varForm, t.Field)
		}
	}
	return out
}

// formValue turns a computed CEL value into the value the form holds:
// numbers as float64, dates as YYYY-MM-DD; or says why it cannot be.
func formValue(f catalog.Field, v any) (any, string) {
	var x any
	if rv, ok := v.(interface{ Value() any }); ok {
		x = rv.Value()
	}
	switch y := x.(type) {
	case int64:
		return float64(y), ""
	case float64, bool:
		return y, ""
	case string:
		if f.Type == "enum" && !slices.ContainsFunc(f.Options, func(o catalog.Answer) bool { return o.Value == y }) {
			return nil, fmt.Sprintf("the computation gave %q, which is not one of the field's options", y)
		}
		return y, ""
	case time.Time:
		return dayOf(y).Format(time.DateOnly), ""
	}
	return nil, fmt.Sprintf("the computation gave %v, which a %s field cannot hold", v, f.Type)
}

// waiting lists the unavailable data an unknown result depends on.
func waiting(v *types.Unknown) []string {
	var out []string
	for _, id := range v.IDs() {
		trails, _ := v.GetAttributeTrails(id)
		for _, tr := range trails {
			if s := tr.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// computedReasons are the reasons a decision goes to a person for its
// computed fields: a value is never guessed, so one that could not be
// worked out leaves the field empty for a person to fill in.
func (p *Program) computedReasons(cs []Computation) []Reason {
	var out []Reason
	for i, c := range cs {
		label := p.computed[i].field.Label
		switch c.Result {
		case Unknown:
			out = append(out, Reason{Code: ComputedReason(c.Field), Text: missingData(label, c.Waiting)})
		case Error:
			out = append(out, Reason{Code: ComputedReason(c.Field), Text: catalog.Text{
				Zh: fmt.Sprintf("“%s”无法由系统计算，已转人工审核", label.Zh),
				En: fmt.Sprintf("“%s” could not be computed by the system; a member of staff will review the application", label.In("en")),
			}})
		}
	}
	return out
}

// ComputedReason is the reason code of a computed field that could not be
// worked out: computed.FIELD.
func ComputedReason(field string) string { return "computed." + field }

// SetComputed writes the computations into form: each value computed, and
// each applicable field that could not be computed left empty, whatever
// was there before.
func SetComputed(form map[string]any, cs []Computation) {
	for _, c := range cs {
		switch c.Result {
		case ComputedValue:
			form[c.Field] = c.Value
		case Skipped:
		default:
			delete(form, c.Field)
		}
	}
}

// ComputedFields lists the ids of an item's computed form fields.
func ComputedFields(it catalog.Item) []string {
	var out []string
	for _, f := range it.Form {
		if f.Computed != nil {
			out = append(out, f.ID)
		}
	}
	return out
}

// String renders a computation on one line for the command line: field =
// value, or why there is none.
func (c Computation) String() string {
	switch c.Result {
	case ComputedValue:
		return fmt.Sprintf("%s = %v", c.Field, c.Value)
	case Unknown:
		return fmt.Sprintf("%s unknown (waiting for %s)", c.Field, strings.Join(c.Waiting, ", "))
	case Error:
		return fmt.Sprintf("%s error (%s)", c.Field, c.Error)
	}
	return fmt.Sprintf("%s %s", c.Field, c.Result)
}
