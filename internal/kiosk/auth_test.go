package kiosk_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/demo"
	"yiwang/internal/identity"
	"yiwang/internal/kiosk"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// setUp seeds the demo data into db and registers 王五, who has no PIN yet.
func setUp(t *testing.T, db *store.DB) (context.Context, *identity.Store, *kiosk.PINs, identity.Account) {
	t.Helper()
	ctx := context.Background()
	if _, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true}); err != nil {
		t.Fatal(err)
	}
	key, _ := pii.NewKey()
	k, err := pii.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	protector, err := pii.NewProtector(k)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.NewStore(db, protector)
	acc, err := ids.RegisterPerson(ctx, demo.WangWu, "王五", "", "correct-horse-42")
	if err != nil {
		t.Fatal(err)
	}
	return ctx, ids, kiosk.NewPINs(db, ids), acc
}

func TestPINs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, _, pins, acc := setUp(t, db)
		var _ kiosk.Authenticator = pins

		if err := pins.Set(ctx, acc.ID, "12345"); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a five-digit PIN: %v, want refused", err)
		}
		if _, err := pins.Authenticate(ctx, demo.WangWu, kiosk.DemoPIN); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("before any PIN is set: %v, want refused", err)
		}
		if err := pins.SeedDemo(ctx, demo.WangWu); err != nil {
			t.Fatal(err)
		}
		if id, err := pins.Authenticate(ctx, demo.WangWu, kiosk.DemoPIN); err != nil || id != acc.ID {
			t.Fatalf("right PIN: %d, %v; want account %d", id, err, acc.ID)
		}
		if _, err := pins.Authenticate(ctx, demo.ZhangSan, kiosk.DemoPIN); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("a person without an account: %v, want the same refusal as a wrong PIN", err)
		}
		for i := range 5 {
			if _, err := pins.Authenticate(ctx, demo.WangWu, "000000"); err == nil {
				t.Fatalf("wrong PIN %d accepted", i+1)
			}
		}
		wantLocked(t, "after five wrong PINs the right one", pins, demo.WangWu, kiosk.DemoPIN)
		if err := pins.Set(ctx, acc.ID, "135790"); err != nil {
			t.Fatal(err)
		}
		if _, err := pins.Authenticate(ctx, demo.WangWu, "135790"); err != nil {
			t.Errorf("a new PIN set at the window unlocks: %v", err)
		}
	})
}

// Wrong PINs sent at the same time are counted before they are checked: 60
// at once check at most five, and lock the PIN.
func TestPINLockoutCountsParallelGuesses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, ids, pins, _ := setUp(t, db)
		if err := pins.SeedDemo(ctx, demo.WangWu); err != nil {
			t.Fatal(err)
		}
		hasher := identity.NewHasher(60, time.Minute)
		ids.SetHasher(hasher)
		var wg sync.WaitGroup
		for range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := pins.Authenticate(ctx, demo.WangWu, "000000"); !apperr.Is(err, apperr.Unauthenticated) {
					t.Errorf("a parallel wrong PIN: %v, want refused", err)
				}
			}()
		}
		wg.Wait()
		if checks := hasher.Guesses(); checks > 5 {
			t.Errorf("60 parallel wrong PINs checked %d, want at most 5", checks)
		}
		wantLocked(t, "the right PIN after the parallel guesses", pins, demo.WangWu, kiosk.DemoPIN)
	})
}

// wantLocked checks that the PIN of idNumber is refused for its lock, in
// the words of any other refusal.
func wantLocked(t *testing.T, what string, pins *kiosk.PINs, idNumber, pin string) {
	t.Helper()
	_, err := pins.Authenticate(context.Background(), idNumber, pin)
	e := apperr.As(err)
	if e == nil || e.Kind != apperr.Unauthenticated || e.Code != apperr.BadPIN || e.Message != "the ID card and PIN do not match" {
		t.Errorf("%s: %v, want the same refusal as a wrong PIN", what, err)
		return
	}
	if cause := apperr.As(e.Err); cause == nil || cause.Code != apperr.PINLocked {
		t.Errorf("%s: %v, want it refused for the lock", what, err)
	}
}

// TestPINAnswersDoNotTellWhoHasAnAccount: no account, no PIN, a wrong PIN
// and a locked PIN get the same answer, each after one PIN check; the
// holder is told of the lock.
func TestPINAnswersDoNotTellWhoHasAnAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, ids, pins, acc := setUp(t, db)
		told := &told{}
		ids.SetNotifier(told)
		hasher := identity.NewHasher(2, time.Minute)
		ids.SetHasher(hasher)
		type answer struct {
			kind    apperr.Kind
			code    apperr.Code
			message string
		}
		try := func(what, idNumber, pin string) answer {
			t.Helper()
			before, _ := hasher.Stats()
			_, err := pins.Authenticate(ctx, idNumber, pin)
			if after, _ := hasher.Stats(); after != before+1 {
				t.Errorf("%s: %d PIN checks, want 1 like any other attempt", what, after-before)
			}
			e := apperr.As(err)
			if e == nil {
				t.Fatalf("%s: %v, want refused", what, err)
			}
			return answer{e.Kind, e.Code, e.Message}
		}
		want := try("no account", demo.ZhangSan, kiosk.DemoPIN)
		if got := try("no PIN yet", demo.WangWu, kiosk.DemoPIN); got != want {
			t.Errorf("no PIN yet: %+v, want %+v", got, want)
		}
		if err := pins.SeedDemo(ctx, demo.WangWu); err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			if got := try(fmt.Sprintf("wrong PIN %d", i+1), demo.WangWu, "000000"); got != want {
				t.Errorf("wrong PIN %d: %+v, want %+v", i+1, got, want)
			}
		}
		if got := try("locked, right PIN", demo.WangWu, kiosk.DemoPIN); got != want {
			t.Errorf("locked, the right PIN: %+v, want %+v", got, want)
		}
		if len(told.to) != 1 || told.to[0].AccountID != acc.ID || told.to[0].Kind != notify.AccountSecurity {
			t.Errorf("the holder was told %+v, want one account_security message", told.to)
		}
	})
}

// told records the messages written to account holders.
type told struct{ to []notify.Message }

func (n *told) Send(_ context.Context, _ *sql.Tx, m notify.Message) (int64, error) {
	n.to = append(n.to, m)
	return int64(len(n.to)), nil
}
