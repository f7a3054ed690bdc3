package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"yiwang/internal/authz"
	"yiwang/internal/notify"
	"yiwang/internal/notify/sms"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// gateway is an SMS gateway: it checks the signature itself, takes texts
// to numbers starting 138, and refuses others, echoing the number as real
// gateways do.
type gateway struct {
	mu    sync.Mutex
	texts []map[string]string
	bad   int
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.Header.Get(notify.HeaderSignature) != signed(r.Header.Get(notify.HeaderTimestamp), body) {
		g.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var t map[string]string
	json.Unmarshal(body, &t)
	if !strings.HasPrefix(t["to"], "138") {
		http.Error(w, "number "+t["to"]+" is not served", http.StatusBadRequest)
		return
	}
	g.texts = append(g.texts, t)
}

// TestSMSReachesThePersonWhoChoseIt: Wang and Li choose SMS; the gateway
// receives Wang's text, signed, in Chinese with the link; it refuses Li's
// number for good, which leaves a dead letter with the number masked.
func TestSMSReachesThePersonWhoChoseIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.outbox.Offer(f.protector, notify.ChannelEmail, notify.ChannelSMS)
		wang := f.person(t, "11010519600101001", "王五")
		li := f.person(t, "11010519700202002", "李四")
		for p, phone := range map[*authz.Principal]string{&wang: "13800138000", &li: "13912345678"} {
			if _, err := f.outbox.SetChannels(ctx, *p, notify.ChannelsChange{SMS: &phone}); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM notify_channels WHERE phone_enc LIKE '%138001%' OR phone_enc LIKE '%139123%'`); n != 0 {
			t.Error("a mobile number is stored in clear")
		}
		if c, _ := f.outbox.Channels(ctx, li); c.SMS != "139****5678" {
			t.Errorf("Li's channels show SMS as %q, want the masked number", c.SMS)
		}
		toWang := message(notify.LicenceIssued, "issued")
		toWang.TitleZh, toWang.BodyZh, toWang.PersonID = "电子证照已签发", "您的老年人优待证已签发。", wang.PersonID
		wangSMS := deliveries(t, db, f.send(t, toWang))[notify.ChannelSMS]
		toLi := message(notify.Decision, "decided")
		toLi.PersonID = li.PersonID
		liSMS := deliveries(t, db, f.send(t, toLi))[notify.ChannelSMS]

		gw := &gateway{}
		srv := httptest.NewServer(gw)
		t.Cleanup(srv.Close)
		fastWorker(t, db, sms.New(sms.NewHTTP(srv.URL, secret), f.outbox.Address, "https://zwfw.example.gov.cn"))
		waitFor(t, "both texts are settled", func() bool {
			return messageRow(t, db, wangSMS).status == notify.StatusDelivered && messageRow(t, db, liSMS).status == notify.StatusFailed
		})
		gw.mu.Lock()
		texts, bad := gw.texts, gw.bad
		gw.mu.Unlock()
		if bad != 0 || len(texts) != 1 || texts[0]["to"] != "13800138000" ||
			texts[0]["text"] != "【一网通办】电子证照已签发：您的老年人优待证已签发。 https://zwfw.example.gov.cn/applications/1" {
			t.Fatalf("the gateway got %v (%d badly signed)", texts, bad)
		}
		got := messageRow(t, db, liSMS)
		if got.attempts != 1 || !strings.Contains(got.lastError, "400") || strings.Contains(got.lastError, "13912345678") || !strings.Contains(got.lastError, "139****5678") {
			t.Errorf("Li's text = %+v, want refused once, the number masked", got)
		}
	})
}

func TestALongTextIsCutAndKeepsItsLink(t *testing.T) {
	m := message(notify.Decision, "long")
	m.BodyZh = strings.Repeat("长", 1000)
	text := sms.Text(m, "https://zwfw.example.gov.cn")
	if n := len([]rune(text)); n != 300 || !strings.HasSuffix(text, "… https://zwfw.example.gov.cn/applications/1") {
		t.Errorf("text of %d runes ends %q", n, string([]rune(text)[280:]))
	}
}
