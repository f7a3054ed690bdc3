package main

// Browser journeys through the staff workbench and the self-service kiosk:
// a walk-in taken in at the window, accepted, corrected once and approved
// in parallel by two departments; and a kiosk printing 无房证明.

import (
	"context"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
	"yiwang/internal/kiosk"
	"yiwang/internal/store"
)

// Demo items the browser and access tests apply for.
const (
	// propertyTransfer's registration review and tax assessment run in
	// parallel (并联审批).
	propertyTransfer = "11910102MB00013338-07-00002"
	noHousing        = "11910102MB00013338-20-00001" // 无房证明, decided by machine
)

var appPath = regexp.MustCompile(`/workbench/applications/(\d+)`)

// decide records a decision on the signed-in staff member's step of the
// application on the page, claiming it first; the step's forms are gone
// once it is done (none of the journey's reviewers has a second step open).
func (b *browser) decide(t *testing.T, step string) {
	t.Helper()
	b.do(t, step,
		chromedp.Click(chromedp.CSS(`form[action$="/claim"] button`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/release"] button`)),
		chromedp.Click(chromedp.CSS(`form.decision button[type=submit]`), chromedp.NodeVisible),
		chromedp.WaitNotPresent(chromedp.CSS(`form.decision`)),
	)
}

func TestBrowserWindowIntakeAndParallelApproval(t *testing.T) {
	s := startSite(t)
	scan := filepath.Join(t.TempDir(), "gift-contract.pdf")
	if err := os.WriteFile(scan, []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	proxy := httputil.NewSingleHostReverseProxy(mustURL(t, s.URL))

	// The clerk takes 张三's gift of his home to 王五 in at the window,
	// naming 王五 as the other party (一事多人).
	clerk := newBrowser(t)
	clerk.signIn(t, s, "clerk")
	clerk.do(t, "open intake", chromedp.Navigate(s.URL+"/workbench/intake?item="+propertyTransfer), chromedp.WaitVisible(chromedp.ID("id_number")))
	clerk.checkA11y(t, "intake")
	clerk.do(t, "start intake",
		chromedp.SendKeys(chromedp.ID("id_number"), demo.ZhangSan),
		chromedp.SendKeys(chromedp.ID("name"), "张三"),
		chromedp.SetValue(chromedp.ID("answer_reason"), "gift"),
		chromedp.SetValue(chromedp.ID("answer_property_type"), "residential"),
		chromedp.Click(chromedp.ID("identity_checked")),
		chromedp.Click(chromedp.ID("consent")),
		chromedp.Click(chromedp.ID("start-intake")),
		chromedp.WaitVisible(chromedp.ID("submit-intake")),
	)
	clerk.checkA11y(t, "intake draft")
	clerk.do(t, "name the co-party",
		chromedp.Click(chromedp.ID("own-seller")),
		chromedp.SendKeys(chromedp.ID("party-buyer-name"), "王五"),
		chromedp.SendKeys(chromedp.ID("party-buyer-id"), demo.WangWu),
		chromedp.Click(chromedp.ID("save-parties")),
		chromedp.WaitVisible(chromedp.ID("parties-named")),
	)
	if got := clerk.text(t, "parties named", "#parties-named"); !strings.Contains(got, "王五") {
		t.Errorf("after naming the parties the draft shows %q, want 王五", got)
	}
	clerk.do(t, "fill and scan",
		chromedp.SetValue(chromedp.ID("field_buyers"), "王五,"+demo.WangWu+",100"),
		chromedp.SetValue(chromedp.ID("field_ownership"), "sole"),
		chromedp.SetValue(chromedp.ID("field_extra_certificates"), "0"),
		chromedp.SetUploadFiles(chromedp.ID("scan_gift_contract"), []string{scan}),
		chromedp.Click(chromedp.ID("save-intake")),
		chromedp.WaitVisible(chromedp.CSS(".trust-B")),
	)
	if got := clerk.text(t, "scan is level B", "main"); !strings.Contains(got, "B 级") {
		t.Errorf("after the scan the draft shows %q, want the gift contract at trust level B", got)
	}
	clerk.do(t, "submit", chromedp.Click(chromedp.ID("submit-intake")), chromedp.WaitVisible(chromedp.ID("app-status")))
	loc := get(t, clerk, "application address", chromedp.Location())
	m := appPath.FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("after submitting, the clerk is at %s, want the application page", loc)
	}
	appURL := s.URL + m[0]
	appID, _ := strconv.ParseInt(m[1], 10, 64)
	clerk.checkA11y(t, "application detail")

	// 王五 confirms on his invitations page; then acceptance opens.
	wang := newBrowser(t)
	wang.signIn(t, s, demo.WangWu)
	wang.do(t, "invitations", chromedp.Navigate(s.URL+"/me/invitations"), chromedp.WaitVisible(chromedp.CSS(`form[action="/me/invitations/`+m[1]+`/confirm"] button`)))
	wang.checkA11y(t, "invitations")
	wang.do(t, "confirm",
		chromedp.Click(chromedp.CSS(`form[action="/me/invitations/`+m[1]+`/confirm"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action="/me/invitations/`+m[1]+`/confirm"]`)),
	)
	clerk.do(t, "reload after confirmation", chromedp.Navigate(appURL), chromedp.WaitVisible(chromedp.CSS(`form.decision`)))
	clerk.decide(t, "accept")
	if got := clerk.text(t, "accepted", "#app-status"); got != "已受理" && got != "审查中" {
		t.Fatalf("after acceptance the status is %q", got)
	}
	if got := clerk.text(t, "parallel steps", "#steps"); strings.Count(got, "\t并联\t") != 2 || !strings.Contains(got, "明德区税务局") {
		t.Errorf("the steps table shows %q, want both parallel steps, one of the tax bureau", got)
	}

	// The real-estate reviewer asks once for what is missing.
	re := newBrowser(t)
	re.signIn(t, s, "reviewer.realestate")
	re.do(t, "queue", chromedp.Navigate(s.URL+"/workbench"), chromedp.WaitVisible(chromedp.CSS(`a[href="`+m[0]+`"]`)))
	re.checkA11y(t, "queue")
	re.do(t, "request a correction",
		chromedp.Click(chromedp.CSS(`a[href="`+m[0]+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.correction`)),
		chromedp.Click(chromedp.CSS(`input[value="field:extra_certificates"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="why_field:extra_certificates"]`), "请确认加发证书数量"),
		chromedp.Click(chromedp.CSS(`form.correction button[type=submit]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form.correction`)),
	)
	if got := re.text(t, "correction requested", "#app-status"); got != "待补正" {
		t.Fatalf("after the correction request the status is %q", got)
	}

	// 张三 supplies it through the API, as his phone app would.
	zhang := signIn(t, proxy, demo.ZhangSan)
	code, body, _ := call(t, proxy, "GET", "/api/v1/applications/"+m[1], nil, zhang)
	if code != 200 {
		t.Fatalf("张三 reads his application %d: %d %v", appID, code, body)
	}
	h := withJSON(zhang)
	h["If-Match"] = strconv.FormatInt(int64(body["revision"].(float64)), 10)
	if code, body, _ = call(t, proxy, "POST", "/api/v1/applications/"+m[1]+"/correction", strings.NewReader(`{"form":{"extra_certificates":1}}`), h); code != 200 {
		t.Fatalf("张三 supplies the correction: %d %v", code, body)
	}

	// Both departments approve their parallel steps; then the register step.
	re.do(t, "reload", chromedp.Navigate(appURL), chromedp.WaitVisible(chromedp.ID("app-status")))
	re.decide(t, "real estate approves")
	tax := newBrowser(t)
	tax.signIn(t, s, "reviewer.tax")
	tax.do(t, "open", chromedp.Navigate(appURL), chromedp.WaitVisible(chromedp.CSS(`form.decision`)))
	tax.decide(t, "tax approves")
	re.do(t, "reload after tax", chromedp.Navigate(appURL), chromedp.WaitVisible(chromedp.ID("app-status")))
	re.do(t, "register step", chromedp.WaitVisible(chromedp.CSS(`form.decision`)))
	re.decide(t, "register")
	got := re.text(t, "decided", "#app-status")
	if got != "已准予" && got != "已出证" {
		t.Errorf("after every step approved the status is %q, want approved", got)
	}
	steps := re.text(t, "steps", "#steps")
	if strings.Count(steps, "已通过") < 4 {
		t.Errorf("the steps table shows %q, want all four steps approved", steps)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestBrowserKioskPrintsNoHousingCertificate: 王五 signs in at the kiosk
// with his ID card and PIN, applies for 无房证明, which the machine decides
// at once, and prints its PDF.
func TestBrowserKioskPrintsNoHousingCertificate(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	b.do(t, "open kiosk", chromedp.Navigate(s.URL+"/kiosk"), chromedp.WaitVisible(chromedp.ID("pin")))
	b.checkA11y(t, "kiosk sign-in")
	b.do(t, "wrong PIN",
		chromedp.SendKeys(chromedp.ID("id_number"), demo.WangWu),
		chromedp.SendKeys(chromedp.ID("pin"), "000000"),
		chromedp.Click(chromedp.ID("kiosk-signin")),
		chromedp.WaitVisible(chromedp.CSS(".flash.error")),
	)
	b.do(t, "sign in",
		chromedp.SetValue(chromedp.ID("id_number"), demo.WangWu),
		chromedp.SetValue(chromedp.ID("pin"), kiosk.DemoPIN),
		chromedp.Click(chromedp.ID("kiosk-signin")),
		chromedp.WaitVisible(chromedp.ID("kiosk-signout")),
	)
	b.checkA11y(t, "kiosk home")
	if idle := get(t, b, "idle timer", chromedp.AttributeValue(chromedp.CSS("[data-idle]"), "data-idle")); idle.Value == "" {
		t.Error("the kiosk page has no inactivity timer")
	}
	if offered := b.text(t, "items offered", "#items-h + ul"); !strings.Contains(offered, "老年人优待证") {
		t.Errorf("the kiosk does not offer every item it can complete: %q", offered)
	}
	b.do(t, "the family's query needs the spouse's signed consent: not at the kiosk",
		chromedp.Click(chromedp.ID("item-"+noHousing)),
		chromedp.WaitVisible(chromedp.ID("kiosk-questions")),
		chromedp.Click(chromedp.ID("a-query_scope-family")),
		chromedp.Click(chromedp.ID("kiosk-next")),
		chromedp.WaitVisible(chromedp.CSS(".flash.error")),
	)
	if msg := b.text(t, "why not", ".flash.error"); !strings.Contains(msg, "配偶") {
		t.Errorf("the kiosk does not say why the family's query is not taken: %q", msg)
	}
	b.do(t, "apply for 无房证明 for oneself",
		chromedp.Navigate(s.URL+"/kiosk/items/"+noHousing),
		chromedp.WaitVisible(chromedp.ID("kiosk-questions")),
		chromedp.Click(chromedp.ID("a-query_scope-self")),
		chromedp.Click(chromedp.ID("kiosk-next")),
		chromedp.WaitVisible(chromedp.ID("kiosk-apply")),
	)
	b.checkA11y(t, "kiosk application")
	b.do(t, "choose the purpose and apply",
		chromedp.Click(chromedp.ID("f-purpose-purchase")),
		chromedp.Click(chromedp.ID("consent")),
		chromedp.Click(chromedp.ID("kiosk-submit")),
		chromedp.WaitVisible(chromedp.ID("print-issued")),
	)
	href := get(t, b, "print link", chromedp.AttributeValue(chromedp.ID("print-issued"), "href")).Value
	if !strings.HasSuffix(href, "/licence.pdf") {
		t.Fatalf("the print button goes to %q, want the certificate's PDF", href)
	}
	got := get(t, b, "fetch the PDF", chromedp.Evaluate[string](`fetch(`+strconv.Quote(href)+`).then(async r => r.status + " " + r.headers.get("content-type") + " " + (await r.text()).slice(0, 5))`, chromedp.EvalAwaitPromise))
	if got != "200 application/pdf %PDF-" {
		t.Errorf("the certificate's PDF answers %q, want 200 application/pdf %%PDF-", got)
	}
	if list := b.text(t, "licences to print", "main"); !strings.Contains(list, "无房") {
		t.Errorf("the kiosk's list of licences does not offer the new certificate: %q", list)
	}
	// 好差评 at the kiosk: the decision's page offers the rating.
	b.do(t, "rate at the kiosk",
		chromedp.Click(chromedp.ID("kiosk-rate")),
		chromedp.WaitVisible(chromedp.ID("stars-5")),
		chromedp.Click(chromedp.ID("stars-5")),
		chromedp.Click(chromedp.ID("rate")),
		chromedp.WaitVisible(chromedp.ID("my-rating")))
	if got := b.text(t, "the kiosk rating", "#my-rating"); !strings.Contains(got, "非常满意") {
		t.Errorf("the kiosk's rating reads %q", got)
	}
	db, err := store.Open(context.Background(), "", s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	var channel string
	if err := db.QueryRowContext(context.Background(), `SELECT channel FROM ratings ORDER BY id DESC LIMIT 1`).Scan(&channel); err != nil || channel != "kiosk" {
		t.Errorf("the rating's channel is %q (%v), want kiosk", channel, err)
	}
	db.Close()
	b.do(t, "back to the kiosk", chromedp.Navigate(s.URL+"/kiosk"), chromedp.WaitVisible(chromedp.ID("kiosk-signout")))
	b.do(t, "sign out", chromedp.Click(chromedp.CSS("#kiosk-signout button")), chromedp.WaitVisible(chromedp.ID("pin")))
}

// TestBrowserAdministration: the system administrator grants and revokes a
// role and loads a calendar year; the catalogue administrator reads an
// item's versions.
func TestBrowserAdministration(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	b.signIn(t, s, "sysadmin")
	b.do(t, "admin home", chromedp.Navigate(s.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/accounts"]`)))
	b.checkA11y(t, "admin home")
	clerkRow := `//tr[td[1][normalize-space()="clerk"]]`
	b.do(t, "grant",
		chromedp.Navigate(s.URL+"/admin/accounts"),
		chromedp.WaitVisible(chromedp.ID("accounts")),
		chromedp.SetValue(chromedp.Search(clerkRow+`//select`), "supervisor"),
		chromedp.Click(chromedp.Search(clerkRow+`//form[substring(@action, string-length(@action) - 5) = "/roles"]//button`)),
		chromedp.WaitVisible(chromedp.Search(clerkRow+`//form[contains(@action, "/roles/supervisor/revoke")]`)),
	)
	b.checkA11y(t, "accounts")
	b.do(t, "revoke",
		chromedp.Click(chromedp.Search(clerkRow+`//form[contains(@action, "/roles/supervisor/revoke")]//button`)),
		chromedp.WaitNotPresent(chromedp.Search(clerkRow+`//form[contains(@action, "/roles/supervisor/revoke")]`)),
	)
	year := strconv.Itoa(time.Now().Year() + 1)
	notice := "year: " + year + "\nsource: 测试通知\nholidays:\n  - {name: 元旦, from: " + year + "-01-01, to: " + year + "-01-01}\nmake_up_days: []\n"
	b.do(t, "calendar", chromedp.Navigate(s.URL+"/admin/calendar"), chromedp.WaitVisible(chromedp.ID("notice")))
	b.checkA11y(t, "calendar")
	b.do(t, "load a year",
		chromedp.SetValue(chromedp.ID("notice"), notice),
		chromedp.Click(chromedp.ID("load-year")),
		chromedp.WaitVisible(chromedp.ID("y"+year)),
	)
	if got := b.text(t, "loaded year", "#y"+year); !strings.Contains(got, "载入：工作人员 系统管理员") {
		t.Errorf("the loaded year says %q, want who loaded it by name", got)
	}

	sup := newBrowser(t)
	sup.signIn(t, s, "supervisor")
	sup.do(t, "overdue board", chromedp.Navigate(s.URL+"/workbench/overdue?lang=en"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h1 := sup.text(t, "board title", "h1"); !strings.Contains(h1, "Overdue board") {
		t.Errorf("the English overdue board is titled %q", h1)
	}
	sup.checkA11y(t, "overdue board")

	c := newBrowser(t)
	c.signIn(t, s, "catalog.admin")
	c.do(t, "items", chromedp.Navigate(s.URL+"/admin/catalog"), chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/catalog/`+seniorCard+`"]`)))
	c.checkA11y(t, "catalogue")
	c.do(t, "versions", chromedp.Click(chromedp.CSS(`a[href="/admin/catalog/`+seniorCard+`"]`)), chromedp.WaitVisible(chromedp.ID("versions")))
	if got := c.text(t, "versions", "#versions"); !strings.Contains(got, "v1") {
		t.Errorf("the versions table shows %q", got)
	}
	c.do(t, "try the rules out",
		chromedp.Click(chromedp.ID("try-link")),
		chromedp.WaitVisible(chromedp.ID("try-form")),
		chromedp.SetValue(chromedp.ID("try-on"), "2027-02-28"),
		chromedp.SetValue(chromedp.ID("try-applicant"), "applicant: {name: 王建国, id_number: \"910102196703011233\", kind: person, real_name_level: 3}\n"+
			"credit: {level: A, blacklisted: false}\nsources:\n  population: {household_region: \"910102001001\"}\nform: {delivery: electronic}\n"),
		chromedp.Click(chromedp.ID("try-run")),
		chromedp.WaitVisible(chromedp.ID("trace-outcome")),
	)
	c.checkA11y(t, "try-out")
	if got := c.text(t, "try-out outcome", "#try-result-h + p"); !strings.Contains(got, "不予准许") {
		t.Errorf("someone 59 on the day is not refused the senior card in the try-out: %q", got)
	}
}
