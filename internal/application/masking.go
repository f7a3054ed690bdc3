package application

import (
	"context"
	"database/sql"
	"maps"
	"regexp"
	"slices"
	"strings"

	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// Staff see an application's personal data masked: a reviewer checks that
// the form is complete and consistent, which the masked values and the
// machine's checks let them do. Seeing a value in full is a separate,
// logged request with a stated purpose (RevealApplication).

// personalKind says how values of a form field (or table column) are masked:
// by its catalogue type, or as a person's name for text fields that hold one.
// "" means the field holds nothing personal.
func personalKind(f catalog.Field) string {
	switch f.Type {
	case "id_number", "phone", "address":
		return f.Type
	case "text":
		if isNameField(f.ID) {
			return "name"
		}
	}
	return ""
}

// organisationNames are the "_name" fields that name an organisation or a
// project, not a person.
var organisationNames = []string{"company_name", "employer_name", "business_name", "project_name", "school_name"}

// isNameField reports whether a text field named id holds a person's name.
func isNameField(id string) bool {
	if slices.Contains(organisationNames, id) {
		return false
	}
	return id == "name" || id == "legal_rep" || id == "holder" || strings.HasSuffix(id, "_name")
}

// maskAs masks s as a value of kind.
func maskAs(kind, s string) string {
	switch kind {
	case "id_number":
		return pii.MaskIDNumber(s)
	case "phone":
		return pii.MaskPhone(s)
	case "address":
		return pii.MaskAddress(s)
	case "name":
		return pii.MaskName(s)
	}
	return s
}

// maskFieldValue masks a form value of field f: a string by its kind, a
// table's rows column by column. found is called when a personal value was
// there to mask.
func maskFieldValue(f catalog.Field, v any, found func()) any {
	switch x := v.(type) {
	case string:
		if kind := personalKind(f); kind != "" && x != "" {
			found()
			return maskAs(kind, x)
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskFieldValue(f, e, found)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		for _, c := range f.Columns {
			if e, ok := out[c.ID]; ok {
				out[c.ID] = maskFieldValue(c, e, found)
			}
		}
		return out
	}
	return v
}

// idNumberPattern finds what may be a resident ID number inside free text;
// isIDNumber decides.
var idNumberPattern = regexp.MustCompile(`[0-9]{17}[0-9Xx]`)

// maskIDNumbersIn masks every valid resident ID number inside s.
func maskIDNumbersIn(s string) string {
	return idNumberPattern.ReplaceAllStringFunc(s, func(m string) string {
		if isIDNumber(m) {
			return pii.MaskIDNumber(m)
		}
		return m
	})
}

// maskPersonal masks, in place, the personal data of v as item defines its
// form: form values and what their sources said, mismatches, materials'
// references, co-parties, the commitment's signer, ID numbers in the steps'
// notes, and the timeline. It
// returns the names of what held personal data ("form.id_number",
// "parties", …), for the access log of a full view.
func maskPersonal(v *StaffView, item catalog.Item) ([]string, error) {
	var fields []string
	note := func(name string) func() {
		return func() {
			if !slices.Contains(fields, name) {
				fields = append(fields, name)
			}
		}
	}
	// Write only into copies: the caller may keep the unmasked view.
	v.Form, v.Provenance = maps.Clone(v.Form), maps.Clone(v.Provenance)
	v.Mismatches, v.Materials = slices.Clone(v.Mismatches), slices.Clone(v.Materials)
	for _, f := range item.Form {
		found := note("form." + f.ID)
		if x, ok := v.Form[f.ID]; ok {
			v.Form[f.ID] = maskFieldValue(f, x, found)
		}
		if pv, ok := v.Provenance[f.ID]; ok && pv.Value != nil {
			pv.Value = maskFieldValue(f, pv.Value, found)
			v.Provenance[f.ID] = pv
		}
		for i, m := range v.Mismatches {
			if m.Field == f.ID {
				v.Mismatches[i].Prefilled = maskFieldValue(f, m.Prefilled, found)
				v.Mismatches[i].Current = maskFieldValue(f, m.Current, found)
			}
		}
	}
	for i, m := range v.Materials {
		if masked := maskIDNumbersIn(m.Ref); masked != m.Ref {
			note("materials")()
			v.Materials[i].Ref = masked
		}
	}
	if mv := v.Modes; mv != nil {
		masked := *mv
		if len(mv.Parties) > 0 {
			note("parties")()
			masked.Parties = slices.Clone(mv.Parties)
			for i := range masked.Parties {
				masked.Parties[i].Name = pii.MaskName(masked.Parties[i].Name)
			}
		}
		if c := mv.Commitment; c != nil {
			note("commitment")()
			signed := *c
			signed.SignerName = pii.MaskName(c.SignerName)
			masked.Commitment = &signed
		}
		v.Modes = &masked
	}
	v.Tasks = slices.Clone(v.Tasks)
	for i, t := range v.Tasks {
		if n := maskIDNumbersIn(t.Note); n != t.Note {
			note("tasks")()
			v.Tasks[i].Note = n
		}
	}
	timeline := slices.Clone(v.Timeline)
	for i, e := range timeline {
		if e.ActorKind == "applicant" || e.ActorKind == "party" {
			note("timeline")()
			timeline[i].ActorName = pii.MaskName(e.ActorName)
		}
		if n := maskIDNumbersIn(e.Note); n != e.Note {
			note("timeline")()
			timeline[i].Note = n
		}
		if len(e.Details) > 0 {
			d, err := maskInputs(e.Details)
			if err != nil {
				return nil, err
			}
			timeline[i].Details = d
		}
	}
	v.Timeline = timeline
	slices.Sort(fields)
	return fields, nil
}

// RevealApplication returns an application to staff with its personal data
// in full, for a stated purpose: at least pii.MinPurposeRunes runes, or it is
// refused with purpose_required before anything is read. The view is
// written to the personal-data access log (who, whose data, which fields,
// why, the request) — an entry for the applicant and one for each co-party
// whose name it shows, in one transaction after the read; if the entries
// cannot be written the data is not shown. Access is the staff view's, and the
// permission to see unmasked data (authz.PersonalDataRaw) is needed too.
func (s *Tasks) RevealApplication(ctx context.Context, p authz.Principal, id int64, purpose, requestID string) (StaffView, error) {
	if err := authz.Require(p, authz.PersonalDataRaw); err != nil {
		return StaffView{}, err
	}
	if err := pii.CheckPurpose(purpose); err != nil {
		return StaffView{}, err
	}
	v, item, err := s.staffApplicationOf(ctx, p, id)
	if err != nil {
		return StaffView{}, err
	}
	probe := v
	fields, err := maskPersonal(&probe, item)
	if err != nil {
		return StaffView{}, err
	}
	if len(fields) == 0 {
		return v, nil // nothing personal to log
	}
	// The applicant's entry, and one for each co-party whose name the
	// view shows, so each person finds the view in "who read my data".
	var parties []int64
	if slices.Contains(fields, "parties") {
		parties, err = store.All(ctx, s.db, store.Value[int64],
			`SELECT DISTINCT person_id FROM application_parties WHERE application_id = $1 AND person_id <> $2 ORDER BY person_id`, id, v.personID)
		if err != nil {
			return StaffView{}, err
		}
	}
	log, at := pii.NewAccessLog(s.db.DB), s.now()
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		entry := pii.Access{At: at, StaffAccount: p.AccountID, StaffName: p.Name, SubjectPerson: v.personID, Fields: fields, Purpose: purpose, RequestID: requestID}
		if err := log.RecordTx(ctx, tx, entry); err != nil {
			return err
		}
		for _, person := range parties {
			entry.SubjectPerson, entry.Fields = person, []string{"parties"}
			if err := log.RecordTx(ctx, tx, entry); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return StaffView{}, err // no view without its log entries
	}
	v.Purpose = strings.TrimSpace(purpose)
	return v, nil
}
