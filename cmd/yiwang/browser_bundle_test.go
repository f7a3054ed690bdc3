package main

// The browser journey of a bundle (一件事一次办): 企业开办 end to end.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
	"yiwang/internal/store"
)

// TestBrowserBusinessStartup: Zhang San, verified in person, opens
// 企业开办一件事 from the home page's 一件事一次办, answers its questions once,
// fills the combined form once, pledges the articles once, gives one
// consent and submits once; the status page shows one number and, as the
// background job submits the members the registration's result frees,
// every member approved with its result, the case done within its time
// limit, and the members' timelines merged.
func TestBrowserBusinessStartup(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	db, err := store.Open(context.Background(), "", s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), `UPDATE accounts SET real_name_level = 3 WHERE kind = 'person'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b.signIn(t, s, demo.ZhangSan)

	b.do(t, "home", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.ID("h-bundles")))
	if got := b.text(t, "bundles section", "#bundles"); !strings.Contains(got, "一件事一次办") || !strings.Contains(got, "企业开办一件事") {
		t.Fatalf("the home page's 一件事一次办 section reads:\n%s", got)
	}
	b.do(t, "open 企业开办", chromedp.Click(chromedp.ID("bundle-business_startup")), chromedp.WaitVisible(chromedp.ID("next")))
	guide := b.text(t, "guide", "main")
	for _, want := range []string{"企业设立登记", "企业刻章备案", "单位住房公积金缴存登记", "承诺时限：1个工作日内全部办结", "设立哪种企业？"} {
		if !strings.Contains(guide, want) {
			t.Errorf("the bundle's guide lacks %q:\n%s", want, guide)
		}
	}
	b.checkA11y(t, "bundle guide and questions")
	b.do(t, "answer once: own premises",
		chromedp.Click(chromedp.ID("s-premises-own")),
		chromedp.Click(chromedp.ID("next")), chromedp.WaitVisible(chromedp.ID("submit")))
	form := b.text(t, "combined form", "main")
	for _, want := range []string{"企业名称", "需刻制的印章", "由系统自动填写", "统一社会信用代码", "本人承诺：公司章程", "我同意为本次“一件事”读取我的数据"} {
		if !strings.Contains(form, want) {
			t.Errorf("the combined form lacks %q:\n%s", want, form)
		}
	}
	b.checkA11y(t, "combined form")
	b.do(t, "fill the combined form once",
		chromedp.SendKeys(chromedp.ID("f_company_name"), "示范市明德区张记科技有限公司"),
		chromedp.SendKeys(chromedp.ID("f_address"), "示范市明德区福安街道创业路8号"),
		chromedp.SendKeys(chromedp.ID("f_premises_certificate"), "示（2008）示范市不动产权第90000001号"),
		chromedp.SendKeys(chromedp.ID("f_scope"), "软件开发；信息技术咨询服务"),
		chromedp.SendKeys(chromedp.ID("f_registered_capital"), "10"),
		chromedp.SendKeys(chromedp.ID("f_shareholders"), "张三, "+demo.ZhangSan+", 10, 2030-12-31"),
		chromedp.SendKeys(chromedp.ID("f_seals"), "official, rubber\ninvoice, rubber"),
		chromedp.SetValue(chromedp.ID("f_engraver"), "mingde_01"),
		chromedp.SetValue(chromedp.ID("f_delivery"), "post"),
		chromedp.SetValue(chromedp.ID("f_taxpayer_type"), "small_scale"),
		chromedp.SetValue(chromedp.ID("f_accounting_system"), "small_enterprise"),
		chromedp.SetValue(chromedp.ID("f_invoice_types"), "ordinary"),
		chromedp.SetValue(chromedp.ID("f_industry"), "class1"),
		chromedp.SendKeys(chromedp.ID("f_first_employees"), "张三, "+demo.ZhangSan+", 6000"),
		chromedp.SendKeys(chromedp.ID("f_rate"), "12"),
		chromedp.SendKeys(chromedp.ID("f_pay_day"), "10"),
		chromedp.SetValue(chromedp.ID("f_bank"), "bank_a"),
		chromedp.SetValue(chromedp.ID("f_appointment"), "video"),
		chromedp.SetValue(chromedp.ID("f_appointment_date"), "2027-01-05"),
		chromedp.Click(chromedp.ID("pledge-articles")),
		chromedp.Click(chromedp.ID("pledge-appointment")),
		chromedp.Click(chromedp.ID("consent")),
	)
	b.do(t, "submit once", chromedp.Click(chromedp.ID("submit")), chromedp.WaitVisible(chromedp.ID("members")))
	number := b.text(t, "number", "#number")
	if !strings.HasPrefix(number, "YJ-") {
		t.Errorf("the case's number is %q", number)
	}
	// The advance job works every 100 ms in this server: reload until the
	// members the registration frees are through.
	var status string
	for deadline := time.Now().Add(20 * time.Second); ; {
		status = b.text(t, "status", "#status")
		if status == "已办结" || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
		b.do(t, "reload the status page", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("members")))
	}
	members := b.text(t, "members", "#members")
	if status != "已办结" {
		t.Fatalf("the case is %q, not 已办结, after 20 s:\n%s", status, members)
	}
	for _, want := range []string{"企业设立登记", "企业刻章备案", "新办纳税人申领发票", "单位社会保险登记", "单位医保参保登记", "单位住房公积金缴存登记", "企业基本存款账户开立"} {
		if !strings.Contains(members, want) {
			t.Errorf("the status page does not list %s:\n%s", want, members)
		}
	}
	if n := strings.Count(members, "查看办理结果"); n != 7 {
		t.Errorf("%d members show their result, want 7:\n%s", n, members)
	}
	if n := strings.Count(members, "已出证"); n < 6 {
		t.Errorf("%d members show their licence issued, want at least 6:\n%s", n, members)
	}
	if got := b.text(t, "deadline", "#deadline"); !strings.Contains(got, "1个工作日") || strings.Contains(got, "超时") {
		t.Errorf("the time limit reads %q", got)
	}
	if tl := b.text(t, "timeline", "#timeline"); !strings.Contains(tl, "企业设立登记") || !strings.Contains(tl, "企业刻章备案") {
		t.Errorf("the timeline does not merge the members':\n%s", tl)
	}
	b.checkA11y(t, "bundle status")

	// Staff see the bundle around a member: the supervisor opens the
	// invoice application and finds the case's number and every member.
	href := get(t, b, "the invoice's link", chromedp.AttributeValue(chromedp.CSS(`#member-invoice a`), "href")).Value
	staff := newBrowser(t)
	staff.signIn(t, s, "supervisor")
	staff.do(t, "open the invoice application", chromedp.Navigate(s.URL+strings.Replace(href, "/me/applications/", "/workbench/applications/", 1)), chromedp.WaitVisible(chromedp.ID("bundle")))
	box := staff.text(t, "bundle box", "#bundle")
	for _, want := range []string{"企业开办一件事", number, "已办结", "新办纳税人申领发票（本件）", "企业设立登记", "企业基本存款账户开立"} {
		if !strings.Contains(box, want) {
			t.Errorf("the staff's bundle box lacks %q:\n%s", want, box)
		}
	}
	staff.checkA11y(t, "staff application page with its bundle")

	// The seal filing's own page: approved at once, its receipt issued.
	b.do(t, "open the seal filing", chromedp.Click(chromedp.CSS(`#member-seal a`)), chromedp.WaitVisible(chromedp.ID("licence-link")))
	if got := b.text(t, "seal filing", "main"); !strings.Contains(got, "审批通过") || !strings.Contains(got, "印章刻制备案回执") {
		t.Errorf("the seal filing's page does not show it approved with its receipt:\n%s", got)
	}
}
