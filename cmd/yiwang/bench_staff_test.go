package main

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/demo"
)

// staffQueue is the size of the reviewer's queue the staff pages are
// measured on: under the clerk's daily submission limit.
const staffQueue = 25

// BenchmarkStaffPages is the server time of the workbench's queue and an
// application's detail page for a reviewer with a queue of parallel steps,
// on the demo data, through the whole middleware chain on SQLite.
func BenchmarkStaffPages(b *testing.B) {
	srv, a := demoServer(b)
	h := srv.Handler()
	clerk := clerkOf(b, a)
	var last int64
	for range staffQueue {
		last = queueTransfer(b, a, clerk)
	}
	reviewer := signIn(b, h, "reviewer.realestate")
	for _, path := range []string{"/workbench", "/workbench/applications/" + strconv.FormatInt(last, 10)} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				for k, v := range reviewer {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", path, rec.Code, firstLine(rec.Body.String()))
				}
			}
		})
	}
}

// queueTransfer takes a gift of 张三's home to 王五 in at the window, naming
// 王五 as the co-party (一事多人), has 王五 confirm, and accepts it, which opens the parallel registration review and tax assessment.
func queueTransfer(b testing.TB, a *app, clerk authz.Principal) int64 {
	b.Helper()
	ctx := context.Background()
	s := a.applications
	app, err := s.Drafts.Intake(ctx, clerk, application.IntakeRequest{IDNumber: demo.ZhangSan, Name: "张三", ItemCode: propertyTransfer,
		Answers: map[string]string{"reason": "gift", "property_type": "residential"}, IdentityChecked: true, Consent: true})
	if err != nil {
		b.Fatal(err)
	}
	buyer := map[string]any{"name": "王五", "id_number": demo.WangWu, "share": 100.0}
	if _, err := s.Drafts.UpdateForm(ctx, clerk, app.ID, map[string]any{"buyers": []any{buyer}, "ownership": "sole", "extra_certificates": 0.0}); err != nil {
		b.Fatal(err)
	}
	step := func(do func(rev int64) (application.Application, error)) {
		got, err := s.Drafts.Get(ctx, clerk, app.ID)
		if err == nil {
			_, err = do(got.Revision)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	step(func(rev int64) (application.Application, error) {
		return s.Drafts.UploadMaterial(ctx, clerk, app.ID, rev, "gift_contract", strings.NewReader("%PDF-1.4\n%%EOF\n"), true)
	})
	step(func(rev int64) (application.Application, error) {
		return s.Modes.NameParties(ctx, clerk, app.ID, rev, "seller", []application.PartyRequest{{Role: "buyer", IDNumber: demo.WangWu, Name: "王五"}})
	})
	step(func(rev int64) (application.Application, error) { return s.Drafts.Submit(ctx, clerk, app.ID, rev, "") })
	if _, err := s.Modes.AnswerInvitation(ctx, personOf(b, a, demo.WangWu), app.ID, true, ""); err != nil {
		b.Fatal(err)
	}
	tasks, err := s.Tasks.Inbox(ctx, clerk)
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range tasks {
		if t.ApplicationID == app.ID {
			step(func(rev int64) (application.Application, error) {
				return s.Tasks.DecideTask(ctx, clerk, t.ID, rev, true, nil, "")
			})
			return app.ID
		}
	}
	b.Fatalf("application %d has no acceptance step in the clerk's inbox", app.ID)
	return 0
}

// clerkOf seeds the demo registries (so that forms fill themselves) and
// returns the demo clerk as a principal.
func clerkOf(t testing.TB, a *app) authz.Principal {
	t.Helper()
	ctx := context.Background()
	if _, err := demo.SeedRegistries(ctx, a.identities.DB(), a.registries, demoPersons, demoEnterprises, 1, nil); err != nil {
		t.Fatal(err)
	}
	acc, err := a.identities.Login(ctx, "clerk", demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	clerk, err := a.identities.StaffPrincipal(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return clerk
}

// personOf is a demo person as the services see them when signed in.
func personOf(t testing.TB, a *app, idNumber string) authz.Principal {
	t.Helper()
	acc, err := a.identities.Login(context.Background(), idNumber, demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	return authz.Principal{AccountID: acc.ID, Kind: "person", Name: acc.DisplayName, PersonID: acc.PersonID, RealNameLevel: acc.RealNameLevel}
}
