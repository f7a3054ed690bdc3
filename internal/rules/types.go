package rules

import (
	"slices"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"yiwang/internal/catalog"
	"yiwang/internal/hub"
)

// The variables a rule reads. They are the only names an expression may
// start from.
const (
	varApplicant = "applicant"
	varForm      = "form"
	varSources   = "sources"
	varMaterials = "materials"
	varCredit    = "credit"
	varToday     = "today"
)

var variables = []string{varApplicant, varForm, varSources, varMaterials, varCredit, varToday}

// CEL names of the object types rules see. They are declared here, not in
// Go structs or protobuf, because most of them come from data: the hub's
// source schemas and each item's form and materials.
const (
	typeApplicant = "yiwang.Applicant"
	typeCredit    = "yiwang.Credit"
	typeSources   = "yiwang.Sources"
	typeLicence   = "yiwang.Licence"
	typeMaterials = "yiwang.Materials"
	typeMaterial  = "yiwang.Material"
	typeForm      = "yiwang.Form"
	typeSource    = "yiwang.source." // + source name
	typeRow       = "yiwang.Form."   // + table field id: one row of the table
)

// The names rules use for the e-licence library, each a map keyed by
// licence type: sources.licence.TYPE.FIELD holds the applicant's licences
// in force; sources.licence_last.TYPE.FIELD the latest licence of each
// type whatever its status, for the rules that must tell a cancelled or
// expired licence from none. Each is the hub source of the same name
// followed by ".TYPE".
const (
	licenceSource     = "licence"
	licenceLastSource = "licence_last"
)

// isLicenceMap reports whether a source name rules use is one of the
// e-licence maps.
func isLicenceMap(name string) bool { return name == licenceSource || name == licenceLastSource }

// objectType is a declared object type: named fields with CEL types.
type objectType struct {
	name   string
	fields []string // in declaration order, for messages
	types  map[string]*types.Type
	// open object types accept any other field name as dyn: an e-licence's
	// own fields differ by licence type and are declared nowhere.
	open bool
}

func newObject(name string) *objectType {
	return &objectType{name: name, types: map[string]*types.Type{}}
}

func (o *objectType) add(field string, t *types.Type) {
	if _, dup := o.types[field]; !dup {
		o.fields = append(o.fields, field)
	}
	o.types[field] = t
}

// schema is every object type one item's rules can see.
type schema map[string]*objectType

// applicantFields and creditFields are fixed: they come from the account
// and the credit check, not from a registry.
var applicantFields = []struct {
	name string
	t    *types.Type
}{
	{"name", types.StringType}, {"id_number", types.StringType}, {"age", types.IntType},
	{"birth_date", types.TimestampType}, {"sex", types.StringType}, {"gender", types.StringType},
	{"kind", types.StringType}, {"real_name_level", types.IntType},
}

var creditFields = []struct {
	name string
	t    *types.Type
}{{"level", types.StringType}, {"blacklisted", types.BoolType}}

// hubType is the CEL type of a hub field type. Dates are timestamps at
// midnight UTC of the calendar day, so that getFullYear() and friends give
// the day as written.
func hubType(t hub.FieldType) *types.Type {
	switch t {
	case hub.String:
		return types.StringType
	case hub.Int:
		return types.IntType
	case hub.Double:
		return types.DoubleType
	case hub.Bool:
		return types.BoolType
	case hub.Date:
		return types.TimestampType
	case hub.StringList:
		return types.NewListType(types.StringType)
	}
	return types.DynType
}

// formType is the CEL type of a form field of the given catalogue type.
func formType(f catalog.Field) *types.Type {
	switch f.Type {
	case "number":
		return types.DoubleType
	case "bool":
		return types.BoolType
	case "date":
		return types.TimestampType
	case "table":
		return types.NewListType(types.NewObjectType(typeRow + f.ID))
	case "text", "enum", "id_number", "credit_code", "phone", "address", "file":
		return types.StringType
	}
	return types.DynType
}

// declare builds the object types of an item: the fixed ones, one per hub
// source, and the item's own form, table rows and materials.
func declare(item catalog.Item) schema {
	s := schema{}
	put := func(o *objectType) *objectType { s[o.name] = o; return o }

	app := put(newObject(typeApplicant))
	for _, f := range applicantFields {
		app.add(f.name, f.t)
	}
	cr := put(newObject(typeCredit))
	for _, f := range creditFields {
		cr.add(f.name, f.t)
	}

	srcs := put(newObject(typeSources))
	for _, src := range hub.Sources() {
		o := put(newObject(typeSource + src.Name))
		for _, f := range src.Fields {
			o.add(f.Name, hubType(f.Type))
		}
		srcs.add(src.Name, types.NewObjectType(o.name))
	}
	lic := put(newObject(typeLicence))
	lic.open = true
	for _, f := range hub.LicenceFields {
		lic.add(f.Name, hubType(f.Type))
	}
	srcs.add(licenceSource, types.NewMapType(types.StringType, types.NewObjectType(typeLicence)))
	srcs.add(licenceLastSource, types.NewMapType(types.StringType, types.NewObjectType(typeLicence)))

	form := put(newObject(typeForm))
	for _, f := range item.Form {
		form.add(f.ID, formType(f))
		if f.Type == "table" {
			row := put(newObject(typeRow + f.ID))
			for _, c := range f.Columns {
				row.add(c.ID, formType(c))
			}
		}
	}

	mat := put(newObject(typeMaterial))
	mat.add("present", types.BoolType)
	mat.add("trust", types.StringType)
	mats := put(newObject(typeMaterials))
	for _, m := range item.Materials {
		mats.add(m.ID, types.NewObjectType(typeMaterial))
	}
	return s
}

// field returns the type of a field of a declared object type.
func (s schema) field(typeName, field string) (*types.Type, bool) {
	o, ok := s[typeName]
	if !ok {
		return nil, false
	}
	if t, ok := o.types[field]; ok {
		return t, true
	}
	if o.open {
		return types.DynType, true
	}
	return nil, false
}

// provider makes the declared object types known to the CEL type checker.
// At run time the values are plain Go maps: the checker guarantees every
// field a rule selects exists and has the declared type, and the Input
// conversion guarantees the maps hold values of those types.
type provider struct {
	types.Provider
	schema schema
}

func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.schema[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Provider.FindStructType(name)
}

func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if o, ok := p.schema[name]; ok {
		return slices.Clone(o.fields), true
	}
	return p.Provider.FindStructFieldNames(name)
}

func (p *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if _, ok := p.schema[name]; ok {
		t, ok := p.schema.field(name, field)
		if !ok {
			return nil, false
		}
		// No GetFrom: fields are then read from the map values with
		// ordinary key lookups, which also makes has() a key test.
		return &types.FieldType{Type: t}, true
	}
	return p.Provider.FindStructFieldType(name, field)
}

// NewValue refuses to build the declared types: rules read data, they do
// not make it.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.schema[name]; ok {
		return types.NewErr("%s values cannot be constructed in a rule", name)
	}
	return p.Provider.NewValue(name, fields)
}

// declaredTypes installs the provider over the environment's own, so the
// well-known types (timestamps, durations) stay available.
func declaredTypes(s schema) cel.EnvOption {
	return func(e *cel.Env) (*cel.Env, error) {
		return cel.CustomTypeProvider(&provider{Provider: e.CELTypeProvider(), schema: s})(e)
	}
}
