package kiosk_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/demo"
	"yiwang/internal/identity"
	"yiwang/internal/kiosk"
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
		if _, err := pins.Authenticate(ctx, demo.WangWu, kiosk.DemoPIN); !apperr.Is(err, apperr.TooMany) {
			t.Errorf("after five wrong PINs the right one: %v, want locked", err)
		}
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
				if _, err := pins.Authenticate(ctx, demo.WangWu, "000000"); !apperr.Is(err, apperr.Unauthenticated) && !apperr.Is(err, apperr.TooMany) {
					t.Errorf("a parallel wrong PIN: %v, want refused", err)
				}
			}()
		}
		wg.Wait()
		if checks, _ := hasher.Stats(); checks > 5 {
			t.Errorf("60 parallel wrong PINs checked %d, want at most 5", checks)
		}
		if _, err := pins.Authenticate(ctx, demo.WangWu, kiosk.DemoPIN); !apperr.Is(err, apperr.TooMany) {
			t.Errorf("the right PIN after the parallel guesses: %v, want locked", err)
		}
	})
}
