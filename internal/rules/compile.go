// Package rules is the rules engine for instant approval (秒批): it
// compiles an item's review rules — CEL expressions over the applicant, the
// form, the data sharing hub's sources, the materials, the credit record and
// the day — type-checks them against the item and the hub's schemas, and
// decides applications with an explainable record of every rule.
//
// Missing data never approves: sources that had no record or did not
// answer are unknown to the expressions (CEL partial evaluation), and a
// rule whose result depends on them sends the case to a person.
//
// Rule authors read docs/RULES.md; this package's tests run every
// <item>.tests.yaml of the demo catalogue.
package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"

	"yiwang/internal/catalog"
	"yiwang/internal/hub"
)

// CostLimit bounds the work one rule may do in one evaluation, in CEL cost
// units (about one per operation, plus one per element a comprehension
// visits). The demo rules cost at most a few dozen; a table of 50 rows
// checked with all() a few hundred. A runaway expression — a comprehension
// nested over a large list — is stopped and the case goes to a person.
const CostLimit = 10_000

// Problem is one thing wrong with an item's rules. Line and Col, when not
// zero, point into the expression (1-based); Ptr is the JSON pointer of the
// element in the item, e.g. /rules/2/expr.
type Problem struct {
	Rule    string `json:"rule,omitempty"`
	Ptr     string `json:"ptr"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
	// Syntax marks an expression that does not parse. The catalogue loader
	// reports those itself, so CheckCatalogue leaves them out.
	Syntax bool `json:"syntax,omitempty"`
}

// String renders the problem for a person who has the item open.
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s (expression %d:%d): %s", p.Ptr, p.Line, p.Col, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.Ptr, p.Message)
}

// Program is an item's compiled rules, ready to decide applications. It is
// immutable and safe for concurrent use.
type Program struct {
	item       string
	version    int64
	schema     schema
	situations map[string][]string
	minCredit  string
	materials  []string
	sources    []string // the hub's registries, in its order
	rules      []compiledRule
	computed   []compiledComputation // in form order
	digest     string
}

type compiledRule struct {
	catalog.Rule
	from  time.Time // zero: in force from the start
	prg   cel.Program
	paths [][]string // the attributes the expression reads, for the trace
}

// ItemCode is the code of the item the program decides.
func (p *Program) ItemCode() string { return p.item }

// RulesDigest is the sha256 of the canonical JSON of the item's rules: two
// decisions with the same digest applied the same rule set.
func (p *Program) RulesDigest() string { return p.digest }

// Compile parses and type-checks every rule of item and returns the program,
// or every problem found. A program is returned only when there are none:
// an item is never decided with a rule left out.
func Compile(item catalog.Item) (*Program, []Problem) {
	return compile(item, nil)
}

// CheckCatalogue compiles the rules of every item of a loaded catalogue and
// returns the problems at their place in the files, as the catalogue loader
// reports its own. Syntax errors are left to the loader, which reports them
// already; here e-licence types named in rules must be declared in
// licences.yaml.
func CheckCatalogue(c *catalog.Catalogue) []catalog.Problem {
	var licences map[string]bool
	if len(c.Licences) > 0 {
		licences = map[string]bool{}
		for _, l := range c.Licences {
			licences[l.Code] = true
		}
	}
	var out []catalog.Problem
	for _, it := range c.Items {
		_, ps := compile(it.Item, licences)
		for _, p := range ps {
			if p.Syntax {
				continue
			}
			line, col := position(it.Source, p.Ptr, p.Line, p.Col)
			// The rules engine speaks CEL, in English; a Chinese lead says where.
			out = append(out, catalog.Problem{File: it.File, Line: line, Col: col, Message: p.Message, Zh: "规则表达式有误：" + p.Message})
		}
	}
	return out
}

func newEnv(s schema) (*cel.Env, error) {
	opts := []cel.EnvOption{
		declaredTypes(s),
		cel.Variable(varApplicant, cel.ObjectType(typeApplicant)),
		cel.Variable(varForm, cel.ObjectType(typeForm)),
		cel.Variable(varSources, cel.ObjectType(typeSources)),
		cel.Variable(varMaterials, cel.ObjectType(typeMaterials)),
		cel.Variable(varCredit, cel.ObjectType(typeCredit)),
		cel.Variable(varToday, cel.TimestampType),
	}
	return cel.NewEnv(append(opts, dateFunctions()...)...)
}

// compile is Compile; licences, when not nil, are the e-licence types the
// catalogue declares.
func compile(item catalog.Item, licences map[string]bool) (*Program, []Problem) {
	s := declare(item)
	env, err := newEnv(s)
	if err != nil {
		return nil, []Problem{{Ptr: "/rules", Message: "the rules environment cannot be built: " + err.Error()}}
	}
	p := &Program{
		item:       item.Code,
		schema:     s,
		situations: map[string][]string{},
		digest:     rulesDigest(item),
	}
	if item.Requirements != nil {
		p.minCredit = item.Requirements.MinCreditLevel
	}
	for _, m := range item.Materials {
		p.materials = append(p.materials, m.ID)
	}
	for _, src := range hub.Sources() {
		p.sources = append(p.sources, src.Name)
	}
	for _, sit := range item.Situations {
		for _, a := range sit.Answers {
			p.situations[sit.ID] = append(p.situations[sit.ID], a.Value)
		}
	}
	var problems []Problem
	for i, r := range item.Rules {
		ptr := fmt.Sprintf("/rules/%d", i)
		var ps []Problem
		add := func(sub string, line, col int, syntax bool, format string, args ...any) {
			ps = append(ps, Problem{Rule: r.ID, Ptr: ptr + sub, Line: line, Col: col, Syntax: syntax,
				Message: fmt.Sprintf("rule %s: ", r.ID) + fmt.Sprintf(format, args...)})
		}
		cr := compiledRule{Rule: r}
		if r.EffectiveFrom != "" {
			if cr.from, err = parseDay(r.EffectiveFrom); err != nil {
				add("/effective_from", 0, 0, false, "effective_from %q is not a date: write it as \"YYYY-MM-DD\"", r.EffectiveFrom)
			}
		}
		if r.OnFail != "reject" && r.OnFail != "manual" {
			add("/on_fail", 0, 0, false, "on_fail must be reject or manual, not %q", r.OnFail)
		}
		parsed, iss := env.Parse(r.Expr)
		if iss.Err() != nil {
			for _, e := range iss.Errors() {
				add("/expr", e.Location.Line(), e.Location.Column()+1, true, "%s", firstLine(e.Message))
			}
			problems = append(problems, ps...)
			continue
		}
		names := checkNames(s, parsed.NativeRep(), licences)
		checked, iss := env.Check(parsed)
		if iss.Err() != nil {
			for _, e := range iss.Errors() {
				line, col := e.Location.Line(), e.Location.Column()+1
				if slices.ContainsFunc(names, func(n nameProblem) bool { return n.line == line && n.col == col }) {
					continue // said better by checkNames
				}
				add("/expr", line, col, false, "%s", hint(firstLine(e.Message)))
			}
		}
		for _, n := range names {
			add("/expr", n.line, n.col, false, "%s", n.msg)
		}
		if len(ps) == 0 {
			if t := checked.OutputType(); !t.IsExactType(types.BoolType) {
				add("/expr", 0, 0, false, "a rule must be true or false, but this expression gives %s: compare it with something, e.g. `… == \"valid\"`", typeName(t))
			}
		}
		if len(ps) == 0 {
			prg, err := env.Program(checked, cel.EvalOptions(cel.OptPartialEval, cel.OptOptimize), cel.CostLimit(CostLimit))
			if err != nil {
				add("/expr", 0, 0, false, "cannot be prepared for evaluation: %v", err)
			}
			cr.prg = prg
			cr.paths = referencedPaths(checked.NativeRep())
		}
		problems = append(problems, ps...)
		p.rules = append(p.rules, cr)
	}
	problems = append(problems, p.compileComputed(env, item, licences)...)
	if len(problems) > 0 {
		return nil, problems
	}
	return p, nil
}

// rulesDigest is the sha256 of the rules' canonical JSON (Go's encoding:
// fields in declaration order, map keys sorted), followed by that of the
// computed fields' computations when the item has any.
func rulesDigest(item catalog.Item) string {
	rs := item.Rules
	if rs == nil {
		rs = []catalog.Rule{}
	}
	b, _ := json.Marshal(rs)
	var computed []map[string]any
	for _, f := range item.Form {
		if f.Computed != nil {
			computed = append(computed, map[string]any{"field": f.ID, "type": f.Type, "computed": f.Computed, "when": f.When})
		}
	}
	if computed != nil {
		c, _ := json.Marshal(computed)
		b = append(b, c...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// hint adds what to do to the CEL checker's commonest complaints.
func hint(msg string) string {
	switch {
	case strings.Contains(msg, "(int, double)") || strings.Contains(msg, "(double, int)"):
		return msg + ": integers and decimals do not mix; write 50.0 to compare with a decimal, 50 with an integer, or convert with int(…) or double(…)"
	case strings.HasPrefix(msg, "found no matching overload"):
		return msg + ": the values are of different types (see the input types in docs/RULES.md)"
	case strings.HasPrefix(msg, "undeclared reference"):
		return msg + ": rules read applicant, form, sources, materials, credit and today, and the functions listed in docs/RULES.md"
	}
	return msg
}

func typeName(t *types.Type) string {
	if t == nil {
		return "nothing"
	}
	switch t.Kind() {
	case types.DynKind:
		return "a value whose type is only known when the rule runs (dyn)"
	}
	return t.String()
}

// nameProblem is a name that is not there, at a place in the expression.
type nameProblem struct {
	line, col int
	msg       string
}

// selectChain unwinds a.b.c into the root expression and the selected
// names with the id of each selection.
func selectChain(e ast.Expr) (root ast.Expr, names []string, ids []int64) {
	for e.Kind() == ast.SelectKind {
		sel := e.AsSelect()
		names = append(names, sel.FieldName())
		ids = append(ids, e.ID())
		e = sel.Operand()
	}
	slices.Reverse(names)
	slices.Reverse(ids)
	return e, names, ids
}

// walk visits every expression under e; visit returns false to skip the
// children. scope holds the comprehension variables in scope, which hide
// top-level variables of the same name, each with the object type of its
// values when known (the rows of a form table).
func walk(s schema, e ast.Expr, scope map[string]string, visit func(e ast.Expr, scope map[string]string) bool) {
	if e == nil || !visit(e, scope) {
		return
	}
	switch e.Kind() {
	case ast.SelectKind:
		walk(s, e.AsSelect().Operand(), scope, visit)
	case ast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			walk(s, c.Target(), scope, visit)
		}
		for _, a := range c.Args() {
			walk(s, a, scope, visit)
		}
	case ast.ListKind:
		for _, el := range e.AsList().Elements() {
			walk(s, el, scope, visit)
		}
	case ast.MapKind:
		for _, en := range e.AsMap().Entries() {
			walk(s, en.AsMapEntry().Key(), scope, visit)
			walk(s, en.AsMapEntry().Value(), scope, visit)
		}
	case ast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			walk(s, f.AsStructField().Value(), scope, visit)
		}
	case ast.ComprehensionKind:
		c := e.AsComprehension()
		walk(s, c.IterRange(), scope, visit)
		walk(s, c.AccuInit(), scope, visit)
		inner := map[string]string{}
		for k, v := range scope {
			inner[k] = v
		}
		elem := s.elemType(c.IterRange(), scope)
		inner[c.AccuVar()] = ""
		if c.HasIterVar2() {
			inner[c.IterVar()], inner[c.IterVar2()] = "", elem
		} else {
			inner[c.IterVar()] = elem
		}
		walk(s, c.LoopCondition(), inner, visit)
		walk(s, c.LoopStep(), inner, visit)
		walk(s, c.Result(), inner, visit)
	}
}

// elemType is the object type of the elements of a list expression, when
// it is a path to a list of declared objects (form.TABLE), or "".
func (s schema) elemType(e ast.Expr, scope map[string]string) string {
	root, names, _ := selectChain(e)
	t := s.rootType(root, scope)
	for _, n := range names {
		ft, ok := s.field(t, n)
		if !ok {
			return ""
		}
		t = ""
		if ft.Kind() == types.StructKind {
			t = ft.TypeName()
		}
		if ft.Kind() == types.ListKind && ft.Parameters()[0].Kind() == types.StructKind {
			t = "[]" + ft.Parameters()[0].TypeName()
		}
	}
	elem, ok := strings.CutPrefix(t, "[]")
	if !ok {
		return ""
	}
	return elem
}

// rootType is the object type an identifier stands for: a top-level
// variable's, or a comprehension variable's when known.
func (s schema) rootType(root ast.Expr, scope map[string]string) string {
	if root.Kind() != ast.IdentKind {
		return ""
	}
	name := root.AsIdent()
	if t, ok := scope[name]; ok {
		return t
	}
	return varTypes[name]
}

// rootVar returns the top-level variable an expression names, if it is one.
func rootVar(e ast.Expr, scope map[string]string) (string, bool) {
	if e.Kind() != ast.IdentKind {
		return "", false
	}
	name := e.AsIdent()
	if _, shadowed := scope[name]; shadowed || !slices.Contains(variables, name) {
		return "", false
	}
	return name, true
}

var varTypes = map[string]string{
	varApplicant: typeApplicant, varForm: typeForm, varSources: typeSources,
	varMaterials: typeMaterials, varCredit: typeCredit,
}

// checkNames is the engine's own check of every path from a variable —
// sources.vehicle.driving_years, form.area, materials.id_card.trust — against
// the item and the hub's schemas. The type checker finds the same mistakes;
// this says what the names could have been, and checks e-licence types
// against the catalogue.
func checkNames(s schema, a *ast.AST, licences map[string]bool) []nameProblem {
	var out []nameProblem
	info := a.SourceInfo()
	at := func(id int64, format string, args ...any) {
		loc := info.GetStartLocation(id)
		out = append(out, nameProblem{loc.Line(), loc.Column() + 1, fmt.Sprintf(format, args...)})
	}
	walk(s, a.Expr(), nil, func(e ast.Expr, scope map[string]string) bool {
		switch e.Kind() {
		case ast.CallKind:
			checkLiteralCall(e, at)
			checkLicenceIn(e, scope, licences, at)
			return true
		case ast.SelectKind:
		default:
			return true
		}
		root, names, ids := selectChain(e)
		t := s.rootType(root, scope)
		if t == "" {
			return true // a.b where a is not a variable of a known type: look inside a
		}
		const licenceKeys = "" // the keys of sources.licence and sources.licence_last: e-licence types
		for i, n := range names {
			if t == licenceKeys {
				// sources.licence.TYPE, sources.licence_last.TYPE: a key of an e-licence map.
				if licences != nil && !licences[n] {
					at(ids[i], "licence type %q is not declared in licences.yaml", n)
					return false
				}
				t = typeLicence
				continue
			}
			o, ok := s[t]
			if !ok {
				return false
			}
			ft, ok := s.field(t, n)
			if !ok {
				at(ids[i], "%s", unknownName(o, n))
				return false
			}
			switch {
			case t == typeSources && isLicenceMap(n):
				t = licenceKeys
			case ft.Kind() == types.StructKind:
				t = ft.TypeName()
			default:
				return false // a value: further selections are the type checker's business
			}
		}
		return false
	})
	return out
}

// checkLicenceIn checks "TYPE" in sources.licence (or sources.licence_last)
// against the declared e-licence types.
func checkLicenceIn(e ast.Expr, scope map[string]string, licences map[string]bool, at func(id int64, format string, args ...any)) {
	c := e.AsCall()
	if licences == nil || c.FunctionName() != "@in" || len(c.Args()) != 2 || c.Args()[0].Kind() != ast.LiteralKind {
		return
	}
	typ, ok := c.Args()[0].AsLiteral().Value().(string)
	if !ok {
		return
	}
	root, names, _ := selectChain(c.Args()[1])
	if v, ok := rootVar(root, scope); ok && v == varSources && len(names) == 1 && isLicenceMap(names[0]) && !licences[typ] {
		at(c.Args()[0].ID(), "licence type %q is not declared in licences.yaml", typ)
	}
}

// checkLiteralCall checks date("…"), duration("…") and timestamp("…")
// written with a literal, which would otherwise fail only when the rule runs.
func checkLiteralCall(e ast.Expr, at func(id int64, format string, args ...any)) {
	c := e.AsCall()
	if c.IsMemberFunction() || len(c.Args()) != 1 || c.Args()[0].Kind() != ast.LiteralKind {
		return
	}
	s, ok := c.Args()[0].AsLiteral().Value().(string)
	if !ok {
		return
	}
	switch c.FunctionName() {
	case "date":
		if _, err := parseDay(s); err != nil {
			at(e.ID(), "date(%q) is not a date: write it as \"YYYY-MM-DD\"", s)
		}
	case "duration":
		if _, err := time.ParseDuration(s); err != nil {
			at(e.ID(), "duration(%q) is not a duration: write hours, minutes or seconds, e.g. \"17520h\" for two years of 365 days", s)
		}
	case "timestamp":
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			at(e.ID(), "timestamp(%q) is not a timestamp: write \"2025-01-01T00:00:00Z\", or use date(\"2025-01-01\")", s)
		}
	}
}

// unknownName says that o has no field n, and what it has.
func unknownName(o *objectType, n string) string {
	list := strings.Join(o.fields, ", ")
	if list == "" {
		list = "(none)"
	}
	switch {
	case o.name == typeApplicant:
		return fmt.Sprintf("applicant has no field %q; its fields are %s", n, list)
	case o.name == typeCredit:
		return fmt.Sprintf("credit has no field %q; its fields are %s", n, list)
	case o.name == typeForm:
		return fmt.Sprintf("the form has no field %q; its fields are %s", n, list)
	case o.name == typeMaterials:
		return fmt.Sprintf("the item has no material %q; its materials are %s", n, list)
	case o.name == typeMaterial:
		return fmt.Sprintf("a material has present and trust, not %q", n)
	case o.name == typeSources:
		return fmt.Sprintf("%q names no data source; sources are %s (e-licences in force as sources.licence.TYPE.FIELD, the latest whatever its status as sources.licence_last.TYPE.FIELD)", n, list)
	case strings.HasPrefix(o.name, typeSource):
		return fmt.Sprintf("the %s source has no field %q; its fields are %s", strings.TrimPrefix(o.name, typeSource), n, list)
	case strings.HasPrefix(o.name, typeRow):
		return fmt.Sprintf("a row of table %s has no column %q; its columns are %s", strings.TrimPrefix(o.name, typeRow), n, list)
	}
	return fmt.Sprintf("%s has no field %q", o.name, n)
}

// referencedPaths lists the attributes an expression reads, from a
// variable down the selections written, e.g. [sources vehicle
// driving_years], [form seals], [today]: what the trace shows as the values
// the rule looked at.
func referencedPaths(a *ast.AST) [][]string {
	var out [][]string
	walk(nil, a.Expr(), nil, func(e ast.Expr, scope map[string]string) bool {
		if e.Kind() == ast.CallKind {
			// "TYPE" in sources.licence (or licence_last) looks at the
			// licence of that type.
			c := e.AsCall()
			if c.FunctionName() == "@in" && len(c.Args()) == 2 && c.Args()[0].Kind() == ast.LiteralKind {
				root, names, _ := selectChain(c.Args()[1])
				typ, isStr := c.Args()[0].AsLiteral().Value().(string)
				if v, ok := rootVar(root, scope); ok && isStr && v == varSources && len(names) == 1 && isLicenceMap(names[0]) {
					out = append(out, []string{varSources, names[0], typ})
					return false
				}
			}
		}
		if e.Kind() != ast.SelectKind && e.Kind() != ast.IdentKind {
			return true
		}
		root, names, _ := selectChain(e)
		v, ok := rootVar(root, scope)
		if !ok {
			return true
		}
		out = append(out, append([]string{v}, names...))
		return false
	})
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(strings.Join(a, "."), strings.Join(b, ".")) })
	return slices.CompactFunc(out, slices.Equal)
}
