package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/authz"
	"yiwang/internal/notify"
	"yiwang/internal/notify/webhook"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

const secret = "a-secret-of-the-province-platform-0123456789"

// signed is the signature of body at ts as a receiver computes it, apart
// from the platform's code.
func signed(ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// receiver is another government system: it checks every request's
// signature itself and answers with the statuses it is given, in turn.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	events   []map[string]any
	bad      []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get("X-Yiwang-Timestamp")
	want := signed(ts, body)
	sec, _ := strconv.ParseInt(ts, 10, 64)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !hmac.Equal([]byte(r.Header.Get("X-Yiwang-Signature")), []byte(want)) || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		rc.bad = append(rc.bad, r.Header.Get("X-Yiwang-Signature"))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	if status == http.StatusOK {
		var ev map[string]any
		json.Unmarshal(body, &ev)
		ev["delivery"] = r.Header.Get("X-Yiwang-Delivery")
		rc.events = append(rc.events, ev)
	}
	w.WriteHeader(status)
}

// TestWebhooksAreSignedRetriedAndLogged: decisions are forwarded to the
// provincial platform, which is down once and then takes the event with a
// valid signature; the delivery log shows both attempts. Another endpoint
// refuses for good and leaves a dead letter; a kind nobody subscribed to
// goes nowhere.
func TestWebhooksAreSignedRetriedAndLogged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		province := &receiver{statuses: []int{http.StatusServiceUnavailable}}
		provinceSrv := httptest.NewServer(province)
		t.Cleanup(provinceSrv.Close)
		refusing := &receiver{statuses: []int{http.StatusBadRequest}}
		refusingSrv := httptest.NewServer(refusing)
		t.Cleanup(refusingSrv.Close)
		endpoints := []webhook.Endpoint{
			{Name: "province", URL: provinceSrv.URL, Secret: secret, Kinds: []notify.Kind{notify.Decision}},
			{Name: "archive", URL: refusingSrv.URL, Secret: secret, Kinds: []notify.Kind{notify.Decision}},
		}
		f.outbox.Forward(webhook.Subscriptions(endpoints))
		wang := f.person(t, "11010519600101001", "王五")
		m := message(notify.Decision, "approved")
		m.PersonID, m.ApplicationID = wang.PersonID, 0
		id := f.send(t, m)
		other := message(notify.CorrectionRequested, "correct")
		other.PersonID = wang.PersonID
		if d := deliveries(t, db, f.send(t, other)); len(d) != 0 {
			t.Errorf("a kind nobody subscribed to is forwarded: %v", d)
		}
		var hooks []int64
		rows, err := db.QueryContext(ctx, `SELECT id FROM outbox_messages WHERE source_id = $1 AND channel = 'webhook' ORDER BY target DESC`, id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var h int64
			rows.Scan(&h)
			hooks = append(hooks, h)
		}
		rows.Close()
		if len(hooks) != 2 {
			t.Fatalf("%d webhook deliveries, want one per endpoint", len(hooks))
		}
		provinceID, archiveID := hooks[0], hooks[1]

		fastWorker(t, db, webhook.New(endpoints, "https://zwfw.example.gov.cn"))
		waitFor(t, "both webhooks are settled", func() bool {
			return messageRow(t, db, provinceID).status == notify.StatusDelivered && messageRow(t, db, archiveID).status == notify.StatusFailed
		})

		province.mu.Lock()
		if len(province.bad) != 0 || len(province.events) != 1 {
			t.Fatalf("province got %d events and %d badly signed requests, want one event", len(province.events), len(province.bad))
		}
		ev := province.events[0]
		province.mu.Unlock()
		if ev["kind"] != "decision" || ev["title_zh"] != "approved（中文）" || ev["link"] != "https://zwfw.example.gov.cn/applications/1" || ev["delivery"] != strconv.FormatInt(provinceID, 10) {
			t.Errorf("the event = %v", ev)
		}
		log := attemptLog(t, db, provinceID)
		if len(log) != 2 || log[0] == "" || !strings.Contains(log[0], "503") || log[1] != "" {
			t.Errorf("delivery log of the province webhook = %q, want a 503 then a success", log)
		}
		admin := authz.Principal{AccountID: 999, Kind: "staff", Roles: []authz.Role{authz.SysAdmin}}
		letters, err := f.outbox.DeadLetters(ctx, admin, 0, 0)
		if err != nil || len(letters) != 1 || letters[0].ID != archiveID || letters[0].Recipient != "archive" || letters[0].Attempts != 1 ||
			!strings.Contains(letters[0].LastError, "400") {
			t.Errorf("dead letters = %+v, %v; want the archive's refused event, after one attempt", letters, err)
		}
	})
}

// attemptLog returns each attempt's error, oldest first; "" is a success.
func attemptLog(t *testing.T, db *store.DB, id int64) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT ok, error FROM outbox_attempts WHERE message_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ok bool
		var e string
		if err := rows.Scan(&ok, &e); err != nil {
			t.Fatal(err)
		}
		if ok != (e == "") {
			t.Errorf("attempt ok=%v with error %q", ok, e)
		}
		out = append(out, e)
	}
	return out
}

func TestWebhooksFileIsCheckedWithItsSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "webhooks.yaml")
	os.WriteFile(path, []byte("endpoints:\n  - name: province\n    url: https://gov.example.cn/hook\n    secret_env: HOOK_SECRET\n    kinds: [decision, licence_issued]\n"), 0o600)
	env := map[string]string{"HOOK_SECRET": secret}
	eps, err := webhook.Load(path, func(k string) string { return env[k] })
	if err != nil || len(eps) != 1 || eps[0].Secret != secret || len(eps[0].Kinds) != 2 {
		t.Fatalf("Load = %+v, %v", eps, err)
	}
	os.WriteFile(path, []byte("endpoints:\n  - name: province\n    url: https://gov.example.cn/hook\n    secret_env: HOOK_SECRET\n    kinds: [account_security]\n"), 0o600)
	if _, err := webhook.Load(path, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "holder only") {
		t.Errorf("account_security forwarded to another system: %v, want refused", err)
	}
	env["HOOK_SECRET"] = "short"
	if _, err := webhook.Load(path, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "HOOK_SECRET") || strings.Contains(err.Error(), "short") {
		t.Errorf("a short secret: %v, want refused, naming the variable and not the secret", err)
	}
}
