package notify_test

import (
	"context"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/notify"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestAdministratorRetriesDeadLettersOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		wang := f.person(t, "11010519600101001", "王五")
		admin := authz.Principal{AccountID: 999, Kind: "staff", Name: "管理员", Roles: []authz.Role{authz.SysAdmin}}
		var dead []int64
		for _, kind := range []notify.Kind{notify.Decision, notify.Decision, notify.LicenceIssued} {
			m := message(kind, string(kind))
			m.AccountID = wang.AccountID
			dead = append(dead, f.send(t, m))
		}
		ch := newCounting(0)
		ch.permanent = true
		q := worker(t, db, ch)
		waitFor(t, "every message failed", func() bool {
			return count(t, db, `SELECT count(*) FROM outbox_messages WHERE status = 'failed'`) == 3
		})
		q.Stop(ctx)
		ch.mu.Lock()
		ch.permanent = false
		ch.mu.Unlock()

		// Access is decided before anything is written.
		if _, err := f.outbox.Retry(ctx, wang, notify.RetryFilter{ID: dead[0]}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("an applicant retries: %v, want forbidden", err)
		}
		watcher := authz.Principal{AccountID: 998, Kind: "staff", Roles: []authz.Role{authz.Supervisor}}
		if _, err := f.outbox.Retry(ctx, watcher, notify.RetryFilter{Kind: notify.Decision}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a supervisor retries: %v, want forbidden", err)
		}
		for _, bad := range []notify.RetryFilter{{}, {ID: dead[0], Kind: notify.Decision}, {Channel: "fax"}, {Kind: "gossip"}} {
			if _, err := f.outbox.Retry(ctx, admin, bad); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("retry %+v: %v, want invalid", bad, err)
			}
		}
		if _, err := f.outbox.Retry(ctx, admin, notify.RetryFilter{ID: 1 << 40}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("retry of no delivery: %v, want not found", err)
		}
		if n := count(t, db, `SELECT count(*) FROM outbox_messages WHERE status = 'failed'`); n != 3 {
			t.Fatalf("refused retries changed dead letters: %d left of 3", n)
		}

		// One, pressed twice: the second finds it pending and sends nothing.
		res, err := f.outbox.Retry(ctx, admin, notify.RetryFilter{ID: dead[0]})
		if err != nil || len(res.Retried) != 1 || res.Retried[0] != dead[0] || res.AlreadyPending != 0 {
			t.Fatalf("retry one = %+v, %v", res, err)
		}
		res, err = f.outbox.Retry(ctx, admin, notify.RetryFilter{ID: dead[0]})
		if err != nil || len(res.Retried) != 0 || res.AlreadyPending != 1 {
			t.Fatalf("retry again while pending = %+v, %v; want nothing retried, one already pending", res, err)
		}
		// All of a kind: the other decision, not the licence notice.
		res, err = f.outbox.Retry(ctx, admin, notify.RetryFilter{Kind: notify.Decision, Channel: notify.ChannelInApp})
		if err != nil || len(res.Retried) != 1 || res.Retried[0] != dead[1] || res.More {
			t.Fatalf("retry decisions = %+v, %v; want the second decision only", res, err)
		}
		if n := count(t, db, `SELECT count(*) FROM audit_entries WHERE action = 'notify.retry' AND actor_id = '999'`); n != 2 {
			t.Errorf("%d retries audited, want 2", n)
		}

		worker(t, db, ch)
		waitFor(t, "both retried messages are delivered", func() bool {
			return messageRow(t, db, dead[0]).status == notify.StatusDelivered && messageRow(t, db, dead[1]).status == notify.StatusDelivered
		})
		for _, id := range dead[:2] {
			if n := ch.count(id); n != 2 {
				t.Errorf("message %d was tried %d times, want the failure and one retry", id, n)
			}
			if log := attemptLog(t, db, id); len(log) != 2 || log[0] == "" || log[1] != "" {
				t.Errorf("delivery log of %d = %q, want the old failure kept, then a success", id, log)
			}
			if got := messageRow(t, db, id); got.attempts != 2 {
				t.Errorf("message %d: %d attempts, want 2", id, got.attempts)
			}
		}
		if got := messageRow(t, db, dead[2]); got.status != notify.StatusFailed {
			t.Errorf("the licence notice, not asked for, is %s", got.status)
		}
		if _, err := f.outbox.Retry(ctx, admin, notify.RetryFilter{ID: dead[0]}); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("retry of a delivered message: %v, want conflict", err)
		}
		if in := inbox(t, f, wang, notify.InboxQuery{}); len(in.Messages) != 2 {
			t.Errorf("inbox has %d messages after the retries, want 2", len(in.Messages))
		}
	})
}
