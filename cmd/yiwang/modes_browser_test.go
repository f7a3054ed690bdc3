package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
	"yiwang/internal/store"
)

// apiClient is a person using the API of a running site with their session.
type apiClient struct {
	c    *http.Client
	url  string
	csrf string
}

func apiSignIn(t *testing.T, s *site, login string) *apiClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	a := &apiClient{c: &http.Client{Jar: jar}, url: s.URL}
	body := a.do(t, "POST", "/api/v1/session", `{"login":"`+login+`","password":"`+demo.Password+`"}`, 200)
	a.csrf, _ = body["csrf_token"].(string)
	return a
}

func (a *apiClient) do(t *testing.T, method, path, body string, want int) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, a.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if a.csrf != "" {
		req.Header.Set("X-CSRF-Token", a.csrf)
	}
	res, err := a.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, out)
	}
	return out
}

// TestBrowserCoPartyConfirmsAndNoticesPage: 王五 books a marriage
// registration naming 李四 as the other partner; 李四 finds the invitation on
// her page and confirms it; the public notices page reads well too.
func TestBrowserCoPartyConfirmsAndNoticesPage(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	const marriage = "11910102MB00011858-07-00003"

	// Marriage registration needs real-name level 3: the demo people verified in person.
	db, err := store.Open(context.Background(), "", s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), `UPDATE accounts SET real_name_level = 3 WHERE kind = 'person'`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	wang := apiSignIn(t, s, demo.WangWu)
	app := wang.do(t, "POST", "/api/v1/applications", `{"item_code":"`+marriage+`","consent":true}`, 201)
	id := jsonID(app)
	wang.do(t, "PATCH", "/api/v1/applications/"+id+"/form", `{"booking_date":"2026-12-30","registry":"mingde_centre","partner_name":"李四","partner_id_number":"`+demo.LiSi+`","phone":"13800000003"}`, 200)
	wang.do(t, "PUT", "/api/v1/applications/"+id+"/parties", `{"own_role":"partner_a","parties":[{"role":"partner_b","id_number":"`+demo.LiSi+`","name":"李四"}]}`, 200)
	sub := wang.do(t, "POST", "/api/v1/applications/"+id+"/submit", `{}`, 200)
	if sub["status"] != "submitted" {
		t.Fatalf("submitted: %v", sub["status"])
	}

	b.do(t, "open notices", chromedp.Navigate(s.URL+"/notices"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	b.checkA11y(t, "notices")

	b.signIn(t, s, demo.LiSi)
	b.do(t, "open invitations", chromedp.Navigate(s.URL+"/me/invitations"), chromedp.WaitVisible(chromedp.CSS("main section")))
	if got := b.text(t, "the invitation", "main section"); !strings.Contains(got, "登记另一方") || !strings.Contains(got, "待确认") {
		t.Errorf("the invitation reads %q", got)
	}
	b.checkA11y(t, "invitations")
	// The page before the click has a section too: wait until the answered
	// invitation, which has no forms, is shown.
	b.do(t, "confirm", chromedp.Click(chromedp.CSS(`form[action$="/confirm"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action$="/confirm"]`)), chromedp.WaitVisible(chromedp.CSS("main section")))
	if got := b.text(t, "after confirming", "main section"); !strings.Contains(got, "已确认") {
		t.Errorf("after confirming the invitation reads %q", got)
	}
	after := wang.do(t, "GET", "/api/v1/applications/"+id, "", 200)
	if modes, _ := after["modes"].(map[string]any); modes == nil {
		t.Errorf("the application shows no modes: %v", after)
	} else if parties, _ := modes["parties"].([]any); len(parties) != 2 || parties[1].(map[string]any)["status"] != "confirmed" {
		t.Errorf("the parties after confirming: %v", modes["parties"])
	}
}

func jsonID(m map[string]any) string {
	n, _ := m["id"].(float64)
	return strconv.FormatInt(int64(n), 10)
}
