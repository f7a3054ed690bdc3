package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"yiwang/internal/authz"
	"yiwang/internal/demo"
)

// TestAdminPagePublishesADraft: a new version imported through the API is
// shown as a draft on the item's administration page and published from it.
func TestAdminPagePublishesADraft(t *testing.T) {
	srv, _ := demoServer(t)
	h := srv.Handler()
	auth := signIn(t, h, "catalog.admin")
	changed := zipCatalogue(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "senior_card.yaml") {
			return bytes.Replace(b, []byte("promised_days: 1"), []byte("promised_days: 2"), 1)
		}
		return b
	})
	zipAuth := copyHeaders(auth)
	zipAuth["Content-Type"] = "application/zip"
	if code, body, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", changed, zipAuth); code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}
	page := "/admin/catalog/" + seniorCard
	_, _, html := call(t, h, "GET", page, nil, auth)
	if !strings.Contains(html, `/versions/2/publish"`) {
		t.Fatalf("the item page offers no publish button for the draft v2:\n%s", html)
	}
	form := copyHeaders(auth)
	form["Content-Type"] = "application/x-www-form-urlencoded"
	code, _, _ := call(t, h, "POST", page+"/versions/2/publish", strings.NewReader(url.Values{"csrf_token": {auth["X-CSRF-Token"]}}.Encode()), form)
	if code != 303 {
		t.Fatalf("publish from the page: %d", code)
	}
	_, body, _ := call(t, h, "GET", "/api/v1/items/"+seniorCard, nil, nil)
	if body["version"] != float64(2) {
		t.Errorf("after publishing from the page the guide shows version %v", body["version"])
	}
	if code, _, html := call(t, h, "POST", page+"/versions/2/publish", strings.NewReader(""), form); code != 409 || !strings.Contains(html, "<h1>") {
		t.Errorf("publishing it again: %d, want 409 with a page saying why", code)
	}
}

// TestStaffPagesInEnglish renders each staff page in English, as the
// language switch would.
func TestStaffPagesInEnglish(t *testing.T) {
	srv, _ := demoServer(t)
	h := srv.Handler()
	for _, tt := range []struct{ who, path, want string }{
		{"clerk", "/workbench", "My queue"},
		{"clerk", "/workbench/intake?item=" + propertyTransfer, "Start the application"},
		{"supervisor", "/workbench/overdue", "Accountability records"},
		{"sysadmin", "/admin", "Users and roles"},
		{"sysadmin", "/admin/accounts", "Grant a role"},
		{"sysadmin", "/admin/calendar", "Load a year"},
		{"catalog.admin", "/admin/catalog", "Catalogue items"},
		{"catalog.admin", "/admin/catalog/" + seniorCard, "Versions"},
	} {
		code, _, html := call(t, h, "GET", tt.path+map[bool]string{true: "&", false: "?"}[strings.Contains(tt.path, "?")]+"lang=en", nil, signIn(t, h, tt.who))
		if code != 200 || !strings.Contains(html, tt.want) || !strings.Contains(html, `<html lang="en">`) {
			t.Errorf("%s as %s: %d, want 200 in English with %q", tt.path, tt.who, code, tt.want)
		}
	}
	code, _, html := call(t, h, "GET", "/kiosk?lang=en", nil, nil)
	if code != 200 || !strings.Contains(html, "Kiosk PIN") {
		t.Errorf("/kiosk in English: %d", code)
	}
}

// TestQueueMarksLateStepsInWords: a step past its deadline is red in the
// reviewer's queue and on the supervisor's board, said in words.
func TestQueueMarksLateStepsInWords(t *testing.T) {
	srv, a := demoServer(t)
	h := srv.Handler()
	id := queueTransfer(t, a, clerkOf(t, a))
	// Its registration review was due three days ago.
	if _, err := a.identities.DB().ExecContext(context.Background(), `UPDATE tasks SET deadline = $1 WHERE application_id = $2 AND department = 'realestate' AND status = 'open'`,
		time.Now().AddDate(0, 0, -3).UTC(), id); err != nil {
		t.Fatal(err)
	}
	code, _, html := call(t, h, "GET", "/workbench", nil, signIn(t, h, "reviewer.realestate"))
	if code != 200 || !strings.Contains(html, "红灯：已超期") || !strings.Contains(html, `class="light-red"`) {
		t.Errorf("the queue: %d, want the late step marked 红灯 in words:\n%s", code, html)
	}
	code, _, html = call(t, h, "GET", "/workbench/overdue", nil, signIn(t, h, "supervisor"))
	if code != 200 || !strings.Contains(html, "红灯：已超期") {
		t.Errorf("the overdue board: %d, want the late step marked 红灯", code)
	}
}

// TestWindowIntakeNamesPartiesAndDefers: at the window the clerk names the
// other party of a property transfer (一事多人) and, under the walk-in's
// signed commitment, marks the valuation report to be supplied later (容缺).
func TestWindowIntakeNamesPartiesAndDefers(t *testing.T) {
	h, _ := citizenServer(t)
	clerk := signIn(t, h, "clerk")
	path, draft := page(t, h, clerk, "POST", "/workbench/intake", url.Values{"item": {propertyTransfer}, "id_number": {demo.ZhangSan}, "name": {"张三"},
		"answer_reason": {"sale"}, "answer_property_type": {"non_residential"}, "identity_checked": {"yes"}, "consent": {"yes"}})
	if !strings.HasPrefix(path, "/workbench/intake/") || !strings.Contains(draft, `id="party-buyer-id"`) || !strings.Contains(draft, `id="own-seller"`) {
		t.Fatalf("the intake draft at %s has no parties section:\n%s", path, draft)
	}
	if msg := postFails(t, h, clerk, path+"/parties", url.Values{"own_role": {"seller"}}, http.StatusBadRequest); !strings.Contains(msg, "<li>请填写受让方（买受人、受赠人）的信息。</li>") {
		t.Errorf("leaving the buyer unnamed should say so:\n%s", msg)
	}
	_, draft = page(t, h, clerk, "POST", path+"/parties", url.Values{"own_role": {"seller"}, "party_buyer_name": {"王五"}, "party_buyer_id": {demo.WangWu}})
	if !strings.Contains(draft, `id="parties-named"`) || !strings.Contains(draft, "王五") {
		t.Errorf("the named parties are not shown:\n%s", draft)
	}
	if !strings.Contains(draft, `id="defer-valuation_report"`) || !strings.Contains(draft, "逾期未补交的") {
		t.Fatalf("the draft offers no deferral of the valuation report:\n%s", draft)
	}
	due := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	if msg := postFails(t, h, clerk, path+"/materials/valuation_report/deferral", url.Values{"due": {due}}, http.StatusBadRequest); !strings.Contains(msg, "签署按期补交") {
		t.Errorf("deferring without the walk-in's signature should be refused:\n%s", msg)
	}
	postFails(t, h, clerk, path+"/materials/gift_contract/deferral", url.Values{"signed": {"yes"}, "due": {due}}, http.StatusNotFound)
	_, draft = page(t, h, clerk, "POST", path+"/materials/valuation_report/deferral", url.Values{"signed": {"yes"}, "due": {due}})
	if !strings.Contains(draft, `id="deferred-valuation_report"`) || !strings.Contains(draft, due) || strings.Contains(draft, `id="defer-valuation_report"`) {
		t.Errorf("the deferred report does not show its due date %s:\n%s", due, draft)
	}
	// The walk-in signed; the clerk recorded it, and the page says so.
	if !strings.Contains(draft, "申请人在窗口签字，由窗口 陈静记录") {
		t.Errorf("the deferral does not say the clerk recorded the walk-in's signature at the window:\n%s", draft)
	}
}

// TestClerkRaisesARealNameLevelThroughThePage: a kiosk sign-in raises 王五
// to level 2, a window clerk's check of his identity card to 3, and his
// account page says each in words.
func TestClerkRaisesARealNameLevelThroughThePage(t *testing.T) {
	h, _ := citizenServer(t)
	clerk, wang := signIn(t, h, "clerk"), signIn(t, h, demo.WangWu)
	if _, me := page(t, h, wang, "GET", "/me", nil); !strings.Contains(me, "一级：自行注册") || !strings.Contains(me, "提升到二级：在自助终端凭身份证登录") {
		t.Fatalf("王五's account page before any check:\n%s", me)
	}
	// Signing in at a kiosk with the identity card gives level 2.
	crawlSession(t, h, "kiosk")
	if _, me := page(t, h, wang, "GET", "/me", nil); !strings.Contains(me, "二级：姓名和身份证号码已经人口库核对") || !strings.Contains(me, "提升到三级：携带身份证") {
		t.Fatalf("王五's account page after the kiosk:\n%s", me)
	}
	form := url.Values{"id_number": {demo.WangWu}, "name": {"王五"}}
	if msg := postFails(t, h, clerk, "/workbench/identity-check", form, http.StatusBadRequest); !strings.Contains(msg, "人证比对") {
		t.Errorf("checking without reading the card should say so:\n%s", msg)
	}
	form.Set("identity_checked", "yes")
	postFails(t, h, wang, "/workbench/identity-check", form, http.StatusForbidden) // nobody raises their own level
	_, done := page(t, h, clerk, "POST", "/workbench/identity-check", form)
	if !strings.Contains(done, `id="identity-verified"`) {
		t.Errorf("the intake page does not confirm the check:\n%s", done)
	}
	if _, me := page(t, h, wang, "GET", "/me", nil); !strings.Contains(me, "三级：已在政务服务大厅窗口当面核验身份") {
		t.Errorf("王五's account page after the check:\n%s", me)
	}
}

// taskIn finds the id of the step a form on the page acts on.
func taskIn(t *testing.T, html, action string) string {
	t.Helper()
	m := regexp.MustCompile(`/workbench/tasks/(\d+)/` + action + `"`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("the page has no %s form:\n%s", action, html)
	}
	return m[1]
}

// TestSpecialProcedureStopsTheClockThroughThePage: the real-estate reviewer
// sends a transfer to an expert review (the clock stops), then ends it.
func TestSpecialProcedureStopsTheClockThroughThePage(t *testing.T) {
	h, a := citizenServer(t)
	id := strconv.FormatInt(queueTransfer(t, a, clerkOf(t, a)), 10)
	re := signIn(t, h, "reviewer.realestate")
	_, html := page(t, h, re, "GET", "/workbench/applications/"+id, nil)
	if !strings.Contains(html, `id="parties"`) || !strings.Contains(html, "王*") || strings.Contains(html, "王五") || !strings.Contains(html, "已确认") {
		t.Errorf("the application page does not show the co-party's confirmation:\n%s", html)
	}
	task := taskIn(t, html, "special-procedure")
	postFails(t, h, re, "/workbench/tasks/"+task+"/special-procedure", url.Values{"application": {id}, "kind": {"expert_review"}}, http.StatusBadRequest)
	_, html = page(t, h, re, "POST", "/workbench/tasks/"+task+"/special-procedure", url.Values{"application": {id}, "kind": {"expert_review"}, "reason": {"估价争议，需专家评审"}})
	if !strings.Contains(html, `<strong id="app-status">特别程序</strong>`) || !strings.Contains(html, "专家评审：估价争议") || !strings.Contains(html, `id="end-special"`) {
		t.Fatalf("after starting the expert review the page shows no special procedure:\n%s", html)
	}
	end := taskIn(t, html, "special-procedure/end")
	_, html = page(t, h, re, "POST", "/workbench/tasks/"+end+"/special-procedure/end", url.Values{"application": {id}, "note": {"专家意见已出具"}})
	if !strings.Contains(html, `<strong id="app-status">审查中</strong>`) || strings.Contains(html, `id="end-special"`) {
		t.Errorf("after ending it the application should be under review again:\n%s", html)
	}
}

// manualSeniorCard has 张三 apply for the senior card with machine approval
// switched off, so that a civil affairs reviewer decides it; it returns the
// application's id.
func manualSeniorCard(t *testing.T, h http.Handler, a *app) string {
	t.Helper()
	if err := a.applications.Decisions.SetMachineSuspended(context.Background(), staffPrincipal(t, a, "head.civil"), seniorCard, true, "test"); err != nil {
		t.Fatal(err)
	}
	appPath, _ := applyForSeniorCard(t, h, signIn(t, h, demo.ZhangSan))
	return strings.TrimPrefix(appPath, "/me/applications/")
}

// TestHeadReassignsAndRevokesThroughThePage: the civil affairs head hands
// the review to a reviewer, who approves; the head then revokes the
// approval, which needs a reason.
func TestHeadReassignsAndRevokesThroughThePage(t *testing.T) {
	h, a := citizenServer(t)
	id := manualSeniorCard(t, h, a)
	head := signIn(t, h, "head.civil")
	_, html := page(t, h, head, "GET", "/workbench/applications/"+id, nil)
	task := taskIn(t, html, "reassign")
	if !strings.Contains(html, "民政 刘洋（reviewer.civil）") {
		t.Fatalf("the reassignment offers no civil affairs reviewer:\n%s", html)
	}
	reviewer := staffPrincipal(t, a, "reviewer.civil")
	_, html = page(t, h, head, "POST", "/workbench/tasks/"+task+"/reassign", url.Values{"application": {id}, "to": {strconv.FormatInt(reviewer.AccountID, 10)}})
	if !strings.Contains(html, "→ 民政 刘洋") {
		t.Errorf("the timeline does not record the reassignment:\n%s", html)
	}
	if code, _, _ := call(t, h, "POST", "/workbench/tasks/"+task+"/reassign", strings.NewReader("application="+id+"&to=1"), formHeaders(signIn(t, h, "reviewer.civil"))); code != http.StatusForbidden {
		t.Errorf("a reviewer reassigning: %d, want 403", code)
	}
	rv := signIn(t, h, "reviewer.civil")
	_, html = page(t, h, rv, "GET", "/workbench/applications/"+id, nil)
	if !strings.Contains(html, `action="/workbench/tasks/`+task+`/release"`) {
		t.Fatalf("the reassigned step is not in the reviewer's hands:\n%s", html)
	}
	if strings.Contains(html, `id="revoke"`) {
		t.Error("a reviewer (without review:decide) is offered the revocation")
	}
	rev := hiddenRev.FindStringSubmatch(html)[1]
	if msg := postFails(t, h, rv, "/workbench/tasks/"+task+"/decision", url.Values{"application": {id}, "outcome": {"reject"}, "revision": {rev}}, http.StatusBadRequest); !strings.Contains(msg, "不予批准时须写明理由") || strings.Contains(msg, "异议") {
		t.Errorf("a rejection without reasons should ask for the rejection's reasons:\n%s", msg)
	}
	page(t, h, rv, "POST", "/workbench/tasks/"+task+"/decision", url.Values{"application": {id}, "outcome": {"approve"}, "revision": {rev}})
	_, html = page(t, h, head, "GET", "/workbench/applications/"+id, nil)
	if !strings.Contains(html, `id="revoke"`) {
		t.Fatalf("the approved application offers the head no revocation:\n%s", html)
	}
	// A head of another department who supervises too sees the case, but
	// only the deciding department's head revokes it: no button.
	other := staffPrincipal(t, a, "reviewer.realestate")
	if err := a.identities.GrantRole(context.Background(), other.AccountID, authz.Supervisor, staffPrincipal(t, a, "sysadmin").AccountID); err != nil {
		t.Fatal(err)
	}
	if _, html := page(t, h, signIn(t, h, "reviewer.realestate"), "GET", "/workbench/applications/"+id, nil); strings.Contains(html, `id="revoke"`) {
		t.Error("the head of another department is offered the revocation")
	}
	if msg := postFails(t, h, head, "/workbench/applications/"+id+"/revoke", url.Values{"reason": {" "}}, http.StatusBadRequest); !strings.Contains(msg, "请填写撤销的理由") {
		t.Errorf("a revocation without a reason should ask for it:\n%s", msg)
	}
	_, html = page(t, h, head, "POST", "/workbench/applications/"+id+"/revoke", url.Values{"reason": {"申请人户籍信息有误"}})
	if !strings.Contains(html, `<strong id="app-status">已撤销</strong>`) || !strings.Contains(html, "申请人户籍信息有误") {
		t.Errorf("after revoking, the page should say revoked with the reason:\n%s", html)
	}
}

// formHeaders are a session's headers for posting a form.
func formHeaders(hd map[string]string) map[string]string {
	h := copyHeaders(hd)
	h["Content-Type"] = "application/x-www-form-urlencoded"
	return h
}

// approvalLine is an item file's approval line.
var approvalLine = regexp.MustCompile(`(?m)^approval: .*$`)

// seniorCardIn publishes a version of the senior card approved in another
// mode (approval is the item file's approval line) and has 张三 apply for
// it through the wizard, signing the commitment where there is one; it
// returns the application's id.
func seniorCardIn(t *testing.T, h http.Handler, approval string) string {
	t.Helper()
	admin := signIn(t, h, "catalog.admin")
	z := zipCatalogue(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "senior_card.yaml") {
			return approvalLine.ReplaceAll(b, []byte(approval))
		}
		return b
	})
	zipAuth := copyHeaders(admin)
	zipAuth["Content-Type"] = "application/zip"
	if code, body, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", z, zipAuth); code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}
	if code, body, _ := call(t, h, "POST", "/api/v1/admin/catalog/items/"+seniorCard+"/versions/2/publish", nil, withJSON(admin)); code != 200 {
		t.Fatalf("publish: %d %v", code, body)
	}
	hd := signIn(t, h, demo.ZhangSan)
	_, start := page(t, h, hd, "GET", "/apply/"+seniorCard, nil)
	formPath, _ := page(t, h, hd, "POST", "/apply/"+seniorCard, url.Values{"consent": {"yes"}, "idempotency_key": {hiddenKey.FindStringSubmatch(start)[1]}})
	appPath := strings.Split(formPath, "?")[0]
	page(t, h, hd, "POST", appPath+"/form", url.Values{"f_delivery": {"electronic"}})
	_, confirm := page(t, h, hd, "GET", appPath+"?step=confirm", nil)
	sub := url.Values{"idempotency_key": {hiddenKey.FindStringSubmatch(confirm)[1]}, "revision": {hiddenRev.FindStringSubmatch(confirm)[1]}}
	if m := hiddenCommitment.FindStringSubmatch(confirm); m != nil {
		sub.Set("commitment_digest", m[1])
		sub.Set("commitment", "yes")
	}
	page(t, h, hd, "POST", appPath+"/submit", sub)
	return strings.TrimPrefix(appPath, "/me/applications/")
}

// TestInspectionOfACommitmentThroughThePage: the senior card approved on
// commitment is inspected by civil affairs; a false commitment needs what
// was found, and revokes the approval.
func TestInspectionOfACommitmentThroughThePage(t *testing.T) {
	h, _ := citizenServer(t)
	id := seniorCardIn(t, h, "approval: {mode: commitment, commitment: {zh: 本人承诺：年满60周岁，户籍在本区，所填信息真实。}}")
	rv := signIn(t, h, "reviewer.civil")
	_, html := page(t, h, rv, "GET", "/workbench/applications/"+id, nil)
	task := taskIn(t, html, "inspection")
	if strings.Contains(html, `/workbench/tasks/`+task+`/decision"`) || !strings.Contains(html, "本人承诺") {
		t.Errorf("the inspection should show the signed commitment and no decision form:\n%s", html)
	}
	rev := hiddenRev.FindStringSubmatch(html)[1]
	if msg := postFails(t, h, rv, "/workbench/tasks/"+task+"/inspection", url.Values{"application": {id}, "revision": {rev}, "result": {"false"}}, http.StatusBadRequest); !strings.Contains(msg, "须写明核查发现的情况") {
		t.Errorf("a false commitment without a note should ask for what the inspection found:\n%s", msg)
	}
	_, html = page(t, h, rv, "POST", "/workbench/tasks/"+task+"/inspection", url.Values{"application": {id}, "revision": {rev}, "result": {"false"}, "note": {"户籍地址与承诺不符"}})
	if !strings.Contains(html, `<strong id="app-status">已撤销</strong>`) || !strings.Contains(html, "虚假承诺：户籍地址与承诺不符") {
		t.Errorf("a false commitment should revoke the approval with the finding:\n%s", html)
	}
}

// TestObjectionReviewThroughThePage: the senior card as a filing goes on
// public notice; 王五 objects; civil affairs upholds the objection with a
// reason through the page, which rejects the filing.
func TestObjectionReviewThroughThePage(t *testing.T) {
	h, _ := citizenServer(t)
	id := seniorCardIn(t, h, "approval: {mode: filing, notice_days: 5}")
	wang := signIn(t, h, demo.WangWu)
	_, body, _ := call(t, h, "GET", "/api/v1/notices", nil, nil)
	notices, _ := body["notices"].([]any)
	if len(notices) != 1 {
		t.Fatalf("notices: %v, want the senior card's", body)
	}
	nid := strconv.FormatFloat(notices[0].(map[string]any)["id"].(float64), 'f', -1, 64)
	if code, body, _ := call(t, h, "POST", "/api/v1/notices/"+nid+"/objections", strings.NewReader(`{"reasons":"申请人并非本区户籍"}`), withJSON(wang)); code != 200 {
		t.Fatalf("王五 objects: %d %v", code, body)
	}
	rv := signIn(t, h, "reviewer.civil")
	_, html := page(t, h, rv, "GET", "/workbench/applications/"+id, nil)
	task := taskIn(t, html, "objection-review")
	rev := hiddenRev.FindStringSubmatch(html)[1]
	if msg := postFails(t, h, rv, "/workbench/tasks/"+task+"/objection-review", url.Values{"application": {id}, "revision": {rev}, "outcome": {"uphold"}}, http.StatusBadRequest); !strings.Contains(msg, "异议成立时须写明理由") {
		t.Errorf("upholding an objection without reasons should ask for them:\n%s", msg)
	}
	_, html = page(t, h, rv, "POST", "/workbench/tasks/"+task+"/objection-review", url.Values{"application": {id}, "revision": {rev}, "outcome": {"uphold"}, "reason": {"经核实申请人户籍不在本区"}})
	if !strings.Contains(html, `<strong id="app-status">不予许可</strong>`) || !strings.Contains(html, "经核实申请人户籍不在本区") {
		t.Errorf("an upheld objection should reject the filing with the reason:\n%s", html)
	}
}

// TestAdminTriesADraftOnAnyDay: a catalogue administrator imports a draft
// of the senior card that lowers the age to 58 from 1 March 2027, and tries
// it on the page for someone born on 1 March 1969 — refused on the last
// day of February (the published age of 60 still holds), granted on 1
// March — while the published version would still refuse; nothing is
// written and bad input is named.
func TestAdminTriesADraftOnAnyDay(t *testing.T) {
	srv, _ := demoServer(t)
	h := srv.Handler()
	auth := signIn(t, h, "catalog.admin")
	changed := zipCatalogue(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "senior_card.yaml") {
			return bytes.Replace(b, []byte("    expr: applicant.age >= 60\n"),
				[]byte("    expr: 'today >= date(\"2027-03-01\") ? applicant.age >= 58 : applicant.age >= 60'\n"), 1)
		}
		return b
	})
	zipAuth := copyHeaders(auth)
	zipAuth["Content-Type"] = "application/zip"
	if code, body, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", changed, zipAuth); code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}
	page := "/admin/catalog/" + seniorCard + "/try"
	if _, _, html := call(t, h, "GET", "/admin/catalog/"+seniorCard, nil, auth); !strings.Contains(html, `href="`+page+`"`) {
		t.Fatalf("the item's page does not link its try-out")
	}
	if _, _, html := call(t, h, "GET", page, nil, auth); !strings.Contains(html, `<option value="2" selected>`) {
		t.Errorf("the try-out does not start on the newest version, the draft v2")
	}
	applicant := `applicant: {name: 王建国, id_number: "910102196903011238", kind: person, real_name_level: 3}
credit: {level: A, blacklisted: false}
sources:
  population: {household_region: "910102001001"}
form: {delivery: electronic}
`
	try := func(version, on string) (int, string) {
		t.Helper()
		form := url.Values{"csrf_token": {auth["X-CSRF-Token"]}, "version": {version}, "on": {on}, "applicant": {applicant}}
		code, _, html := call(t, h, "POST", page, strings.NewReader(form.Encode()), formHeaders(auth))
		return code, html
	}
	outcome := regexp.MustCompile(`id="trace-outcome">([^<]*)<`)
	for _, tc := range []struct{ version, on, want string }{
		{"2", "2027-02-28", "不予准许"},
		{"2", "2027-03-01", "通过"},
		{"1", "2027-03-01", "不予准许"},
	} {
		code, html := try(tc.version, tc.on)
		m := outcome.FindStringSubmatch(html)
		if code != 200 || m == nil || m[1] != tc.want {
			t.Errorf("v%s on %s: %d, outcome %v, want %s\n%s", tc.version, tc.on, code, m, tc.want, html)
			continue
		}
		if tc.want != "通过" && !strings.Contains(html, "申请人年龄未满60周岁") {
			t.Errorf("v%s on %s: the refusal does not give the rule's reason", tc.version, tc.on)
		}
		if !strings.Contains(html, "910102001001") {
			t.Errorf("v%s on %s: the trace does not show the values the rules read", tc.version, tc.on)
		}
	}
	if code, html := try("2", "1 March"); code != 400 || !strings.Contains(html, "决定日请按") {
		t.Errorf("a day that is not a date: %d, want 400 naming the day", code)
	}
	applicant = "applicant: [not, a, mapping"
	if code, html := try("2", "2027-03-01"); code != 400 || !strings.Contains(html, "申请人数据有误") {
		t.Errorf("an applicant file that is not YAML: %d, want 400 naming the file", code)
	}
	_, body, _ := call(t, h, "GET", "/api/v1/items/"+seniorCard, nil, nil)
	if body["version"] != float64(1) {
		t.Errorf("trying a draft changed the version in service to %v", body["version"])
	}
}

// TestImportWarnsOfAMachineItemWithoutManualRoute: a catalogue whose machine
// item declares no route for its manual cases imports, with the warning in
// the result, and the item's administration page shows it until a version
// with a route is imported.
func TestImportWarnsOfAMachineItemWithoutManualRoute(t *testing.T) {
	srv, _ := demoServer(t)
	h := srv.Handler()
	auth := signIn(t, h, "catalog.admin")
	unrouted := zipCatalogue(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "senior_card.yaml") {
			return bytes.Replace(b, []byte(", manual: {department: civil, role: reviewer, days: 5}}"), []byte("}"), 1)
		}
		return b
	})
	zipAuth := copyHeaders(auth)
	zipAuth["Content-Type"] = "application/zip"
	code, body, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", unrouted, zipAuth)
	if code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}
	warnings, _ := body["warnings"].([]any)
	if len(warnings) != 1 {
		t.Fatalf("warnings = %v, want the senior card's missing route", body["warnings"])
	}
	if w, _ := warnings[0].(map[string]any); w["warning"] != true || !strings.HasSuffix(w["file"].(string), "senior_card.yaml") || !strings.Contains(w["zh"].(string), "转人工审核的去向") {
		t.Errorf("warning = %v", w)
	}
	_, _, html := call(t, h, "GET", "/admin/catalog/"+seniorCard, nil, auth)
	if !strings.Contains(html, `id="warnings"`) || !strings.Contains(html, "转人工审核的去向") {
		t.Errorf("the item's page does not show the warning:\n%s", html)
	}
	if code, body, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", zipCatalogue(t, func(_ string, b []byte) []byte { return b }), zipAuth); code != 200 || len(body["warnings"].([]any)) != 0 {
		t.Fatalf("import of the demo catalogue: %d %v", code, body)
	}
	if _, _, html := call(t, h, "GET", "/admin/catalog/"+seniorCard, nil, auth); strings.Contains(html, `id="warnings"`) {
		t.Errorf("the page still warns once the latest version routes its manual cases")
	}
}
