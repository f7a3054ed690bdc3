package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"yiwang/internal/demo"
)

// TestCitizenSeesComputedField: the no-housing certificate's use-by date
// is computed by the system; the form shows it read-only with the badge
// in both languages, with nothing to post, and the check step shows it;
// staff see it in the decision trace.
func TestCitizenSeesComputedField(t *testing.T) {
	const noHousing = "11910102MB00013338-20-00001"
	h, a := citizenServer(t)
	verified(t, a, demo.ZhangSan, 2)
	hd := signIn(t, h, demo.ZhangSan)
	_, start := page(t, h, hd, "GET", "/apply/"+noHousing, nil)
	formPath, form := page(t, h, hd, "POST", "/apply/"+noHousing, url.Values{"consent": {"yes"}, "idempotency_key": {hiddenKey.FindStringSubmatch(start)[1]}, "situation_query_scope": {"self"}})
	field := regexp.MustCompile(`<input type="text" id="f_use_by" value="\d{4}-\d{2}-\d{2}" placeholder="[^"]*" readonly>`)
	if !strings.Contains(form, "由系统计算") || !field.MatchString(form) || strings.Contains(form, `name="f_use_by"`) {
		t.Fatalf("the form step does not show the use-by date read-only as computed by the system:\n%s", form)
	}
	_, en := page(t, h, hd, "GET", formPath+"&lang=en", nil)
	if !strings.Contains(en, "Computed by the system") || !strings.Contains(en, "within 30 days") {
		t.Errorf("the English form lacks the badge or the note on how it is computed:\n%s", en)
	}
	appPath := strings.Split(formPath, "?")[0]
	page(t, h, hd, "POST", appPath+"/form", url.Values{"f_purpose": {"purchase"}})
	_, confirm := page(t, h, hd, "GET", appPath+"?step=confirm", nil)
	if !strings.Contains(confirm, "证明使用截止日期") || !strings.Contains(confirm, "由系统计算") {
		t.Errorf("the check step does not show the computed use-by date:\n%s", confirm)
	}
	page(t, h, hd, "POST", appPath+"/submit", url.Values{"idempotency_key": {hiddenKey.FindStringSubmatch(confirm)[1]}, "revision": {hiddenRev.FindStringSubmatch(confirm)[1]}})

	// Staff see the value, that the system computed it and how, in the
	// decision trace: here the supervisor, as no step of a machine
	// approval was the department's.
	id := strings.TrimPrefix(appPath, "/me/applications/")
	_, staff := page(t, h, signIn(t, h, "supervisor"), "GET", "/workbench/applications/"+id, nil)
	computed := regexp.MustCompile(`(?s)<table id="computed">.*证明使用截止日期.*已计算.*\d{4}-\d{2}-\d{2}.*决定日.*today &#43; duration`)
	if !strings.Contains(staff, "由系统计算") || !computed.MatchString(staff) {
		t.Errorf("the staff page does not show the computed use-by date in the trace:\n%s", staff)
	}
}
