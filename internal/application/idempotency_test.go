package application_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestSubmitRetriesOverlapping sends one submission with one key many times
// at once, staggered so that some retries read the draft just before
// another one commits: every answer is the submitted application with its
// number, never the draft a retry read first; and the submission counts
// once against the applicant's daily limit. (cmd/yiwang's crash test found
// answers without a number, and retries refused as over the limit.)
func TestSubmitRetriesOverlapping(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		for round := range 3 {
			a, err := f.apps.Drafts.Start(ctx, f.p, application.StartRequest{ItemCode: seniorCard})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.apps.Drafts.UpdateForm(ctx, f.p, a.ID, map[string]any{"delivery": "post"}); err != nil {
				t.Fatal(err)
			}
			answers := make([]application.Application, 12)
			errs := make([]error, len(answers))
			var wg sync.WaitGroup
			for i := range answers {
				wg.Go(func() {
					time.Sleep(time.Duration(i) * 4 * time.Millisecond)
					answers[i], errs[i] = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, fmt.Sprint("overlap-", round))
				})
			}
			wg.Wait()
			for i, got := range answers {
				if errs[i] != nil || got.Status == "draft" || got.Number == "" || got.Number != answers[0].Number {
					t.Errorf("round %d, retry %d: %s %q (first %q), %v", round, i, got.Status, got.Number, answers[0].Number, errs[i])
				}
			}
		}
		var counted int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM rate_events WHERE action = 'submit'`).Scan(&counted); err != nil || counted != 3 {
			t.Errorf("3 submissions counted %d times against the limit (%v)", counted, err)
		}
	})
}
