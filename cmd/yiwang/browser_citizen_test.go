package main

// Browser journeys of the citizen pages (internal/portal): the 秒批
// journey from guide to verified licence, elder mode on a phone, the
// English switch, and pledging and deferring materials. Each step asserts what a person sees on the page.

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
)

// applySeniorCard takes the signed-in browser through the apply wizard for
// the senior card and returns the decision page's text.
func applySeniorCard(t *testing.T, b *browser, s *site, a11y bool) string {
	t.Helper()
	b.do(t, "open the guide", chromedp.Navigate(s.URL+"/items/"+seniorCard), chromedp.WaitVisible(chromedp.ID("apply-online")))
	b.do(t, "apply online", chromedp.Click(chromedp.ID("apply-online")), chromedp.WaitVisible(chromedp.ID("consent")))
	if got := b.text(t, "step 1 heading", "h1"); !strings.Contains(got, "老年人优待证") {
		t.Errorf("the wizard's heading is %q, want the item's name", got)
	}
	if a11y {
		b.checkA11y(t, "wizard: situation and consent")
	}
	b.do(t, "consent and go on", chromedp.Click(chromedp.ID("consent")), chromedp.Click(chromedp.ID("start")), chromedp.WaitVisible(chromedp.ID("save-form")))
	form := b.text(t, "form step", "main")
	if !strings.Contains(form, "来自") || !strings.Contains(form, "人口") {
		t.Errorf("the form does not mark its prefilled fields with their source:\n%s", form)
	}
	if name := get(t, b, "prefilled name", chromedp.Value(chromedp.ID("f_name"))); name != "张三" {
		t.Errorf("the name field holds %q, want 张三 from the population register", name)
	}
	if ro := get(t, b, "name is read-only", chromedp.AttributeValue(chromedp.ID("f_name"), "readonly")); !ro.Exists {
		t.Error("the name from the population register can be edited; it should be read-only")
	}
	if a11y {
		b.checkA11y(t, "wizard: form")
	}
	b.do(t, "choose delivery and go on",
		chromedp.SetValue(chromedp.ID("f_delivery"), "electronic"),
		chromedp.Click(chromedp.ID("save-form")),
		chromedp.WaitVisible(chromedp.ID("to-confirm")))
	if mats := b.text(t, "materials step", "main"); !strings.Contains(mats, "已自动调取 · A级") {
		t.Errorf("the materials step does not show licences attached at level A:\n%s", mats)
	}
	if a11y {
		b.checkA11y(t, "wizard: materials")
	}
	b.do(t, "to the last step", chromedp.Click(chromedp.ID("to-confirm")), chromedp.WaitVisible(chromedp.ID("submit")))
	if a11y {
		b.checkA11y(t, "wizard: confirm")
	}
	start := time.Now()
	b.do(t, "submit", chromedp.Click(chromedp.ID("submit")), chromedp.WaitVisible(chromedp.ID("h-decision")))
	t.Logf("submitted and decided in %v", time.Since(start).Round(time.Millisecond))
	return b.text(t, "decision", "main")
}

// TestBrowserInstantApproval is the 秒批 journey: Zhang San (66, household
// registered in the district) applies for the senior card, sees it approved
// at once, opens the licence, follows its QR address and sees it valid, and
// finds the application in my applications.
func TestBrowserInstantApproval(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	b.signIn(t, s, demo.ZhangSan)
	decision := applySeniorCard(t, b, s, true)
	if !strings.Contains(decision, "审批通过") || !strings.Contains(decision, "电子证照已发放") {
		t.Fatalf("the decision page does not say approved with a licence:\n%s", decision)
	}
	b.checkA11y(t, "decision")
	number := b.text(t, "application number", "#app-number")

	b.do(t, "open the licence", chromedp.Click(chromedp.ID("licence-link")), chromedp.WaitVisible(chromedp.CSS(`main a[href*="/verify/"]`)))
	if got := b.text(t, "licence", "h1"); !strings.Contains(got, "老年人优待证") {
		t.Errorf("the licence page's heading is %q, want the senior card", got)
	}
	verify := get(t, b, "the QR address", chromedp.AttributeValue(chromedp.CSS(`main a[href*="/verify/"]`), "href")).Value
	b.do(t, "follow the QR address", chromedp.Navigate(verify), chromedp.WaitVisible(chromedp.CSS(".verify-valid")))
	if got := b.text(t, "verification", ".verify-valid"); !strings.Contains(got, "有效") {
		t.Errorf("the verification page says %q, want valid", got)
	}
	b.checkA11y(t, "verification")

	b.do(t, "my licences", chromedp.Navigate(s.URL+"/me/licences"), chromedp.WaitVisible(chromedp.ID("licences")))
	if got := b.text(t, "licences list", "#licences"); !strings.Contains(got, "老年人优待证") || !strings.Contains(got, "有效") {
		t.Errorf("my licences shows %q, want the valid senior card", got)
	}
	b.checkA11y(t, "my licences")

	b.do(t, "my applications", chromedp.Navigate(s.URL+"/me/applications"), chromedp.WaitVisible(chromedp.ID("applications")))
	if got := b.text(t, "applications list", "#applications"); !strings.Contains(got, number) || !strings.Contains(got, "已出证") && !strings.Contains(got, "已准予") {
		t.Errorf("my applications shows %q, want %s approved", got, number)
	}
	b.checkA11y(t, "my applications")

	// The decision's messages are delivered by a background job: look again until they are in.
	unread := "0"
	for i := 0; i < 20 && unread == "0"; i++ {
		b.do(t, "messages", chromedp.Navigate(s.URL+"/me/notifications"), chromedp.WaitVisible(chromedp.ID("unread")))
		if unread = b.text(t, "unread count", "#unread"); unread == "0" {
			time.Sleep(250 * time.Millisecond)
		}
	}
	if got := b.text(t, "messages", "main"); !strings.Contains(got, number) {
		t.Errorf("messages do not tell about application %s:\n%s", number, got)
	}
	b.checkA11y(t, "messages")
	b.do(t, "mark one read", chromedp.Click(chromedp.CSS("#messages button.secondary")))
	get(t, b, "unread count goes down", chromedp.Poll[bool](`document.querySelector('#unread').textContent !== '`+unread+`'`))
	b.do(t, "who read my data", chromedp.Navigate(s.URL+"/me/data-reads"), chromedp.WaitVisible(chromedp.ID("reads")))
	if got := b.text(t, "reads", "#reads"); !strings.Contains(got, "老年人优待证") {
		t.Errorf("who read my data shows %q, want reads for the senior card", got)
	}
	b.checkA11y(t, "who read my data")
}

// TestBrowserElderMode: on a phone, the elder-mode button makes the type
// larger and stays on across pages; the keyboard alone reaches it.
func TestBrowserElderMode(t *testing.T) {
	s := startSite(t)
	b := newBrowserSized(t, 390, 844)
	// Headless Chromium keeps windows at least 500px wide: emulate the phone's screen.
	b.do(t, "open home on a phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.ID("elder-toggle")))
	before := get(t, b, "type size", chromedp.Evaluate[string](`getComputedStyle(document.body).fontSize`))
	b.do(t, "turn elder mode on by keyboard",
		chromedp.Focus(chromedp.ID("elder-toggle")),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("body.elder")))
	after := get(t, b, "elder type size", chromedp.Evaluate[string](`getComputedStyle(document.body).fontSize`))
	if px(after) <= px(before) {
		t.Errorf("elder mode type is %s, want larger than %s", after, before)
	}
	if got := b.text(t, "toggle says", "#elder-toggle"); !strings.Contains(got, "退出长者模式") {
		t.Errorf("the toggle reads %q in elder mode, want a way back", got)
	}
	if w := get(t, b, "page width", chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`)); w[0] > w[1] {
		t.Errorf("in elder mode on a phone the page is %dpx wide in a %dpx window, want no sideways scrolling", w[0], w[1])
	}
	b.checkA11y(t, "home in elder mode")
	b.do(t, "another page keeps it", chromedp.Navigate(s.URL+"/items"), chromedp.WaitVisible(chromedp.CSS("body.elder")))
	b.do(t, "turn it off", chromedp.Click(chromedp.ID("elder-toggle")), chromedp.WaitNotPresent(chromedp.CSS("body.elder")))
}

// px reads a CSS pixel length such as "20.8px".
func px(s string) float64 {
	var f float64
	for _, c := range strings.TrimSuffix(s, "px") {
		if c == '.' {
			break
		}
		f = f*10 + float64(c-'0')
	}
	return f
}

// TestBrowserEnglish: the English switch turns the citizen pages into
// English and the choice sticks.
func TestBrowserEnglish(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	b.do(t, "open home", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`a[lang="en"]`)))
	if got := b.text(t, "popular heading", "#h-popular"); got != "热门服务" {
		t.Errorf("home in Chinese shows %q", got)
	}
	b.do(t, "switch to English", chromedp.Click(chromedp.CSS(`a[lang="en"]`)), chromedp.WaitVisible(chromedp.CSS(`a[lang="zh-CN"]`)))
	if got := b.text(t, "popular heading", "#h-popular"); got != "Popular services" {
		t.Errorf("home in English shows %q, want Popular services", got)
	}
	if lang := get(t, b, "page language", chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value; lang != "en" {
		t.Errorf("html lang = %q, want en", lang)
	}
	b.checkA11y(t, "home in English")
	b.signIn(t, s, demo.ZhangSan)
	b.do(t, "my applications in English", chromedp.Navigate(s.URL+"/me/applications"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if got := b.text(t, "heading", "main h1"); got != "My applications" {
		t.Errorf("my applications heading is %q after choosing English, want My applications", got)
	}
	b.do(t, "the wizard in English", chromedp.Navigate(s.URL+"/apply/"+seniorCard), chromedp.WaitVisible(chromedp.ID("start")))
	if got := b.text(t, "next button", "#start"); got != "Next: the form" {
		t.Errorf("the wizard's button reads %q in English", got)
	}
}

// TestBrowserPledgeAndDefer: the materials step's approval-mode widgets,
// checked by axe — Wang Wu pledges the statement of a
// household cancellation (告知承诺), and defers the evidence of a labour
// arbitration to a date (容缺), each recorded by the service.
func TestBrowserPledgeAndDefer(t *testing.T) {
	const cancellation, arbitration = "11910102MB0001037K-07-00004", "11910102MB0001148D-09-00002"
	s := startSite(t)
	b := newBrowser(t)
	b.signIn(t, s, demo.WangWu)
	b.do(t, "start the cancellation", chromedp.Navigate(s.URL+"/apply/"+cancellation), chromedp.WaitVisible(chromedp.ID("consent")),
		chromedp.Click(chromedp.ID("s-reason-duplicate")), chromedp.Click(chromedp.ID("consent")), chromedp.Click(chromedp.ID("start")), chromedp.WaitVisible(chromedp.ID("save-form")))
	materials := strings.Replace(get(t, b, "address", chromedp.Location()), "step=form", "step=materials", 1)
	b.do(t, "open the materials", chromedp.Navigate(materials), chromedp.WaitVisible(chromedp.CSS(`form.pledge`)))
	if got := b.text(t, "pledge text", "form.pledge blockquote"); !strings.HasPrefix(got, "本人承诺：") {
		t.Errorf("the pledge reads %q", got)
	}
	b.checkA11y(t, "materials with a pledge")
	b.do(t, "pledge", chromedp.Click(chromedp.CSS(`form.pledge input[type="checkbox"]`)), chromedp.Click(chromedp.CSS(`form.pledge button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form.pledge`)))
	if mats := b.text(t, "after pledging", "main"); !strings.Contains(mats, "已承诺") {
		t.Errorf("the pledged statement is not shown as pledged:\n%s", mats)
	}

	b.do(t, "start the arbitration", chromedp.Navigate(s.URL+"/apply/"+arbitration), chromedp.WaitVisible(chromedp.ID("consent")),
		chromedp.Click(chromedp.ID("consent")), chromedp.Click(chromedp.ID("start")), chromedp.WaitVisible(chromedp.ID("save-form")))
	materials = strings.Replace(get(t, b, "address", chromedp.Location()), "step=form", "step=materials", 1)
	due := time.Now().AddDate(0, 0, 14).Format(time.DateOnly)
	b.do(t, "open supply later", chromedp.Navigate(materials), chromedp.WaitVisible(chromedp.CSS(`#m-evidence details summary`)),
		chromedp.Click(chromedp.CSS(`#m-evidence details summary`)), chromedp.WaitVisible(chromedp.ID("due-evidence")))
	b.checkA11y(t, "materials with supply later open")
	b.do(t, "defer the evidence", chromedp.SetValue(chromedp.ID("due-evidence"), due), chromedp.Click(chromedp.ID("defer-evidence")),
		chromedp.Click(chromedp.ID("do-defer-evidence")), chromedp.WaitNotPresent(chromedp.ID("do-defer-evidence")))
	if mats := b.text(t, "after deferring", "#m-evidence"); !strings.Contains(mats, "容缺：承诺于"+due+"前补交") {
		t.Errorf("the deferred evidence does not show its date %s:\n%s", due, mats)
	}
}
