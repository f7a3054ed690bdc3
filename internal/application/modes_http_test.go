package application_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/httpx"
	"yiwang/internal/store/storetest"
)

// TestNoticeAndInvitationPages drives the two pages as a browser would:
// the public notice with its objection form, and a co-party's invitations
// with the confirm and refuse forms.
func TestNoticeAndInvitationPages(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	f := setupWith(t, db, nil, seniorCardAs(func(it *catalog.Item) {
		it.Approval = catalog.Approval{Mode: "filing", NoticeDays: 3}
		it.Parties = []catalog.Party{{Role: "elder", Label: catalog.Text{Zh: "老年人", En: "Senior"}}, {Role: "spouse", Label: catalog.Text{Zh: "配偶", En: "Spouse"}}}
	}))
	makeStaff(t, f.ids)
	f.apps.SetNow((&clock{at(15, 9)}).now)
	spouse, spouseID := person(t, f, "19620505", "246", "钱老太")
	objector, _ := person(t, f, "19800101", "123", "钱多多")

	logger := slog.New(slog.DiscardHandler)
	mh, err := application.NewModesHandler(f.apps.Modes, logger)
	if err != nil {
		t.Fatal(err)
	}
	r := httpx.NewRouter(logger)
	mh.Register(r)
	do := func(p authz.Principal, method, path string, form url.Values) (int, string, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, path, body).WithContext(authz.With(ctx, p))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String(), rec.Header().Get("Location")
	}

	a := draft(t, f)
	if _, err := f.apps.Modes.NameParties(ctx, f.p, a.ID, 0, "elder", []application.PartyRequest{{Role: "spouse", IDNumber: spouseID, Name: "钱老太"}}); err != nil {
		t.Fatal(err)
	}
	if a, err = f.apps.Drafts.Submit(ctx, f.p, a.ID, 0, ""); err != nil {
		t.Fatal(err)
	}

	// The spouse sees the invitation; a refusal without a reason is shown on the page.
	code, page, _ := do(spouse, "GET", "/me/invitations", nil)
	if code != 200 || !strings.Contains(page, "配偶") || !strings.Contains(page, `action="/me/invitations/`) || !strings.Contains(page, `<label for="reason-`) {
		t.Fatalf("invitations page: %d\n%s", code, page)
	}
	if code, page, _ := do(spouse, "POST", "/me/invitations/"+itoa(a.ID)+"/refuse", url.Values{"reason": {" "}}); code != 400 || !strings.Contains(page, `role="alert"`) {
		t.Errorf("refusing without a reason: %d", code)
	}
	if code, _, loc := do(spouse, "POST", "/me/invitations/"+itoa(a.ID)+"/confirm", url.Values{}); code != http.StatusSeeOther || loc != "/me/invitations" {
		t.Fatalf("confirming: %d %s", code, loc)
	}
	if _, page, _ := do(spouse, "GET", "/me/invitations?lang=en", nil); !strings.Contains(page, "Confirmed") {
		t.Errorf("after confirming the page says:\n%s", page)
	}

	// Now on public notice: anyone sees it; a signed-in person objects through the form.
	code, page, _ = do(authz.Principal{}, "GET", "/notices", nil)
	if code != 200 || !strings.Contains(page, a.Number) || strings.Contains(page, "<textarea") {
		t.Fatalf("public notices for the anonymous: %d\n%s", code, page)
	}
	a, _ = f.apps.Drafts.Get(ctx, f.p, a.ID)
	own := "/notices/" + itoa(a.Modes.Notice.ID) + "/objections"
	if _, page, _ := do(f.p, "GET", "/notices", nil); !strings.Contains(page, "您的备案") || strings.Contains(page, `action="`+own+`"`) {
		t.Errorf("the applicant is offered an objection to their own filing:\n%s", page)
	}
	if _, page, _ := do(objector, "GET", "/notices", nil); !strings.Contains(page, `action="`+own+`"`) {
		t.Errorf("another person is not offered the objection form:\n%s", page)
	}
	if code, page, _ := do(f.p, "POST", own, url.Values{"reasons": {"不想办了"}}); code != http.StatusForbidden || !strings.Contains(page, "不能对自己的备案提出异议") {
		t.Errorf("the applicant objecting to their own filing: %d\n%s", code, page)
	}
	if code, page, _ := do(f.p, "POST", own+"?lang=en", url.Values{"reasons": {"never mind"}}); code != http.StatusForbidden || !strings.Contains(page, "withdraw it instead") {
		t.Errorf("the applicant objecting to their own filing, in English: %d\n%s", code, page)
	}
	if code, _, loc := do(objector, "POST", "/notices/"+itoa(a.Modes.Notice.ID)+"/objections", url.Values{"reasons": {"申请人并非本市户籍"}}); code != http.StatusSeeOther || loc != "/notices?objected=1" {
		t.Fatalf("objecting: %d %s", code, loc)
	}
	if code, page, _ := do(objector, "GET", "/notices?objected=1", nil); code != 200 || !strings.Contains(page, "异议审查中") || !strings.Contains(page, `role="status"`) {
		t.Errorf("after objecting: %d\n%s", code, page)
	}
	code, body, _ := do(authz.Principal{}, "GET", "/api/v1/notices", nil)
	if code != 200 || !strings.Contains(body, `"status":"halted"`) {
		t.Errorf("notices over the API: %d %s", code, body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
