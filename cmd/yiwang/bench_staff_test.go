package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
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
	singleParty(b, h)
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

// queueTransfer takes a gift of 张三's home in at the window and accepts it,
// which opens the parallel registration review and tax assessment.
func queueTransfer(b testing.TB, a *app, clerk authz.Principal) int64 {
	b.Helper()
	ctx := context.Background()
	s := a.applications
	app, err := s.Intake(ctx, clerk, application.IntakeRequest{IDNumber: demo.ZhangSan, Name: "张三", ItemCode: propertyTransfer,
		Answers: map[string]string{"reason": "gift", "property_type": "residential"}, IdentityChecked: true, Consent: true})
	if err != nil {
		b.Fatal(err)
	}
	buyer := map[string]any{"name": "王五", "id_number": demo.WangWu, "share": 100.0}
	if _, err := s.UpdateForm(ctx, clerk, app.ID, map[string]any{"buyers": []any{buyer}, "ownership": "sole", "extra_certificates": 0.0}); err != nil {
		b.Fatal(err)
	}
	step := func(do func(rev int64) (application.Application, error)) {
		got, err := s.Get(ctx, clerk, app.ID)
		if err == nil {
			_, err = do(got.Revision)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	step(func(rev int64) (application.Application, error) {
		return s.UploadMaterial(ctx, clerk, app.ID, rev, "gift_contract", strings.NewReader("%PDF-1.4\n%%EOF\n"), true)
	})
	step(func(rev int64) (application.Application, error) { return s.Submit(ctx, clerk, app.ID, rev, "") })
	tasks, err := s.Inbox(ctx, clerk)
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range tasks {
		if t.ApplicationID == app.ID {
			step(func(rev int64) (application.Application, error) {
				return s.DecideTask(ctx, clerk, t.ID, rev, true, nil, "")
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

// partiesBlock is the parties element of an item file.
var partiesBlock = regexp.MustCompile(`(?m)^parties:\n(?:[ \t].*\n)*`)

// singleParty imports the demo catalogue with the property transfer's
// co-parties (一事多人) taken out, and publishes that version, so that a
// transfer goes from the window straight to acceptance and its parallel
// steps: the co-parties' confirmations are tested with the approval modes.
// h is the platform's handler, or a proxy to a running server.
func singleParty(t testing.TB, h http.Handler) {
	t.Helper()
	auth := signIn(t, h, "catalog.admin")
	send := func(method, path string, body io.Reader, contentType string) {
		req := httptest.NewRequest(method, path, body)
		for k, v := range auth {
			req.Header.Set(k, v)
		}
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, firstLine(rec.Body.String()))
		}
	}
	z := zipCatalogue(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "property_transfer.yaml") {
			return partiesBlock.ReplaceAll(b, nil)
		}
		return b
	})
	send("POST", "/api/v1/admin/catalog/import", z, "application/zip")
	send("POST", "/api/v1/admin/catalog/items/"+propertyTransfer+"/versions/2/publish", nil, "application/json")
}
