package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
	"yiwang/internal/notify/notifytest"
)

// flakyHook is another government system's webhook receiver that refuses
// the first event (a 400: the delivery fails at once, a dead letter) and
// takes every one after it.
type flakyHook struct {
	mu       sync.Mutex
	requests int
	taken    []string // the X-Yiwang-Delivery of each event taken
}

func (h *flakyHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	if h.requests == 1 {
		http.Error(w, "schema upgrade in progress", http.StatusBadRequest)
		return
	}
	h.taken = append(h.taken, r.Header.Get("X-Yiwang-Delivery"))
}

func (h *flakyHook) state() (requests int, taken []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests, append([]string(nil), h.taken...)
}

// tabReaches presses Tab from the top of the page until each of the
// elements sels names has had the keyboard focus, and fails for those that
// never get it.
func (b *browser) tabReaches(t *testing.T, step string, sels ...string) {
	t.Helper()
	list, _ := json.Marshal(sels)
	get(t, b, step+": start at the top", chromedp.Evaluate[bool](`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); true`))
	reached := make([]bool, len(sels))
	for range 80 {
		b.do(t, step+": tab", chromedp.KeyEvent("\t"))
		now := get(t, b, step+": focus", chromedp.Evaluate[[]bool](`(`+string(list)+`).map(s => document.activeElement != null && document.activeElement.matches(s))`))
		all := true
		for i, r := range now {
			reached[i] = reached[i] || r
			all = all && reached[i]
		}
		if all {
			return
		}
	}
	for i, r := range reached {
		if !r {
			t.Errorf("%s: %s never gets the keyboard focus", step, sels[i])
		}
	}
}

// labelled checks that every visible input and select in the element sel
// has a label tied to it (for=id, or the label around it) with text.
func (b *browser) labelled(t *testing.T, step, sel string) {
	t.Helper()
	bad := get(t, b, step+": labels", chromedp.Evaluate[[]string](`[...document.querySelectorAll(`+strconv.Quote(sel)+` + ' input:not([type=hidden]), '+`+strconv.Quote(sel)+`+' select')]
		.filter(e => !e.labels || e.labels.length == 0 || [...e.labels].every(l => l.textContent.trim() == ''))
		.map(e => e.outerHTML)`))
	for _, e := range bad {
		t.Errorf("%s: a control without a label: %s", step, e)
	}
}

// internalCode finds what a person should never read on a page: snake_case
// codes, Go values and UTC times.
var internalCode = regexp.MustCompile(`\b[a-z]+_[a-z_]+\b|&\{|map\[|<nil>|\d{4}-\d\d-\d\dT\d\d:\d\d|UTC|\+0000`)

func (b *browser) plainWords(t *testing.T, step, sel string) string {
	t.Helper()
	text := b.text(t, step, sel)
	if m := internalCode.FindString(text); m != "" {
		t.Errorf("%s shows %q, an internal code, Go value or UTC time:\n%s", step, m, text)
	}
	return text
}

// TestBrowserNotificationChannels: on a platform with an email relay, Zhang
// San finds "how you are notified" on his account page, reaches its
// controls by keyboard, is told in Chinese (role=alert) when he mistypes his
// address, and told (role=status) when his choice is saved, his address
// shown masked.
func TestBrowserNotificationChannels(t *testing.T) {
	mb := notifytest.StartMailbox(t, false)
	s := startServe(t, "--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(mb.Addr.Port), "--smtp-from", "noreply@zwfw.example.gov.cn", "--smtp-starttls=false")
	b := newBrowser(t)
	b.signIn(t, s, demo.ZhangSan)
	b.do(t, "account page", chromedp.Navigate(s.URL+"/me"), chromedp.WaitVisible(chromedp.ID("notices")))
	b.checkA11y(t, "account page with channels")
	b.labelled(t, "notification channels", "#notices")
	if got := b.text(t, "email label", `label[for="notify-email"]`); got != "电子邮箱" {
		t.Errorf("the email field is labelled %q, want 电子邮箱", got)
	}
	b.tabReaches(t, "notification channels", "#notify-email", `#notices button[type=submit]`)

	// The browser's own check of type=email would stop the form before the
	// server: submit past it, as an old browser or a script would.
	get(t, b, "skip the browser's check", chromedp.Evaluate[bool](`document.querySelector('#notices form').noValidate = true`))
	b.do(t, "mistype the address",
		chromedp.SendKeys(chromedp.ID("notify-email"), "zhangsan"),
		chromedp.Submit(chromedp.ID("notify-email")),
		chromedp.WaitVisible(chromedp.CSS(`#notices [role=alert]`)),
	)
	if got := b.plainWords(t, "refusal", `#notices [role=alert]`); !strings.Contains(got, "请填写有效的电子邮箱地址") {
		t.Errorf("the refusal says %q, want it in Chinese words", got)
	}
	if got := get(t, b, "field marked", chromedp.AttributeValue(chromedp.ID("notify-email"), "aria-describedby")); got.Value != "notices-error" {
		t.Errorf("the refused field is not tied to the reason: aria-describedby=%q", got.Value)
	}
	b.checkA11y(t, "refused address")

	b.do(t, "give the address",
		chromedp.SendKeys(chromedp.ID("notify-email"), "zhangsan@example.cn"),
		chromedp.Submit(chromedp.ID("notify-email")),
		chromedp.WaitVisible(chromedp.ID("notices-saved")),
	)
	if got := b.text(t, "saved", "#notices-saved"); got != "通知方式已保存。" {
		t.Errorf("the saved message says %q", got)
	}
	if role := get(t, b, "saved role", chromedp.AttributeValue(chromedp.ID("notices-saved"), "role")); role.Value != "status" {
		t.Errorf("the saved message is role %q, want status", role.Value)
	}
	if got := b.plainWords(t, "channels", "#notices"); !strings.Contains(got, "z*******@example.cn") || strings.Contains(got, "zhangsan@") {
		t.Errorf("after saving, the section shows:\n%s\nwant the address masked", got)
	}
	b.checkA11y(t, "saved address")
}

// TestBrowserAdministratorRetriesADeadLetter: the province's system refuses
// the webhook of Zhang San's approval (a dead letter); once it works again,
// the system administrator finds the dead letter on /admin/notifications,
// presses 重新发送 by keyboard, confirms, is told in Chinese that it is being
// sent again, and sees it delivered: the list empties and the province has
// the event, its delivery log keeping the refusal.
func TestBrowserAdministratorRetriesADeadLetter(t *testing.T) {
	hook := &flakyHook{}
	receiver := httptest.NewServer(hook)
	t.Cleanup(receiver.Close)
	hooks := filepath.Join(t.TempDir(), "webhooks.yaml")
	if err := os.WriteFile(hooks, []byte("endpoints:\n  - {name: province, url: '"+receiver.URL+"', secret_env: HOOK_SECRET, kinds: [licence_issued]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "HOOK_SECRET" {
			return strings.Repeat("s", 40)
		}
		return ""
	}
	s := startServeEnv(t, env, "--webhooks-file", hooks)

	citizen := newBrowser(t)
	citizen.signIn(t, s, demo.ZhangSan)
	applySeniorCard(t, citizen, s, false)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if n, _ := hook.state(); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the province never got the approval's webhook")
		}
	}

	b := newBrowser(t)
	b.signIn(t, s, "sysadmin")
	b.do(t, "dead letters", chromedp.Navigate(s.URL+"/admin/notifications"), chromedp.WaitVisible(chromedp.ID("dead-letters")))
	b.checkA11y(t, "dead letters")
	b.labelled(t, "retry all", ".retry-all")
	list := b.text(t, "the dead letter", "#dead-letters")
	if !strings.Contains(list, "province") || !strings.Contains(list, "400") {
		t.Fatalf("the dead letters do not show the refused webhook:\n%s", list)
	}
	id := strings.TrimSpace(b.text(t, "its number", "#dead-letters tbody tr td"))
	button := `#dead-letters button[aria-label="重新发送第 ` + id + ` 号通知"]`
	b.tabReaches(t, "dead letters", button, "#retry-all", "#retry-channel", "#retry-kind")

	b.do(t, "send all again with nothing chosen", chromedp.Click(chromedp.ID("retry-all")), chromedp.WaitVisible(chromedp.ID("retry-choose")))
	if got := b.plainWords(t, "choose first", "#retry-choose"); !strings.Contains(got, "请先选择发送方式或通知类型") {
		t.Errorf("sending all again with nothing chosen says %q", got)
	}
	b.do(t, "send all webhooks again, then cancel",
		chromedp.SetValue(chromedp.ID("retry-channel"), "webhook"),
		chromedp.Click(chromedp.ID("retry-all")),
		chromedp.WaitVisible(chromedp.ID("retry-confirm")),
	)
	if got := b.plainWords(t, "confirm all", "#retry-confirm"); !strings.Contains(got, "推送至其他系统") {
		t.Errorf("the confirmation of all webhooks says:\n%s", got)
	}
	// Cancelling loads the list again: wait for its button on the new page,
	// so that the next step does not find the old page's nodes mid-swap.
	b.do(t, "cancel", chromedp.Click(chromedp.Search(`//section[@id="retry-confirm"]//a`)), chromedp.WaitNotPresent(chromedp.ID("retry-confirm")),
		chromedp.WaitReady(chromedp.CSS("body")), chromedp.WaitVisible(chromedp.CSS(button)))

	b.do(t, "press 重新发送 by keyboard",
		chromedp.WaitVisible(chromedp.CSS(button)),
		chromedp.Focus(chromedp.CSS(button)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("retry-confirm")),
	)
	if got := b.plainWords(t, "confirmation", "#retry-confirm"); !strings.Contains(got, "确认重新发送") || !strings.Contains(got, "重新发送第 "+id+" 号通知") {
		t.Errorf("the confirmation says:\n%s", got)
	}
	if hasFocus := get(t, b, "focus on confirm", chromedp.Evaluate[bool](`document.activeElement.id == 'retry-confirm-button'`)); !hasFocus {
		t.Error("the confirmation's button does not have the focus")
	}
	b.checkA11y(t, "retry confirmation")
	if n, _ := hook.state(); n != 1 {
		t.Fatalf("the province got %d requests before the retry was confirmed, want 1", n)
	}
	b.do(t, "confirm",
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("retry-result")),
	)
	if got := b.plainWords(t, "result", "#retry-result"); !strings.Contains(got, "已重新发送 1 条通知") {
		t.Errorf("after the retry the page says %q", got)
	}
	if role := get(t, b, "result role", chromedp.AttributeValue(chromedp.ID("retry-result"), "role")); role.Value != "status" {
		t.Errorf("the result is role %q, want status", role.Value)
	}
	b.checkA11y(t, "retry result")

	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, taken := hook.state(); len(taken) > 0 {
			if len(taken) != 1 || taken[0] != id {
				t.Errorf("the province took %v, want delivery %s once", taken, id)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the retried webhook never reached the province")
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b.do(t, "reload", chromedp.Navigate(s.URL+"/admin/notifications"), chromedp.WaitVisible(chromedp.CSS("h1")))
		if got := b.text(t, "list", "main"); strings.Contains(got, "没有发送失败的通知。") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the delivered letter is still listed as failed")
		}
	}
	b.do(t, "the delivery log keeps the refusal", chromedp.Navigate(s.URL+"/api/v1/admin/notifications/"+id+"/attempts"), chromedp.WaitVisible(chromedp.CSS("body")))
	var log struct {
		Attempts []struct {
			Attempt int    `json:"attempt"`
			OK      bool   `json:"ok"`
			Error   string `json:"error"`
		} `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(b.text(t, "log", "body")), &log); err != nil {
		t.Fatal(err)
	}
	if a := log.Attempts; len(a) != 2 || a[0].OK || !strings.Contains(a[0].Error, "400") || !a[1].OK || a[1].Attempt != 2 {
		t.Errorf("the delivery log is %+v, want the refusal then the delivery", log.Attempts)
	}
}
