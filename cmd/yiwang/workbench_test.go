package main

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAdminPagePublishesADraft: a new version imported through the API is
// shown as a draft on the item's administration page and published from it.
func TestAdminPagePublishesADraft(t *testing.T) {
	srv, _ := demoServer(t)
	h := srv.Handler()
	auth := signIn(t, h, "catalog.admin")
	changed := zipCatalogue(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "senior_card.yaml") {
			return bytes.Replace(b, []byte("promised_days: 1"), []byte("promised_days: 2"), 1)
		}
		return b
	})
	zipAuth := copyHeaders(auth)
	zipAuth["Content-Type"] = "application/zip"
	if code, body, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", changed, zipAuth); code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}
	page := "/admin/catalog/" + seniorCard
	_, _, html := call(t, h, "GET", page, nil, auth)
	if !strings.Contains(html, `/versions/2/publish"`) {
		t.Fatalf("the item page offers no publish button for the draft v2:\n%s", html)
	}
	form := copyHeaders(auth)
	form["Content-Type"] = "application/x-www-form-urlencoded"
	code, _, _ := call(t, h, "POST", page+"/versions/2/publish", strings.NewReader(url.Values{"csrf_token": {auth["X-CSRF-Token"]}}.Encode()), form)
	if code != 303 {
		t.Fatalf("publish from the page: %d", code)
	}
	_, body, _ := call(t, h, "GET", "/api/v1/items/"+seniorCard, nil, nil)
	if body["version"] != float64(2) {
		t.Errorf("after publishing from the page the guide shows version %v", body["version"])
	}
	if code, _, html := call(t, h, "POST", page+"/versions/2/publish", strings.NewReader(""), form); code != 409 || !strings.Contains(html, "<h1>") {
		t.Errorf("publishing it again: %d, want 409 with a page saying why", code)
	}
}

// TestStaffPagesInEnglish renders each staff page in English, as the
// language switch would.
func TestStaffPagesInEnglish(t *testing.T) {
	srv, _ := demoServer(t)
	h := srv.Handler()
	for _, tt := range []struct{ who, path, want string }{
		{"clerk", "/workbench", "My queue"},
		{"clerk", "/workbench/intake?item=" + propertyTransfer, "Start the application"},
		{"supervisor", "/workbench/overdue", "Accountability records"},
		{"sysadmin", "/admin", "Users and roles"},
		{"sysadmin", "/admin/accounts", "Grant a role"},
		{"sysadmin", "/admin/calendar", "Load a year"},
		{"catalog.admin", "/admin/catalog", "Catalogue items"},
		{"catalog.admin", "/admin/catalog/" + seniorCard, "Versions"},
	} {
		code, _, html := call(t, h, "GET", tt.path+map[bool]string{true: "&", false: "?"}[strings.Contains(tt.path, "?")]+"lang=en", nil, signIn(t, h, tt.who))
		if code != 200 || !strings.Contains(html, tt.want) || !strings.Contains(html, `<html lang="en">`) {
			t.Errorf("%s as %s: %d, want 200 in English with %q", tt.path, tt.who, code, tt.want)
		}
	}
	code, _, html := call(t, h, "GET", "/kiosk?lang=en", nil, nil)
	if code != 200 || !strings.Contains(html, "Kiosk PIN") {
		t.Errorf("/kiosk in English: %d", code)
	}
}

// TestQueueMarksLateStepsInWords: a step past its deadline is red in the
// reviewer's queue and on the supervisor's board, said in words.
func TestQueueMarksLateStepsInWords(t *testing.T) {
	srv, a := demoServer(t)
	h := srv.Handler()
	id := queueTransfer(t, a, clerkOf(t, a))
	// Its registration review was due three days ago.
	if _, err := a.identities.DB().ExecContext(context.Background(), `UPDATE tasks SET deadline = $1 WHERE application_id = $2 AND department = 'realestate' AND status = 'open'`,
		time.Now().AddDate(0, 0, -3).UTC(), id); err != nil {
		t.Fatal(err)
	}
	code, _, html := call(t, h, "GET", "/workbench", nil, signIn(t, h, "reviewer.realestate"))
	if code != 200 || !strings.Contains(html, "红灯：已超期") || !strings.Contains(html, `class="light-red"`) {
		t.Errorf("the queue: %d, want the late step marked 红灯 in words:\n%s", code, html)
	}
	code, _, html = call(t, h, "GET", "/workbench/overdue", nil, signIn(t, h, "supervisor"))
	if code != 200 || !strings.Contains(html, "红灯：已超期") {
		t.Errorf("the overdue board: %d, want the late step marked 红灯", code)
	}
}
