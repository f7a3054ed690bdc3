package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"

	"yiwang/internal/catalog"
	"yiwang/internal/hub"
)

// Outcome is what a decision says.
type Outcome string

// The outcomes.
const (
	Approve Outcome = "approve" // every rule in force held, on known data
	Reject  Outcome = "reject"  // a reject rule failed on known data
	Manual  Outcome = "manual"  // a person decides
)

// Result is what one rule gave.
type Result string

// The results of a rule.
const (
	True    Result = "true"
	False   Result = "false"
	Unknown Result = "unknown" // depends on data that are not available
	Error   Result = "error"   // could not be evaluated (missing key, overflow, cost limit)
	Skipped Result = "skipped" // not in force on the day, or not for the answers given
)

// Actor is who made a decision of this package.
const Actor = "machine"

// Decision is the explainable record of one decision: what was decided,
// by which rule set, on which data, and what each rule saw and gave. It is
// meant to be stored as JSON beside the application; Reasons are what the
// applicant may read, everything else is for staff.
type Decision struct {
	Outcome     Outcome   `json:"outcome"`
	Item        string    `json:"item"`
	Version     int64     `json:"version_id,omitempty"`
	RulesDigest string    `json:"rules_digest"`
	Actor       string    `json:"actor"`
	At          time.Time `json:"at"`
	Today       string    `json:"today"` // the decision day in China Standard Time
	// Reasons explain the outcome in standard words, in order: the failed
	// reject rules for a rejection; for a manual decision the failed
	// manual rules, the rules that could not be decided, and the credit
	// and input reasons.
	Reasons []Reason    `json:"reasons"`
	Rules   []RuleTrace `json:"rules"`
	// Computed is what each computed field of the item gave, worked out
	// before the rules, which read the values.
	Computed []Computation `json:"computed,omitempty"`
	// NotInForce lists the rules skipped because their effective_from is
	// after the decision day.
	NotInForce []string `json:"not_in_force,omitempty"`
	// Unknown lists the data that were not available and that some rule
	// of the item refers to, as paths.
	Unknown []string `json:"unknown,omitempty"`
	// InputProblems are what is wrong with the input itself; any sends
	// the case to a person.
	InputProblems []string `json:"input_problems,omitempty"`
	// InputsDigest is the sha256 of Inputs, the canonical JSON of the Input.
	InputsDigest string          `json:"inputs_digest"`
	Inputs       json.RawMessage `json:"inputs"`
	TookNS       int64           `json:"took_ns"`
}

// Reason is one standard reason: a rule's own reason, or one of the
// engine's (codes with a dot: credit.blacklisted, credit.level,
// credit.unknown, input.invalid, rules.none).
type Reason struct {
	Code string       `json:"code"`
	Text catalog.Text `json:"text"`
}

// RuleTrace is what one rule did in a decision.
type RuleTrace struct {
	ID            string `json:"id"`
	OnFail        string `json:"on_fail"`
	EffectiveFrom string `json:"effective_from,omitempty"`
	InForce       bool   `json:"in_force"`
	Applies       bool   `json:"applies"` // its when matches the answers
	Result        Result `json:"result"`
	// Looked are the input values the expression refers to.
	Looked []Looked `json:"looked,omitempty"`
	// Waiting are the unavailable data an unknown result depends on.
	Waiting []string `json:"waiting,omitempty"`
	// Error is the evaluation error, for staff only: it is never shown to
	// the applicant.
	Error  string        `json:"error,omitempty"`
	Reason *catalog.Text `json:"reason,omitempty"` // the rule's reason, when it failed
	Cost   uint64        `json:"cost"`
	TookNS int64         `json:"took_ns"`
}

// Looked is one input value a rule refers to.
type Looked struct {
	Path    string `json:"path"`
	Value   any    `json:"value,omitempty"`
	Unknown bool   `json:"unknown,omitempty"` // the data are not available
	Absent  bool   `json:"absent,omitempty"`  // the record or form has no such value
}

// Shown writes the value for a person trying rules out (yiwang rules try,
// the administration's try-out): text as it is, anything else as JSON, and
// says when it was unavailable or absent.
func (l Looked) Shown() string {
	switch {
	case l.Unknown:
		return "（不可用 unavailable）"
	case l.Absent:
		return "（无 absent）"
	}
	if s, ok := l.Value.(string); ok {
		return s
	}
	b, err := json.Marshal(l.Value)
	if err != nil {
		return fmt.Sprint(l.Value)
	}
	return string(b)
}

// ApplicantReasons returns the reasons in lang ("zh" or "en"), each once:
// only standard texts, never an expression or an error.
func (d Decision) ApplicantReasons(lang string) []string {
	out := []string{} // an approval may have none: a list still, never null in JSON
	for _, r := range d.Reasons {
		if t := r.Text.In(lang); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// ReasonCodes returns the codes of the reasons: rule ids and the engine's
// standard codes.
func (d Decision) ReasonCodes() []string {
	out := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		out[i] = r.Code
	}
	return out
}

// creditRank orders credit levels, A best.
var creditRank = map[string]int{"A": 1, "B": 2, "C": 3, "D": 4}

// Decide evaluates the rules in force at `at` that apply to the answers,
// and decides:
//
//   - reject when a reject rule is false: its result did not depend on any
//     missing data, so the rejection stands whatever else is unknown;
//   - otherwise manual when a manual rule is false, when any rule is
//     unknown (it depends on data not available) or could not be evaluated,
//     when the credit record is missing, blacklisted or below the item's
//     min_credit_level, when the input is malformed, or when no rule
//     applies;
//   - otherwise approve.
//
// Decide never fails: whatever goes wrong goes to a person, with the
// reason in the record.
func (p *Program) Decide(in Input, at time.Time) Decision {
	start := time.Now()
	today := dayOf(at)
	act := p.activation(in, today)
	d := Decision{
		Item:        p.item,
		Version:     p.version,
		RulesDigest: p.digest,
		Actor:       Actor,
		At:          at,
		Today:       today.Format(time.DateOnly),
		Reasons:     []Reason{},
	}
	snapshot, err := json.Marshal(in)
	if err != nil {
		act.problem("the input cannot be recorded as JSON: %v", err)
		snapshot = []byte("null")
	}
	sum := sha256.Sum256(snapshot)
	d.Inputs, d.InputsDigest = snapshot, hex.EncodeToString(sum[:])
	for _, u := range act.unknown {
		if p.reads(u) {
			d.Unknown = append(d.Unknown, strings.Join(u, "."))
		}
	}
	d.InputProblems = act.problems
	d.Computed = p.compute(act, in.Answers)

	vars, err := act.partial()
	if err != nil {
		act.problem("the input cannot be given to the rules: %v", err)
		d.InputProblems = act.problems
	}

	var rejects, manuals []Reason
	evaluated := 0
	for _, r := range p.rules {
		t := p.evalRule(r, vars, act, in.Answers, today)
		d.Rules = append(d.Rules, t)
		if !t.InForce {
			d.NotInForce = append(d.NotInForce, r.ID)
		}
		if t.Result == Skipped {
			continue
		}
		evaluated++
		switch t.Result {
		case False:
			if r.OnFail == "reject" {
				rejects = append(rejects, Reason{Code: r.ID, Text: r.Reason})
			} else {
				manuals = append(manuals, Reason{Code: r.ID, Text: r.Reason})
			}
		case Unknown:
			manuals = append(manuals, Reason{Code: r.ID, Text: missingData(r.Description, t.Waiting)})
		case Error:
			manuals = append(manuals, Reason{Code: r.ID, Text: notCheckable(r.Description)})
		}
	}
	manuals = append(manuals, p.computedReasons(d.Computed)...)
	manuals = append(manuals, p.creditReasons(in.Credit, act)...)
	if len(d.InputProblems) > 0 {
		manuals = append(manuals, Reason{Code: "input.invalid", Text: catalog.Text{
			Zh: "申请数据不完整或格式有误，已转人工审核",
			En: "Some application data are incomplete or malformed; a member of staff will review the application",
		}})
	}
	switch {
	case len(rejects) > 0:
		d.Outcome, d.Reasons = Reject, rejects
	case len(manuals) > 0:
		d.Outcome, d.Reasons = Manual, manuals
	case evaluated == 0:
		d.Outcome, d.Reasons = Manual, []Reason{{Code: "rules.none", Text: catalog.Text{
			Zh: "没有适用的审查规则，已转人工审核",
			En: "No review rule applies to this application; a member of staff will review it",
		}}}
	default:
		d.Outcome = Approve
	}
	d.TookNS = time.Since(start).Nanoseconds()
	return d
}

// reads reports whether some rule or computation refers to data at path
// or within it.
func (p *Program) reads(path []string) bool {
	for _, q := range p.paths() {
		n := min(len(q), len(path))
		if slices.Equal(q[:n], path[:n]) {
			return true
		}
	}
	return path[0] == varCredit // the engine's own credit checks read it
}

// paths are the attributes the rules and the computations read.
func (p *Program) paths() [][]string {
	var out [][]string
	for _, r := range p.rules {
		out = append(out, r.paths...)
	}
	for _, c := range p.computed {
		out = append(out, c.paths...)
	}
	return out
}

// creditReasons are the engine's own credit checks: a blacklisted
// applicant, or one below the item's min_credit_level, is never approved
// by machine; nor is one whose credit record is not available.
func (p *Program) creditReasons(c *Credit, act *activation) []Reason {
	var out []Reason
	unknown := false
	if act.isUnknown([]string{varCredit, "blacklisted"}) {
		unknown = true
	} else if c.Blacklisted {
		out = append(out, Reason{Code: "credit.blacklisted", Text: catalog.Text{
			Zh: "申请人被列入失信名单，不适用秒批、告知承诺或自审备案，已转人工审核",
			En: "The applicant is on the dishonesty blacklist, so neither instant approval nor approval on commitment or filing is available; a member of staff will review the application",
		}})
	}
	if p.minCredit != "" {
		if act.isUnknown([]string{varCredit, "level"}) {
			unknown = true
		} else if creditRank[c.Level] > creditRank[p.minCredit] {
			out = append(out, Reason{Code: "credit.level", Text: catalog.Text{
				Zh: fmt.Sprintf("申请人信用等级为%s级，低于本事项要求的%s级，已转人工审核", c.Level, p.minCredit),
				En: fmt.Sprintf("The applicant's credit level %s is below the %s this item requires; a member of staff will review the application", c.Level, p.minCredit),
			}})
		}
	}
	if unknown {
		out = append(out, Reason{Code: "credit.unknown", Text: catalog.Text{
			Zh: "信用数据暂时无法核验，已转人工审核",
			En: "The credit record could not be checked; a member of staff will review the application",
		}})
	}
	return out
}

// evalRule evaluates one rule and records what it saw.
func (p *Program) evalRule(r compiledRule, vars cel.PartialActivation, act *activation, answers map[string]string, today time.Time) RuleTrace {
	t := RuleTrace{
		ID:            r.ID,
		OnFail:        r.OnFail,
		EffectiveFrom: r.EffectiveFrom,
		InForce:       r.from.IsZero() || !r.from.After(today),
		Applies:       r.When.Matches(answers),
	}
	if !t.InForce || !t.Applies || vars == nil {
		t.Result = Skipped
		if vars == nil && t.InForce && t.Applies {
			t.Result, t.Error = Error, "the input could not be given to the rules"
		}
		return t
	}
	var out any
	var err error
	out, t.Cost, t.TookNS, err = evalTraced(r.prg, vars)
	switch v := out.(type) {
	case *types.Unknown:
		t.Result, t.Waiting = Unknown, waiting(v)
	case types.Bool:
		if err == nil {
			t.Result = False
			if v {
				t.Result = True
			}
		}
	}
	if t.Result == "" {
		t.Result = Error
		switch {
		case err != nil:
			t.Error = evalError(err)
		default:
			t.Error = fmt.Sprintf("the rule gave %v, not true or false", out)
		}
	}
	if t.Result == False {
		reason := r.Reason
		t.Reason = &reason
	}
	for _, path := range r.paths {
		t.Looked = append(t.Looked, look(act, path))
	}
	return t
}

// eval runs a program, turning a panic into an error: a rule must never
// take the decision down with it.
func eval(prg cel.Program, vars cel.PartialActivation) (out any, det *cel.EvalDetails, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	return prg.Eval(vars)
}

// evalTraced runs a program and returns what it gave with the cost and
// the time it took, for the trace.
func evalTraced(prg cel.Program, vars cel.PartialActivation) (out any, cost uint64, tookNS int64, err error) {
	start := time.Now()
	out, det, err := eval(prg, vars)
	tookNS = time.Since(start).Nanoseconds()
	if det != nil && det.ActualCost() != nil {
		cost = *det.ActualCost()
	}
	return out, cost, tookNS, err
}

// evalError words an evaluation error for the staff trace.
func evalError(err error) string {
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
		return fmt.Sprintf("cost limit exceeded: the rule did more than %d units of work", CostLimit)
	}
	return err.Error()
}

// look finds the value at path for the trace.
func look(act *activation, path []string) Looked {
	l := Looked{Path: strings.Join(path, ".")}
	if act.isUnknown(path) {
		l.Unknown = true
		return l
	}
	var v any = act.vars
	for _, q := range path {
		m, ok := v.(map[string]any)
		if !ok {
			l.Absent = true
			return l
		}
		if v, ok = m[q]; !ok {
			l.Absent = true
			return l
		}
	}
	l.Value = display(v)
	return l
}

// display makes dates readable in the trace.
func display(v any) any {
	switch x := v.(type) {
	case time.Time:
		if x.Equal(x.Truncate(24 * time.Hour)) {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = display(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = display(e)
		}
		return out
	}
	return v
}

// missingData is the standard reason for a rule that depends on data that
// are not available: which condition, and from where the data should have
// come.
func missingData(desc catalog.Text, waiting []string) catalog.Text {
	var zh, en []string
	for _, w := range waiting {
		z, e := dataLabel(w)
		if !slices.Contains(zh, z) {
			zh, en = append(zh, z), append(en, e)
		}
	}
	if len(zh) == 0 {
		zh, en = []string{"相关数据"}, []string{"the data it needs"}
	}
	return catalog.Text{
		Zh: fmt.Sprintf("“%s”所需数据暂时无法取得（%s），已转人工审核", desc.Zh, strings.Join(zh, "、")),
		En: fmt.Sprintf("“%s” could not be checked because data are not available (%s); a member of staff will review the application", desc.In("en"), strings.Join(en, ", ")),
	}
}

// notCheckable is the standard reason for a rule that could not be
// evaluated. The error itself stays in the staff trace.
func notCheckable(desc catalog.Text) catalog.Text {
	return catalog.Text{
		Zh: fmt.Sprintf("“%s”无法自动核验，已转人工审核", desc.Zh),
		En: fmt.Sprintf("“%s” could not be checked automatically; a member of staff will review the application", desc.In("en")),
	}
}

// dataLabel names where the data at an attribute path come from.
func dataLabel(path string) (zh, en string) {
	parts := strings.Split(path, ".")
	switch parts[0] {
	case varSources:
		if len(parts) > 1 {
			switch parts[1] {
			case licenceSource:
				return "电子证照库", "e-licence library"
			case licenceLastSource:
				return "电子证照库（含已失效证照）", "e-licence library, licences out of force included"
			}
			if src, ok := hub.Lookup(parts[1]); ok {
				return src.LabelZh, src.LabelEn
			}
		}
		return "共享数据", "shared data"
	case varCredit:
		return "信用库", "credit registry"
	case varApplicant:
		return "申请人信息", "applicant's details"
	case varForm:
		return "申请表", "application form"
	case varMaterials:
		return "申请材料", "materials"
	}
	return "相关数据", "the data it needs"
}
