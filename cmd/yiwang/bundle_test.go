package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"yiwang/internal/authz"
	"yiwang/internal/demo"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// startupForm is what Zhang San types into the combined form of 企业开办:
// each field once, whatever members ask it.
func startupForm() url.Values {
	return url.Values{
		"situation_want_seals": {"yes"}, "situation_want_invoices": {"yes"}, "situation_hire_staff": {"yes"}, "situation_want_bank": {"yes"},
		"situation_entity_type": {"llc"}, "situation_premises": {"own"}, "f_premises_certificate": {"示（2008）示范市不动产权第90000001号"},
		"pledge_articles": {"yes"}, "pledge_appointment": {"yes"},
		"f_company_name": {"示范市明德区张记科技有限公司"}, "f_address": {"示范市明德区福安街道创业路8号"}, "f_scope": {"软件开发；信息技术咨询服务"},
		"f_registered_capital": {"10"}, "f_shareholders": {"张三, " + demo.ZhangSan + ", 10, 2030-12-31"},
		"f_seals": {"official, rubber\nfinance, rubber\ninvoice, rubber"}, "f_engraver": {"mingde_01"}, "f_delivery": {"post"},
		"f_taxpayer_type": {"small_scale"}, "f_accounting_system": {"small_enterprise"}, "f_invoice_types": {"ordinary"},
		"f_industry": {"class1"}, "f_first_employees": {"张三, " + demo.ZhangSan + ", 6000"},
		"f_rate": {"12"}, "f_pay_day": {"10"},
		"f_bank": {"bank_a"}, "f_appointment": {"video"}, "f_appointment_date": {"2027-01-05"},
	}
}

var bundleCasePath = regexp.MustCompile(`^/me/bundles/(\d+)$`)

// TestBundleBusinessStartup: Zhang San, founding a company, finds
// 企业开办 on the home page, answers its questions once, fills the combined
// form once and submits once. Company registration is submitted with the
// case and approved by machine; the members that need its result wait, and
// the advance job submits them once it is approved; the status page then
// shows every member with its own number and result, the case done.
func TestBundleBusinessStartup(t *testing.T) {
	storetest.Each(t, testBundleBusinessStartup)
}

func testBundleBusinessStartup(t *testing.T, db *store.DB) {
	ctx := context.Background()
	h, a := citizenServerOn(t, db)
	verified(t, a, demo.ZhangSan, 3)
	hd := signIn(t, h, demo.ZhangSan)
	_, home := page(t, h, hd, "GET", "/", nil)
	if !strings.Contains(home, "一件事一次办") || !strings.Contains(home, `href="/bundles/business_startup"`) {
		t.Fatalf("the home page does not offer 企业开办一件事")
	}
	_, guide := page(t, h, hd, "GET", "/bundles/business_startup", nil)
	for _, want := range []string{"企业设立登记", "企业刻章备案", "新办纳税人申领发票", "1个工作日内全部办结", "是否同步刻制印章？", "设立哪种企业？"} {
		if !strings.Contains(guide, want) {
			t.Errorf("the bundle's guide lacks %q", want)
		}
	}
	form := startupForm()
	q := url.Values{}
	for k, v := range form {
		if strings.HasPrefix(k, "situation_") {
			q[k] = v
		}
	}
	_, combined := page(t, h, hd, "GET", "/bundles/business_startup/form?"+q.Encode(), nil)
	if n := strings.Count(combined, `name="f_company_name"`); n != 1 {
		t.Errorf("the enterprise's name is asked %d times in the combined form, want once", n)
	}
	if strings.Contains(combined, `name="f_credit_code"`) {
		t.Error("the combined form asks for the credit code, which the registration's result gives")
	}
	key := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(combined)[1]
	if msg := postFails(t, h, hd, "/bundles/business_startup", withKey(form, key, false), http.StatusBadRequest); !strings.Contains(msg, "同意") {
		t.Errorf("submitting without the consent should say it is needed:\n%s", msg)
	}
	path, status := page(t, h, hd, "POST", "/bundles/business_startup", withKey(form, key, true))
	m := bundleCasePath.FindStringSubmatch(path)
	if m == nil {
		t.Fatalf("after submitting, landed on %s", path)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	if again, _ := page(t, h, hd, "POST", "/bundles/business_startup", withKey(form, key, true)); again != path {
		t.Errorf("a resent submission landed on %s, want the same case %s", again, path)
	}
	if !regexp.MustCompile(`id="number">YJ-\d{8}-\d{6}<`).MatchString(status) || !strings.Contains(status, "办理中") {
		t.Errorf("the status page lacks the case's number or 办理中:\n%s", status)
	}
	if !regexp.MustCompile(`id="member-registration" data-state="submitted" data-status="licence_issued"`).MatchString(status) {
		t.Errorf("company registration is not approved and licensed at once:\n%s", status)
	}
	if !strings.Contains(status, `id="member-seal" data-state="waiting"`) || !strings.Contains(status, "等待前序事项办结") {
		t.Errorf("the seal filing does not wait for the registration:\n%s", status)
	}

	// The advance job: the registration is approved, so the members that
	// need only it go, and once the seal is filed (at once, 秒批) the
	// invoice and the bank account that need it too.
	if still, err := a.bundles.Advance(ctx, id); err != nil || still {
		t.Fatalf("advance: still %v, %v; want every member submitted", still, err)
	}
	zhang := personOf(t, a, demo.ZhangSan)
	zhang.Roles = []authz.Role{authz.Applicant}
	c, err := a.bundles.Case(ctx, zhang, id)
	if err != nil {
		t.Fatal(err)
	}
	apps := map[string]int64{}
	for _, m := range c.Members {
		apps[m.ID] = m.ApplicationID
	}
	seal, err := a.applications.Drafts.Get(ctx, zhang, apps["seal"])
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := seal.Form["credit_code"].(string); seal.Form["company_name"] != "示范市明德区张记科技有限公司" || !strings.HasPrefix(code, "91910102") || seal.EnterpriseID == 0 {
		t.Errorf("the seal filing is not the new company's, with its name and new credit code: enterprise %d, %v %v", seal.EnterpriseID, seal.Form["company_name"], seal.Form["credit_code"])
	}
	for _, after := range []string{"invoice", "bank_account"} {
		if apps[after] < apps["seal"] {
			t.Errorf("%s (application %d) was submitted before the seal filing it needs (%d)", after, apps[after], apps["seal"])
		}
	}
	_, status = page(t, h, hd, "GET", path, nil)
	if !strings.Contains(status, `id="status">已办结<`) {
		t.Errorf("the case is not done once every member is:\n%s", status)
	}
	if n := strings.Count(status, "查看办理结果"); n != 7 {
		t.Errorf("%d members show their result, want 7:\n%s", n, status)
	}
	if n := strings.Count(status, "企业刻章备案 · <strong>"); n < 2 {
		t.Errorf("the timeline does not merge the seal filing's events:\n%s", status)
	}
	var sealed string
	if err := db.QueryRowContext(ctx, `SELECT form FROM bundle_cases WHERE id = $1`, id).Scan(&sealed); err != nil || strings.Contains(sealed, demo.ZhangSan) || strings.Contains(sealed, "张记") {
		t.Errorf("the combined form is stored in the clear (%v): %.80s", err, sealed)
	}
}

// withKey is the combined form with the wizard's key, and the consent when given.
func withKey(form url.Values, key string, consent bool) url.Values {
	out := url.Values{"idempotency_key": {key}}
	for k, v := range form {
		out[k] = v
	}
	if consent {
		out.Set("consent", "yes")
	}
	return out
}

// TestSearchFindsBundles: searching for what people say (开公司) lists the
// 企业开办 bundle above the items; an unrelated search does not.
func TestSearchFindsBundles(t *testing.T) {
	h, _ := citizenServer(t)
	_, found := page(t, h, nil, "GET", "/search?q="+url.QueryEscape("开公司"), nil)
	if !strings.Contains(found, `id="bundle-hits"`) || !strings.Contains(found, `href="/bundles/business_startup"`) {
		t.Errorf("searching 开公司 does not offer 企业开办一件事:\n%s", found)
	}
	_, other := page(t, h, nil, "GET", "/search?q="+url.QueryEscape("老年人优待证"), nil)
	if strings.Contains(other, `id="bundle-hits"`) {
		t.Error("searching 老年人优待证 offers a bundle")
	}
}

// TestBundleMemberRefusedKeepsTheOthers: through the API, Zhang San asks for
// two company seals, which the seal filing's rules refuse. The seal filing
// is rejected with its reason, the invoice and the bank account that need
// the seal are not submitted and say why, and the registration, insurance
// and housing fund go on regardless; the case is partly refused.
func TestBundleMemberRefusedKeepsTheOthers(t *testing.T) {
	storetest.Each(t, testBundleMemberRefusedKeepsTheOthers)
}

func testBundleMemberRefusedKeepsTheOthers(t *testing.T, db *store.DB) {
	ctx := context.Background()
	h, a := citizenServerOn(t, db)
	verified(t, a, demo.ZhangSan, 3)
	hd := signIn(t, h, demo.ZhangSan)
	form, answers := map[string]any{}, map[string]string{}
	for k, v := range startupForm() {
		switch {
		case strings.HasPrefix(k, "situation_"):
			answers[strings.TrimPrefix(k, "situation_")] = v[0]
		case strings.HasPrefix(k, "f_"):
			form[strings.TrimPrefix(k, "f_")] = v[0]
		}
	}
	for k, v := range map[string]any{"registered_capital": 10.0, "rate": 12.0, "pay_day": 10.0,
		"shareholders":    []map[string]any{{"name": "张三", "id_number": demo.ZhangSan, "subscribed": 10.0, "paid_by": "2030-12-31"}},
		"seals":           []map[string]any{{"seal_type": "official", "material": "rubber"}, {"seal_type": "official", "material": "ceramic"}},
		"first_employees": []map[string]any{{"name": "张三", "id_number": demo.ZhangSan, "wage": 6000.0}}} {
		form[k] = v
	}
	body, _ := json.Marshal(map[string]any{"answers": answers, "form": form, "pledges": []string{"articles", "appointment"}, "consent": true})
	hdr := withJSON(hd)
	hdr["Idempotency-Key"] = "bundle-refused-1"
	code, c, raw := call(t, h, "POST", "/api/v1/bundles/business_startup/cases", strings.NewReader(string(body)), hdr)
	if code != http.StatusCreated {
		t.Fatalf("submitting 企业开办: %d %s", code, raw)
	}
	id := int64(c["id"].(float64))
	if _, err := a.bundles.Advance(ctx, id); err != nil {
		t.Fatal(err)
	}
	code, c, raw = call(t, h, "GET", "/api/v1/bundle-cases/"+strconv.FormatInt(id, 10), nil, hd)
	if code != http.StatusOK {
		t.Fatalf("reading the case: %d %s", code, raw)
	}
	if c["status"] != "partly_refused" {
		t.Errorf("the case is %v, want partly_refused", c["status"])
	}
	members := map[string]map[string]any{}
	for _, m := range c["members"].([]any) {
		mm := m.(map[string]any)
		members[mm["id"].(string)] = mm
	}
	if s := members["seal"]; s["status"] != "rejected" || !strings.Contains(fmt.Sprint(s["reasons"]), "企业公章只能刻制一枚") {
		t.Errorf("the seal filing = %v, want rejected saying only one company seal", s)
	}
	for _, m := range []string{"invoice", "bank_account"} {
		if s := members[m]; s["state"] != "failed" || s["application_id"] != nil || !strings.Contains(fmt.Sprint(s["reason"]), "前序事项「企业刻章备案」未获通过") {
			t.Errorf("%s = %v, want not submitted because the seal filing was refused", m, s)
		}
	}
	for _, m := range []string{"registration", "social_insurance", "medical_insurance", "housing_fund"} {
		if s := members[m]; s["status"] != "licence_issued" {
			t.Errorf("%s = %v, want its licence issued regardless", m, s["status"])
		}
	}
	_, page := page(t, h, hd, "GET", "/me/bundles/"+strconv.FormatInt(id, 10), nil)
	if !strings.Contains(page, "部分未通过") || !strings.Contains(page, "企业公章只能刻制一枚") || !strings.Contains(page, "未能提交") {
		t.Errorf("the status page does not say which member stopped and why:\n%s", page)
	}
	// A retry with the same key answers the same case.
	if code, again, _ := call(t, h, "POST", "/api/v1/bundles/business_startup/cases", strings.NewReader(string(body)), hdr); code != http.StatusCreated || again["id"] != c["id"] {
		t.Errorf("a retry answered %d, case %v; want the same case %v", code, again["id"], c["id"])
	}
	// Another person cannot read it.
	if code, _, _ := call(t, h, "GET", "/api/v1/bundle-cases/"+strconv.FormatInt(id, 10), nil, signIn(t, h, demo.WangWu)); code != http.StatusNotFound {
		t.Errorf("王五 reading 张三's case: %d, want 404", code)
	}
}

// TestBundleWaitsForAPerson: 出生一件事 — the medical birth certificate is
// decided by the issuing department, so the household registration and the
// insurance that need it wait, and the advance job keeps looking.
func TestBundleWaitsForAPerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h, a := citizenServerOn(t, db)
		verified(t, a, demo.WangWu, 2)
		hd := signIn(t, h, demo.WangWu)
		path, status := page(t, h, hd, "POST", "/bundles/birth", url.Values{"idempotency_key": {"web-birth-0000000001"}, "consent": {"yes"},
			"situation_want_insurance": {"yes"}, "situation_place": {"hospital"},
			"f_child_name": {"王小明"}, "f_child_sex": {"male"}, "f_birth_time": {"2026-12-01"}, "f_birth_place": {"示范市明德区妇幼保健院"},
			"f_hospital": {"district_maternity"}, "f_weight": {"3200"}, "f_delivery": {"electronic"}, "f_joins": {"father"}})
		m := bundleCasePath.FindStringSubmatch(path)
		if m == nil {
			t.Fatalf("出生一件事 landed on %s:\n%s", path, status)
		}
		if !strings.Contains(status, `id="member-certificate" data-state="submitted" data-status="submitted"`) ||
			!strings.Contains(status, `id="member-household" data-state="waiting"`) || !strings.Contains(status, `id="member-insurance" data-state="waiting"`) {
			t.Errorf("the certificate is not with the department while the others wait:\n%s", status)
		}
		if !strings.Contains(status, "17个工作日") || !strings.Contains(status, "办理中") {
			t.Errorf("the status page lacks the 17 working days or 办理中:\n%s", status)
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		if still, err := a.bundles.Advance(context.Background(), id); err != nil || !still {
			t.Errorf("advance: still %v, %v; want members still waiting for the certificate", still, err)
		}
	})
}

// TestBundleRetirement: Zhang San, 66, with 35 years of contributions and
// no pension yet, finds 退休一件事 by searching 办退休, answers its one
// question, types only his phone and submits once. The pension claim goes
// with the case and is decided by machine; the retiree medical insurance
// and the housing fund withdrawal wait for its decision, and the advance
// job submits them once it is made, each then decided by machine on the
// new pension decision; the case ends done with three results.
func TestBundleRetirement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h, a := citizenServerOn(t, db)
		verified(t, a, demo.ZhangSan, 2)
		hd := signIn(t, h, demo.ZhangSan)
		_, found := page(t, h, hd, "GET", "/search?q="+url.QueryEscape("办退休"), nil)
		if !strings.Contains(found, `href="/bundles/retirement"`) {
			t.Errorf("searching 办退休 does not offer 退休一件事:\n%s", found)
		}
		_, guide := page(t, h, hd, "GET", "/bundles/retirement", nil)
		for _, want := range []string{"退休一件事", "职工基本养老保险退休待遇申领", "职工医保退休人员待遇核定", "离退休提取住房公积金", "是否同步提取住房公积金？"} {
			if !strings.Contains(guide, want) {
				t.Errorf("the bundle's guide lacks %q", want)
			}
		}
		path, status := page(t, h, hd, "POST", "/bundles/retirement", url.Values{"idempotency_key": {"web-retire-000000001"}, "consent": {"yes"},
			"situation_want_fund": {"yes"}, "f_phone": {"13800000001"}})
		m := bundleCasePath.FindStringSubmatch(path)
		if m == nil {
			t.Fatalf("退休一件事 landed on %s:\n%s", path, status)
		}
		if !strings.Contains(status, `id="member-pension" data-state="submitted" data-status="licence_issued"`) {
			t.Errorf("the pension claim is not decided and licensed at once:\n%s", status)
		}
		for _, waiting := range []string{"medical", "fund"} {
			if !strings.Contains(status, `id="member-`+waiting+`" data-state="waiting"`) {
				t.Errorf("%s does not wait for the pension decision:\n%s", waiting, status)
			}
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		if still, err := a.bundles.Advance(ctx, id); err != nil || still {
			t.Fatalf("advance: still %v, %v; want every member submitted", still, err)
		}
		zhang := personOf(t, a, demo.ZhangSan)
		zhang.Roles = []authz.Role{authz.Applicant}
		c, err := a.bundles.Case(ctx, zhang, id)
		if err != nil {
			t.Fatal(err)
		}
		apps := map[string]int64{}
		for _, m := range c.Members {
			apps[m.ID] = m.ApplicationID
		}
		for _, after := range []string{"medical", "fund"} {
			if apps[after] == 0 || apps[after] < apps["pension"] {
				t.Errorf("%s (application %d) was not submitted after the pension claim it needs (%d)", after, apps[after], apps["pension"])
			}
		}
		fund, err := a.applications.Drafts.Get(ctx, zhang, apps["fund"])
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := fund.Form["pension_decision_number"].(string); n == "" {
			t.Errorf("the fund withdrawal does not carry the pension decision's number: %v", fund.Form)
		}
		_, status = page(t, h, hd, "GET", path, nil)
		if !strings.Contains(status, `id="status">已办结<`) {
			t.Errorf("the case is not done once every member is:\n%s", status)
		}
		if n := strings.Count(status, "查看办理结果"); n != 3 {
			t.Errorf("%d members show their result, want 3:\n%s", n, status)
		}
	})
}
