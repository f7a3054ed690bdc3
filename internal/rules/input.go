package rules

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"yiwang/internal/hub"
	"yiwang/internal/ident"
)

// Input is everything a decision may look at, as the application gathered
// it. Missing data are said so, never filled with zero values: a source
// that had no record or did not answer is left out of Sources (or named in
// Unknown), and rules that depend on it cannot approve.
type Input struct {
	Applicant Applicant `json:"applicant"`
	// Answers are the applicant's answers to the item's situations
	// (situation id → answer value); they decide which rules apply.
	Answers map[string]string `json:"answers,omitempty"`
	// Form holds the form values by field id: numbers as float64 (or any
	// integer type), dates as "YYYY-MM-DD", tables as []any of
	// map[string]any rows. A field left empty is left out.
	Form map[string]any `json:"form"`
	// Sources holds one record per registry that answered, by source name
	// (population, vehicle, …), typed as internal/hub declares. A source
	// not here is unknown; a field missing from a record is absent (has()
	// is false, and a rule reading it goes to a person).
	Sources map[string]hub.Record `json:"sources"`
	// Licences holds the applicant's valid e-licences by licence type: the
	// common fields of hub.LicenceFields and the licence's own fields.
	// Nil means the e-licence library did not answer (unknown); an empty
	// map means the applicant holds none.
	Licences map[string]hub.Record `json:"licences"`
	// LicencesLast holds the applicant's latest e-licence of each type
	// whatever its status (valid, revoked, cancelled, superseded, with
	// its expiry date), in the shape of Licences: sources.licence_last,
	// read only for the rules that name it. Nil means unknown; it is then
	// left out of the JSON, so decisions that never read it keep the
	// record (and inputs digest) they had before it existed.
	LicencesLast map[string]hub.Record `json:"licences_last,omitzero"`
	// Materials supplied, by material id; a declared material not here
	// was not supplied.
	Materials map[string]Material `json:"materials"`
	// Credit is the applicant's credit record; nil when the credit registry
	// did not answer.
	Credit *Credit `json:"credit"`
	// Unknown lists further data known to be unavailable, as paths:
	// "sources.vehicle", "sources.population.household_region",
	// "sources.licence", "sources.licence_last.food_business_licence", "credit".
	Unknown []string `json:"unknown,omitempty"`
}

// Applicant is the signed-in applicant. Birth date and sex are taken from
// a valid resident ID number when not given; age is computed from the
// birth date on the decision day when not given.
type Applicant struct {
	Name          string `json:"name,omitempty"`
	IDNumber      string `json:"id_number,omitempty"`
	BirthDate     string `json:"birth_date,omitempty"` // YYYY-MM-DD
	Age           *int   `json:"age,omitempty"`
	Sex           string `json:"sex,omitempty"`  // male or female
	Kind          string `json:"kind,omitempty"` // person or enterprise
	RealNameLevel int    `json:"real_name_level,omitempty"`
}

// Material is a material as supplied.
type Material struct {
	Present bool   `json:"present"`
	Trust   string `json:"trust,omitempty"` // A–D, the level actually supplied
}

// Credit is the applicant's credit record: level A (best) to D (worst).
type Credit struct {
	Level       string `json:"level"`
	Blacklisted bool   `json:"blacklisted"`
}

// activation is an Input made into the values the expressions see.
type activation struct {
	vars     map[string]any
	unknown  [][]string // paths whose data are unknown
	problems []string   // what is wrong with the input, for the staff trace
}

func (a *activation) markUnknown(path ...string) {
	a.unknown = append(a.unknown, path)
}

func (a *activation) problem(format string, args ...any) {
	a.problems = append(a.problems, fmt.Sprintf(format, args...))
}

// isUnknown reports whether the data at path are, wholly or in part,
// unknown: an unknown path is a prefix of it, or it is a prefix of one.
func (a *activation) isUnknown(path []string) bool {
	for _, u := range a.unknown {
		n := min(len(u), len(path))
		if slices.Equal(u[:n], path[:n]) {
			return true
		}
	}
	return false
}

// partial gives the values to the expressions, with the unknown paths as
// unknowns for partial evaluation.
func (a *activation) partial() (cel.PartialActivation, error) {
	patterns := make([]*cel.AttributePatternType, len(a.unknown))
	for i, u := range a.unknown {
		pat := cel.AttributePattern(u[0])
		for _, q := range u[1:] {
			pat = pat.QualString(q)
		}
		patterns[i] = pat
	}
	return cel.PartialVars(a.vars, patterns...)
}

var trustLevels = []string{"A", "B", "C", "D"}

// activation converts in to the values rules see on the decision day.
func (p *Program) activation(in Input, today time.Time) *activation {
	a := &activation{vars: map[string]any{varToday: today}}

	// applicant
	app := map[string]any{}
	str := func(field, v string) {
		if v == "" {
			a.markUnknown(varApplicant, field)
			return
		}
		app[field] = v
	}
	str("name", in.Applicant.Name)
	str("id_number", in.Applicant.IDNumber)
	if k := in.Applicant.Kind; k != "" && k != "person" && k != "enterprise" {
		a.problem("applicant.kind is %q; it is person or enterprise", k)
		a.markUnknown(varApplicant, "kind")
	} else {
		str("kind", k)
	}
	var fromID *ident.Person
	if in.Applicant.IDNumber != "" {
		if person, err := ident.ParseIDNumber(in.Applicant.IDNumber); err == nil {
			fromID = &person
		}
	}
	sex := in.Applicant.Sex
	if sex == "" && fromID != nil {
		sex = fromID.Sex
	}
	str("sex", sex)
	str("gender", sex)
	var birth time.Time
	switch {
	case in.Applicant.BirthDate != "":
		b, err := parseDay(in.Applicant.BirthDate)
		if err != nil {
			a.problem("applicant.birth_date %q is not a date (YYYY-MM-DD)", in.Applicant.BirthDate)
		}
		birth = b
	case fromID != nil:
		birth = fromID.BirthDate
	}
	if birth.IsZero() {
		a.markUnknown(varApplicant, "birth_date")
	} else {
		app["birth_date"] = birth
	}
	switch {
	case in.Applicant.Age != nil:
		app["age"] = int64(*in.Applicant.Age)
		if !birth.IsZero() && yearsBetween(birth, today) != int64(*in.Applicant.Age) {
			a.problem("applicant.age is %d but the birth date %s gives %d on %s", *in.Applicant.Age, birth.Format(time.DateOnly), yearsBetween(birth, today), today.Format(time.DateOnly))
		}
	case !birth.IsZero():
		app["age"] = yearsBetween(birth, today)
	default:
		a.markUnknown(varApplicant, "age")
	}
	if l := in.Applicant.RealNameLevel; l >= 1 && l <= 3 {
		app["real_name_level"] = int64(l)
	} else {
		if l != 0 {
			a.problem("applicant.real_name_level is %d; it is 1, 2 or 3", l)
		}
		a.markUnknown(varApplicant, "real_name_level")
	}
	a.vars[varApplicant] = app

	// credit
	if in.Credit == nil {
		a.markUnknown(varCredit)
	} else {
		cr := map[string]any{"blacklisted": in.Credit.Blacklisted}
		if slices.Contains(trustLevels, in.Credit.Level) {
			cr["level"] = in.Credit.Level
		} else {
			if in.Credit.Level != "" {
				a.problem("credit.level is %q; it is A, B, C or D", in.Credit.Level)
			}
			a.markUnknown(varCredit, "level")
		}
		a.vars[varCredit] = cr
	}

	for _, sit := range sortedKeys(in.Answers) {
		answers, ok := p.situations[sit]
		switch {
		case !ok:
			a.problem("answers.%s: the item has no such situation", sit)
		case !slices.Contains(answers, in.Answers[sit]):
			a.problem("answers.%s is %q; the answers are %s", sit, in.Answers[sit], strings.Join(answers, ", "))
		}
	}

	// form
	form := map[string]any{}
	for _, id := range sortedKeys(in.Form) {
		t, ok := p.schema.field(typeForm, id)
		if !ok {
			a.problem("form.%s: the item has no such field", id)
			continue
		}
		if in.Form[id] == nil || p.isComputed(id) {
			continue // left empty, or the system's to fill (compute)
		}
		v, err := p.schema.convert(t, in.Form[id])
		if err != nil {
			a.problem("form.%s: %v", id, err)
			a.markUnknown(varForm, id)
			continue
		}
		form[id] = v
	}
	a.vars[varForm] = form

	// materials
	mats := map[string]any{}
	for _, id := range sortedKeys(in.Materials) {
		if !slices.Contains(p.materials, id) {
			a.problem("materials.%s: the item has no such material", id)
		}
	}
	for _, id := range p.materials {
		m := in.Materials[id]
		if m.Trust != "" && !slices.Contains(trustLevels, m.Trust) {
			a.problem("materials.%s.trust is %q; it is A, B, C or D", id, m.Trust)
			a.markUnknown(varMaterials, id, "trust")
		}
		mats[id] = map[string]any{"present": m.Present, "trust": m.Trust}
	}
	a.vars[varMaterials] = mats

	// sources
	srcs := map[string]any{}
	for _, name := range p.sources {
		rec, ok := in.Sources[name]
		if !ok || rec == nil {
			a.markUnknown(varSources, name)
			continue
		}
		srcs[name] = p.record(a, typeSource+name, rec, varSources, name)
	}
	for name := range in.Sources {
		if !slices.Contains(p.sources, name) {
			a.problem("sources.%s: no such data source (e-licences go in licences and licences_last)", name)
		}
	}
	for _, l := range []struct {
		name string
		recs map[string]hub.Record
	}{{licenceSource, in.Licences}, {licenceLastSource, in.LicencesLast}} {
		if l.recs == nil {
			a.markUnknown(varSources, l.name)
			continue
		}
		lics := map[string]any{}
		for _, typ := range sortedKeys(l.recs) {
			rec := l.recs[typ]
			if rec == nil {
				a.markUnknown(varSources, l.name, typ)
				continue
			}
			lics[typ] = p.record(a, typeLicence, rec, varSources, l.name, typ)
		}
		srcs[l.name] = lics
	}
	a.vars[varSources] = srcs

	for _, u := range in.Unknown {
		path := strings.Split(u, ".")
		if err := p.schema.checkPath(path); err != nil {
			a.problem("unknown %q: %v", u, err)
			continue
		}
		a.markUnknown(path...)
	}
	slices.SortFunc(a.unknown, slices.Compare)
	a.unknown = slices.CompactFunc(a.unknown, slices.Equal)
	return a
}

// record converts a source record to the declared types of object type
// typeName; a value of the wrong type is a problem and unknown.
func (p *Program) record(a *activation, typeName string, rec hub.Record, path ...string) map[string]any {
	o := p.schema[typeName]
	out := map[string]any{}
	at := func(f string) []string { return append(slices.Clone(path), f) }
	for _, f := range o.fields {
		v, ok := rec[f]
		if !ok || v == nil {
			// Left out: has() is false and reading it is an error, which
			// also goes to a person. Not unknown, or a record without a
			// death date or a licence without an expiry date would make
			// every rule reading the record unknown.
			continue
		}
		cv, err := p.schema.convert(o.types[f], v)
		if err != nil {
			a.problem("%s: %v", strings.Join(at(f), "."), err)
			a.markUnknown(at(f)...)
			continue
		}
		out[f] = cv
	}
	for _, f := range sortedKeys(rec) {
		if _, declared := o.types[f]; declared {
			continue
		}
		if !o.open {
			a.problem("%s: the source has no such field", strings.Join(at(f), "."))
			continue
		}
		if rec[f] == nil {
			continue
		}
		v, err := normalize(rec[f], 0)
		if err != nil {
			a.problem("%s: %v", strings.Join(at(f), "."), err)
			a.markUnknown(at(f)...)
			continue
		}
		out[f] = v
	}
	return out
}

// checkPath checks a path named as unknown against the schema.
func (s schema) checkPath(path []string) error {
	t, ok := varTypes[path[0]]
	if !ok {
		return fmt.Errorf("a path starts with applicant, form, sources, materials or credit")
	}
	inLicences := false
	for _, n := range path[1:] {
		switch {
		case inLicences:
			inLicences, t = false, typeLicence
			continue
		case t == "":
			return fmt.Errorf("%q selects inside a value", n)
		}
		o := s[t]
		ft, ok := s.field(t, n)
		if !ok {
			return fmt.Errorf("%s", unknownName(o, n))
		}
		switch {
		case t == typeSources && isLicenceMap(n):
			inLicences = true
		case ft.Kind() == types.StructKind:
			t = ft.TypeName()
		default:
			t = ""
		}
	}
	return nil
}

// convert checks v against the CEL type t and returns it in the form the
// expressions expect: int64, float64, string, bool, time.Time, []string,
// []any of maps.
func (s schema) convert(t *types.Type, v any) (any, error) {
	switch t.Kind() {
	case types.StringKind:
		if x, ok := v.(string); ok {
			return x, nil
		}
		if _, isNumber := toDouble(v); isNumber {
			return nil, fmt.Errorf("want text, got %s (quote codes and numbers that are text)", describe(v))
		}
	case types.BoolKind:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case types.IntKind:
		if x, ok := toInt(v); ok {
			return x, nil
		}
	case types.DoubleKind:
		if x, ok := toDouble(v); ok {
			return x, nil
		}
	case types.TimestampKind:
		switch x := v.(type) {
		case time.Time:
			y, m, d := x.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		case string:
			d, err := parseDay(x)
			if err != nil {
				return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD)", x)
			}
			return d, nil
		}
		return nil, fmt.Errorf("want a date (YYYY-MM-DD), got %s", describe(v))
	case types.ListKind:
		elem := t.Parameters()[0]
		var items []any
		switch x := v.(type) {
		case []string:
			for _, e := range x {
				items = append(items, e)
			}
		case []any:
			items = x
		default:
			return nil, fmt.Errorf("want a list, got %s", describe(v))
		}
		if elem.Kind() == types.StringKind {
			out := make([]string, 0, len(items))
			for i, e := range items {
				str, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("item %d: want text, got %s", i+1, describe(e))
				}
				out = append(out, str)
			}
			return out, nil
		}
		out := make([]any, 0, len(items))
		for i, e := range items {
			c, err := s.convert(elem, e)
			if err != nil {
				return nil, fmt.Errorf("row %d: %w", i+1, err)
			}
			out = append(out, c)
		}
		return out, nil
	case types.StructKind:
		o, ok := s[t.TypeName()]
		m, isMap := v.(map[string]any)
		if !ok || !isMap {
			return nil, fmt.Errorf("want a mapping, got %s", describe(v))
		}
		out := map[string]any{}
		for _, k := range sortedKeys(m) {
			ft, ok := s.field(o.name, k)
			if !ok {
				return nil, fmt.Errorf("%s", unknownName(o, k))
			}
			if m[k] == nil {
				continue
			}
			c, err := s.convert(ft, m[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = c
		}
		return out, nil
	case types.DynKind:
		return normalize(v, 0)
	}
	return nil, fmt.Errorf("want %s, got %s", t, describe(v))
}

// normalize brings a value of unknown type (an e-licence's own field) to
// the forms CEL reads: integers as int64, decimals as float64, dates as
// timestamps.
func normalize(v any, depth int) (any, error) {
	if depth > 16 {
		return nil, fmt.Errorf("nested too deeply")
	}
	switch x := v.(type) {
	case string, bool, int64, float64:
		return x, nil
	case int, int32, json.Number:
		if i, ok := toInt(x); ok {
			return i, nil
		}
		if f, ok := toDouble(x); ok {
			return f, nil
		}
	case float32:
		return float64(x), nil
	case time.Time:
		y, m, d := x.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	case []string:
		return x, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot use a value of Go type %T", v)
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	}
	return 0, false
}

func toDouble(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// describe names a value's kind for a person fixing the input.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("text %q", x)
	case bool:
		return fmt.Sprintf("%t", x)
	case float64:
		return "the number " + strconv.FormatFloat(x, 'f', -1, 64)
	case int, int32, int64, float32, json.Number:
		return fmt.Sprintf("the number %v", x)
	case []any, []string:
		return "a list"
	case map[string]any:
		return "a mapping"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("a %T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
