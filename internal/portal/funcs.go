package portal

import (
	"html/template"
	"strconv"

	"yiwang/internal/catalog"
)

// pageFuncs are the portal templates' own functions.
var pageFuncs = template.FuncMap{
	"status": statusLabel,
	"text":   catalog.Text.In,
	// fieldArgs and materialArgs pass a sub-template what it needs.
	"fieldArgs": func(lang string, f formField) any {
		return struct {
			Lang  string
			Field formField
		}{lang, f}
	},
	"materialArgs": func(lang, csrf string, id int64, ms []material) any {
		return struct {
			Lang, CSRF string
			ID         int64
			Materials  []material
		}{lang, csrf, id, ms}
	},
	"list": func(m *material) []material { return []material{*m} },
	// editable: a field a correction names may be changed whatever its source.
	"editable": func(f *formField) formField {
		c := *f
		c.ReadOnly = false
		return c
	},
	"stars":      func() []int { return []int{5, 4, 3, 2, 1} },
	"starLabel":  starLabel,
	"lightLabel": lightLabel,
	"actorLabel": actorLabel,
	"inputType":  inputType,
}

func starLabel(lang string, n int) string {
	l := [][2]string{{"非常不满意", "very dissatisfied"}, {"不满意", "dissatisfied"}, {"基本满意", "fair"}, {"满意", "satisfied"}, {"非常满意", "very satisfied"}}[n-1]
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

func lightLabel(lang, light string, left int) string {
	en := lang == "en"
	switch light {
	case "paused":
		if en {
			return "paused while waiting for you"
		}
		return "时限暂停（等待补正）"
	case "red":
		if en {
			return "overdue"
		}
		return "已超期"
	}
	if en {
		return strconv.Itoa(left) + " working day(s) left"
	}
	return "剩余 " + strconv.Itoa(left) + " 个工作日"
}

func actorLabel(lang, kind, name string) string {
	zh, en := map[string]string{"applicant": "申请人", "staff": "工作人员", "machine": "系统自动", "system": "系统", "party": "共同申请人"}[kind], map[string]string{"applicant": "applicant", "staff": "staff", "machine": "machine", "system": "system", "party": "co-applicant"}[kind]
	label := zh
	if lang == "en" {
		label = en
	}
	if kind == "applicant" || kind == "party" || name == "" {
		return label
	}
	return label + " " + name
}

func inputType(fieldType string) string {
	switch fieldType {
	case "date":
		return "date"
	case "number":
		return "number"
	case "phone":
		return "tel"
	}
	return "text"
}
