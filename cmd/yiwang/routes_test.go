package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"yiwang/api"
	democatalog "yiwang/catalog"
	"yiwang/internal/blob"
	"yiwang/internal/demo"
	"yiwang/internal/logging"
	"yiwang/internal/pii"
	"yiwang/internal/server"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

// demoServer is the whole platform on a fresh SQLite database with demo data.
func demoServer(t testing.TB) (*server.Server, *app) {
	t.Helper()
	return demoServerOn(t, storetest.SQLite(t))
}

func demoServerOn(t testing.TB, db *store.DB) (*server.Server, *app) {
	t.Helper()
	return demoServerWith(t, db, testOptions(t))
}

// demoServerWith is demoServerOn with the given options (a test that
// writes sealed rows itself needs their key).
func demoServerWith(t testing.TB, db *store.DB, opts appOptions) (*server.Server, *app) {
	t.Helper()
	ctx := context.Background()
	if _, err := demo.Seed(ctx, db, demo.Options{OnPostgres: true}); err != nil {
		t.Fatal(err)
	}
	logger := logging.New(io.Discard, "text", 0)
	a, err := newApp(ctx, db, opts, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedAccounts(ctx, db, a.identities); err != nil {
		t.Fatal(err)
	}
	if err := a.pins.SeedDemo(ctx, demo.ZhangSan, demo.LiSi, demo.WangWu); err != nil {
		t.Fatal(err)
	}
	if err := a.indexer.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return a.server(db, logger), a
}

// testOptions gives every test server its own fresh personal-data key.
func testOptions(t testing.TB) appOptions {
	t.Helper()
	_, _, protector := newDataKey(t)
	blobs, err := blob.NewFS(filepath.Join(t.TempDir(), "blobs"), blob.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return appOptions{protector: protector, blobs: blobs}
}

// newDataKey makes a fresh personal-data key: in base64, as the
// --data-key flag takes it, parsed, and its protector.
func newDataKey(t testing.TB) (string, pii.Key, *pii.Protector) {
	t.Helper()
	key, err := pii.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	k, protector := protectorOf(t, key)
	return key, k, protector
}

// protectorOf parses the base64 key and makes its protector.
func protectorOf(t testing.TB, key string) (pii.Key, *pii.Protector) {
	t.Helper()
	k, err := pii.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	protector, err := pii.NewProtector(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, protector
}

// signIn signs in through the API and returns the headers later calls need:
// the session cookie and the CSRF token.
func signIn(t testing.TB, h http.Handler, login string) map[string]string {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"login":"`+login+`","password":"`+demo.Password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := contract.Serve(t, h, req)
	if rec.Code != 200 {
		t.Fatalf("sign in as %s: %d %s", login, rec.Code, rec.Body)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &me)
	var cookie string
	for _, c := range rec.Result().Cookies() {
		if c.Name == "yiwang_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	return map[string]string{"Cookie": cookie, "X-CSRF-Token": me.CSRF}
}

// TestOpenAPIMatchesRoutes keeps the OpenAPI document true to the code: every
// API route is documented and every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	srv, _ := demoServer(t)
	served := map[string]bool{}
	for _, route := range srv.Router().Routes() {
		p := route.Pattern
		method, path, ok := strings.Cut(p, " ")
		if !ok || !(strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz" || path == "/metrics") {
			continue // pages and assets are not API
		}
		served[strings.ToLower(method)+" "+path] = true
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s is not in api/openapi.yaml", p)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" && !served[method+" "+path] {
				t.Errorf("api/openapi.yaml documents %s %s, which no route serves", strings.ToUpper(method), path)
			}
		}
	}
}

func call(t *testing.T, h http.Handler, method, path string, body io.Reader, header map[string]string) (int, map[string]any, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := contract.Serve(t, h, req) // /api/ exchanges are held to api/openapi.yaml
	var out map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		json.Unmarshal(rec.Body.Bytes(), &out)
	}
	return rec.Code, out, rec.Body.String()
}

const seniorCard = "11910102MB00011858-07-00001"

func TestGuidesAndSearchForApplicants(t *testing.T) {
	srv, _ := demoServer(t)
	h := srv.Handler()

	code, body, _ := call(t, h, "GET", "/api/v1/items", nil, nil)
	if code != 200 || len(body["items"].([]any)) == 0 {
		t.Fatalf("items: %d %v", code, body)
	}
	code, body, _ = call(t, h, "GET", "/api/v1/items/"+seniorCard, nil, nil)
	if code != 200 || body["item"].(map[string]any)["name"].(map[string]any)["zh"] != "老年人优待证办理" {
		t.Fatalf("guide API: %d %v", code, body)
	}
	code, _, page := call(t, h, "GET", "/items/"+seniorCard, nil, nil)
	for _, want := range []string{"一、办理内容", "二、办理流程", "三、申请材料", "四、收费标准", "五、办理时限", "明德区民政局", "打印办事指南", "转人工审核，5 个工作日内办结"} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("guide page (%d) lacks %q", code, want)
		}
	}
	_, _, page = call(t, h, "GET", "/items/"+seniorCard+"?lang=en", nil, nil)
	if !strings.Contains(page, "5. Time limit") || !strings.Contains(page, "Civil Affairs Bureau") || !strings.Contains(page, "a person reviews it within 5 working days") {
		t.Error("English guide page is not in English")
	}
	code, _, page = call(t, h, "GET", "/items/NOPE", nil, nil)
	if code != 404 || !strings.Contains(page, "未找到事项") {
		t.Errorf("unknown item page: %d", code)
	}

	call(t, h, "GET", "/api/v1/search?q=老人", nil, nil)
	code, body, _ = call(t, h, "GET", "/api/v1/search?q=老人", nil, nil)
	if code != 200 || !strings.Contains(jsonText(body), seniorCard) {
		t.Errorf("search 老人: %d %v", code, body)
	}
	_, _, page = call(t, h, "GET", "/search?q=老人", nil, nil)
	if !strings.Contains(page, "/items/"+seniorCard) {
		t.Error("search page does not link the senior card guide")
	}
	_, body, _ = call(t, h, "GET", "/api/v1/search/hot", nil, nil)
	if !strings.Contains(jsonText(body), `{"count":3,"last_hits":`) || !strings.Contains(jsonText(body), `"query":"老人"}`) {
		t.Errorf("hot words after three searches: %v", body)
	}
	call(t, h, "GET", "/api/v1/search?q=440301199001011234", nil, nil)
	call(t, h, "GET", "/api/v1/search?q=440301199001011234", nil, nil)
	call(t, h, "GET", "/api/v1/search?q=440301199001011234", nil, nil)
	if _, body, _ = call(t, h, "GET", "/api/v1/search/hot", nil, nil); strings.Contains(jsonText(body), "4403") {
		t.Errorf("an ID number became a hot word: %v", body)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// zipCatalogue zips the demo catalogue, letting edit change any file first.
func zipCatalogue(t testing.TB, edit func(name string, b []byte) []byte) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := fs.WalkDir(democatalog.Demo, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(democatalog.Demo, p)
		if err != nil {
			return err
		}
		w, err := zw.Create("catalog/" + p)
		if err != nil {
			return err
		}
		_, err = w.Write(edit(p, b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return &buf
}

func TestCatalogueAdministration(t *testing.T) {
	srv, _ := demoServer(t)
	h := srv.Handler()
	auth := signIn(t, h, "catalog.admin")
	auth["Content-Type"] = "application/zip"

	if code, body, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", zipCatalogue(t, keep), map[string]string{"Content-Type": "application/zip"}); code != 403 {
		t.Errorf("import without signing in: %d %v", code, body)
	}
	if code, _, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", zipCatalogue(t, keep), map[string]string{"Authorization": "Bearer wrong"}); code != 401 {
		t.Errorf("import with a wrong token: %d", code)
	}
	clerk := signIn(t, h, "clerk")
	clerk["Content-Type"] = "application/zip"
	if code, _, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", zipCatalogue(t, keep), clerk); code != 403 {
		t.Errorf("import by a clerk: %d", code)
	}

	broken := zipCatalogue(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "senior_card.yaml") {
			return bytes.Replace(b, []byte("kind: 行政确认"), []byte("kind: 行政审批"), 1)
		}
		return b
	})
	code, body, _ := call(t, h, "POST", "/api/v1/admin/catalog/import", broken, auth)
	if code != 400 || body["error"].(map[string]any)["code"] != "catalogue_invalid" || !strings.Contains(jsonText(body), `"line":`) {
		t.Errorf("invalid catalogue import: %d %v", code, body)
	}

	changed := zipCatalogue(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "senior_card.yaml") {
			return bytes.Replace(b, []byte("promised_days: 1"), []byte("promised_days: 2"), 1)
		}
		return b
	})
	code, body, _ = call(t, h, "POST", "/api/v1/admin/catalog/import", changed, auth)
	if code != 200 || !strings.Contains(jsonText(body["created"]), `"version":2`) {
		t.Fatalf("import of one change: %d %v", code, body)
	}
	base := "/api/v1/admin/catalog/items/" + seniorCard
	code, body, _ = call(t, h, "GET", base+"/diff?from=1&to=2", nil, auth)
	if code != 200 || !strings.Contains(jsonText(body), `{"new":2,"old":1,"path":"time_limit.promised_days"}`) {
		t.Errorf("diff: %d %v", code, body)
	}
	if code, _, _ := call(t, h, "POST", base+"/versions/1/publish", nil, auth); code != 409 {
		t.Errorf("publishing a published version: %d", code)
	}
	if code, body, _ := call(t, h, "POST", base+"/versions/2/publish", nil, auth); code != 200 {
		t.Fatalf("publish v2: %d %v", code, body)
	}
	_, body, _ = call(t, h, "GET", "/api/v1/items/"+seniorCard, nil, nil)
	if body["version"] != float64(2) {
		t.Errorf("guide after publishing v2 shows version %v", body["version"])
	}
	if code, _, _ := call(t, h, "POST", base+"/retire", nil, auth); code != 200 {
		t.Fatalf("retire: %d", code)
	}
	if code, _, _ := call(t, h, "GET", "/api/v1/items/"+seniorCard, nil, nil); code != 404 {
		t.Errorf("retired item still has a guide: %d", code)
	}
	_, body, _ = call(t, h, "GET", "/api/v1/search?q=老人", nil, nil)
	if strings.Contains(jsonText(body), seniorCard) {
		t.Error("retired item is still found by search")
	}
}

func keep(_ string, b []byte) []byte { return b }

// TestSearchFindsWhatPeopleType runs the example queries against the
// demo catalogue: what a resident types finds the item they mean.
func TestSearchFindsWhatPeopleType(t *testing.T) {
	_, a := demoServer(t)
	for _, tt := range []struct{ query, wantName string }{
		{"落户", "应届毕业生引进落户"},
		{"营业执照", "个体工商户设立登记"},
		{"老人", "老年人优待证"},
		{"开饭店", "小餐饮"},
	} {
		hits, err := a.index.Search(context.Background(), tt.query, 5)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, h := range hits {
			found = found || strings.Contains(h.NameZh, tt.wantName)
		}
		if !found {
			t.Errorf("search %q: %v, want an item named like %s in the first five", tt.query, hits, tt.wantName)
		}
	}
}

// TestGuideShowsTheDueDate: a guide says by when an application made today
// is decided at the latest, counted on the working-day calendar from the
// item's time limit (the senior card promises 1 working day), in China time
// and in the page's language.
func TestGuideShowsTheDueDate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv, a := demoServerOn(t, db)
		h := srv.Handler()
		for _, tt := range []struct {
			now    time.Time
			zh, en string
		}{
			// A Tuesday: the next working day.
			{time.Date(2026, 12, 1, 16, 0, 0, 0, workday.CST), "今天申请，最迟 2026-12-02 办结。", "Apply today and it is decided by 2026-12-02 at the latest."},
			// Thursday 17:00 in UTC is Friday 01:00 in China: over the weekend to Monday.
			{time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC), "今天申请，最迟 2026-12-07 办结。", "Apply today and it is decided by 2026-12-07 at the latest."},
			{time.Date(2026, 9, 30, 9, 0, 0, 0, workday.CST), "今天申请，最迟 2026-10-08 办结。", "Apply today and it is decided by 2026-10-08 at the latest."},
			{time.Date(2026, 12, 31, 9, 0, 0, 0, workday.CST), "今天申请，最迟 2027-01-04 办结（该年度节假日安排尚未公布，按临时口径计算）。",
				"Apply today and it is decided by 2027-01-04 at the latest (counted provisionally, as the holidays of that year are not announced yet)."},
		} {
			a.guides.Now = func() time.Time { return tt.now }
			if code, _, page := call(t, h, "GET", "/items/"+seniorCard, nil, nil); code != 200 || !strings.Contains(page, tt.zh) {
				t.Errorf("%v: the Chinese guide (%d) lacks %q", tt.now, code, tt.zh)
			}
			if code, _, page := call(t, h, "GET", "/items/"+seniorCard+"?lang=en", nil, nil); code != 200 || !strings.Contains(page, tt.en) {
				t.Errorf("%v: the English guide (%d) lacks %q", tt.now, code, tt.en)
			}
		}
	})
}
