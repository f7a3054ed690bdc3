package notify_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"yiwang/internal/apitest"
	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/notify/email"
	"yiwang/internal/notify/notifytest"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// emailWorker works deliveries by the inbox and by email to mb.
func emailWorker(t *testing.T, f *fixture, mb *notifytest.Mailbox) {
	t.Helper()
	fastWorker(t, f.db, email.New(email.Config{Host: "127.0.0.1", Port: mb.Addr.Port, From: "noreply@zwfw.example.gov.cn", Site: "https://zwfw.example.gov.cn"}, f.outbox.Address))
}

// fastWorker works deliveries by the inbox and by ch, retrying after 10 ms
// instead of River's minutes, until the test ends.
func fastWorker(t *testing.T, db *store.DB, ch notify.Channel) {
	t.Helper()
	ws := jobs.NewWorkers()
	jobs.Register(ws, notify.NewWorker(db, notify.InApp{}, ch).RetryAfter(func(int) time.Duration { return 10 * time.Millisecond }))
	q, err := jobs.New(db, ws, quiet, jobs.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(context.Background()) })
}

// deliveries returns the outbox rows copying message id, by channel.
func deliveries(t *testing.T, db *store.DB, id int64) map[string]int64 {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT channel, id FROM outbox_messages WHERE source_id = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var ch string
		var d int64
		if err := rows.Scan(&ch, &d); err != nil {
			t.Fatal(err)
		}
		out[ch] = d
	}
	return out
}

func chooseEmail(t *testing.T, f *fixture, p authz.Principal, addr string) {
	t.Helper()
	if _, err := f.outbox.SetChannels(context.Background(), p, notify.ChannelsChange{Email: &addr}); err != nil {
		t.Fatal(err)
	}
}

// TestEmailReachesThePersonWhoChoseIt: Wang chooses email; a decision sent
// to him reaches his inbox and, through a real SMTP server, his mailbox in
// Chinese and English. Li, who chose nothing, gets the inbox only.
func TestEmailReachesThePersonWhoChoseIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.outbox.Offer(f.protector, notify.ChannelEmail)
		wang := f.person(t, "11010519600101001", "王五")
		li := f.person(t, "11010519700202002", "李四")
		chooseEmail(t, f, wang, " wangwu@example.cn ")
		if n := count(t, db, `SELECT count(*) FROM notify_channels WHERE email_enc LIKE '%wangwu%'`); n != 0 {
			t.Error("the email address is stored in clear")
		}
		c, err := f.outbox.Channels(ctx, wang)
		if err != nil || c.Email != "w*****@example.cn" || !c.InApp || c.SMS != "" {
			t.Errorf("Wang's channels = %+v, %v; want the inbox and the masked address", c, err)
		}
		bad := "not an address"
		if _, err := f.outbox.SetChannels(ctx, li, notify.ChannelsChange{Email: &bad}); err == nil {
			t.Error("an address without @ was accepted")
		}
		phone := "13800138000"
		if _, err := f.outbox.SetChannels(ctx, li, notify.ChannelsChange{SMS: &phone}); err == nil {
			t.Error("SMS was chosen on a platform that offers no SMS")
		}

		toWang := message(notify.Decision, "approved")
		toWang.TitleZh, toWang.BodyZh = "您的申请已批准", "老年人优待证申请已批准，请到证照夹查看。"
		toWang.PersonID = wang.PersonID
		wangID := f.send(t, toWang)
		toLi := message(notify.Decision, "rejected")
		toLi.PersonID = li.PersonID
		liID := f.send(t, toLi)
		if d := deliveries(t, db, liID); len(d) != 0 {
			t.Errorf("Li chose no channel, yet the message is also sent by %v", d)
		}
		emailID := deliveries(t, db, wangID)[notify.ChannelEmail]
		if emailID == 0 {
			t.Fatalf("no email delivery for Wang's message: %v", deliveries(t, db, wangID))
		}

		mb := notifytest.StartMailbox(t, false)
		emailWorker(t, f, mb)
		waitFor(t, "the email is delivered", func() bool { return messageRow(t, db, emailID).status == notify.StatusDelivered })
		// The in-app copy is its own job, worked beside the email's.
		waitFor(t, "the in-app message is delivered too", func() bool { return messageRow(t, db, wangID).status == notify.StatusDelivered })
		mails := mb.Received()
		if len(mails) != 1 || len(mails[0].To) != 1 || mails[0].To[0] != "wangwu@example.cn" || mails[0].From != "noreply@zwfw.example.gov.cn" {
			t.Fatalf("the mailbox received %+v, want one mail to wangwu@example.cn", mails)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(mails[0].Data)))
		if err != nil {
			t.Fatal(err)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || subject != "【一网通办】您的申请已批准" {
			t.Errorf("subject = %q (%v), want the Chinese title", subject, err)
		}
		raw, _ := io.ReadAll(msg.Body)
		body, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(raw), "\r\n", ""))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"您的申请已有办理结果。", "老年人优待证申请已批准，请到证照夹查看。", "Your application has a decision.", "Body: approved",
			"https://zwfw.example.gov.cn/applications/1"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("the email lacks %q:\n%s", want, body)
			}
		}
	})
}

// TestARefusingMailServerLeavesADeadLetter: the relay refuses for now,
// every time. The email is retried up to its budget, then failed with the
// relay's answer — the address masked — and listed for the system
// administrator, not for applicants; the inbox copy is delivered anyway.
func TestARefusingMailServerLeavesADeadLetter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.outbox.Offer(f.protector, notify.ChannelEmail)
		f.outbox.SetAttempts(3)
		wang := f.person(t, "11010519600101001", "王五")
		li := f.person(t, "11010519700202002", "李四")
		chooseEmail(t, f, wang, "wangwu@example.cn")
		m := message(notify.CorrectionRequested, "correct")
		m.AccountID = wang.AccountID
		id := f.send(t, m)
		emailID := deliveries(t, db, id)[notify.ChannelEmail]

		mb := notifytest.StartMailbox(t, true)
		emailWorker(t, f, mb)
		waitFor(t, "the email fails for good", func() bool { return messageRow(t, db, emailID).status == notify.StatusFailed })
		got := messageRow(t, db, emailID)
		if got.attempts != 3 || !strings.Contains(got.lastError, "451") || strings.Contains(got.lastError, "wangwu@") ||
			!strings.Contains(got.lastError, "w*****@example.cn") {
			t.Errorf("email row = %+v, want 3 attempts and the relay's 451 with the address masked", got)
		}
		if messageRow(t, db, id).status != notify.StatusDelivered {
			t.Error("the inbox copy was not delivered")
		}

		admin := authz.Principal{AccountID: 999, Kind: "staff", Roles: []authz.Role{authz.SysAdmin}}
		letters, err := f.outbox.DeadLetters(ctx, admin, 0, 0)
		if err != nil || len(letters) != 1 {
			t.Fatalf("dead letters = %+v, %v; want the email", letters, err)
		}
		d := letters[0]
		if d.ID != emailID || d.Channel != notify.ChannelEmail || d.Kind != notify.CorrectionRequested || d.Attempts != 3 ||
			d.Recipient != "w*****@example.cn" || d.SourceID != id || !strings.Contains(d.LastError, "451") {
			t.Errorf("dead letter = %+v", d)
		}
		for _, p := range []authz.Principal{wang, li} {
			if _, err := f.outbox.DeadLetters(ctx, p, 0, 0); !apperr.Is(err, apperr.Forbidden) {
				t.Errorf("applicant %d lists dead letters: %v, want forbidden", p.AccountID, err)
			}
		}
	})
}

// TestChannelsAndDeadLettersAPI: over the API, each person reads and
// changes only their own channels; the dead letters are the system
// administrator's, and an applicant is refused them.
func TestChannelsAndDeadLettersAPI(t *testing.T) {
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	f.outbox.Offer(f.protector, notify.ChannelEmail)
	wang := f.person(t, "11010519600101001", "王五")
	li := f.person(t, "11010519700202002", "李四")
	admin := authz.Principal{AccountID: 999, Kind: "staff", Roles: []authz.Role{authz.SysAdmin}}
	sms := message(notify.DeadlineWarning, "by sms")
	sms.AccountID, sms.Channel = wang.AccountID, notify.ChannelSMS
	failedID := f.send(t, sms)
	worker(t, db, notify.InApp{}) // no SMS channel here: the message fails at once
	waitFor(t, "the SMS fails", func() bool { return messageRow(t, db, failedID).status == notify.StatusFailed })

	r := httpx.NewRouter(quiet)
	notify.NewHandler(f.outbox, quiet).Register(r)
	contract := apitest.MustNew(t)
	do := func(p authz.Principal, method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body)).WithContext(authz.With(context.Background(), p))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := contract.Serve(t, r, req)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	const path = "/api/v1/me/notification-channels"
	if code, body := do(wang, "PATCH", path, `{"email": "wangwu@example.cn"}`); code != http.StatusOK || body["email"] != "w*****@example.cn" || body["in_app"] != true {
		t.Fatalf("Wang chooses email: %d %v", code, body)
	}
	if code, body := do(li, "GET", path, ""); code != http.StatusOK || body["email"] != nil {
		t.Errorf("Li's channels show %v (%d): Wang's address must not reach him", body, code)
	}
	if code, body := do(wang, "PATCH", path, `{"sms": "13800138000"}`); code != http.StatusBadRequest || body["error"].(map[string]any)["code"] != "channel_not_offered" {
		t.Errorf("choose SMS where none is offered: %d %v", code, body)
	}
	if code, _ := do(wang, "PATCH", path, `{"email": "wangwu"}`); code != http.StatusBadRequest {
		t.Errorf("choose a bad address: %d, want 400", code)
	}
	if code, body := do(wang, "GET", path, ""); body["email"] != "w*****@example.cn" {
		t.Errorf("after refused changes Wang's channels = %d %v, want them as they were", code, body)
	}
	if code, body := do(wang, "PATCH", path, `{"email": ""}`); code != http.StatusOK || body["email"] != nil {
		t.Errorf("Wang stops email: %d %v", code, body)
	}
	if code, _ := do(authz.Anonymous, "GET", path, ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous channels: %d, want 401", code)
	}

	const failed = "/api/v1/admin/notifications/failed"
	for _, p := range []authz.Principal{wang, li} {
		if code, body := do(p, "GET", failed, ""); code != http.StatusForbidden {
			t.Errorf("applicant %d lists dead letters: %d %v, want 403", p.AccountID, code, body)
		}
	}
	code, body := do(admin, "GET", failed, "")
	list, _ := body["failed"].([]any)
	if code != http.StatusOK || len(list) != 1 {
		t.Fatalf("the administrator's dead letters: %d %v", code, body)
	}
	d := list[0].(map[string]any)
	if d["channel"] != "sms" || d["kind"] != "deadline_warning" || d["attempts"] != 1.0 || !strings.Contains(d["last_error"].(string), "no sms channel") {
		t.Errorf("dead letter = %v", d)
	}
	if _, ok := d["body_zh"]; ok {
		t.Error("a dead letter shows the message's text")
	}
	attempts := "/api/v1/admin/notifications/" + strconv.FormatInt(failedID, 10) + "/attempts"
	code, body = do(admin, "GET", attempts, "")
	log, _ := body["attempts"].([]any)
	if code != http.StatusOK || len(log) != 1 || log[0].(map[string]any)["ok"] != false || !strings.Contains(log[0].(map[string]any)["error"].(string), "no sms channel") {
		t.Errorf("the delivery log: %d %v, want the one failed attempt", code, body)
	}
	if code, _ := do(wang, "GET", attempts, ""); code != http.StatusForbidden {
		t.Errorf("Wang reads the delivery log: %d, want 403", code)
	}
	if code, _ := do(admin, "GET", "/api/v1/admin/notifications/99999/attempts", ""); code != http.StatusNotFound {
		t.Errorf("the log of no delivery: %d, want 404", code)
	}
}

// TestEmailIsNeverSentInClearWhenSTARTTLSIsRequired: a relay that offers
// no STARTTLS gets nothing, and the operators read why.
func TestEmailIsNeverSentInClearWhenSTARTTLSIsRequired(t *testing.T) {
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	f.outbox.Offer(f.protector, notify.ChannelEmail)
	f.outbox.SetAttempts(1)
	wang := f.person(t, "11010519600101001", "王五")
	chooseEmail(t, f, wang, "wangwu@example.cn")
	m := message(notify.Decision, "approved")
	m.AccountID = wang.AccountID
	emailID := deliveries(t, db, f.send(t, m))[notify.ChannelEmail]
	mb := notifytest.StartMailbox(t, false)
	fastWorker(t, db, email.New(email.Config{Host: "127.0.0.1", Port: mb.Addr.Port, From: "noreply@zwfw.example.gov.cn", StartTLS: true}, f.outbox.Address))
	waitFor(t, "the email fails", func() bool { return messageRow(t, db, emailID).status == notify.StatusFailed })
	if got := messageRow(t, db, emailID); !strings.Contains(got.lastError, "does not offer STARTTLS") {
		t.Errorf("last error = %q, want the missing STARTTLS named", got.lastError)
	}
	if n := len(mb.Received()); n != 0 {
		t.Errorf("the relay received %d mails in clear", n)
	}
}
