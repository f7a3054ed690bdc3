package licence_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"testing"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/jobs"
	"yiwang/internal/licence"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

const smallCatering = "11910102MB0001111L-01-00003"

// TestIssuedLicenceIsReusedByTheNextApplication closes the loop: a business
// licence issued to a company is at once level-A data, so the company's
// food-business application attaches it by itself and fills its form from it.
// The same application's licence is then issued by the durable job, twice,
// and exists once.
func TestIssuedLicenceIsReusedByTheNextApplication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db)
		ids := identity.NewStore(db, f.pii)
		owner := idNumber("91010219850704123")
		acc, err := ids.RegisterPerson(ctx, owner, "钱多多", "13900000009", "a-long-password")
		if err != nil {
			t.Fatal(err)
		}
		person := acc.PersonID
		code := creditCode(t, "92910102MA0000011")
		if _, err := ids.PutEnterprise(ctx, db, code, "明德区老街坊小吃店", person); err != nil {
			t.Fatal(err)
		}
		sess, _ := ids.StartSession(ctx, acc.ID)
		p, _, _ := ids.SessionPrincipal(ctx, sess.Token)
		if _, err := ids.ActFor(ctx, p, sess.Token, code); err != nil {
			t.Fatal(err)
		}
		p, _, _ = ids.SessionPrincipal(ctx, sess.Token)
		p.RealNameLevel = 2 // checked against the population registry

		bl := f.issue(t, businessLicence(code))

		reader := hub.NewReader(db, f.hub, f.hub.SubjectIndex)
		cal, err := workday.Shipped()
		if err != nil {
			t.Fatal(err)
		}
		apps := application.NewServices(application.Deps{DB: db, Protector: f.pii, Catalog: f.catalog, Identities: ids, Reader: reader, Limits: identity.NewLimiter(db), Calendars: application.FixedCalendar(cal)})
		a, err := apps.Drafts.Start(ctx, p, application.StartRequest{ItemCode: smallCatering})
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, m := range a.Materials {
			if m.ID == "business_licence" {
				found = true
				if !m.Attached || m.Trust != "A" || m.Ref != bl.Content.Number || m.Source != "licence:business_licence" {
					t.Errorf("business-licence material = %+v, want attached at level A with %s", m, bl.Content.Number)
				}
			}
		}
		if !found {
			t.Fatal("the food-business item asks no business licence")
		}
		if a.Form["business_name"] != "明德区老街坊小吃店" || a.Form["credit_code"] != code || a.Form["premises_address"] != "示范市明德区福安街道幸福路8号" {
			t.Errorf("form filled from the licence = %v", a.Form)
		}

		// Its licence, issued by the job enqueued twice (a retry): one licence.
		workers := jobs.NewWorkers()
		jobs.Register(workers, licence.NewIssueWorker(db, f.svc))
		q, err := jobs.New(db, workers, slog.New(slog.NewTextHandler(io.Discard, nil)), jobs.Config{PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		req := licence.Request{ApplicationID: a.ID, ApplicationNumber: "YW-2025-0001", ItemCode: smallCatering, Type: "food_business_licence",
			Holder: licence.Holder{Kind: hub.Enterprise, ID: code, Name: "明德区老街坊小吃店"}, IssuedBy: "machine", ValidityYears: 5}
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			t2, err := licence.TypeTx(ctx, tx, "food_business_licence")
			if err != nil {
				return err
			}
			req.Fields = t2.FieldsFromForm(a.Form, nil)
			for range 2 {
				if _, err := q.Enqueue(ctx, tx, licence.IssueArgs{Request: req}, nil); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := q.Start(runCtx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())
		var l licence.Licence
		deadline := time.Now().Add(20 * time.Second)
		for {
			// The jobs first: a licence counted before them could be issued
			// (and both jobs completed) between the two reads.
			var n, done int
			db.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'licence_issue' AND state = 'completed'`).Scan(&done)
			db.QueryRowContext(ctx, `SELECT count(*) FROM licences WHERE application_id = $1`, a.ID).Scan(&n)
			if done == 2 {
				if n != 1 {
					t.Fatalf("%d licences for one application", n)
				}
				l, err = f.svc.ByApplication(ctx, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("jobs not done: %d completed, %d licences", done, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if l.Content.Type != "food_business_licence" || l.Content.Fields["name"] != "明德区老街坊小吃店" || l.Content.ValidUntil == "" {
			t.Errorf("licence from the job = %+v", l.Content)
		}
	})
}
