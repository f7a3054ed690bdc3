// Package hub is the data sharing hub (数据共享交换): the authoritative
// sources the platform reads on an applicant's authority — population,
// enterprises, e-licences, education, social insurance, property, vehicles
// and driving, credit — each reached through a Connector, every read on
// record.
//
// A source describes its fields (name, type, label) so that forms and rules
// can be checked against them when a catalogue is validated.
package hub

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// FieldType is the type of a source field's values.
type FieldType string

// The field types. Dates are "YYYY-MM-DD" strings.
const (
	String     FieldType = "string"
	Int        FieldType = "int"
	Double     FieldType = "double"
	Bool       FieldType = "bool"
	Date       FieldType = "date"
	StringList FieldType = "string_list"
)

// Field is one field of a source.
type Field struct {
	Name    string    `json:"name"`
	Type    FieldType `json:"type"`
	LabelZh string    `json:"label_zh"`
	LabelEn string    `json:"label_en"`
	// Values lists the codes a text field may hold (marital status,
	// licence status, …); empty for free text.
	Values []string `json:"values,omitempty"`
}

// SubjectKind says whose records a source keeps.
type SubjectKind string

// The kinds of subject.
const (
	Person     SubjectKind = "person"     // keyed by resident ID number
	Enterprise SubjectKind = "enterprise" // keyed by unified social credit code
)

// Source is an authoritative data source.
type Source struct {
	Name    string      `json:"name"`
	LabelZh string      `json:"label_zh"`
	LabelEn string      `json:"label_en"`
	Subject SubjectKind `json:"subject"`
	// AlsoEnterprises: the source keeps enterprises' records as well as
	// its Subject's (the credit registry); an application made for an
	// enterprise reads the enterprise's.
	AlsoEnterprises bool `json:"-"`
	// Trust is the trust level of materials taken from it: "A" for
	// government registries.
	Trust  string  `json:"trust"`
	Fields []Field `json:"fields"`
}

// Keeps reports whether the source keeps records of subjects of kind.
func (s Source) Keeps(kind SubjectKind) bool {
	return s.Subject == kind || (s.AlsoEnterprises && kind == Enterprise)
}

// Field returns the named field.
func (s Source) Field(name string) (Field, bool) {
	i := slices.IndexFunc(s.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return s.Fields[i], true
}

// Subject identifies whose record to read.
type Subject struct {
	Kind SubjectKind
	Key  string // resident ID number or credit code
}

// Record is a source's record for one subject: field name → value (string,
// int64, float64, bool or []string, by the field's type).
type Record map[string]any

// Errors a connector returns. Callers treat NotFound as "the source has no
// record" and Unavailable as "we do not know" — never as an approval.
var (
	ErrNotFound    = errors.New("no record in the source")
	ErrUnavailable = errors.New("source unavailable")
	ErrMalformed   = errors.New("source returned malformed data")
)

// Connector reads records from sources.
type Connector interface {
	// Fetch returns the given fields of subject's record in source. It
	// returns an error wrapping ErrNotFound, ErrUnavailable or ErrMalformed.
	Fetch(ctx context.Context, source string, subject Subject, fields []string) (Record, error)
}

// SplitRef splits a source reference such as "population.name" or
// "licence.business_licence.name" into source and field. For licences the
// source is "licence.TYPE" (or "licence_last.TYPE").
func SplitRef(ref string) (source, field string, ok bool) {
	parts := strings.Split(ref, ".")
	licence := len(parts) > 0 && (parts[0] == "licence" || parts[0] == "licence_last")
	switch {
	case len(parts) == 2 && !licence:
		return parts[0], parts[1], true
	case len(parts) == 3 && licence:
		return parts[0] + "." + parts[1], parts[2], true
	}
	return "", "", false
}
