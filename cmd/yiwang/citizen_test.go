package main

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/demo"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// citizenServer is the demo platform as serve starts it: demo registries
// (so forms fill themselves) and seal keys (so approvals issue licences).
func citizenServer(t testing.TB) (http.Handler, *app) {
	t.Helper()
	return citizenServerOn(t, storetest.SQLite(t))
}

func citizenServerOn(t testing.TB, db *store.DB) (http.Handler, *app) {
	t.Helper()
	srv, a := demoServerOn(t, db)
	ctx := context.Background()
	if _, err := demo.SeedRegistries(ctx, a.identities.DB(), a.registries, 50, 10, 1, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.licences.EnsureKeys(ctx); err != nil {
		t.Fatal(err)
	}
	return srv.Handler(), a
}

// page fetches or posts a page as the signed-in hd and follows redirects
// on this site; it returns the final path and the page.
func page(t testing.TB, h http.Handler, hd map[string]string, method, path string, form url.Values) (string, string) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	for range 5 {
		req := httptest.NewRequest(method, path, body)
		for k, v := range hd {
			req.Header.Set(k, v)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusSeeOther {
			path, _, _ = strings.Cut(rec.Header().Get("Location"), "#") // a browser keeps the fragment to itself
			method, body, form = "GET", strings.NewReader(""), nil
			continue
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s: %d\n%s", method, path, rec.Code, rec.Body)
		}
		return path, rec.Body.String()
	}
	t.Fatalf("%s %s: too many redirects", method, path)
	return "", ""
}

var (
	hiddenKey = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)
	hiddenRev = regexp.MustCompile(`name="revision" value="([^"]+)"`)
)

// TestCitizenApplyJourney walks the wizard without a browser: Zhang San
// (66, household in the district) applies for the senior card, is approved
// at once, sees the licence, and rates the service; submitting twice with
// the wizard's key makes one application. It runs on both backends.
func TestCitizenApplyJourney(t *testing.T) {
	storetest.Each(t, testCitizenApplyJourney)
}

func testCitizenApplyJourney(t *testing.T, db *store.DB) {
	h, _ := citizenServerOn(t, db)
	hd := signIn(t, h, demo.ZhangSan)
	_, start := page(t, h, hd, "GET", "/apply/"+seniorCard, nil)
	key := hiddenKey.FindStringSubmatch(start)
	if key == nil || !strings.Contains(start, "老年人优待证") {
		t.Fatalf("apply page has no idempotency key or item name:\n%s", start)
	}
	formPath, form := page(t, h, hd, "POST", "/apply/"+seniorCard, url.Values{"consent": {"yes"}, "idempotency_key": {key[1]}})
	if !strings.Contains(formPath, "step=form") || !strings.Contains(form, "来自") || !strings.Contains(form, "张三") {
		t.Fatalf("form step at %s does not show the prefilled name with its source:\n%s", formPath, form)
	}
	again, _ := page(t, h, hd, "POST", "/apply/"+seniorCard, url.Values{"consent": {"yes"}, "idempotency_key": {key[1]}})
	if again != formPath {
		t.Errorf("starting again with the same key went to %s, want the same draft %s", again, formPath)
	}
	appPath := strings.Split(formPath, "?")[0]
	matPath, mats := page(t, h, hd, "POST", appPath+"/form", url.Values{"f_delivery": {"electronic"}})
	if !strings.Contains(matPath, "step=materials") || !strings.Contains(mats, "A级") {
		t.Fatalf("materials step at %s does not show the licences attached at level A:\n%s", matPath, mats)
	}
	_, confirm := page(t, h, hd, "GET", appPath+"?step=confirm", nil)
	sub := url.Values{"idempotency_key": {hiddenKey.FindStringSubmatch(confirm)[1]}, "revision": {hiddenRev.FindStringSubmatch(confirm)[1]}}
	_, decided := page(t, h, hd, "POST", appPath+"/submit", sub)
	if !strings.Contains(decided, "审批通过") || !strings.Contains(decided, `id="licence-link"`) {
		t.Fatalf("after submitting, the page shows no approval and licence:\n%s", decided)
	}
	if _, twice := page(t, h, hd, "POST", appPath+"/submit", sub); !strings.Contains(twice, "审批通过") {
		t.Errorf("a double submit with the wizard's key should show the same decision:\n%s", twice)
	}
	_, list := page(t, h, hd, "GET", "/me/applications", nil)
	if n := strings.Count(list, "老年人优待证"); n != 1 {
		t.Errorf("my applications lists the senior card %d times, want once:\n%s", n, list)
	}
	_, lic := page(t, h, hd, "GET", "/me/licences", nil)
	if !strings.Contains(lic, "/verify/") || !strings.Contains(lic, "licence.pdf") || !strings.Contains(lic, "data:image/png;base64,") {
		t.Errorf("my licences lacks the verify link, PDF or QR code:\n%s", lic)
	}
	_, rated := page(t, h, hd, "POST", appPath+"/rating", url.Values{"stars": {"4"}, "comment": {"很快"}})
	if !strings.Contains(rated, "4 / 5") || !strings.Contains(rated, "很快") {
		t.Errorf("the rating is not shown after rating:\n%s", rated)
	}
	req := httptest.NewRequest("POST", appPath+"/rating", strings.NewReader("stars=1"))
	for k, v := range hd {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusConflict {
		t.Errorf("a second rating: %d, want 409", rec.Code)
	}
	_, notes := page(t, h, hd, "GET", "/me/notifications", nil)
	_, reads := page(t, h, hd, "GET", "/me/data-reads", nil)
	if !strings.Contains(reads, "人口") {
		t.Errorf("who read my data does not show the population register's reads:\n%s", reads)
	}
	_ = notes
	_, home := page(t, h, hd, "GET", "/", nil)
	if !strings.Contains(home, "热门服务") || !strings.Contains(home, "/apply/"+seniorCard) {
		t.Errorf("home lacks popular services with the senior card:\n%s", home)
	}
}

// approvedSeniorCard has Zhang San apply for the senior card through the
// wizard's pages, so that his applications and licences are not empty.
func approvedSeniorCard(t testing.TB, h http.Handler, hd map[string]string) {
	t.Helper()
	_, start := page(t, h, hd, "GET", "/apply/"+seniorCard, nil)
	formPath, _ := page(t, h, hd, "POST", "/apply/"+seniorCard, url.Values{"consent": {"yes"}, "idempotency_key": {hiddenKey.FindStringSubmatch(start)[1]}})
	appPath := strings.Split(formPath, "?")[0]
	page(t, h, hd, "POST", appPath+"/form", url.Values{"f_delivery": {"electronic"}})
	_, confirm := page(t, h, hd, "GET", appPath+"?step=confirm", nil)
	_, decided := page(t, h, hd, "POST", appPath+"/submit", url.Values{"idempotency_key": {hiddenKey.FindStringSubmatch(confirm)[1]}, "revision": {hiddenRev.FindStringSubmatch(confirm)[1]}})
	if !strings.Contains(decided, "审批通过") {
		t.Fatalf("the senior card was not approved:\n%s", decided)
	}
}

// BenchmarkCitizenPages is the server time of the citizen pages on the demo
// data, through the whole middleware chain on SQLite, signed in as Zhang San
// with an approved application and its licence. docs/BENCHMARKS.md records
// the figures; the goal is under 200 ms a page.
func BenchmarkCitizenPages(b *testing.B) {
	h, _ := citizenServer(b)
	hd := signIn(b, h, demo.ZhangSan)
	approvedSeniorCard(b, h, hd)
	for _, path := range []string{"/", "/items/" + seniorCard, "/apply/" + seniorCard, "/me/applications", "/me/applications/1", "/me/licences", "/me/notifications"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				for k, v := range hd {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", path, rec.Code)
				}
			}
		})
	}
}

// staffPrincipal is a demo staff member as the services see them.
func staffPrincipal(t *testing.T, a *app, username string) authz.Principal {
	t.Helper()
	ctx := context.Background()
	acct, err := a.identities.Login(ctx, username, demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.identities.StaffPrincipal(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCitizenAnswersCorrection: with machine approval switched off, the
// reviewer asks for a correction; the application page lists it, the applicant
// answers it there, and the clock runs again; then withdraws.
func TestCitizenAnswersCorrection(t *testing.T) {
	h, a := citizenServer(t)
	ctx := context.Background()
	if err := a.applications.SetMachineSuspended(ctx, staffPrincipal(t, a, "head.civil"), seniorCard, true, "test"); err != nil {
		t.Fatal(err)
	}
	hd := signIn(t, h, demo.ZhangSan)
	submitManual := func() string { // submitted, not decided: a person reviews it
		_, start := page(t, h, hd, "GET", "/apply/"+seniorCard, nil)
		formPath, _ := page(t, h, hd, "POST", "/apply/"+seniorCard, url.Values{"consent": {"yes"}, "idempotency_key": {hiddenKey.FindStringSubmatch(start)[1]}})
		appPath := strings.Split(formPath, "?")[0]
		page(t, h, hd, "POST", appPath+"/form", url.Values{"f_delivery": {"post"}})
		_, confirm := page(t, h, hd, "GET", appPath+"?step=confirm", nil)
		_, submitted := page(t, h, hd, "POST", appPath+"/submit", url.Values{"idempotency_key": {hiddenKey.FindStringSubmatch(confirm)[1]}, "revision": {hiddenRev.FindStringSubmatch(confirm)[1]}})
		if !strings.Contains(submitted, "已转人工审核") {
			t.Fatalf("with machine approval off, the page should say a reviewer takes it:\n%s", submitted)
		}
		return appPath
	}
	appPath := submitManual()
	reviewer := staffPrincipal(t, a, "reviewer.civil") // the item's one step is civil affairs review
	tasks, err := a.applications.Inbox(ctx, reviewer)
	if err != nil || len(tasks) == 0 {
		t.Fatalf("the reviewer's inbox: %v %v", tasks, err)
	}
	if _, err := a.applications.RequestCorrection(ctx, reviewer, tasks[0].ID, 0, []application.CorrectionItem{{Field: "delivery", Reason: "实体卡暂停邮寄，请改选仅电子证"}}); err != nil {
		t.Fatal(err)
	}
	_, asked := page(t, h, hd, "GET", appPath, nil)
	if !strings.Contains(asked, "请补正以下内容") || !strings.Contains(asked, "实体卡暂停邮寄") || !strings.Contains(asked, "时限暂停") {
		t.Fatalf("the application page does not show the correction and the paused clock:\n%s", asked)
	}
	_, list := page(t, h, hd, "GET", "/me/applications", nil)
	if !strings.Contains(list, "待补正") {
		t.Errorf("my applications does not say a correction is waiting:\n%s", list)
	}
	_, answered := page(t, h, hd, "POST", appPath+"/correction", url.Values{"f_delivery": {"electronic"}})
	if strings.Contains(answered, "请补正以下内容") || !strings.Contains(answered, "已提交") {
		t.Errorf("after answering, the correction should be gone and the application submitted again:\n%s", answered)
	}
	_, withdrawn := page(t, h, hd, "POST", appPath+"/withdraw", url.Values{"reason": {"不需要了"}})
	if !strings.Contains(withdrawn, "已撤回") || !strings.Contains(withdrawn, "不需要了") {
		t.Errorf("after withdrawing, the page should say withdrawn with the reason:\n%s", withdrawn)
	}
}

// TestCitizenUploadsMaterial: an item with situations and an uploaded
// material — the complaint about food safety — goes through the wizard with
// a file attached, and a reviewer takes it over.
func TestCitizenUploadsMaterial(t *testing.T) {
	const complaint = "11910102MB0001111L-10-00005"
	h, _ := citizenServer(t)
	hd := signIn(t, h, demo.WangWu)
	_, start := page(t, h, hd, "GET", "/apply/"+complaint, nil)
	if !strings.Contains(start, "您要投诉还是举报？") || !strings.Contains(start, `name="situation_type"`) {
		t.Fatalf("the first step does not ask the situation questions:\n%s", start)
	}
	formPath, form := page(t, h, hd, "POST", "/apply/"+complaint, url.Values{"consent": {"yes"}, "idempotency_key": {hiddenKey.FindStringSubmatch(start)[1]},
		"situation_type": {"complaint"}, "situation_identity": {"named"}})
	if !strings.Contains(form, `id="f_demand"`) || !strings.Contains(form, "王五") {
		t.Fatalf("the form does not follow the answers (complaint, named):\n%s", form)
	}
	appPath := strings.Split(formPath, "?")[0]
	page(t, h, hd, "POST", appPath+"/form", url.Values{"f_business_name": {"示范小吃店"}, "f_business_address": {"示范市明德区福安街道1号"},
		"f_problem": {"expired"}, "f_description": {"买到的面包已经过期三天了。"}, "f_occurred_on": {"2026-11-30"}, "f_amount": {"12.5"}, "f_demand": {"refund"}})

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", hd["X-CSRF-Token"])
	fw, _ := mw.CreateFormFile("file", "receipt.png")
	fw.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"))
	mw.Close()
	req := httptest.NewRequest("POST", appPath+"/materials/receipt", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", hd["Cookie"])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", rec.Code, rec.Body)
	}
	_, mats := page(t, h, hd, "GET", rec.Header().Get("Location"), nil)
	if !strings.Contains(mats, "已上传 · C级") {
		t.Errorf("the materials step does not show the uploaded receipt at level C:\n%s", mats)
	}
	_, confirm := page(t, h, hd, "GET", appPath+"?step=confirm", nil)
	_, submitted := page(t, h, hd, "POST", appPath+"/submit", url.Values{"idempotency_key": {hiddenKey.FindStringSubmatch(confirm)[1]}, "revision": {hiddenRev.FindStringSubmatch(confirm)[1]}})
	if !strings.Contains(submitted, `id="app-number"`) || !strings.Contains(submitted, `<strong id="app-status">已提交</strong>`) || !strings.Contains(submitted, "购物凭证") {
		t.Errorf("the submitted complaint shows no number, status or the upload in its timeline:\n%s", submitted)
	}
}

// TestCitizenSeesRejectionAndCommitment: the machine's rejection shows its
// plain reason, in both languages; an application that needs a commitment
// cannot be submitted without ticking it.
func TestCitizenSeesRejectionAndCommitment(t *testing.T) {
	h, _ := citizenServer(t)
	wang := signIn(t, h, demo.WangWu) // 38: too young for the senior card
	_, start := page(t, h, wang, "GET", "/apply/"+seniorCard, nil)
	formPath, _ := page(t, h, wang, "POST", "/apply/"+seniorCard, url.Values{"consent": {"yes"}, "idempotency_key": {hiddenKey.FindStringSubmatch(start)[1]}})
	appPath := strings.Split(formPath, "?")[0]
	page(t, h, wang, "POST", appPath+"/form", url.Values{"f_delivery": {"electronic"}})
	_, confirm := page(t, h, wang, "GET", appPath+"?step=confirm", nil)
	if strings.Contains(confirm, `id="commitment"`) {
		t.Error("the senior card asks for a commitment it does not need")
	}
	_, decided := page(t, h, wang, "POST", appPath+"/submit", url.Values{"idempotency_key": {hiddenKey.FindStringSubmatch(confirm)[1]}, "revision": {hiddenRev.FindStringSubmatch(confirm)[1]}})
	if !strings.Contains(decided, "未予准许") || !strings.Contains(decided, "申请人年龄未满60周岁") || strings.Contains(decided, `id="licence-link"`) {
		t.Errorf("the rejection does not show its plain reason:\n%s", decided)
	}
	_, en := page(t, h, wang, "GET", appPath+"?lang=en", nil)
	if !strings.Contains(en, "Not approved") || !strings.Contains(en, "The applicant is under 60") {
		t.Errorf("the rejection in English lacks its reason:\n%s", en)
	}

	// Cancelling a duplicate household registration takes a statement under commitment.
	const cancellation = "11910102MB0001037K-07-00004"
	_, start = page(t, h, wang, "GET", "/apply/"+cancellation, nil)
	formPath, _ = page(t, h, wang, "POST", "/apply/"+cancellation, url.Values{"consent": {"yes"}, "idempotency_key": {hiddenKey.FindStringSubmatch(start)[1]}, "situation_reason": {"duplicate"}})
	appPath = strings.Split(formPath, "?")[0]
	_, confirm = page(t, h, wang, "GET", appPath+"?step=confirm", nil)
	if !strings.Contains(confirm, `id="commitment"`) || !strings.Contains(confirm, "告知承诺") {
		t.Fatalf("the last step has no commitment to tick:\n%s", confirm)
	}
	req := httptest.NewRequest("POST", appPath+"/submit", strings.NewReader(url.Values{"idempotency_key": {"k-1"}}.Encode()))
	for k, v := range wang {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "commitment") {
		t.Errorf("submitting without the commitment: %d, want 400 asking for it\n%s", rec.Code, rec.Body)
	}
}
