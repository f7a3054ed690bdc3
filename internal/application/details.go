package application

import (
	"cmp"
	"fmt"
	"slices"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
)

// detail is one problem for an error's details, in both languages.
func detail(subject, zh, en string) apperr.Detail {
	return apperr.Detail{Subject: subject, Words: apperr.Words{Zh: zh, En: en}}
}

// sortDetails puts details in a fixed order, for problems found by ranging
// over a map.
func sortDetails(ds []apperr.Detail) {
	slices.SortFunc(ds, func(a, b apperr.Detail) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.En, b.En))
	})
}

// fieldProblem says what is wrong with the value of field f.
func fieldProblem(f catalog.Field, problem apperr.Words) apperr.Detail {
	return detail(f.ID, f.Label.Zh+"："+problem.Zh+"。", f.Label.In("en")+": "+problem.En+".")
}

// noSuchField is the detail for a value given for a field the form lacks.
func noSuchField(id string) apperr.Detail {
	return detail(id, fmt.Sprintf("表单中没有“%s”这一项。", id), fmt.Sprintf("The form has no field %q.", id))
}

// fieldLabel is the label of the field id among fields, or the id itself.
func fieldLabel(fields []catalog.Field, id string) catalog.Text {
	if i := slices.IndexFunc(fields, func(f catalog.Field) bool { return f.ID == id }); i >= 0 {
		return fields[i].Label
	}
	return catalog.Text{Zh: id, En: id}
}

// materialName is the name of the item's material id, or the id itself.
func materialName(it catalog.Item, id string) catalog.Text {
	if i := slices.IndexFunc(it.Materials, func(m catalog.Material) bool { return m.ID == id }); i >= 0 {
		return it.Materials[i].Name
	}
	return catalog.Text{Zh: id, En: id}
}

// partyLabel is the label of the item's party role, or the role itself.
func partyLabel(it catalog.Item, role string) catalog.Text {
	if i := slices.IndexFunc(it.Parties, func(p catalog.Party) bool { return p.Role == role }); i >= 0 {
		return it.Parties[i].Label
	}
	return catalog.Text{Zh: role, En: role}
}
