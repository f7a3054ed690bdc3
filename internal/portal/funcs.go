package portal

import (
	"html/template"
	"strconv"
	"strings"
	"yiwang/internal/hub"
)

// pageFuncs are the portal templates' own functions.
var pageFuncs = template.FuncMap{
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
	"lightLabel": lightLabel,
	"inputType":  inputType,
	"fieldsRead": fieldsRead,
	"source":     hub.SourceName,
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

// fieldsRead names the fields read from a source by the hub's labels.
func fieldsRead(lang, source string, fields []string) string {
	names := make([]string, len(fields))
	for i, name := range fields {
		names[i] = name
		if f, ok := hub.FieldOf(source, name); ok {
			names[i] = f.LabelZh
			if lang == "en" {
				names[i] = f.LabelEn
			}
		}
	}
	return strings.Join(names, "、")
}
