package portal

import (
	"html/template"
	"strconv"
	"time"
	"yiwang/internal/workday"
)

// pageFuncs are the portal templates' own functions.
var pageFuncs = template.FuncMap{
	"status": statusLabel,
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
	"stars":       func() []int { return []int{5, 4, 3, 2, 1} },
	"starLabel":   starLabel,
	"lightLabel":  lightLabel,
	"actorLabel":  actorLabel,
	"actionLabel": actionLabel,
	"inputType":   inputType,
	"partyStatus": partyStatus,
	// day writes a due date as the applicant chose it, in China time.
	"day": func(t time.Time) string { return t.In(workday.CST).Format(time.DateOnly) },
}

// workday.CST is the zone due dates are chosen and shown in.

// partyStatus is a co-party's answer in words.
func partyStatus(lang, status string) string {
	l, ok := map[string][2]string{
		"named":     {"已填写（提交后通知）", "named (told on submission)"},
		"invited":   {"待确认", "invited"},
		"confirmed": {"已确认", "confirmed"},
		"refused":   {"已拒绝", "refused"},
		"lapsed":    {"逾期未确认", "did not answer in time"},
	}[status]
	switch {
	case !ok:
		return status
	case lang == "en":
		return l[1]
	}
	return l[0]
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

// actionLabel says what happened in a timeline event; an unknown action
// (one added later) shows the status it led to.
func actionLabel(lang, action, to string) string {
	l, ok := actionLabels[action]
	if !ok {
		return statusLabel(lang, to)
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

var actionLabels = map[string][2]string{
	"start":              {"开始办理", "Started"},
	"upload":             {"上传材料", "File uploaded"},
	"submit":             {"提交申请", "Submitted"},
	"accept":             {"受理", "Accepted"},
	"refuse":             {"不予受理", "Not accepted"},
	"request_correction": {"要求补正", "Corrections requested"},
	"supply":             {"提交补正", "Corrections supplied"},
	"start_review":       {"进入审查", "Review started"},
	"step_approved":      {"审查环节通过", "A review step approved"},
	"start_special":      {"进入特别程序", "Special procedure started"},
	"end_special":        {"特别程序结束", "Special procedure ended"},
	"approve":            {"准予", "Approved"},
	"reject":             {"不予准许", "Rejected"},
	"issue":              {"发放电子证照", "E-licence issued"},
	"deliver":            {"送达", "Delivered"},
	"withdraw":           {"撤回", "Withdrawn"},
	"revoke":             {"撤销", "Revoked"},
}
