package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"yiwang/internal/jobs"
	"yiwang/internal/notify"
	"yiwang/internal/notify/webhook"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestRetentionPrunesDeliveredCopiesAndLogButNeverDeadLetters: after the
// retention period, delivered webhook copies lose their text and delivered
// messages their delivery log, in batches; the inbox keeps its text, and a
// dead letter keeps both its text and its log.
func TestRetentionPrunesDeliveredCopiesAndLogButNeverDeadLetters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ok := httptest.NewServer(&receiver{})
		t.Cleanup(ok.Close)
		refusing := httptest.NewServer(&receiver{statuses: []int{http.StatusBadRequest, http.StatusBadRequest, http.StatusBadRequest}})
		t.Cleanup(refusing.Close)
		endpoints := []webhook.Endpoint{
			{Name: "province", URL: ok.URL, Secret: secret, Kinds: []notify.Kind{notify.Decision}},
			{Name: "archive", URL: refusing.URL, Secret: secret, Kinds: []notify.Kind{notify.Decision}},
		}
		f.outbox.Forward(webhook.Subscriptions(endpoints))
		wang := f.person(t, "11010519600101001", "王五")
		for _, title := range []string{"one", "two", "three"} {
			m := message(notify.Decision, title)
			m.PersonID = wang.PersonID
			f.send(t, m)
		}
		fastWorker(t, db, webhook.New(endpoints, "https://zwfw.example.gov.cn"))
		waitFor(t, "every delivery is settled", func() bool {
			return count(t, db, `SELECT count(*) FROM outbox_messages WHERE status = 'pending'`) == 0
		})
		if n := count(t, db, `SELECT count(*) FROM outbox_messages WHERE status = 'failed'`); n != 3 {
			t.Fatalf("%d dead letters, want the archive's three", n)
		}
		logged := count(t, db, `SELECT count(*) FROM outbox_attempts`)

		keep := notify.NewRetention(db, 30)
		keep.SetBatch(2)
		if p, err := keep.Prune(ctx); err != nil || p != (notify.Pruned{}) {
			t.Fatalf("prune within the period = %+v, %v; want nothing pruned", p, err)
		}
		later := notify.NewRetention(db, 30)
		later.SetBatch(2) // three copies and six log entries take several batches
		later.SetClock(func() time.Time { return time.Now().UTC().AddDate(0, 0, 31) })
		p, err := later.Prune(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Delivered: three in-app messages and three province copies, one attempt each.
		if p.Bodies != 3 || p.Attempts != 6 {
			t.Errorf("pruned %+v, want the 3 province copies' text and the 6 delivered attempts", p)
		}
		if n := count(t, db, `SELECT count(*) FROM outbox_messages WHERE channel = 'webhook' AND status = 'delivered' AND body_zh = '' AND body_en = ''`); n != 3 {
			t.Errorf("%d delivered copies were cleared, want 3", n)
		}
		if n := count(t, db, `SELECT count(*) FROM outbox_messages WHERE status = 'failed' AND body_zh <> ''`); n != 3 {
			t.Errorf("%d dead letters keep their text, want all 3", n)
		}
		if n := count(t, db, `SELECT count(*) FROM outbox_attempts a JOIN outbox_messages m ON m.id = a.message_id WHERE m.status = 'failed'`); n != logged-6 || n == 0 {
			t.Errorf("dead letters keep %d log entries, want all %d", n, logged-6)
		}
		if in := inbox(t, f, wang, notify.InboxQuery{}); len(in.Messages) != 3 || in.Messages[0].BodyZh == "" {
			t.Errorf("the inbox after pruning = %+v, want the three messages with their text", in.Messages)
		}
		if p, err := later.Prune(ctx); err != nil || p != (notify.Pruned{}) {
			t.Errorf("pruning again = %+v, %v; want nothing left", p, err)
		}
		if p, err := notify.NewRetention(db, 0).Prune(ctx); err != nil || p != (notify.Pruned{}) {
			t.Errorf("retention 0 prunes %+v, %v", p, err)
		}
	})
}

// TestPruneIsAPeriodicDurableJob: serve's Schedule makes the prune due now;
// its run prunes and enqueues the next one, an hour later, once however many
// processes schedule it.
func TestPruneIsAPeriodicDurableJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := notify.NewRetention(db, 30)
		ws := jobs.NewWorkers()
		jobs.Register(ws, notify.NewPruneWorker(r))
		q, err := jobs.New(db, ws, quiet, jobs.Config{PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // two processes starting at once make one chain
			if err := r.Schedule(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM river_job WHERE kind = 'notify_prune'`); n != 1 {
			t.Fatalf("%d prune jobs scheduled, want one", n)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Stop(context.Background()) })
		waitFor(t, "the prune ran and scheduled the next", func() bool {
			return count(t, db, `SELECT count(*) FROM river_job WHERE kind = 'notify_prune' AND state = 'completed'`) == 1 &&
				count(t, db, `SELECT count(*) FROM river_job WHERE kind = 'notify_prune' AND state = 'scheduled'`) == 1
		})
		if err := notify.NewRetention(db, 0).Schedule(ctx, q); err != nil {
			t.Fatal(err)
		}
	})
}
