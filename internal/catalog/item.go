// Package catalog is the service catalogue (事项库): service items written as
// YAML files, validated against a JSON Schema and semantic checks, imported
// into the database as immutable, numbered versions, and published for
// applicants.
//
// The format is described for administrators in docs/CATALOGUE.md; the
// schema in schema/item.schema.json is the authority on its structure.
package catalog

import (
	"fmt"
	"strconv"
	"strings"
)

// Text is a bilingual string. Chinese is required; English falls back to it.
type Text struct {
	Zh string `yaml:"zh" json:"zh"`
	En string `yaml:"en,omitempty" json:"en,omitempty"`
}

// In returns the text in lang ("en" or "zh"), falling back to Chinese.
func (t Text) In(lang string) string {
	if lang == "en" && t.En != "" {
		return t.En
	}
	return t.Zh
}

// Item is one service item (政务服务事项) with every national element.
type Item struct {
	Code         string        `yaml:"code" json:"code"`
	Demo         bool          `yaml:"demo,omitempty" json:"demo,omitempty"`
	Name         Text          `yaml:"name" json:"name"`
	Kind         string        `yaml:"kind" json:"kind"`
	Department   string        `yaml:"department" json:"department"`
	Target       string        `yaml:"target" json:"target"`
	Summary      Text          `yaml:"summary" json:"summary"`
	Conditions   []Text        `yaml:"conditions,omitempty" json:"conditions,omitempty"`
	LegalBasis   []LegalBasis  `yaml:"legal_basis" json:"legal_basis"`
	Situations   []Situation   `yaml:"situations,omitempty" json:"situations,omitempty"`
	Form         []Field       `yaml:"form" json:"form"`
	Materials    []Material    `yaml:"materials,omitempty" json:"materials,omitempty"`
	TimeLimit    TimeLimit     `yaml:"time_limit" json:"time_limit"`
	Visits       int           `yaml:"visits" json:"visits"`
	Channels     []string      `yaml:"channels" json:"channels"`
	Scope        string        `yaml:"scope,omitempty" json:"scope,omitempty"`
	Fees         Fees          `yaml:"fees" json:"fees"`
	Approval     Approval      `yaml:"approval" json:"approval"`
	Parties      []Party       `yaml:"parties,omitempty" json:"parties,omitempty"`
	Steps        []Step        `yaml:"steps" json:"steps"`
	Rules        []Rule        `yaml:"rules,omitempty" json:"rules,omitempty"`
	Output       *Output       `yaml:"output,omitempty" json:"output,omitempty"`
	Proactive    *Proactive    `yaml:"proactive,omitempty" json:"proactive,omitempty"`
	FAQ          []FAQ         `yaml:"faq,omitempty" json:"faq,omitempty"`
	Keywords     []string      `yaml:"keywords,omitempty" json:"keywords,omitempty"`
	Requirements *Requirements `yaml:"requirements,omitempty" json:"requirements,omitempty"`
	Contact      *Contact      `yaml:"contact,omitempty" json:"contact,omitempty"`
}

// The item kinds of the national catalogue, with the two-digit kind code used
// in item codes.
var Kinds = map[string]string{
	"行政许可":   "01",
	"行政征收":   "04",
	"行政给付":   "05",
	"行政确认":   "07",
	"行政奖励":   "08",
	"行政裁决":   "09",
	"其他行政权力": "10",
	"公共服务":   "20",
}

// LegalBasis cites the law or regulation an item rests on.
type LegalBasis struct {
	Title   string `yaml:"title" json:"title"`
	Article string `yaml:"article,omitempty" json:"article,omitempty"`
	Text    string `yaml:"text,omitempty" json:"text,omitempty"`
}

// Situation (情形) is a question whose answer changes the form, materials and
// rules that apply. Fields, materials, rules and steps name the answers they
// apply to with When.
type Situation struct {
	ID       string   `yaml:"id" json:"id"`
	Question Text     `yaml:"question" json:"question"`
	Answers  []Answer `yaml:"answers" json:"answers"`
}

// Answer is one possible answer to a situation question.
type Answer struct {
	Value string `yaml:"value" json:"value"`
	Label Text   `yaml:"label" json:"label"`
}

// When limits an element to some answers: situation id → accepted answer
// values. An element without When applies in every situation.
type When map[string][]string

// Field is one form field.
type Field struct {
	ID         string      `yaml:"id" json:"id"`
	Label      Text        `yaml:"label" json:"label"`
	Type       string      `yaml:"type" json:"type"`
	Required   bool        `yaml:"required,omitempty" json:"required,omitempty"`
	Help       *Text       `yaml:"help,omitempty" json:"help,omitempty"`
	Validation *Validation `yaml:"validation,omitempty" json:"validation,omitempty"`
	Options    []Answer    `yaml:"options,omitempty" json:"options,omitempty"`
	Columns    []Field     `yaml:"columns,omitempty" json:"columns,omitempty"`
	Prefill    *Prefill    `yaml:"prefill,omitempty" json:"prefill,omitempty"`
	Computed   *Computed   `yaml:"computed,omitempty" json:"computed,omitempty"`
	When       When        `yaml:"when,omitempty" json:"when,omitempty"`
}

// Computed makes a field's value derived from data, not chosen by the
// applicant (由系统计算): a CEL expression over the same inputs as the
// rules, evaluated when the form is filled and again at submission. A
// computed expression may not read another computed field, so the values
// never depend on the order they are worked out in.
type Computed struct {
	Expr string `yaml:"expr" json:"expr"`
	// Note says in words how the value is worked out, for the applicant.
	Note *Text `yaml:"note,omitempty" json:"note,omitempty"`
}

// Validation constrains a field's value.
type Validation struct {
	MinLength *int     `yaml:"min_length,omitempty" json:"min_length,omitempty"`
	MaxLength *int     `yaml:"max_length,omitempty" json:"max_length,omitempty"`
	Pattern   string   `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	Min       *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max       *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	MinRows   *int     `yaml:"min_rows,omitempty" json:"min_rows,omitempty"`
	MaxRows   *int     `yaml:"max_rows,omitempty" json:"max_rows,omitempty"`
	Message   *Text    `yaml:"message,omitempty" json:"message,omitempty"`
}

// Prefill names where a field's value comes from (秒报): a registry field such
// as population.name, or a field of the applicant's e-licence of a type.
type Prefill struct {
	Source   string `yaml:"source" json:"source"`
	Editable bool   `yaml:"editable,omitempty" json:"editable,omitempty"`
}

// Material is a document the application needs (申请材料).
type Material struct {
	ID               string           `yaml:"id" json:"id"`
	Name             Text             `yaml:"name" json:"name"`
	Required         bool             `yaml:"required" json:"required"`
	Sources          []MaterialSource `yaml:"sources" json:"sources"`
	Trust            string           `yaml:"trust" json:"trust"`
	Deferrable       bool             `yaml:"deferrable,omitempty" json:"deferrable,omitempty"`
	OriginalRequired bool             `yaml:"original_required,omitempty" json:"original_required,omitempty"`
	Copies           int              `yaml:"copies,omitempty" json:"copies,omitempty"`
	Note             *Text            `yaml:"note,omitempty" json:"note,omitempty"`
	When             When             `yaml:"when,omitempty" json:"when,omitempty"`
}

// MaterialSource is one accepted way to supply a material; exactly one of its fields is set.
type MaterialSource struct {
	Licence    string `yaml:"licence,omitempty" json:"licence,omitempty"`
	Registry   string `yaml:"registry,omitempty" json:"registry,omitempty"`
	Upload     bool   `yaml:"upload,omitempty" json:"upload,omitempty"`
	Commitment bool   `yaml:"commitment,omitempty" json:"commitment,omitempty"`
}

// TimeLimit is counted in working days on the holiday calendar.
type TimeLimit struct {
	StatutoryDays int `yaml:"statutory_days" json:"statutory_days"`
	PromisedDays  int `yaml:"promised_days" json:"promised_days"`
}

// Days is the time limit an application's deadline is counted on: the
// promised time where the item promises one, else the statutory time.
func (t TimeLimit) Days() int {
	if t.PromisedDays > 0 {
		return t.PromisedDays
	}
	return t.StatutoryDays
}

// Fees says what an item costs.
type Fees struct {
	Free       bool   `yaml:"free,omitempty" json:"free,omitempty"`
	Items      []Fee  `yaml:"items,omitempty" json:"items,omitempty"`
	Exemptions []Text `yaml:"exemptions,omitempty" json:"exemptions,omitempty"`
	Basis      string `yaml:"basis,omitempty" json:"basis,omitempty"`
}

// Fee is a fixed amount, or a rate per unit of a numeric form field.
type Fee struct {
	Name      Text    `yaml:"name" json:"name"`
	AmountCNY float64 `yaml:"amount_cny,omitempty" json:"amount_cny,omitempty"`
	PerField  string  `yaml:"per_field,omitempty" json:"per_field,omitempty"`
	RateCNY   float64 `yaml:"rate_cny,omitempty" json:"rate_cny,omitempty"`
	When      When    `yaml:"when,omitempty" json:"when,omitempty"`
}

// Approval says how an item is decided.
type Approval struct {
	Mode string `yaml:"mode" json:"mode"` // auto, commitment, filing, manual
	// InspectionDays bounds the later inspection of a commitment approval.
	InspectionDays int `yaml:"inspection_days,omitempty" json:"inspection_days,omitempty"`
	// NoticeDays is the public notice period of a filing.
	NoticeDays int `yaml:"notice_days,omitempty" json:"notice_days,omitempty"`
	// SamplePercent of machine approvals go to a spot check.
	SamplePercent float64 `yaml:"sample_percent,omitempty" json:"sample_percent,omitempty"`
	// Commitment is the text the applicant signs in commitment mode (告知承诺书).
	Commitment *Text `yaml:"commitment,omitempty" json:"commitment,omitempty"`
	// Manual is where the cases the machine leaves to a person go (mode
	// auto): a rule failing with on_fail manual, or data the hub could not
	// give. Without it they go to the item's steps, which in a machine
	// item are the machine's own, due the same day.
	Manual *ManualRoute `yaml:"manual,omitempty" json:"manual,omitempty"`
}

// ManualRoute sends a machine item's manual cases to the staff of one
// department, or of one service hall (a street's, say, without a
// department of its own), in a role, with working days to decide.
type ManualRoute struct {
	Department string `yaml:"department,omitempty" json:"department,omitempty"`
	Hall       string `yaml:"hall,omitempty" json:"hall,omitempty"` // a hall declared in departments.yaml
	Role       string `yaml:"role" json:"role"`                     // reviewer or head
	Days       int    `yaml:"days" json:"days"`
}

// Party is a co-applicant who must confirm before the decision (一事多人).
type Party struct {
	Role  string `yaml:"role" json:"role"`
	Label Text   `yaml:"label" json:"label"`
}

// Step is one back-office step; steps with the same Group run in parallel.
type Step struct {
	ID         string `yaml:"id" json:"id"`
	Name       Text   `yaml:"name" json:"name"`
	Department string `yaml:"department" json:"department"`
	Role       string `yaml:"role" json:"role"`
	Days       int    `yaml:"days" json:"days"`
	Group      string `yaml:"group,omitempty" json:"group,omitempty"`
	When       When   `yaml:"when,omitempty" json:"when,omitempty"`
}

// Rule is a quantified review standard: a CEL expression that must hold.
type Rule struct {
	ID            string `yaml:"id" json:"id"`
	Description   Text   `yaml:"description" json:"description"`
	Expr          string `yaml:"expr" json:"expr"`
	Reason        Text   `yaml:"reason" json:"reason"`
	OnFail        string `yaml:"on_fail" json:"on_fail"` // reject or manual
	EffectiveFrom string `yaml:"effective_from,omitempty" json:"effective_from,omitempty"`
	When          When   `yaml:"when,omitempty" json:"when,omitempty"`
}

// Output is what an approval does to licences: the licence or certificate
// the item issues, and the licence it cancels or supersedes. All of it
// happens in the approving transaction.
type Output struct {
	// Licence is the type issued; empty for an item that only cancels.
	Licence       string `yaml:"licence,omitempty" json:"licence,omitempty"`
	ValidityYears int    `yaml:"validity_years,omitempty" json:"validity_years,omitempty"`
	// Holder is the co-party role whose confirmed party holds the issued
	// licence (a transfer's buyer); empty: the enterprise the application
	// was made for, else the applicant.
	Holder string `yaml:"holder,omitempty" json:"holder,omitempty"`
	// Supersedes is the licence type the issued licence replaces: the
	// applicant's licence of that type in force is superseded by it (a
	// transfer, a change of details).
	Supersedes string `yaml:"supersedes,omitempty" json:"supersedes,omitempty"`
	// Cancels is the licence type the approval cancels on its holder's
	// request (注销): the applicant's licence of that type in force.
	Cancels string `yaml:"cancels,omitempty" json:"cancels,omitempty"`
	// Establishes is what a person's application whose licence an
	// enterprise holds sets up: "individual_business" (个体工商户, credit
	// code 92…, the default) or "enterprise" (a company or sole
	// proprietorship, 91…).
	Establishes string `yaml:"establishes,omitempty" json:"establishes,omitempty"`
}

// Proactive describes how people who qualify are found and served (主动服务).
type Proactive struct {
	Trigger string `yaml:"trigger" json:"trigger"` // e.g. population.turns_60, enterprise.established
	Mode    string `yaml:"mode" json:"mode"`       // offer (one click) or grant (免申即享)
	// Licence is the licence type a licence.expiring or licence.anniversary
	// trigger watches.
	Licence string `yaml:"licence,omitempty" json:"licence,omitempty"`
	// DaysBefore is how many days before the licence's expiry a
	// licence.expiring trigger fires.
	DaysBefore int `yaml:"days_before,omitempty" json:"days_before,omitempty"`
	// Answers are the situation answers the trigger implies (a death
	// implies the cancellation's reason is death); the person answers the
	// other questions when they apply.
	Answers map[string]string `yaml:"answers,omitempty" json:"answers,omitempty"`
	Note    *Text             `yaml:"note,omitempty" json:"note,omitempty"`
}

// The triggers of proactive services. Date triggers fire on a day worked
// out from a record (a birthday, a licence's expiry or anniversary); event
// triggers fire when a built-in registry records a change.
const (
	TriggerExpiring    = "licence.expiring"    // DaysBefore days before the licence's expiry date
	TriggerAnniversary = "licence.anniversary" // every year on the licence's issue date
)

// EventTriggers are the registry events an item may be offered on, with
// what they mean, in Chinese and English.
var EventTriggers = map[string]Text{
	"population.born":          {Zh: "出生登记", En: "a birth registered"},
	"population.died":          {Zh: "死亡登记", En: "a death registered"},
	"population.moved_in":      {Zh: "户籍迁入本区", En: "a household moved into the district"},
	"enterprise.established":   {Zh: "企业设立登记", En: "an enterprise set up"},
	"social_insurance.retired": {Zh: "办理退休", En: "a retirement"},
}

// TurnsAge is the age a population.turns_N trigger fires at, and whether
// trigger is one.
func TurnsAge(trigger string) (int, bool) {
	n, ok := strings.CutPrefix(trigger, "population.turns_")
	if !ok {
		return 0, false
	}
	age, err := strconv.Atoi(n)
	if err != nil || age < 1 || age > 120 || strconv.Itoa(age) != n {
		return 0, false
	}
	return age, true
}

// FAQ is a question applicants often ask.
type FAQ struct {
	Q Text `yaml:"q" json:"q"`
	A Text `yaml:"a" json:"a"`
}

// Requirements are conditions on the applicant for using an item online.
type Requirements struct {
	RealNameLevel  int    `yaml:"real_name_level,omitempty" json:"real_name_level,omitempty"`
	MinCreditLevel string `yaml:"min_credit_level,omitempty" json:"min_credit_level,omitempty"`
}

// Contact is where applicants ask and complain.
type Contact struct {
	Phone   string `yaml:"phone,omitempty" json:"phone,omitempty"`
	Address *Text  `yaml:"address,omitempty" json:"address,omitempty"`
	Hours   *Text  `yaml:"hours,omitempty" json:"hours,omitempty"`
}

// Department as declared in a catalogue's departments.yaml.
type Department struct {
	Code       string `yaml:"code" json:"code"`
	CreditCode string `yaml:"credit_code" json:"credit_code"`
	Region     string `yaml:"region" json:"region"`
	Name       Text   `yaml:"name" json:"name"`
}

// Hall is a service hall declared in a catalogue's departments.yaml, for
// manual routes to name; importing the catalogue puts it in the directory.
type Hall struct {
	Code   string `yaml:"code" json:"code"`
	Region string `yaml:"region" json:"region"`
	Name   Text   `yaml:"name" json:"name"`
}

// Region as declared in a catalogue's departments.yaml.
type Region struct {
	Code   string `yaml:"code" json:"code"`
	Parent string `yaml:"parent,omitempty" json:"parent,omitempty"`
	Level  string `yaml:"level" json:"level"`
	Name   Text   `yaml:"name" json:"name"`
}

// LicenceType is an e-licence type declared in a catalogue's licences.yaml:
// the outputs of items and the licences materials may be taken from.
type LicenceType struct {
	Code        string `yaml:"code" json:"code"`
	Name        Text   `yaml:"name" json:"name"`
	Issuer      string `yaml:"issuer" json:"issuer"` // a department code, or "external"
	Holder      string `yaml:"holder" json:"holder"` // person or enterprise
	LicenceSpec `yaml:",inline"`
}

// LicenceSpec is what issuing a licence of a type needs; types issued
// outside the platform (issuer external) leave it empty.
type LicenceSpec struct {
	// TypeCode is the type's four-character code in the licence identifier
	// (GB/T 36904 style: issuer, type, year, sequence, check character).
	TypeCode string `yaml:"type_code,omitempty" json:"type_code,omitempty"`
	// ValidityYears is the default validity; 0 means long-term (长期有效).
	// An item's output.validity_years overrides it.
	ValidityYears int `yaml:"validity_years,omitempty" json:"validity_years,omitempty"`
	// Template is the layout: certificate (landscape, framed) or notice (portrait).
	Template string         `yaml:"template,omitempty" json:"template,omitempty"`
	Fields   []LicenceField `yaml:"fields,omitempty" json:"fields,omitempty"`
}

// LicenceField is one of a licence type's own fields, printed on the licence
// and kept in the data hub as licence.TYPE.ID.
type LicenceField struct {
	ID    string `yaml:"id" json:"id"`
	Label Text   `yaml:"label" json:"label"`
	// Form names the application form fields the value is taken from, the
	// first one present wins (default: ID).
	Form     []string `yaml:"form,omitempty" json:"form,omitempty"`
	Required bool     `yaml:"required,omitempty" json:"required,omitempty"`
}

// NameOf is the item's own name for one of its ids, for pages that show
// what is stored by id: a form field's label, a material's name, a
// co-party role's label or what a rule checks; the id itself if none.
func (it Item) NameOf(id string) Text {
	for _, f := range it.Form {
		if f.ID == id {
			return f.Label
		}
	}
	for _, m := range it.Materials {
		if m.ID == id {
			return m.Name
		}
	}
	for _, p := range it.Parties {
		if p.Role == id {
			return p.Label
		}
	}
	for _, r := range it.Rules {
		if r.ID == id {
			return r.Description
		}
	}
	return Text{Zh: id}
}

// Shown writes a value of the field as a person reads it in lang: an
// option by its label, a table row by its columns' labels in the form's
// order, yes or no in words, a number as written.
func (f Field) Shown(v any, lang string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		for _, o := range f.Options {
			if o.Value == x {
				return o.Label.In(lang)
			}
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return Text{Zh: "是", En: "Yes"}.In(lang)
		}
		return Text{Zh: "否", En: "No"}.In(lang)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = f.Shown(e, lang)
		}
		return strings.Join(parts, "；")
	case map[string]any:
		var parts []string
		for _, c := range f.Columns {
			if e, ok := x[c.ID]; ok {
				parts = append(parts, c.Label.In(lang)+"："+c.Shown(e, lang))
			}
		}
		return strings.Join(parts, "，")
	}
	return fmt.Sprint(v)
}
