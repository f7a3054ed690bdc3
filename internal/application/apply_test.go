package application_test

import (
	"context"
	"sync"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestApplyWritesOnceOrNothing: the one-call application stores the
// consent, the log of every read, the application, its decision and its
// licence together; a refused call leaves no trace (not even of the reads
// it made); retries, also concurrent ones, answer the one application.
func TestApplyWritesOnceOrNothing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, nil)
		count := func() (n [4]int) {
			for i, table := range []string{"applications", "consents", "data_reads", "licences"} {
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n[i]); err != nil {
					t.Fatal(err)
				}
			}
			return n
		}
		before := count()
		req := application.ApplyRequest{StartRequest: application.StartRequest{ItemCode: seniorCard, IdempotencyKey: "one-call-1"}, Consent: true}
		if _, err := f.apps.Drafts.Apply(ctx, f.p, req); !apperr.Is(err, apperr.Invalid) || apperr.As(err).Code != apperr.Incomplete {
			t.Fatalf("one call without the delivery field: %v, want incomplete", err)
		}
		if after := count(); after != before {
			t.Fatalf("a refused one-call application wrote rows: applications, consents, reads, licences %v → %v", before, after)
		}

		req.Form = map[string]any{"delivery": "electronic"}
		answers := make([]application.Application, 6)
		errs := make([]error, len(answers))
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() { answers[i], errs[i] = f.apps.Drafts.Apply(ctx, f.p, req) })
		}
		wg.Wait()
		a := answers[0]
		for i, got := range answers {
			if errs[i] != nil || got.ID != a.ID || got.Status != "licence_issued" || got.Number == "" {
				t.Fatalf("concurrent one call %d: application %d %s %q, %v (first: %d)", i, got.ID, got.Status, got.Number, errs[i], a.ID)
			}
		}
		if a.Decision == nil || a.Decision.Outcome != "approve" {
			t.Errorf("the one-call application has no machine approval: %+v", a.Decision)
		}
		after := count()
		if after[0] != before[0]+1 || after[1] != before[1]+1 || after[3] != before[3]+1 {
			t.Errorf("one application, one consent, one licence expected: %v → %v", before, after)
		}
		// Every read the call made is logged, under its consent and for its application.
		var reads, linked int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN r.consent_id = c.id THEN 1 END) FROM data_reads r
			JOIN consents c ON c.application = r.application WHERE r.application = $1`, a.ID).Scan(&reads, &linked); err != nil {
			t.Fatal(err)
		}
		if reads == 0 || reads != linked || after[2] != before[2]+reads {
			t.Errorf("reads logged for the application: %d, under its consent %d; all reads %d → %d", reads, linked, before[2], after[2])
		}
		me, err := f.apps.Drafts.ReadsAboutMe(ctx, f.p)
		if err != nil || len(me) < reads || me[0].Application != a.ID {
			t.Errorf("Zhang San's read list does not show the one-call application's reads: %+v, %v", me, err)
		}

		other := req
		other.Channel = "mobile"
		if _, err := f.apps.Drafts.Apply(ctx, f.p, other); apperr.As(err).Code != apperr.IdempotencyKeyReused {
			t.Errorf("the key again with another request: %v, want idempotency_key_reused", err)
		}
	})
}
