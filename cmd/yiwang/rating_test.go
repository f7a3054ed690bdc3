package main

import (
	"fmt"
	"strings"
	"testing"

	"yiwang/internal/demo"
)

// TestRatingAPI is 好差评 through the API: 张三 rates his approved senior
// card 1 star; the civil reviewer lists it among his department's
// rectifications (the real estate reviewer does not see it, nor may
// answer it) and answers; the supervisor calls back and closes it; the
// public summary counts it as rectified.
func TestRatingAPI(t *testing.T) {
	h, _ := citizenServer(t)
	zhang := signIn(t, h, demo.ZhangSan)
	approved, decided := applyForSeniorCard(t, h, zhang)
	if !strings.Contains(decided, "审批通过") {
		t.Fatalf("the senior card was not approved:\n%s", decided)
	}
	id := strings.TrimPrefix(approved, "/me/applications/")
	if code, body, _ := call(t, h, "POST", "/api/v1/me/applications/"+id+"/rating", strings.NewReader(`{"stars":1,"comment":"等了很久"}`), withJSON(zhang)); code != 200 || body["stars"] != float64(1) || body["channel"] != "online" {
		t.Fatalf("rating: %d %v", code, body)
	}
	if code, body, _ := call(t, h, "POST", "/api/v1/me/applications/"+id+"/rating", strings.NewReader(`{"stars":6}`), withJSON(zhang)); code != 400 {
		t.Errorf("6 stars: %d %v, want 400", code, body)
	}

	civil, realestate, sup := signIn(t, h, "reviewer.civil"), signIn(t, h, "reviewer.realestate"), signIn(t, h, "supervisor")
	code, body, _ := call(t, h, "GET", "/api/v1/rectifications", nil, civil)
	list, _ := body["rectifications"].([]any)
	if code != 200 || len(list) != 1 {
		t.Fatalf("civil's rectifications: %d %v", code, body)
	}
	x := list[0].(map[string]any)
	rect := fmt.Sprint(x["id"])
	if x["status"] != "open" || x["comment"] != "等了很久" {
		t.Errorf("the rectification reads %v", x)
	}
	if code, body, _ := call(t, h, "GET", "/api/v1/rectifications", nil, realestate); code != 200 || len(body["rectifications"].([]any)) != 0 {
		t.Errorf("real estate's rectifications: %d %v, want none", code, body)
	}
	if code, _, _ := call(t, h, "POST", "/api/v1/rectifications/"+rect+"/answer", strings.NewReader(`{"answer":"改了"}`), withJSON(realestate)); code != 404 {
		t.Errorf("real estate answers civil's rectification: %d, want 404", code)
	}
	if code, body, _ := call(t, h, "POST", "/api/v1/rectifications/"+rect+"/answer", strings.NewReader(`{"answer":"已增设窗口"}`), withJSON(civil)); code != 200 || body["status"] != "answered" {
		t.Errorf("answer: %d %v", code, body)
	}
	if code, body, _ := call(t, h, "POST", "/api/v1/rectifications/"+rect+"/callback", strings.NewReader(`{"note":"已回访","resolved":true}`), withJSON(sup)); code != 200 || body["status"] != "closed" || body["resolved"] != true {
		t.Errorf("callback: %d %v", code, body)
	}
	code, body, _ = call(t, h, "GET", "/api/v1/ratings/summary?period=all", nil, nil)
	total, _ := body["total"].(map[string]any)
	if code != 200 || total["total"] != float64(1) || total["rectification_rate"] != float64(1) || total["satisfaction_rate"] != float64(0) {
		t.Errorf("summary: %d %v", code, body)
	}
	if code, _, _ := call(t, h, "GET", "/api/v1/ratings/summary?period=week", nil, nil); code != 400 {
		t.Errorf("a week's summary: %d, want 400", code)
	}
}
