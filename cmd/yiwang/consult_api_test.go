package main

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// TestConsultationAPI: an anonymous complaint through the API answers its
// query code once; the code, sent in a body, follows it; the market
// regulator's reviewer lists and answers it while civil affairs' cannot;
// the code's holder rates the answer once.
func TestConsultationAPI(t *testing.T) {
	srv, _ := demoServer(t)
	h := srv.Handler()
	jsonBody := map[string]string{"Content-Type": "application/json"}
	with := func(session map[string]string) map[string]string {
		out := maps.Clone(session)
		out["Content-Type"] = "application/json"
		return out
	}
	code, body, raw := call(t, h, "POST", "/api/v1/consultations", strings.NewReader(`{"kind":"complaint","area":"food","text":"某超市出售过期牛奶，拒绝退货。","contact_phone":"13900000005"}`), jsonBody)
	if code != http.StatusCreated || body["department"] != "amr" || body["anonymous"] != true {
		t.Fatalf("submit: %d %s", code, raw)
	}
	id, qc := int(body["id"].(float64)), body["code"].(string)

	if code, body, raw = call(t, h, "POST", "/api/v1/consultations/track", strings.NewReader(`{"code":"`+qc+`"}`), jsonBody); code != http.StatusOK || body["status"] != "open" || body["contact"] != nil {
		t.Fatalf("track: %d %s", code, raw)
	}
	if code, _, raw = call(t, h, "POST", "/api/v1/consultations/track", strings.NewReader(`{"code":"ABCD-EFGH-JKLM"}`), jsonBody); code != http.StatusNotFound || strings.Contains(raw, "超市") {
		t.Fatalf("a wrong code: %d %s", code, raw)
	}

	civil, amr := with(signIn(t, h, "reviewer.civil")), with(signIn(t, h, "reviewer.amr"))
	answer := fmt.Sprintf("/api/v1/staff/consultations/%d/answer", id)
	if code, _, raw = call(t, h, "POST", answer, strings.NewReader(`{"text":"已处理"}`), civil); code != http.StatusNotFound {
		t.Fatalf("civil affairs answered the market regulator's complaint: %d %s", code, raw)
	}
	code, body, raw = call(t, h, "GET", "/api/v1/staff/consultations", nil, amr)
	list, _ := body["consultations"].([]any)
	if code != http.StatusOK || len(list) != 1 || strings.Contains(raw, "13900000005") || !strings.Contains(raw, "139****0005") {
		t.Fatalf("the market regulator's list: %d %s", code, raw)
	}
	if code, _, raw = call(t, h, "POST", answer, strings.NewReader(`{"text":"已责令下架并退货。"}`), amr); code != http.StatusOK {
		t.Fatalf("answer: %d %s", code, raw)
	}

	rate := fmt.Sprintf("/api/v1/consultations/%d/rating", id)
	if code, _, raw = call(t, h, "POST", rate, strings.NewReader(`{"rating":"satisfied"}`), jsonBody); code != http.StatusNotFound {
		t.Fatalf("rated without the code: %d %s", code, raw)
	}
	if code, body, raw = call(t, h, "POST", rate, strings.NewReader(`{"rating":"satisfied","code":"`+qc+`"}`), jsonBody); code != http.StatusOK || body["rating"] != "satisfied" {
		t.Fatalf("rate: %d %s", code, raw)
	}
	if code, _, raw = call(t, h, "POST", rate, strings.NewReader(`{"rating":"unsatisfied","code":"`+qc+`"}`), jsonBody); code != http.StatusConflict {
		t.Fatalf("rated twice: %d %s", code, raw)
	}
}
