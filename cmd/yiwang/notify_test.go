package main

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/config"
	"yiwang/internal/demo"
	"yiwang/internal/logging"
	"yiwang/internal/notify"
	"yiwang/internal/notify/email"
	"yiwang/internal/notify/notifytest"
	"yiwang/internal/notify/sms"
	"yiwang/internal/store/storetest"
)

// relayServer is the demo platform emailing through a real SMTP server,
// which refuses every recipient if refuse.
func relayServer(t *testing.T, refuse bool) (http.Handler, *app, *notifytest.Mailbox) {
	t.Helper()
	mb := notifytest.StartMailbox(t, refuse)
	opts := testOptions(t)
	opts.smtp = &email.Config{Host: "127.0.0.1", Port: mb.Addr.Port, From: "noreply@zwfw.example.gov.cn", Site: "https://zwfw.example.gov.cn"}
	srv, a := demoServerWith(t, storetest.SQLite(t), opts)
	withRegistries(t, a)
	return srv.Handler(), a, mb
}

// TestApplicantChoosesEmailAndGetsTheDecision: on a platform with an SMTP
// relay, Zhang San chooses email on his account page (a mistyped address
// is refused in words), Li Si's page does not show it, and the approval of
// Zhang San's senior card reaches the relay addressed to him, in Chinese.
func TestApplicantChoosesEmailAndGetsTheDecision(t *testing.T) {
	h, a, mb := relayServer(t, false)
	zhang := signIn(t, h, demo.ZhangSan)

	if _, me := page(t, h, zhang, "GET", "/me", nil); !strings.Contains(me, "通知方式") || !strings.Contains(me, `name="email"`) {
		t.Fatalf("the account page offers no email notices:\n%s", me)
	}
	refused := postFails(t, h, zhang, "/me/notification-channels", url.Values{"email": {"zhangsan"}}, 400)
	if !strings.Contains(refused, "请填写有效的电子邮箱地址") {
		t.Errorf("a mistyped address is not refused in words:\n%s", refused)
	}
	if _, me := page(t, h, zhang, "POST", "/me/notification-channels", url.Values{"email": {"zhangsan@example.cn"}}); !strings.Contains(me, "z*******@example.cn") {
		t.Fatalf("after choosing email the page does not show the masked address:\n%s", me)
	}
	if _, other := page(t, h, signIn(t, h, demo.LiSi), "GET", "/me", nil); strings.Contains(other, "@example.cn") {
		t.Errorf("Li Si's account page shows an email address:\n%s", other)
	}

	approvedSeniorCard(t, h, zhang)
	workJobs(t, a)
	for deadline := time.Now().Add(20 * time.Second); len(mb.Received()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no email reached the relay after the approval")
		}
	}
	m := mb.Received()[0]
	if len(m.To) != 1 || m.To[0] != "zhangsan@example.cn" {
		t.Errorf("the email went to %v, want zhangsan@example.cn", m.To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		t.Fatal(err)
	}
	if subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); !strings.HasPrefix(subject, "【一网通办】") {
		t.Errorf("subject = %q, want the platform's Chinese subject", subject)
	}
}

// TestAdministratorSeesFailedNotifications: the relay refuses Zhang San's
// email; the approval still reaches his inbox, and the system administrator
// finds the failed email on /admin/notifications, the address masked.
func TestAdministratorSeesFailedNotifications(t *testing.T) {
	h, a, _ := relayServer(t, true)
	db := a.identities.DB()
	a.outbox.SetAttempts(1) // fail at the first refusal rather than after hours of backoff
	zhang := signIn(t, h, demo.ZhangSan)
	page(t, h, zhang, "POST", "/me/notification-channels", url.Values{"email": {"zhangsan@example.cn"}})
	approvedSeniorCard(t, h, zhang)
	workJobs(t, a)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var failed int
		if err := db.QueryRow(`SELECT count(*) FROM outbox_messages WHERE channel = 'email' AND status = 'failed'`).Scan(&failed); err != nil {
			t.Fatal(err)
		}
		if failed > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no email failed though the relay refuses every recipient")
		}
	}
	admin := signIn(t, h, "sysadmin")
	if _, home := page(t, h, admin, "GET", "/admin", nil); !strings.Contains(home, `href="/admin/notifications"`) {
		t.Errorf("the administration page has no link to the failed notifications:\n%s", home)
	}
	_, list := page(t, h, admin, "GET", "/admin/notifications", nil)
	if !strings.Contains(list, "发送失败的通知") || !strings.Contains(list, "z*******@example.cn") || !strings.Contains(list, "451") || strings.Contains(list, "zhangsan@") {
		t.Errorf("the failed notifications page does not show the refused email, masked:\n%s", list)
	}
	var id string
	if err := db.QueryRow(`SELECT CAST(id AS TEXT) FROM outbox_messages WHERE channel = 'email' AND status = 'failed'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, confirm := page(t, h, admin, "GET", "/admin/notifications?lang=en&confirm="+id, nil); !strings.Contains(confirm, "Send notification No. "+id+" again (") ||
		!strings.Contains(confirm, `name="id" value="`+id+`"`) || strings.Contains(confirm, "？") {
		t.Errorf("the English confirmation of a retry is not in English:\n%s", confirm)
	}
	if _, inbox := page(t, h, zhang, "GET", "/me/notifications", nil); !strings.Contains(inbox, "unread") {
		t.Errorf("Zhang San's inbox has nothing unread after the approval:\n%s", inbox)
	}
}

// TestNotificationSettingsAreCheckedAtStart: serve refuses, in a sentence
// that names the setting, an email relay without a sender, an SMS gateway
// without a proper secret, and a webhooks file whose secret is missing —
// and never repeats a secret.
func TestNotificationSettingsAreCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	hooks := filepath.Join(dir, "webhooks.yaml")
	os.WriteFile(hooks, []byte("endpoints:\n  - {name: province, url: 'https://gov.example.cn/hook', secret_env: HOOK_SECRET, kinds: [decision]}\n"), 0o600)
	for _, c := range []struct {
		name string
		cfg  config.Config
		env  map[string]string
		want string
	}{
		{"smtp without from", config.Config{SMTPHost: "smtp.example.cn", SMTPPort: 587}, nil, "--smtp-from"},
		{"sms with a short secret", config.Config{SMSURL: "https://sms.example.cn/send", SMSSecret: "short-secret"}, nil, "--sms-secret"},
		{"webhook secret missing", config.Config{WebhooksFile: hooks}, nil, "HOOK_SECRET"},
		{"all well", config.Config{SMTPHost: "smtp.example.cn", SMTPPort: 587, SMTPFrom: "noreply@example.cn", SMSURL: "https://sms.example.cn/send",
			SMSSecret: strings.Repeat("s", 32), WebhooksFile: hooks}, map[string]string{"HOOK_SECRET": strings.Repeat("h", 40)}, ""},
	} {
		c.cfg.DataDir = dir
		_, err := appOptionsFrom(c.cfg, "https://zwfw.example.gov.cn", nil, func(k string) string { return c.env[k] }, logging.New(io.Discard, "text", 0))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.want)
		case err != nil && strings.Contains(err.Error(), "short-secret"):
			t.Errorf("%s: the error repeats the secret: %v", c.name, err)
		}
	}
}

// TestApplicantChoosesSMSAndGetsATextOfTheApproval: on a platform with an
// SMS gateway, Zhang San gives his mobile number on /me (shown masked) and
// the approval reaches the gateway as a signed text to that number.
func TestApplicantChoosesSMSAndGetsATextOfTheApproval(t *testing.T) {
	const secret = "the-gateway-secret-of-this-district-0123"
	var mu sync.Mutex
	var texts []map[string]string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(notify.HeaderSignature) != notify.Sign(secret, r.Header.Get(notify.HeaderTimestamp), body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var text map[string]string
		json.Unmarshal(body, &text)
		mu.Lock()
		texts = append(texts, text)
		mu.Unlock()
	}))
	t.Cleanup(gw.Close)
	opts := testOptions(t)
	opts.sms = sms.NewHTTP(gw.URL, secret)
	srv, a := demoServerWith(t, storetest.SQLite(t), opts)
	withRegistries(t, a)
	h := srv.Handler()
	zhang := signIn(t, h, demo.ZhangSan)
	if _, me := page(t, h, zhang, "POST", "/me/notification-channels", url.Values{"sms": {"13800138000"}}); !strings.Contains(me, "138****8000") || strings.Contains(me, `name="email"`) {
		t.Fatalf("after choosing SMS the page does not show the masked number (or offers email without a relay):\n%s", me)
	}
	approvedSeniorCard(t, h, zhang)
	workJobs(t, a)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(texts)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no text reached the gateway after the approval")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if texts[0]["to"] != "13800138000" || !strings.HasPrefix(texts[0]["text"], "【一网通办】") {
		t.Errorf("the gateway got %v", texts[0])
	}
}
