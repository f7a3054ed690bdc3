package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"yiwang/internal/demo"
)

// TestCreditOverTheAPIAndPages: a person sees a record against them and
// its level, applies to repair it over the API, the civil affairs head
// approves it on the repair queue page, and the level is restored.
func TestCreditOverTheAPIAndPages(t *testing.T) {
	srv, a := demoServer(t)
	withRegistries(t, a)
	h := srv.Handler()
	ctx := context.Background()
	zhang := signIn(t, h, demo.ZhangSan)
	appPath, _ := applyForSeniorCard(t, h, zhang)
	appID, err := strconv.ParseInt(strings.TrimPrefix(appPath, "/me/applications/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	p := personOf(t, a, demo.ZhangSan)
	var record int64
	if err := a.identities.DB().QueryRowContext(ctx, `INSERT INTO credit_records (person_id, application_id, kind, ref, note, created_at)
		VALUES ($1, $2, 'false_commitment', '', '核查发现承诺不实', $3) RETURNING id`, p.PersonID, appID, time.Now().AddDate(0, -7, 0)).Scan(&record); err != nil {
		t.Fatal(err)
	}
	if _, err := a.credit.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}

	code, body, raw := call(t, h, "GET", "/api/v1/me/credit", nil, zhang)
	records, _ := body["records"].([]any)
	if code != 200 || body["level"] != "B" || body["blacklisted"] != false || len(records) != 1 || records[0].(map[string]any)["can_repair"] != true {
		t.Fatalf("GET /api/v1/me/credit: %d %s", code, raw)
	}
	// Staff see the applicant's level on the application, page and API.
	super := signIn(t, h, "supervisor")
	if _, detail := page(t, h, super, "GET", fmt.Sprintf("/workbench/applications/%d", appID), nil); !strings.Contains(detail, "申请人信用等级：<strong>B</strong>") {
		t.Errorf("the workbench application page does not show the applicant's credit level:\n%s", detail)
	}
	if code, body, raw := call(t, h, "GET", fmt.Sprintf("/api/v1/staff/applications/%d", appID), nil, super); code != 200 || body["credit"].(map[string]any)["level"] != "B" {
		t.Errorf("the staff view's credit: %d %s", code, raw)
	}
	code, body, _ = call(t, h, "POST", "/api/v1/me/credit/repairs", strings.NewReader(fmt.Sprintf(`{"record_id":%d,"statement":"已如实补正","pledge":false}`, record)), withJSON(zhang))
	if e, _ := body["error"].(map[string]any); code != 400 || e["code"] != "credit_pledge_required" {
		t.Errorf("a repair without the pledge: %d %v", code, body)
	}
	code, body, raw = call(t, h, "POST", "/api/v1/me/credit/repairs", strings.NewReader(fmt.Sprintf(`{"record_id":%d,"statement":"已如实补正材料并接受核查","pledge":true}`, record)), withJSON(zhang))
	if code != 201 || body["status"] != "pending" {
		t.Fatalf("applying for repair: %d %s", code, raw)
	}
	if _, mine := page(t, h, zhang, "GET", "/me/credit", nil); !strings.Contains(mine, "修复审核中") || !strings.Contains(mine, "虚假承诺") {
		t.Errorf("the credit page does not show the pending repair:\n%s", mine)
	}

	// Another department's head does not see it; 民政's head approves it.
	other := signIn(t, h, "reviewer.realestate")
	if _, q := page(t, h, other, "GET", "/workbench/credit-repairs", nil); strings.Contains(q, "已如实补正材料并接受核查") {
		t.Error("不动产 sees 民政's credit repair")
	}
	civil := signIn(t, h, "head.civil")
	_, q := page(t, h, civil, "GET", "/workbench/credit-repairs", nil)
	if !strings.Contains(q, "已如实补正材料并接受核查") {
		t.Fatalf("民政's repair queue:\n%s", q)
	}
	repairID := strconv.FormatInt(int64(body["id"].(float64)), 10)
	if _, q = page(t, h, civil, "POST", "/workbench/credit-repairs/"+repairID, url.Values{"outcome": {"approve"}}); !strings.Contains(q, "已修复") {
		t.Errorf("after approving:\n%s", q)
	}
	code, body, raw = call(t, h, "GET", "/api/v1/me/credit", nil, zhang)
	if code != 200 || body["level"] != "A" || body["open_records"] != 0.0 {
		t.Errorf("after the repair: %d %s", code, raw)
	}
}
