package kiosk_test

import (
	"context"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/demo"
	"yiwang/internal/identity"
	"yiwang/internal/kiosk"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func TestPINs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
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
		pins := kiosk.NewPINs(db, ids)
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
