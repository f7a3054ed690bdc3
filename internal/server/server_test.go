package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yiwang/internal/apitest"
	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/httpx"
	"yiwang/internal/identity"
	"yiwang/internal/logging"
	"yiwang/internal/org"
	"yiwang/internal/portal"
	"yiwang/internal/server"
	"yiwang/internal/store/storetest"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testRoutes adds routes that misbehave on purpose.
type testRoutes struct{ release chan struct{} }

func (t testRoutes) Register(r *httpx.Router) {
	r.HandleFunc("GET /test/panic", authz.Public, func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	r.HandleFunc("GET /test/slow", authz.Public, func(w http.ResponseWriter, r *http.Request) {
		<-t.release
		io.WriteString(w, "finished")
	})
}

func newServer(t *testing.T) (*server.Server, *syncBuffer, testRoutes) {
	t.Helper()
	db := storetest.SQLite(t)
	logs := &syncBuffer{}
	logger := logging.New(logs, "json", -4)
	routes := testRoutes{release: make(chan struct{})}
	orgStore := org.NewStore(db.DB)
	portalHandler, err := portal.NewHandler(portal.Deps{DB: db, Org: orgStore, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return server.New(db, logger, copyRequest, org.NewHandler(orgStore, logger), portalHandler, routes), logs, routes
}

// copyRequest stands in for the identity middleware: like it, it passes a
// copy of the request on, so the mux's pattern is not set on the request the
// outer middleware holds.
func copyRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), copyKey{}, true)))
	})
}

type copyKey struct{}

func decodeError(t *testing.T, body io.Reader) httpx.ErrorDetail {
	t.Helper()
	var e httpx.ErrorBody
	if err := json.NewDecoder(body).Decode(&e); err != nil {
		t.Fatalf("error body is not the error shape: %v", err)
	}
	return e.Error
}

func TestRequestIDIsReturnedAndLogged(t *testing.T) {
	srv, logs, _ := newServer(t)
	h := srv.Handler()

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-ID", "caller-id-1")
	h.ServeHTTP(rec, req)
	if got := rec.Header().Get("X-Request-ID"); got != "caller-id-1" {
		t.Errorf("X-Request-ID = %q, want the caller's", got)
	}
	if !strings.Contains(logs.String(), `"request_id":"caller-id-1"`) {
		t.Errorf("access log lacks the request ID:\n%s", logs)
	}

	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-ID", "bad id\nforged=log")
	h.ServeHTTP(rec, req)
	if got := rec.Header().Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \n") {
		t.Errorf("malformed caller ID was kept: %q", got)
	}
}

func TestErrorsHaveOneShape(t *testing.T) {
	srv, logs, _ := newServer(t)
	h := srv.Handler()
	tests := []struct {
		path   string
		status int
		code   string
	}{
		{"/api/v1/departments/none", 404, "department_not_found"},
		{"/api/v1/no-such-thing", 404, "not_found"},
		{"/test/panic", 500, "internal"},
	}
	contract := apitest.MustNew(t) // the one shape is the document's Error
	for _, tt := range tests {
		rec := contract.Serve(t, h, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.path, rec.Code, tt.status)
		}
		e := decodeError(t, rec.Body)
		if e.Code != tt.code || e.Message == "" || e.RequestID != rec.Header().Get("X-Request-ID") {
			t.Errorf("%s: error = %+v", tt.path, e)
		}
		if strings.Contains(e.Message, "boom") {
			t.Errorf("%s: internal detail leaked to the caller: %q", tt.path, e.Message)
		}
	}
	if !strings.Contains(logs.String(), "handler panicked") {
		t.Error("panic was not logged")
	}
}

func TestReadyzChecksTheDatabase(t *testing.T) {
	db := storetest.SQLite(t)
	logger := logging.New(io.Discard, "text", 0)
	h := server.New(db, logger, nil).Handler()
	contract := apitest.MustNew(t)
	rec := contract.Serve(t, h, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 {
		t.Fatalf("readyz = %d with the database up", rec.Code)
	}
	db.Close()
	rec = contract.Serve(t, h, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || decodeError(t, rec.Body).Code != "database_unavailable" {
		t.Errorf("readyz = %d with the database closed, want 503 database_unavailable", rec.Code)
	}
}

// TestReadyzAsksTheFileStore: a dependency given to ReadyWhen (the store of
// materials) that does not answer makes the process unready, with its code.
func TestReadyzAsksTheFileStore(t *testing.T) {
	db := storetest.SQLite(t)
	srv := server.New(db, logging.New(io.Discard, "text", 0), nil)
	var down atomic.Bool
	srv.ReadyWhen(func(ctx context.Context) error {
		if down.Load() {
			return apperr.New(apperr.Unavailable, apperr.BlobStoreUnavailable, "cannot reach the object store")
		}
		return nil
	})
	h := srv.Handler()
	contract := apitest.MustNew(t)
	if rec := contract.Serve(t, h, httptest.NewRequest("GET", "/readyz", nil)); rec.Code != 200 {
		t.Fatalf("readyz = %d with the store up", rec.Code)
	}
	down.Store(true)
	rec := contract.Serve(t, h, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || decodeError(t, rec.Body).Code != "blob_store_unavailable" {
		t.Errorf("readyz = %d with the store down, want 503 blob_store_unavailable", rec.Code)
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	srv, _, _ := newServer(t)
	h := srv.Handler()
	for _, p := range []string{"/api/v1/departments/a", "/api/v1/departments/b", "/no/such/page", "/test/panic", "/api/v1/departments"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`yiwang_http_requests_total{method="GET",route="/api/v1/departments/{code}",status="404"} 2`,
		`yiwang_http_requests_total{method="GET",route="/api/v1/departments",status="200"} 1`,
		`yiwang_http_requests_total{method="GET",route="/test/panic",status="500"} 1`,
		`yiwang_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`yiwang_http_request_duration_seconds_bucket{method="GET",route="/api/v1/departments/{code}"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, leaked := range []string{`route="/api/v1/departments/a"`, `route="/no/such/page"`} {
		if strings.Contains(body, leaked) {
			t.Errorf("metrics label a raw path: %s", leaked)
		}
	}
}

func TestMetricsCanBeServedApart(t *testing.T) {
	srv, _, _ := newServer(t)
	h := srv.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("public /metrics = %d before it is served apart, want 200", rec.Code)
	}

	ln, err := server.Listen("127.0.0.1:0", "--metrics-addr or YIWANG_METRICS_ADDR")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	srv.ServeMetricsOn(ctx, ln)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/departments", nil))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "yiwang_http_requests_total") {
		t.Errorf("public /metrics = %d while served apart, want 404 without metrics", rec.Code)
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `yiwang_http_requests_total{method="GET",route="/api/v1/departments",status="200"} 1`) {
		t.Errorf("/metrics on its own address = %d, want the public listener's metrics:\n%s", resp.StatusCode, body)
	}
	stop()
	time.Sleep(100 * time.Millisecond)
	if _, err := http.Get("http://" + ln.Addr().String() + "/metrics"); err == nil {
		t.Error("the metrics listener still answers after shutdown")
	}
}

func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	srv, _, routes := newServer(t)
	ln, err := server.Listen("127.0.0.1:0", "--addr or YIWANG_ADDR")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, 10*time.Second) }()

	url := "http://" + ln.Addr().String()
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/test/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	time.Sleep(200 * time.Millisecond) // the slow request is now in flight
	stop()                             // as SIGTERM does
	time.Sleep(200 * time.Millisecond)
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("new connections are still accepted while shutting down")
	}
	close(routes.release)
	if body := <-got; body != "finished" {
		t.Errorf("request in flight got %q, want it to finish", body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v", err)
	}
}

func TestListenExplainsATakenPort(t *testing.T) {
	ln, err := server.Listen("127.0.0.1:0", "--addr or YIWANG_ADDR")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = server.Listen(ln.Addr().String(), "--addr or YIWANG_ADDR")
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("Listen on a taken port: %v", err)
	}
}

// BenchmarkDepartmentsAPI measures one API request through the whole
// middleware chain and an SQLite query, without the network.
func BenchmarkDepartmentsAPI(b *testing.B) {
	db := storetest.SQLite(b)
	logger := logging.New(io.Discard, "text", 0)
	orgStore := org.NewStore(db.DB)
	for i := range 18 {
		if err := org.PutRegion(context.Background(), db, org.Region{Code: "910102", Level: "district", NameZh: "区", NameEn: "D"}); err != nil {
			b.Fatal(err)
		}
		if err := org.PutDepartment(context.Background(), db, org.Department{Code: string(rune('a' + i)), RegionCode: "910102", NameZh: "部门", NameEn: "Dept"}); err != nil {
			b.Fatal(err)
		}
	}
	h := server.New(db, logger, nil, org.NewHandler(orgStore, logger)).Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/departments", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// Every response carries the content security policy; HSTS only once the
// site is known to be served over https.
func TestSecurityHeaders(t *testing.T) {
	db := storetest.SQLite(t)
	logger := logging.New(io.Discard, "text", 0)
	srv := server.New(db, logger, nil)
	get := func() http.Header {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		return rec.Header()
	}
	h := get()
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q, want scripts from the site only and no framing", csp)
	}
	if hsts := h.Get("Strict-Transport-Security"); hsts != "" {
		t.Errorf("HSTS %q sent over plain http", hsts)
	}
	if cc := h.Get("Cache-Control"); cc != "" {
		t.Errorf("an anonymous request got Cache-Control %q, want none set", cc)
	}
	srv.UseHTTPS()
	if hsts := get().Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=31536000") {
		t.Errorf("HSTS with an https public URL = %q, want a year", hsts)
	}

	// A signed-in response may hold personal data: no cache keeps it.
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.AddCookie(&http.Cookie{Name: identity.SessionCookie, Value: "any"})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if cc := rec.Header().Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("a signed-in response's Cache-Control = %q, want private, no-store", cc)
	}
}

// The policy forbids inline scripts and on* attributes: no page template
// may have them (behaviour goes in internal/web/static/site.js).
func TestTemplatesHaveNoInlineScript(t *testing.T) {
	files, err := filepath.Glob("../*/templates/*.html")
	if err != nil || len(files) < 10 {
		t.Fatalf("templates found: %d, %v", len(files), err)
	}
	scriptTag := regexp.MustCompile(`(?i)<script[^>]*>`)
	handler := regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range scriptTag.FindAllString(string(b), -1) {
			if !strings.Contains(tag, "src=") {
				t.Errorf("%s: inline script %s", f, tag)
			}
		}
		if m := handler.FindString(string(b)); m != "" {
			t.Errorf("%s: event handler attribute %q", f, m)
		}
	}
}
