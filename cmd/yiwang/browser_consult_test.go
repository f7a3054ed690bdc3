package main

// The browser journey of 我要投诉 and 我要问: a complaint sent without an
// account, answered by the department, followed with its query code.

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAnonymousComplaint: a person who is not signed in finds 我要投诉
// in the footer, sends a food-safety complaint and copies the query code
// shown once; the market regulator's reviewer signs in, finds it among the
// department's, sees the contact masked and answers; the person opens
// 查询办理情况, types the code, reads the answer and rates it. On the way,
// 我要问 answers a question from a guide's FAQ.
func TestBrowserAnonymousComplaint(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)

	b.do(t, "home", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`footer a[href="/complain"]`)))
	b.do(t, "open 我要投诉", chromedp.Click(chromedp.CSS(`footer a[href="/complain"]`)), chromedp.WaitVisible(chromedp.ID("complain-form")))
	b.checkA11y(t, "complaint form")
	complaint := "示范路12号某某饭店出售过期变质的熟食，后厨卫生很差。"
	b.do(t, "write the complaint",
		chromedp.Click(chromedp.ID("kind-complaint")),
		chromedp.SetValue(chromedp.ID("area"), "food"),
		chromedp.SendKeys(chromedp.ID("text"), complaint),
		chromedp.SendKeys(chromedp.ID("contact_name"), "赵六"),
		chromedp.SendKeys(chromedp.ID("contact_phone"), "13900000002"),
	)
	b.do(t, "send it", chromedp.Click(chromedp.ID("submit")), chromedp.WaitVisible(chromedp.ID("query-code")))
	code := b.text(t, "query code", "#query-code")
	if len(strings.ReplaceAll(code, "-", "")) != 12 {
		t.Fatalf("the query code reads %q", code)
	}
	if dept := b.text(t, "department", "#department"); dept != "明德区市场监督管理局" {
		t.Errorf("the complaint went to %q, not the market regulator", dept)
	}
	b.checkA11y(t, "receipt with the query code")

	staff := newBrowser(t)
	staff.signIn(t, s, "reviewer.amr")
	staff.do(t, "the department's list", chromedp.Navigate(s.URL+"/workbench/consultations"), chromedp.WaitVisible(chromedp.ID("consultations")))
	if list := staff.text(t, "list", "#consultations"); !strings.Contains(list, complaint) || !strings.Contains(list, "待答复") {
		t.Fatalf("the market regulator's list does not show the complaint waiting:\n%s", list)
	}
	staff.checkA11y(t, "staff list")
	staff.do(t, "open it", chromedp.Click(chromedp.CSS(`#consultations a`)), chromedp.WaitVisible(chromedp.ID("answer-form")))
	page := staff.text(t, "consultation", "main")
	if strings.Contains(page, "13900000002") || strings.Contains(page, "赵六") || !strings.Contains(page, "匿名提交") {
		t.Errorf("the staff page shows the contact unmasked or not as anonymous:\n%s", page)
	}
	staff.checkA11y(t, "staff consultation page")
	staff.do(t, "see the contact in full", chromedp.SendKeys(chromedp.ID("purpose"), "联系投诉人核实地址"), chromedp.Click(chromedp.ID("reveal")),
		chromedp.WaitNotPresent(chromedp.ID("reveal-form")), chromedp.WaitVisible(chromedp.ID("answer-form")))
	if got := staff.text(t, "contact", "#contact"); !strings.Contains(got, "赵六") || !strings.Contains(got, "13900000002") {
		t.Errorf("the revealed contact reads %q", got)
	}
	answer := "已受理，执法人员已到现场检查，责令下架过期食品并立案调查。"
	staff.do(t, "answer", chromedp.SendKeys(chromedp.ID("answer"), answer), chromedp.Click(chromedp.ID("send-answer")),
		chromedp.WaitVisible(chromedp.CSS(`.reply`)))

	b.do(t, "follow it up", chromedp.Navigate(s.URL+"/complain/track"), chromedp.WaitVisible(chromedp.ID("code")))
	b.checkA11y(t, "track form")
	b.do(t, "type the code", chromedp.SendKeys(chromedp.ID("code"), code), chromedp.Click(chromedp.ID("look-up")), chromedp.WaitVisible(chromedp.ID("result")))
	result := b.text(t, "result", "#result")
	for _, want := range []string{"已答复", answer, complaint, "明德区市场监督管理局"} {
		if !strings.Contains(result, want) {
			t.Errorf("the follow-up lacks %q:\n%s", want, result)
		}
	}
	b.checkA11y(t, "follow-up with the answer")
	b.do(t, "rate it", chromedp.Click(chromedp.CSS(`input[value="satisfied"]`)), chromedp.Click(chromedp.CSS(`[id^="rate-"]`)), chromedp.WaitVisible(chromedp.ID("rated")))
	if got := b.text(t, "rated", "#result"); !strings.Contains(got, "评价：满意") {
		t.Errorf("the rating is not shown:\n%s", got)
	}

	b.do(t, "a wrong code", chromedp.Navigate(s.URL+"/complain/track"), chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), "ABCD-EFGH-JKLM"), chromedp.Click(chromedp.ID("look-up")), chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)))
	if got := b.text(t, "wrong code", "main"); !strings.Contains(got, "查询码有误") || strings.Contains(got, "饭店") {
		t.Errorf("a wrong code reads:\n%s", got)
	}

	b.do(t, "ask", chromedp.Navigate(s.URL+"/ask"), chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "无房证明能证明我在全国都没房吗"), chromedp.Click(chromedp.ID("find")), chromedp.WaitVisible(chromedp.ID("ask-form")))
	if got := b.text(t, "answers", "#faqs"); !strings.Contains(got, "本市不动产登记信息") {
		t.Errorf("我要问 does not answer from the FAQ:\n%s", got)
	}
	b.checkA11y(t, "ask with answers")
	b.do(t, "ask the department anyway", chromedp.SetValue(chromedp.ID("item"), "11910102MB00013338-20-00001"), chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.ID("query-code")))
	if dept := b.text(t, "department", "#department"); dept != "明德区不动产登记中心" {
		t.Errorf("the question about 无房证明 went to %q", dept)
	}
}
