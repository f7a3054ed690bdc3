package main

// The browser journey of 好差评 with rectification (internal/rating).

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
)

// TestBrowserBadRatingIsRectified: Zhang San's senior card is approved at
// once; on its page no level is chosen for him, he rates it 非常不满意 with
// a comment and sees a rectification opened; the window's QR code opens
// the same rating without an account; the civil affairs reviewer finds it
// among his department's rectifications and answers; the supervisor
// calls back and closes it as resolved; Zhang San sees the answer and the
// call's result, is told, and says he is satisfied; the public figures
// count the bad rating as rectified. Meanwhile the 电子监察 board shows the
// bad rating against civil affairs, and the supervisor alerts its head.
func TestBrowserBadRatingIsRectified(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	b.signIn(t, s, demo.ZhangSan)
	if decision := applySeniorCard(t, b, s, false); !strings.Contains(decision, "审批通过") {
		t.Fatalf("the senior card is not approved:\n%s", decision)
	}
	appURL := get(t, b, "the application's address", chromedp.Location())
	b.do(t, "the rating form", chromedp.WaitVisible(chromedp.ID("h-rating")))
	if n := get(t, b, "levels chosen", chromedp.Evaluate[int](`document.querySelectorAll('#rating input[name=stars]:checked').length`)); n != 0 {
		t.Errorf("%d levels are chosen before the person chooses, want none", n)
	}
	if got := b.text(t, "the levels", "#rating fieldset"); !strings.Contains(got, "非常满意") || !strings.Contains(got, "非常不满意") {
		t.Errorf("the rating form offers:\n%s", got)
	}
	b.checkA11y(t, "application page with the rating form")
	b.do(t, "rate very dissatisfied",
		chromedp.Click(chromedp.ID("stars-1")),
		chromedp.SendKeys(chromedp.ID("comment"), "材料重复提交，跑了三趟"),
		chromedp.Click(chromedp.ID("rate")),
		chromedp.WaitVisible(chromedp.ID("my-rating")))
	if got := b.text(t, "my rating", "#rating"); !strings.Contains(got, "非常不满意") || !strings.Contains(got, "跑了三趟") || !strings.Contains(got, "待整改") {
		t.Errorf("after rating, the page reads:\n%s", got)
	}
	qr := get(t, b, "the rating QR code", chromedp.AttributeValue(chromedp.CSS(`#rating-qr img`), "src")).Value
	token := strings.TrimSuffix(strings.TrimPrefix(qr, "/rate/"), "/qr")
	if token == "" || token == qr {
		t.Fatalf("the page's QR code is %q, want /rate/TOKEN/qr", qr)
	}

	// The window's QR code opens the same rating, without an account.
	staff := newBrowser(t)
	staff.do(t, "the token page", chromedp.Navigate(s.URL+"/rate/"+token), chromedp.WaitVisible(chromedp.ID("my-rating")))
	if got := staff.text(t, "token page", "main"); !strings.Contains(got, "老年人优待证") || !strings.Contains(got, "非常不满意") {
		t.Errorf("the token page reads:\n%s", got)
	}
	staff.checkA11y(t, "rating by QR code")

	// The 电子监察 board counts it against civil affairs; the supervisor
	// drills down to the department and alerts its head, once a day.
	sup := newBrowser(t)
	sup.signIn(t, s, "supervisor")
	sup.do(t, "the board", chromedp.Navigate(s.URL+"/workbench/supervision"), chromedp.WaitVisible(chromedp.CSS("table.board")))
	if got := sup.text(t, "board", "table.board"); !strings.Contains(got, "民政") || !strings.Contains(got, "差评待整改") {
		t.Errorf("the board reads:\n%s", got)
	}
	sup.checkA11y(t, "the 电子监察 board")
	sup.do(t, "civil affairs' board", chromedp.Click(chromedp.CSS(`a[href="/workbench/supervision?department=civil"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/workbench/rectifications?department=civil"]`)))
	sup.do(t, "alert the head", chromedp.Click(chromedp.CSS(`form[action="/workbench/supervision/civil/alert"] button`)), chromedp.WaitVisible(chromedp.CSS(`p[role=status]`)))
	if got := sup.text(t, "alerted", `p[role=status]`); got != "已提醒该部门负责人。" {
		t.Errorf("after the alert the page says %q", got)
	}
	sup.do(t, "alert again", chromedp.Click(chromedp.CSS(`form[action="/workbench/supervision/civil/alert"] button`)), chromedp.WaitVisible(chromedp.CSS(`div.error`)))
	if got := sup.text(t, "refused", "div.error"); !strings.Contains(got, "今天已提醒过") {
		t.Errorf("a second alert the same day reads %q", got)
	}
	head := newBrowser(t)
	head.signIn(t, s, "head.civil")
	head.do(t, "the head's messages", chromedp.Navigate(s.URL+"/me/notifications"), chromedp.WaitVisible(chromedp.CSS("main")))
	if got := head.text(t, "messages", "main"); !strings.Contains(got, "电子监察提醒") || !strings.Contains(got, "差评待整改") {
		t.Errorf("the head's messages do not tell of the alert:\n%s", got)
	}

	// The department answers.
	staff.signIn(t, s, "reviewer.civil")
	staff.do(t, "the department's rectifications", chromedp.Navigate(s.URL+"/workbench/rectifications"), chromedp.WaitVisible(chromedp.ID("rectifications")))
	staff.checkA11y(t, "rectifications list")
	staff.do(t, "open it", chromedp.Click(chromedp.CSS(`#rectifications a`)), chromedp.WaitVisible(chromedp.ID("answer")))
	if got := staff.text(t, "rectification", "main"); !strings.Contains(got, "跑了三趟") || !strings.Contains(got, "待整改") {
		t.Errorf("the rectification page reads:\n%s", got)
	}
	staff.checkA11y(t, "rectification with the answer form")
	staff.do(t, "answer",
		chromedp.SendKeys(chromedp.ID("answer"), "已将身份证明改为部门共享调取，无需重复提交"),
		chromedp.Click(chromedp.ID("send-answer")),
		chromedp.WaitVisible(chromedp.ID("rectification-answer")))

	// The supervisor calls back and closes it.
	sup.do(t, "civil's rectifications", chromedp.Navigate(s.URL+"/workbench/rectifications?department=civil"), chromedp.WaitVisible(chromedp.ID("rectifications")))
	if got := sup.text(t, "list", "#rectifications"); !strings.Contains(got, "已答复，待回访") {
		t.Errorf("the supervisor's list reads:\n%s", got)
	}
	sup.checkA11y(t, "rectifications for a supervisor, with the phone rating form")
	sup.do(t, "open it", chromedp.Click(chromedp.CSS(`#rectifications a`)), chromedp.WaitVisible(chromedp.ID("note")))
	sup.checkA11y(t, "rectification with the callback form")
	sup.do(t, "call back and close",
		chromedp.SendKeys(chromedp.ID("note"), "电话回访，申请人认可整改"),
		chromedp.Click(chromedp.ID("resolved-yes")),
		chromedp.Click(chromedp.ID("close-rectification")),
		chromedp.WaitVisible(chromedp.ID("rectification-callback")))
	if got := sup.text(t, "closed", "#rectification-status"); got != "已办结" {
		t.Errorf("the rectification's state reads %q, want 已办结", got)
	}

	// Zhang San sees the answer and the callback, and judges it.
	b.do(t, "back to the application", chromedp.Navigate(appURL), chromedp.WaitVisible(chromedp.ID("rectification-answer")))
	if got := b.text(t, "rectification", "#rectification"); !strings.Contains(got, "部门共享调取") || !strings.Contains(got, "问题已解决") {
		t.Errorf("the applicant's page reads:\n%s", got)
	}
	b.checkA11y(t, "application page with the rectification")
	b.do(t, "satisfied", chromedp.Click(chromedp.ID("verdict-satisfied")), chromedp.Click(chromedp.ID("verdict")), chromedp.WaitVisible(chromedp.ID("my-verdict")))
	if got := b.text(t, "verdict", "#my-verdict"); !strings.Contains(got, "满意") {
		t.Errorf("the verdict reads %q", got)
	}
	b.do(t, "messages", chromedp.Navigate(s.URL+"/me/notifications"), chromedp.WaitVisible(chromedp.CSS("main")))
	if got := b.text(t, "messages", "main"); !strings.Contains(got, "差评已有整改答复") {
		t.Errorf("the messages do not tell of the answer:\n%s", got)
	}

	// The public figures.
	b.do(t, "public ratings", chromedp.Navigate(s.URL+"/ratings?period=all"), chromedp.WaitVisible(chromedp.ID("by-department")))
	if got := b.text(t, "by department", "#by-department"); !strings.Contains(got, "民政") || !strings.Contains(got, "100.0%") {
		t.Errorf("the public figures by department read:\n%s", got)
	}
	b.checkA11y(t, "public ratings")
}
