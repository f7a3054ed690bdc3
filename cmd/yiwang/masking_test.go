package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"yiwang/internal/demo"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
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

// TestCitizenWithdrawsAShareFromMyLicences: 张三 shares his licence, sees
// the link on /me/licences with its recipient, purpose and expiry in China
// time, and withdraws it with the button; the link then answers 410 in
// words. 王五 cannot withdraw it, by page or API; a second link is
// withdrawn over the API.
func TestCitizenWithdrawsAShareFromMyLicences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, _ := citizenServerOn(t, db)
		zhang, wang := signIn(t, h, demo.ZhangSan), signIn(t, h, demo.WangWu)
		approvedSeniorCard(t, h, zhang)
		_, made := page(t, h, zhang, "POST", "/me/licences/1/share", url.Values{"days": {"7"}, "recipient": {"示范银行"}, "purpose": {"办理养老金账户"}})
		link := regexp.MustCompile(`/shared/licences/[A-Za-z0-9_-]+`).FindString(made)
		if link == "" {
			t.Fatalf("sharing shows no link:\n%s", made)
		}
		if code, body := anonymously(t, h, link); code != http.StatusOK || strings.Contains(body, demo.ZhangSan) || !strings.Contains(body, pii.MaskIDNumber(demo.ZhangSan)) ||
			!strings.Contains(body, "仅供 示范银行 用于 办理养老金账户") {
			t.Errorf("the shared page %d: want the ID number masked and the watermark:\n%s", code, body)
		}
		_, mine := page(t, h, zhang, "GET", "/me/licences", nil)
		m := regexp.MustCompile(`action="(/me/licences/1/shares/(\d+)/revoke)"`).FindStringSubmatch(mine)
		until := time.Now().Add(7 * 24 * time.Hour).In(workday.CST)
		if m == nil || !strings.Contains(mine, "办理养老金账户") || !(strings.Contains(mine, until.Format("2006-01-02 15:04")) || strings.Contains(mine, until.Add(-time.Minute).Format("2006-01-02 15:04"))) {
			t.Fatalf("my licences does not list the link with its purpose, expiry in China time (%s) and a withdraw button:\n%s", until.Format("2006-01-02 15:04"), mine)
		}
		withdraw, share := m[1], m[2]

		// 王五 cannot withdraw 张三's link.
		postFails(t, h, wang, withdraw, url.Values{}, http.StatusNotFound)
		if code, _, raw := call(t, h, "DELETE", "/api/v1/me/licences/1/shares/"+share, nil, wang); code != http.StatusNotFound {
			t.Errorf("王五 withdrawing over the API: %d %s", code, raw)
		}
		if code, _ := anonymously(t, h, link); code != http.StatusOK {
			t.Errorf("after refused withdrawals the link answers %d", code)
		}

		_, after := page(t, h, zhang, "POST", withdraw, url.Values{})
		if !strings.Contains(after, `id="share-withdrawn"`) || strings.Contains(after, `action="`+withdraw+`"`) {
			t.Errorf("after withdrawing, my licences should say so and not list the link:\n%s", after)
		}
		if code, body := anonymously(t, h, link); code != http.StatusGone || !strings.Contains(body, "撤回") || strings.Contains(body, pii.MaskIDNumber(demo.ZhangSan)) {
			t.Errorf("a withdrawn link %d:\n%s", code, body)
		}

		// Over the API: list, withdraw, list.
		code, body, raw := call(t, h, "POST", "/api/v1/me/licences/1/shares", strings.NewReader(`{"recipient":"示范医院","purpose":"办理就诊优惠","days":1}`), withJSON(zhang))
		if code != http.StatusCreated {
			t.Fatalf("sharing over the API: %d %s", code, raw)
		}
		id := strconv.FormatFloat(body["id"].(float64), 'f', -1, 64)
		if _, _, raw := call(t, h, "GET", "/api/v1/me/licences/1/shares", nil, zhang); !strings.Contains(raw, "示范医院") || strings.Contains(raw, "示范银行") {
			t.Errorf("the API's list of working links: %s", raw)
		}
		if code, _, raw := call(t, h, "DELETE", "/api/v1/me/licences/1/shares/"+id, nil, zhang); code != http.StatusNoContent {
			t.Errorf("withdrawing over the API: %d %s", code, raw)
		}
		if code, _, raw := call(t, h, "DELETE", "/api/v1/me/licences/1/shares/"+id, nil, zhang); code != http.StatusConflict || !strings.Contains(raw, "share_ended") {
			t.Errorf("withdrawing twice: %d %s", code, raw)
		}
	})
}

// anonymously fetches path without a session: what a link's recipient sees.
func anonymously(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	code, _, body := call(t, h, "GET", path, nil, nil)
	return code, body
}
