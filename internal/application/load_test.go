package application_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/identity"
	"yiwang/internal/store/storetest"
)

// TestSubmissionsUnderAFullPool submits 64 instant-approval applications at
// once through a PostgreSQL pool of 8 connections. A submission that holds a
// shared counter row inside its transaction and then asks the pool for a
// second connection waits for one that the others, waiting on that row,
// never give back: every submission stalls. All 64 must finish, each approved
// with its own number and licence.
func TestSubmissionsUnderAFullPool(t *testing.T) {
	t.Parallel()
	db := storetest.Postgres(t)
	f := setupLimits(t, db, nil, nil, calendars(t), identity.NewLimiterSubmissions(db, 1000))
	ctx := context.Background()
	const n = 64
	drafts := make([]int64, n)
	for i := range drafts {
		a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "electronic"}); err != nil {
			t.Fatal(err)
		}
		drafts[i] = a.ID
	}
	db.SetMaxOpenConns(8)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	results := make([]application.Application, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, id := range drafts {
		wg.Go(func() { results[i], errs[i] = f.apps.Drafts.Submit(ctx, f.p, id, 0, "") })
	}
	wg.Wait()
	numbers := map[string]bool{}
	for i, a := range results {
		if errs[i] != nil {
			t.Fatalf("submission %d of %d: %v", i+1, n, errs[i])
		}
		if a.Status != "licence_issued" || numbers[a.Number] {
			t.Errorf("submission %d: status %s, number %s (repeated: %v)", i+1, a.Status, a.Number, numbers[a.Number])
		}
		numbers[a.Number] = true
	}
}
