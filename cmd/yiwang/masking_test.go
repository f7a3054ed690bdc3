package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"yiwang/internal/demo"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestReviewerSeesMaskedDataUntilAPurposeIsStated: the civil affairs
// reviewer's application page and the staff API show 张三's ID number and
// phone masked; a full view without a purpose is refused in words, and one
// with a purpose shows them and is in the access log with that purpose.
func TestReviewerSeesMaskedDataUntilAPurposeIsStated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, a := citizenServerOn(t, db)
		id := manualSeniorCard(t, h, a)
		const phone = "13800000001"
		full := []string{demo.ZhangSan, phone}
		rv := signIn(t, h, "reviewer.civil")
		noneFull := func(what, body string) {
			t.Helper()
			for _, s := range full {
				if strings.Contains(body, s) {
					t.Errorf("%s shows %s in full:\n%s", what, s, body)
				}
			}
			if !strings.Contains(body, pii.MaskIDNumber(demo.ZhangSan)) {
				t.Errorf("%s lacks the masked ID number:\n%s", what, body)
			}
		}

		_, html := page(t, h, rv, "GET", "/workbench/applications/"+id, nil)
		noneFull("the reviewer's page", html)
		if !strings.Contains(html, `action="/workbench/applications/`+id+`/reveal"`) {
			t.Errorf("the page offers no way to see the data in full:\n%s", html)
		}
		code, _, raw := call(t, h, "GET", "/api/v1/staff/applications/"+id, nil, rv)
		if code != http.StatusOK {
			t.Fatalf("staff API: %d %s", code, raw)
		}
		noneFull("the staff API", raw)

		// No purpose: refused, in words, with nothing shown or logged.
		code, _, raw = call(t, h, "GET", "/api/v1/staff/applications/"+id+"?purpose=", nil, rv)
		if code != http.StatusBadRequest || !strings.Contains(raw, `"code":"purpose_required"`) || strings.Contains(raw, demo.ZhangSan) {
			t.Errorf("a full view without a purpose: %d %s", code, raw)
		}
		msg := postFails(t, h, rv, "/workbench/applications/"+id+"/reveal", url.Values{"purpose": {"other"}, "purpose_other": {""}}, http.StatusBadRequest)
		if !strings.Contains(msg, "请说明查看完整个人信息的用途") || strings.Contains(msg, demo.ZhangSan) {
			t.Errorf("the page's full view without a purpose:\n%s", msg)
		}
		log := pii.NewAccessLog(db.DB)
		entries := func() []pii.Access {
			e, err := log.List(context.Background(), pii.Filter{StaffAccount: staffPrincipal(t, a, "reviewer.civil").AccountID})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		if e := entries(); len(e) != 0 {
			t.Fatalf("refused views were logged: %+v", e)
		}

		_, html = page(t, h, rv, "POST", "/workbench/applications/"+id+"/reveal", url.Values{"purpose": {"核对身份证件原件"}})
		if !strings.Contains(html, demo.ZhangSan) || !strings.Contains(html, phone) || !strings.Contains(html, `id="unmasked"`) {
			t.Errorf("the page's full view lacks the data:\n%s", html)
		}
		code, _, raw = call(t, h, "GET", "/api/v1/staff/applications/"+id+"?purpose="+url.QueryEscape("电话联系申请人"), nil, rv)
		if code != http.StatusOK || !strings.Contains(raw, demo.ZhangSan) || !strings.Contains(raw, phone) {
			t.Errorf("the API's full view: %d %s", code, raw)
		}
		e := entries()
		var purposes []string
		for _, x := range e {
			purposes = append(purposes, x.Purpose)
			if x.RequestID == "" || !slices.Contains(x.Fields, "form.id_number") {
				t.Errorf("access log entry without its request or fields: %+v", x)
			}
		}
		if !slices.Equal(purposes, []string{"电话联系申请人", "核对身份证件原件"}) {
			t.Errorf("access log purposes = %q", purposes)
		}
	})
}
