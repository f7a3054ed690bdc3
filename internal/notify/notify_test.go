package notify_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apitest"
	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/org"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// idNumber makes a valid resident ID number from its first 17 digits.
func idNumber(t *testing.T, first17 string) string {
	t.Helper()
	c, err := ident.IDNumberCheck(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(c)
}

type fixture struct {
	db        *store.DB
	ids       *identity.Store
	outbox    *notify.Outbox
	protector *pii.Protector
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	key, _ := pii.NewKey()
	k, err := pii.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	protector, err := pii.NewProtector(k)
	if err != nil {
		t.Fatal(err)
	}
	// An enqueue-only queue, as in a process that does not work jobs.
	q, err := jobs.New(db, jobs.NewWorkers(), quiet, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, ids: identity.NewStore(db, protector), outbox: notify.NewOutbox(db, q), protector: protector}
}

// person registers an applicant account and returns how it signs in.
func (f *fixture) person(t *testing.T, first17, name string) authz.Principal {
	t.Helper()
	a, err := f.ids.RegisterPerson(context.Background(), idNumber(t, first17), name, "", "long-enough-password")
	if err != nil {
		t.Fatal(err)
	}
	return authz.Principal{AccountID: a.ID, Kind: "person", PersonID: a.PersonID, Roles: a.Roles}
}

// send sends m in its own committed transaction.
func (f *fixture) send(t *testing.T, m notify.Message) int64 {
	t.Helper()
	var id int64
	err := f.db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		id, err = f.outbox.Send(context.Background(), tx, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func message(kind notify.Kind, title string) notify.Message {
	return notify.Message{Kind: kind, TitleZh: title + "（中文）", TitleEn: title, BodyZh: "正文：" + title, BodyEn: "Body: " + title, Link: "/applications/1"}
}

// countingChannel counts deliveries by message and fails the first
// failFirst calls.
type countingChannel struct {
	notify.Channel
	mu        sync.Mutex
	calls     map[int64]int
	failFirst int
	permanent bool
}

func newCounting(failFirst int) *countingChannel {
	return &countingChannel{Channel: notify.InApp{}, calls: map[int64]int{}, failFirst: failFirst}
}

func (c *countingChannel) Deliver(ctx context.Context, m notify.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[m.ID]++
	if c.permanent {
		return notify.Permanent(errors.New("the recipient has no mobile number on file"))
	}
	if c.failFirst > 0 {
		c.failFirst--
		return errors.New("gateway timeout")
	}
	return c.Channel.Deliver(ctx, m)
}

func (c *countingChannel) count(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

// worker starts a process's job queue that delivers through ch.
func worker(t *testing.T, db *store.DB, ch notify.Channel) *jobs.Queue {
	t.Helper()
	ws := jobs.NewWorkers()
	jobs.Register(ws, notify.NewWorker(db, ch))
	q, err := jobs.New(db, ws, quiet, jobs.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(context.Background()) })
	return q
}

type row struct {
	status, lastError string
	attempts          int
}

func messageRow(t *testing.T, db *store.DB, id int64) row {
	t.Helper()
	var r row
	if err := db.QueryRowContext(context.Background(), `SELECT status, attempts, last_error FROM outbox_messages WHERE id = $1`, id).
		Scan(&r.status, &r.attempts, &r.lastError); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitFor polls cond until it holds or 30 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func inbox(t *testing.T, f *fixture, p authz.Principal, q notify.InboxQuery) notify.Inbox {
	t.Helper()
	in, err := f.outbox.Inbox(context.Background(), p, q)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestAMessageExistsOnlyIfItsChangeCommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		wang := f.person(t, "11010519600101001", "王五")

		abandoned := errors.New("the reviewer's decision failed to save")
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			m := message(notify.Decision, "rolled back")
			m.AccountID = wang.AccountID
			if _, err := f.outbox.Send(ctx, tx, m); err != nil {
				return err
			}
			return abandoned
		})
		if !errors.Is(err, abandoned) {
			t.Fatal(err)
		}
		m := message(notify.Decision, "committed")
		m.AccountID = wang.AccountID
		id := f.send(t, m)

		if in := inbox(t, f, wang, notify.InboxQuery{}); len(in.Messages) != 0 || in.Unread != 0 {
			t.Fatalf("before delivery the inbox shows %+v; a pending message must not be visible yet", in)
		}
		ch := newCounting(0)
		worker(t, db, ch)
		waitFor(t, "the committed message is delivered", func() bool { return messageRow(t, db, id).status == notify.StatusDelivered })

		in := inbox(t, f, wang, notify.InboxQuery{})
		if len(in.Messages) != 1 || in.Messages[0].ID != id || in.Messages[0].TitleEn != "committed" || in.Unread != 1 {
			t.Fatalf("inbox = %+v, want only the committed message, unread", in)
		}
		if n := count(t, db, `SELECT count(*) FROM outbox_messages`); n != 1 {
			t.Errorf("%d messages stored, want 1: the rolled-back one must not exist", n)
		}
		if n := count(t, db, `SELECT count(*) FROM river_job`); n != 1 {
			t.Errorf("%d delivery jobs, want 1: the rolled-back one must not exist", n)
		}
	})
}

// TestDeliveryIsDurableAndHappensOnce: the message is committed by a process
// that stops before delivering it; two processes come up and compete for the
// job; the first delivery attempt fails and is retried. The message is
// delivered once.
func TestDeliveryIsDurableAndHappensOnce(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db1, err := store.Open(ctx, dsn, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db1.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, db1)
		wang := f.person(t, "11010519600101001", "王五")
		m := message(notify.CorrectionRequested, "please correct")
		m.AccountID = wang.AccountID
		id := f.send(t, m)
		db1.Close() // the process stops before anything delivers the message

		ch := newCounting(1) // the first attempt fails
		var dbs []*store.DB
		for range 2 {
			db, err := store.Open(ctx, dsn, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			worker(t, db, ch)
			dbs = append(dbs, db)
		}
		waitFor(t, "the failed attempt is recorded", func() bool { return messageRow(t, dbs[0], id).attempts >= 1 })
		waitFor(t, "the retry delivers the message", func() bool { return messageRow(t, dbs[0], id).status == notify.StatusDelivered })
		time.Sleep(300 * time.Millisecond) // several poll rounds for a duplicate to show

		if got := messageRow(t, dbs[0], id); got.attempts != 2 || got.lastError != "gateway timeout" {
			t.Errorf("message row = %+v, want delivered on the 2nd attempt with the 1st attempt's error kept", got)
		}
		if n := ch.count(id); n != 2 {
			t.Errorf("channel called %d times, want 2: one failure and one delivery", n)
		}
		if n := count(t, dbs[0], `SELECT count(*) FROM river_job WHERE state = 'completed'`); n != 1 {
			t.Errorf("%d completed delivery jobs, want 1", n)
		}
		f.db = dbs[0]
		f.outbox = notify.NewOutbox(dbs[0], nil)
		if in := inbox(t, f, wang, notify.InboxQuery{}); len(in.Messages) != 1 || in.Unread != 1 {
			t.Errorf("inbox after delivery = %+v, want the one message", in)
		}
	})
}

func TestPermanentFailureAndUnknownChannelFailAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		wang := f.person(t, "11010519600101001", "王五")
		sms := message(notify.DeadlineWarning, "by sms")
		sms.AccountID, sms.Channel = wang.AccountID, notify.ChannelSMS
		smsID := f.send(t, sms)
		inApp := message(notify.Decision, "in app")
		inApp.AccountID = wang.AccountID
		inAppID := f.send(t, inApp)

		ch := newCounting(0)
		ch.permanent = true
		worker(t, db, ch) // this deployment has no SMS channel
		waitFor(t, "both messages are settled", func() bool {
			return messageRow(t, db, smsID).status != notify.StatusPending && messageRow(t, db, inAppID).status != notify.StatusPending
		})
		if got := messageRow(t, db, smsID); got.status != notify.StatusFailed || got.attempts != 1 || !strings.Contains(got.lastError, "no sms channel is configured") {
			t.Errorf("sms message = %+v, want failed once: no SMS channel", got)
		}
		if got := messageRow(t, db, inAppID); got.status != notify.StatusFailed || got.attempts != 1 || !strings.Contains(got.lastError, "no mobile number") {
			t.Errorf("in-app message = %+v, want failed after one permanent error", got)
		}
		time.Sleep(300 * time.Millisecond)
		if n := ch.count(inAppID); n != 1 {
			t.Errorf("a permanently failed message was tried %d times", n)
		}
		if in := inbox(t, f, wang, notify.InboxQuery{}); len(in.Messages) != 0 {
			t.Errorf("failed messages in the inbox: %+v", in.Messages)
		}
	})
}

func TestEachPersonSeesOnlyTheirOwnMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		wang := f.person(t, "11010519600101001", "王五")
		li := f.person(t, "11010519700202002", "李四")
		// A co-party named by ID number, with no account yet.
		zhaoID := idNumber(t, "11010519800303003")
		zhaoPerson, err := f.ids.PutPerson(ctx, db, zhaoID, "赵六", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := org.PutRegion(ctx, db, org.Region{Code: "910102", Level: "district", NameZh: "明德区", NameEn: "Mingde"}); err != nil {
			t.Fatal(err)
		}
		if err := org.PutDepartment(ctx, db, org.Department{Code: "civil", RegionCode: "910102", NameZh: "民政局", NameEn: "Civil affairs"}); err != nil {
			t.Fatal(err)
		}
		clerk, err := f.ids.CreateStaff(ctx, identity.NewStaff{Username: "clerk1", DisplayName: "窗口一", Password: "long-enough-password",
			Department: "civil", Region: "910102", Roles: []authz.Role{authz.Clerk}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		staff := authz.Principal{AccountID: clerk.ID, Kind: "staff", Roles: clerk.Roles}

		var wangIDs []int64
		for i := range 3 {
			m := message(notify.Decision, fmt.Sprintf("wang %d", i))
			m.AccountID = wang.AccountID
			wangIDs = append(wangIDs, f.send(t, m))
		}
		toWangAsPerson := message(notify.CorrectionRequested, "wang by person")
		toWangAsPerson.PersonID = wang.PersonID
		wangIDs = append(wangIDs, f.send(t, toWangAsPerson))
		liMsg := message(notify.Decision, "li")
		liMsg.AccountID = li.AccountID
		liID := f.send(t, liMsg)
		invite := message(notify.CopartyInvitation, "zhao invited")
		invite.PersonID = zhaoPerson
		inviteID := f.send(t, invite)
		warn := message(notify.DeadlineWarning, "clerk warning")
		warn.AccountID = clerk.ID
		warnID := f.send(t, warn)

		worker(t, db, notify.InApp{})
		waitFor(t, "every message is delivered", func() bool {
			return count(t, db, `SELECT count(*) FROM outbox_messages WHERE status = 'delivered'`) == 7
		})

		in := inbox(t, f, wang, notify.InboxQuery{})
		if got := ids(in.Messages); fmt.Sprint(got) != fmt.Sprint(reverse(wangIDs)) || in.Unread != 4 {
			t.Errorf("Wang's inbox = %v (unread %d), want %v newest first, 4 unread", got, in.Unread, reverse(wangIDs))
		}
		if in := inbox(t, f, li, notify.InboxQuery{}); fmt.Sprint(ids(in.Messages)) != fmt.Sprint([]int64{liID}) || in.Unread != 1 {
			t.Errorf("Li's inbox = %v, want only his own", ids(in.Messages))
		}
		if in := inbox(t, f, staff, notify.InboxQuery{}); fmt.Sprint(ids(in.Messages)) != fmt.Sprint([]int64{warnID}) {
			t.Errorf("the clerk's inbox = %v, want only the warning to him", ids(in.Messages))
		}

		// Li cannot read or mark Wang's message: to him it does not exist.
		if _, err := f.outbox.MarkRead(ctx, li, wangIDs[0]); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("Li marks Wang's message read: %v, want not found", err)
		}
		if _, err := f.outbox.MarkRead(ctx, authz.Anonymous, wangIDs[0]); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("anonymous marks a message read: %v, want sign in", err)
		}
		if in := inbox(t, f, wang, notify.InboxQuery{}); in.Unread != 4 {
			t.Errorf("after Li's attempt Wang has %d unread, want 4", in.Unread)
		}

		// Wang reads one; reading it again keeps the first time.
		first, err := f.outbox.MarkRead(ctx, wang, wangIDs[1])
		if err != nil || first.ReadAt == nil {
			t.Fatalf("mark read: %+v, %v", first, err)
		}
		time.Sleep(5 * time.Millisecond)
		again, err := f.outbox.MarkRead(ctx, wang, wangIDs[1])
		if err != nil || !again.ReadAt.Equal(*first.ReadAt) {
			t.Errorf("reading again changed read_at from %v to %v (%v)", first.ReadAt, again.ReadAt, err)
		}
		in = inbox(t, f, wang, notify.InboxQuery{UnreadOnly: true})
		if in.Unread != 3 || len(in.Messages) != 3 {
			t.Errorf("after reading one: %d unread listed, count %d; want 3", len(in.Messages), in.Unread)
		}

		// Pages: two at a time, newest first, down to the end.
		page1 := inbox(t, f, wang, notify.InboxQuery{Limit: 2})
		page2 := inbox(t, f, wang, notify.InboxQuery{Limit: 2, Before: page1.NextBefore})
		if fmt.Sprint(ids(page1.Messages), ids(page2.Messages)) != fmt.Sprint(reverse(wangIDs)[:2], reverse(wangIDs)[2:]) || page2.NextBefore != 0 {
			t.Errorf("pages %v then %v (next %d), want %v", ids(page1.Messages), ids(page2.Messages), page2.NextBefore, reverse(wangIDs))
		}

		// The co-party sees the invitation once they register.
		a, err := f.ids.RegisterPerson(ctx, zhaoID, "赵六", "", "long-enough-password")
		if err != nil {
			t.Fatal(err)
		}
		zhao := authz.Principal{AccountID: a.ID, Kind: "person", PersonID: a.PersonID}
		if in := inbox(t, f, zhao, notify.InboxQuery{}); fmt.Sprint(ids(in.Messages)) != fmt.Sprint([]int64{inviteID}) {
			t.Errorf("Zhao's inbox after registering = %v, want the invitation %d", ids(in.Messages), inviteID)
		}
	})
}

func ids(ms []notify.Message) []int64 {
	out := []int64{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func reverse(s []int64) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestSendRefusesMessagesThatCannotBeDelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		wang := f.person(t, "11010519600101001", "王五")
		li := f.person(t, "11010519700202002", "李四")
		for _, tc := range []struct {
			name string
			edit func(m *notify.Message)
			want string
		}{
			{"no recipient", func(m *notify.Message) { m.AccountID = 0 }, "no recipient"},
			{"unknown kind", func(m *notify.Message) { m.Kind = "decison" }, `kind "decison"`},
			{"unknown channel", func(m *notify.Message) { m.Channel = "fax" }, `channel "fax"`},
			{"no English title", func(m *notify.Message) { m.TitleEn = " " }, "lacks TitleEn"},
			{"no Chinese body", func(m *notify.Message) { m.BodyZh = "" }, "lacks BodyZh"},
			{"title too long", func(m *notify.Message) { m.TitleZh = strings.Repeat("长", 201) }, "201 characters"},
			{"link to another site", func(m *notify.Message) { m.Link = "https://evil.example/login" }, "path on this site"},
			{"scheme-relative link", func(m *notify.Message) { m.Link = "//evil.example/" }, "path on this site"},
			{"account and person disagree", func(m *notify.Message) { m.PersonID = li.PersonID }, "not the same person"},
		} {
			m := message(notify.Decision, "x")
			m.AccountID = wang.AccountID
			tc.edit(&m)
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := f.outbox.Send(ctx, tx, m)
				return err
			})
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want an invalid error saying %q", tc.name, err, tc.want)
			}
		}
		both := message(notify.Decision, "both")
		both.AccountID, both.PersonID = wang.AccountID, wang.PersonID
		f.send(t, both)
		if n := count(t, db, `SELECT count(*) FROM outbox_messages`); n != 1 {
			t.Errorf("%d messages stored, want only the valid one", n)
		}
	})
}

func TestInboxAPI(t *testing.T) {
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	wang := f.person(t, "11010519600101001", "王五")
	li := f.person(t, "11010519700202002", "李四")
	m := message(notify.Decision, "approved")
	m.AccountID, m.ApplicationID = wang.AccountID, 0
	id := f.send(t, m)
	worker(t, db, notify.InApp{})
	waitFor(t, "delivery", func() bool { return messageRow(t, db, id).status == notify.StatusDelivered })

	r := httpx.NewRouter(quiet)
	notify.NewHandler(f.outbox, quiet).Register(r)
	contract := apitest.MustNew(t)
	do := func(p authz.Principal, method, path string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, nil).WithContext(authz.With(context.Background(), p))
		rec := contract.Serve(t, r, req)
		var body map[string]any
		json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
	code, body := do(wang, "GET", "/api/v1/me/notifications")
	list, _ := body["notifications"].([]any)
	if code != http.StatusOK || len(list) != 1 || body["unread"] != 1.0 {
		t.Fatalf("GET inbox: %d %v", code, body)
	}
	got := list[0].(map[string]any)
	for k, want := range map[string]any{"kind": "decision", "title_zh": "approved（中文）", "title_en": "approved", "link": "/applications/1", "read_at": nil} {
		if got[k] != want {
			t.Errorf("notification %s = %v, want %v", k, got[k], want)
		}
	}
	for _, hidden := range []string{"account_id", "person_id", "channel", "status"} {
		if _, ok := got[hidden]; ok {
			t.Errorf("the inbox shows %s", hidden)
		}
	}
	path := "/api/v1/me/notifications/" + strconv.FormatInt(id, 10) + "/read"
	if code, body := do(li, "POST", path); code != http.StatusNotFound {
		t.Errorf("Li marks Wang's message read: %d %v, want 404", code, body)
	}
	if code, body := do(wang, "POST", path); code != http.StatusOK || body["read_at"] == nil {
		t.Errorf("Wang marks it read: %d %v", code, body)
	}
	if _, body := do(wang, "GET", "/api/v1/me/notifications"); body["unread"] != 0.0 {
		t.Errorf("unread after reading = %v, want 0", body["unread"])
	}
	for _, bad := range []string{"?limit=0x10", "?limit=500", "?before=-1", "?unread=yes"} {
		if code, _ := do(wang, "GET", "/api/v1/me/notifications"+bad); code != http.StatusBadRequest {
			t.Errorf("GET inbox%s: %d, want 400", bad, code)
		}
	}
	if code, _ := do(wang, "POST", "/api/v1/me/notifications/abc/read"); code != http.StatusBadRequest {
		t.Errorf("mark read with a bad id: %d, want 400", code)
	}
	if code, _ := do(authz.Anonymous, "GET", "/api/v1/me/notifications"); code != http.StatusUnauthorized {
		t.Errorf("anonymous inbox: %d, want 401", code)
	}
}
