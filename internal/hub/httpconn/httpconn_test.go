package httpconn_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/hub"
	"yiwang/internal/hub/httpconn"
)

const (
	personKey     = "11010519491231002x" // lower-case x: the connector sends it upper-cased
	personPath    = "/api/persons/11010519491231002X"
	enterpriseKey = "91350100M000100Y43"
	secret        = "s3cret-token-value"
)

var (
	person     = hub.Subject{Kind: hub.Person, Key: personKey}
	enterprise = hub.Subject{Kind: hub.Enterprise, Key: enterpriseKey}
)

// handler answers the n-th request (from 1) the server receives.
type handler func(n int64, w http.ResponseWriter, r *http.Request)

// fixture is a department system on loopback and a connector to it.
type fixture struct {
	srv   *httptest.Server
	hits  atomic.Int64
	logs  *syncBuffer
	clock *clock
	conn  *httpconn.Connector
}

// newFixture starts a server answering with h and a connector with short
// timeouts, adjusted by edit. When the test ends it checks that no log line
// holds the subject's key or the credentials.
func newFixture(t *testing.T, h handler, edit func(*httpconn.Config)) *fixture {
	t.Helper()
	fx := &fixture{logs: &syncBuffer{}, clock: &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}}
	fx.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(fx.hits.Add(1), w, r)
	}))
	t.Cleanup(fx.srv.Close)
	cfg := httpconn.Config{
		BaseURL: fx.srv.URL + "/api",
		Paths: map[string]string{
			"population":               "/persons/{key}",
			"enterprise":               "enterprises/{key}/basic",
			"social_insurance":         "/si/{key}",
			"licence.business_licence": "/licences/business?holder={key}",
		},
		AuthHeader: "X-Api-Key",
		AuthValue:  secret,
		FieldMap: map[string]map[string]string{
			"population": {
				"name": "xm", "birth_date": "csrq", "household_address": "hukou.address", "household_region": "hukou.region",
				"children_count": "children", "alive": "alive", "spouse_name": "spouse.name",
			},
			"enterprise": {
				"name": "entName", "registered_capital": "capital.amount", "agent_id_numbers": "agents",
				"established_on": "estDate", "has_basic_account": "bank.basic",
			},
		},
		Timeout:         50 * time.Millisecond,
		Backoff:         time.Millisecond,
		BreakerFailures: 100,
		BreakerCooldown: 30 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	conn, err := httpconn.New(cfg, slog.New(slog.NewTextHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	conn.SetNow(fx.clock.Now)
	fx.conn = conn
	t.Cleanup(func() { checkNoSecrets(t, "log", fx.logs.String()) })
	return fx
}

// fetch fetches and checks the connector's promises that hold for every
// call: a record or an error, never both, and no secret in the error.
func (fx *fixture) fetch(t *testing.T, ctx context.Context, source string, s hub.Subject, fields ...string) (hub.Record, error) {
	t.Helper()
	rec, err := fx.conn.Fetch(ctx, source, s, fields)
	if err != nil {
		if rec != nil {
			t.Errorf("Fetch returned a record %v together with the error %v", rec, err)
		}
		checkNoSecrets(t, "error", err.Error())
		if !strings.Contains(err.Error(), source) {
			t.Errorf("error %q does not name the source %s", err, source)
		}
	}
	return rec, err
}

func checkNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{personKey, strings.ToUpper(personKey), enterpriseKey, secret} {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the secret %q: %s", what, secret, s)
		}
	}
}

func writeJSON(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(body))
}

func TestFetchTypedRecord(t *testing.T) {
	fx := newFixture(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case personPath:
			writeJSON(w, `{"xm":"张三","csrq":"1949-12-31","hukou":{"address":"北京市朝阳区","region":"110105"},
				"children":2,"alive":true,"spouse":null,"death_date":null,"gender":"男"}`)
		case "/api/enterprises/" + enterpriseKey + "/basic":
			writeJSON(w, `{"entName":"某某科技有限公司","capital":{"amount":100.5,"currency":"CNY"},
				"agents":["110105194912310021","440301199001011234"],"estDate":"2015-06-01","bank":{"basic":false}}`)
		case "/api/si/11010519491231002X":
			writeJSON(w, `{"months_contributed":9007199254740993,"monthly_contributions":[],"employee_pension_active":true}`)
		case "/api/licences/business":
			writeJSON(w, `{"number":"BL-1","issue_date":"2020-01-02","capital":12,"scope":"软件"}`)
		default:
			http.NotFound(w, r)
		}
	}, nil)

	tests := []struct {
		name    string
		source  string
		subject hub.Subject
		fields  []string
		want    hub.Record
	}{
		{
			name: "nested person record", source: "population", subject: person,
			fields: []string{"name", "birth_date", "household_address", "household_region", "children_count", "alive", "spouse_name", "death_date", "gender", "phone"},
			want: hub.Record{
				"name": "张三", "birth_date": "1949-12-31", "household_address": "北京市朝阳区", "household_region": "110105",
				"children_count": int64(2), "alive": true, "gender": "男",
			},
		},
		{
			name: "only the asked fields", source: "population", subject: person,
			fields: []string{"name"},
			want:   hub.Record{"name": "张三"},
		},
		{
			name: "enterprise with a double, a list and a date", source: "enterprise", subject: enterprise,
			fields: []string{"name", "registered_capital", "agent_id_numbers", "established_on", "has_basic_account"},
			want: hub.Record{
				"name": "某某科技有限公司", "registered_capital": 100.5, "agent_id_numbers": []string{"110105194912310021", "440301199001011234"},
				"established_on": "2015-06-01", "has_basic_account": false,
			},
		},
		{
			name: "a whole number beyond float64 keeps every digit", source: "social_insurance", subject: person,
			fields: []string{"months_contributed", "monthly_contributions", "employee_pension_active"},
			want:   hub.Record{"months_contributed": int64(9007199254740993), "monthly_contributions": []string{}, "employee_pension_active": true},
		},
		{
			name: "a licence's own fields pass through", source: "licence.business_licence", subject: enterprise,
			fields: []string{"number", "issue_date", "capital", "scope"},
			want:   hub.Record{"number": "BL-1", "issue_date": "2020-01-02", "capital": int64(12), "scope": "软件"},
		},
		{
			name: "no fields asked", source: "population", subject: person,
			want: hub.Record{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fx.fetch(t, context.Background(), tt.source, tt.subject, tt.fields...)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Fetch =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
	if got := fx.conn.State("population"); got != "closed" {
		t.Errorf("State = %s, want closed", got)
	}
}

func TestRequest(t *testing.T) {
	type seen struct {
		method, path, query, accept, auth, authorization string
	}
	var (
		mu   sync.Mutex
		last seen
	)
	fx := newFixture(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Accept"), r.Header.Get("X-Api-Key"), r.Header.Get("Authorization")}
		mu.Unlock()
		writeJSON(w, `{}`)
	}, nil)

	tests := []struct {
		name    string
		source  string
		subject hub.Subject
		want    seen
	}{
		{"person key normalised", "population", person, seen{"GET", personPath, "", "application/json", secret, ""}},
		{"key is path-escaped", "enterprise", hub.Subject{Kind: hub.Enterprise, Key: "a b/../c?d=1#e%"},
			seen{"GET", "/api/enterprises/a%20b%2F..%2Fc%3Fd=1%23e%25/basic", "", "application/json", secret, ""}},
		{"key in a query template", "licence.business_licence", enterprise,
			seen{"GET", "/api/licences/business", "holder=" + enterpriseKey, "application/json", secret, ""}},
		{"key in a query template is query-escaped", "licence.business_licence", hub.Subject{Kind: hub.Enterprise, Key: "a b&admin=1"},
			seen{"GET", "/api/licences/business", "holder=a+b%26admin%3D1", "application/json", secret, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := fx.fetch(t, context.Background(), tt.source, tt.subject); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if last != tt.want {
				t.Errorf("server saw %+v, want %+v", last, tt.want)
			}
		})
	}

	t.Run("no auth header when none is configured", func(t *testing.T) {
		var got []string
		fx := newFixture(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
			got = r.Header.Values("X-Api-Key")
			writeJSON(w, `{}`)
		}, func(c *httpconn.Config) { c.AuthHeader, c.AuthValue = "", "" })
		if _, err := fx.fetch(t, context.Background(), "population", person); err != nil {
			t.Fatal(err)
		}
		if got != nil {
			t.Errorf("X-Api-Key sent: %q", got)
		}
	})
}

func TestStatusAndRetries(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect was followed, with X-Api-Key %q", r.Header.Get("X-Api-Key"))
	}))
	defer other.Close()

	slow := func(_ int64, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
		writeJSON(w, `{"xm":"late"}`)
	}
	status := func(code int) handler {
		return func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
	}
	failThenOK := func(fails int64, code int) handler {
		return func(n int64, w http.ResponseWriter, _ *http.Request) {
			if n <= fails {
				http.Error(w, "busy", code)
				return
			}
			writeJSON(w, `{"xm":"张三"}`)
		}
	}
	slowBody := func(_ int64, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"xm":`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
	}

	tests := []struct {
		name         string
		h            handler
		edit         func(*httpconn.Config)
		wantErr      error
		wantAttempts int64
		wantMsg      string
		wantLog      string
	}{
		{name: "healthy", h: failThenOK(0, 500), wantAttempts: 1},
		{name: "slow server times out", h: slow, wantErr: hub.ErrUnavailable, wantAttempts: 3, wantMsg: "timed out (50ms per attempt) after 3 attempts"},
		{name: "slow body times out", h: slowBody, wantErr: hub.ErrUnavailable, wantAttempts: 3, wantMsg: "timed out"},
		{name: "retries configured", h: slow, edit: func(c *httpconn.Config) { c.Retries = 4 }, wantErr: hub.ErrUnavailable, wantAttempts: 5, wantMsg: "after 5 attempts"},
		{name: "no retries", h: slow, edit: func(c *httpconn.Config) { c.Retries = -1 }, wantErr: hub.ErrUnavailable, wantAttempts: 1, wantMsg: "timed out"},
		{name: "500 twice then success", h: failThenOK(2, 500), wantAttempts: 3},
		{name: "429 then success", h: failThenOK(1, 429), wantAttempts: 2},
		{name: "always 503", h: status(503), wantErr: hub.ErrUnavailable, wantAttempts: 3, wantMsg: "HTTP 503 after 3 attempts"},
		{name: "404 is no record", h: status(404), wantErr: hub.ErrNotFound, wantAttempts: 1, wantMsg: "HTTP 404"},
		{name: "401 is not retried", h: status(401), wantErr: hub.ErrUnavailable, wantAttempts: 1, wantMsg: "check AuthHeader and AuthValue", wantLog: "configuration or credentials are wrong"},
		{name: "403 is not retried", h: status(403), wantErr: hub.ErrUnavailable, wantAttempts: 1, wantMsg: "refused our credentials", wantLog: "status=403"},
		{name: "400 is not retried", h: status(400), wantErr: hub.ErrUnavailable, wantAttempts: 1, wantMsg: "check BaseURL and Paths", wantLog: "status=400"},
		{
			name: "redirect is not followed",
			h: func(_ int64, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
			},
			wantErr: hub.ErrUnavailable, wantAttempts: 1, wantMsg: "HTTP 302", wantLog: "status=302",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, tt.h, tt.edit)
			rec, err := fx.fetch(t, context.Background(), "population", person, "name")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Fetch = %v, %v; want error %v", rec, err, tt.wantErr)
			}
			if err == nil && rec["name"] != "张三" {
				t.Errorf("Fetch = %v", rec)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if got := fx.hits.Load(); got != tt.wantAttempts {
				t.Errorf("server saw %d attempts, want %d", got, tt.wantAttempts)
			}
			if !strings.Contains(fx.logs.String(), tt.wantLog) {
				t.Errorf("log does not say %q:\n%s", tt.wantLog, fx.logs)
			}
		})
	}
}

func TestConnectionRefusedIsRetried(t *testing.T) {
	// A listener that hangs up on every connection: the network fails, not
	// the HTTP server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	conn, err := httpconn.New(httpconn.Config{
		BaseURL: "http://" + ln.Addr().String(),
		Paths:   map[string]string{"population": "/persons/{key}"},
		Timeout: 50 * time.Millisecond, Backoff: time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Fetch(context.Background(), "population", person, []string{"name"})
	if !errors.Is(err, hub.ErrUnavailable) || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("Fetch error = %v, want unavailable after 3 attempts", err)
	}
	checkNoSecrets(t, "error", err.Error())
	if got := accepted.Load(); got != 3 {
		t.Errorf("%d connections, want 3", got)
	}
}

func TestMalformed(t *testing.T) {
	huge := `{"xm":"` + strings.Repeat("a", 1<<20) + `"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		fields      []string
		wantMsg     string
	}{
		{"HTML", "text/html", "<html>维护中</html>", nil, `malformed JSON at byte 1: invalid character '<' looking for beginning of value (Content-Type "text/html")`},
		// Go 1.26 names the first byte of 张 at byte 8, Go 1.27 the whole character at byte 10.
		{"invalid JSON", "application/json", `{"xm": 张三}`, nil, "looking for beginning of value"},
		{"truncated JSON", "application/json", `{"xm":"张三","children":`, nil, "truncated JSON"},
		{"empty body", "application/json", ``, nil, "empty answer"},
		{"data after the object", "application/json", `{"xm":"a"} {"xm":"b"}`, nil, "malformed JSON at byte 12: data after the value"},
		{"an array", "application/json", `[{"xm":"张三"}]`, nil, "want a JSON object, got an array"},
		{"null", "application/json", `null`, nil, "want a JSON object, got null"},
		{"a string where an int is declared", "application/json", `{"children":"2"}`, []string{"children_count"}, "field children_count: want a whole number, got string"},
		{"a fraction where an int is declared", "application/json", `{"children":2.5}`, []string{"children_count"}, "want a whole number, got a fraction"},
		{"a number too large for any type", "application/json", `{"children":1e999}`, []string{"children_count"}, "want a whole number"},
		{"a number where a bool is declared", "application/json", `{"alive":1}`, []string{"alive"}, "want true or false"},
		{"not a date", "application/json", `{"csrq":"1949-13-31"}`, []string{"birth_date"}, "want a date YYYY-MM-DD"},
		{"a date as a number", "application/json", `{"csrq":19491231}`, []string{"birth_date"}, "want a date"},
		{"a step of a dotted path is not an object", "application/json", `{"hukou":"北京"}`, []string{"household_address"}, "field household_address (remote hukou.address): hukou is a string, want an object"},
		{"over the size limit", "application/json", huge, nil, "larger than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				_, _ = w.Write([]byte(tt.body))
			}, func(c *httpconn.Config) { c.Timeout = 2 * time.Second; c.BreakerFailures = 1 })
			fields := tt.fields
			if fields == nil {
				fields = []string{"name"}
			}
			_, err := fx.fetch(t, context.Background(), "population", person, fields...)
			if !errors.Is(err, hub.ErrMalformed) {
				t.Fatalf("Fetch error = %v, want malformed", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if got := fx.hits.Load(); got != 1 {
				t.Errorf("%d attempts, want 1: malformed data is not retried", got)
			}
			if got := fx.conn.State("population"); got != "closed" {
				t.Errorf("State = %s, want closed: the source did answer", got)
			}
		})
	}
}

func TestBreaker(t *testing.T) {
	var healthy atomic.Bool
	fx := newFixture(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		if healthy.Load() {
			writeJSON(w, `{"xm":"张三"}`)
			return
		}
		http.Error(w, "down", http.StatusInternalServerError)
	}, func(c *httpconn.Config) { c.Retries = 1; c.BreakerFailures = 3 })
	ctx := context.Background()
	call := func(wantErr error, wantHits int64, wantState, wantMsg string) {
		t.Helper()
		_, err := fx.fetch(t, ctx, "population", person, "name")
		if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Fatalf("Fetch error = %v, want %v", err, wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("error %q does not say %q", err, wantMsg)
		}
		if got := fx.hits.Load(); got != wantHits {
			t.Errorf("server saw %d requests, want %d", got, wantHits)
		}
		if got := fx.conn.State("population"); got != wantState {
			t.Errorf("State = %s, want %s", got, wantState)
		}
	}

	call(hub.ErrUnavailable, 2, "closed", "HTTP 500 after 2 attempts")
	call(hub.ErrUnavailable, 4, "closed", "HTTP 500 after 2 attempts")
	call(hub.ErrUnavailable, 6, "open", "HTTP 500 after 2 attempts; circuit open until 09:00:30")
	// Open: refused at once, without a request.
	for range 5 {
		call(hub.ErrUnavailable, 6, "open", "circuit open after 3 consecutive failed calls, until 09:00:30")
	}
	if got := fx.conn.State("enterprise"); got != "closed" {
		t.Errorf("enterprise State = %s: each source has its own circuit", got)
	}
	fx.clock.Advance(29 * time.Second)
	call(hub.ErrUnavailable, 6, "open", "until 09:00:30")

	// Half-open: one trial of one attempt; failing, it reopens the circuit.
	fx.clock.Advance(time.Second)
	if got := fx.conn.State("population"); got != "half-open" {
		t.Errorf("State after the cooldown = %s, want half-open", got)
	}
	call(hub.ErrUnavailable, 7, "open", "trial call after the cooldown: HTTP 500; circuit open until 09:01:00")
	call(hub.ErrUnavailable, 7, "open", "until 09:01:00")

	// The system recovers: the next trial closes the circuit.
	fx.clock.Advance(30 * time.Second)
	healthy.Store(true)
	call(nil, 8, "closed", "")
	if !strings.Contains(fx.logs.String(), "circuit closed") {
		t.Errorf("closing the circuit was not logged:\n%s", fx.logs)
	}
	// Failures are counted afresh.
	healthy.Store(false)
	call(hub.ErrUnavailable, 10, "closed", "after 2 attempts")
}

func TestBreakerCountsOnlyFailures(t *testing.T) {
	tests := []struct {
		name      string
		h         handler
		wantState string
	}{
		{"404 is an answer", func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) }, "closed"},
		{"malformed data is an answer", func(_ int64, w http.ResponseWriter, _ *http.Request) { writeJSON(w, `[`) }, "closed"},
		{"401 is a failure", func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(401) }, "open"},
		{"503 is a failure", func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }, "open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, tt.h, func(c *httpconn.Config) { c.BreakerFailures = 2; c.Retries = -1 })
			for range 4 {
				_, _ = fx.fetch(t, context.Background(), "population", person, "name")
			}
			if got := fx.conn.State("population"); got != tt.wantState {
				t.Errorf("State = %s, want %s", got, tt.wantState)
			}
		})
	}
}

func TestBreakerHalfOpenLetsOneTrialThrough(t *testing.T) {
	release := make(chan struct{})
	var trialStarted sync.Once
	started := make(chan struct{})
	fx := newFixture(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(500) // opens the circuit
			return
		}
		trialStarted.Do(func() { close(started) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
		writeJSON(w, `{"xm":"张三"}`)
	}, func(c *httpconn.Config) { c.BreakerFailures = 1; c.Retries = -1; c.Timeout = 5 * time.Second })
	ctx := context.Background()
	if _, err := fx.fetch(t, ctx, "population", person, "name"); !errors.Is(err, hub.ErrUnavailable) {
		t.Fatalf("first call: %v", err)
	}
	fx.clock.Advance(time.Minute)

	trial := make(chan error, 1)
	go func() {
		_, err := fx.conn.Fetch(ctx, "population", person, []string{"name"})
		trial <- err
	}()
	<-started
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, err := fx.conn.Fetch(ctx, "population", person, []string{"name"})
			if !errors.Is(err, hub.ErrUnavailable) || !strings.Contains(err.Error(), "trial call is under way") {
				t.Errorf("call during the trial: %v", err)
			}
		})
	}
	wg.Wait()
	close(release)
	if err := <-trial; err != nil {
		t.Fatalf("trial call: %v", err)
	}
	if got := fx.hits.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2 (the failure and the trial)", got)
	}
	if got := fx.conn.State("population"); got != "closed" {
		t.Errorf("State = %s, want closed", got)
	}
}

func TestContextCancellation(t *testing.T) {
	tests := []struct {
		name string
		h    handler
		edit func(*httpconn.Config)
	}{
		{
			name: "while waiting for the answer",
			h: func(_ int64, w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			edit: func(c *httpconn.Config) { c.Timeout = 5 * time.Second; c.BreakerFailures = 1 },
		},
		{
			name: "while backing off",
			h:    func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) },
			edit: func(c *httpconn.Config) { c.Backoff = 2 * time.Second; c.BreakerFailures = 1 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, tt.h, tt.edit)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(30*time.Millisecond, cancel)
			start := time.Now()
			_, err := fx.fetch(t, ctx, "population", person, "name")
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("Fetch returned %s after the cancellation", elapsed)
			}
			if !errors.Is(err, hub.ErrUnavailable) || !errors.Is(err, context.Canceled) {
				t.Fatalf("Fetch error = %v, want unavailable and canceled", err)
			}
			if got := fx.conn.State("population"); got != "closed" {
				t.Errorf("State = %s, want closed: the caller gave up, the source did not fail", got)
			}
		})
	}
}

func TestFetchRefusedBeforeAnyRequest(t *testing.T) {
	fx := newFixture(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { writeJSON(w, `{}`) }, nil)
	tests := []struct {
		name    string
		source  string
		subject hub.Subject
		fields  []string
		wantErr error
		wantMsg string
	}{
		{"unknown source", "nosuch", person, nil, hub.ErrNotFound, `unknown source "nosuch"`},
		{"source without a path", "vehicle", person, nil, hub.ErrUnavailable, "add the source to Paths"},
		{"person key for an enterprise source", "enterprise", person, nil, hub.ErrNotFound, "keeps enterprise records, not person records"},
		{"unknown field", "population", person, []string{"name", "shoe_size"}, hub.ErrNotFound, `population has no field "shoe_size"`},
		{"empty key", "population", hub.Subject{Kind: hub.Person, Key: "  "}, nil, hub.ErrNotFound, "no valid subject key"},
		{"dot-dot key", "population", hub.Subject{Kind: hub.Person, Key: ".."}, nil, hub.ErrNotFound, "no valid subject key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fx.fetch(t, context.Background(), tt.source, tt.subject, tt.fields...)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Fetch error = %v, want %v saying %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
	if got := fx.hits.Load(); got != 0 {
		t.Errorf("server saw %d requests, want none", got)
	}
}

func TestConcurrentFetches(t *testing.T) {
	fx := newFixture(t, func(n int64, w http.ResponseWriter, _ *http.Request) {
		if n%3 == 0 {
			w.WriteHeader(503)
			return
		}
		writeJSON(w, `{"xm":"张三","children":1}`)
	}, func(c *httpconn.Config) { c.BreakerFailures = 3; c.Retries = -1 })
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			rec, err := fx.conn.Fetch(context.Background(), "population", person, []string{"name", "children_count"})
			if err == nil && (rec["name"] != "张三" || rec["children_count"] != int64(1)) {
				t.Errorf("Fetch = %v", rec)
			}
			if err != nil && !errors.Is(err, hub.ErrUnavailable) {
				t.Errorf("Fetch error = %v", err)
			}
			_ = fx.conn.State("population")
		})
	}
	wg.Wait()
}

func TestNew(t *testing.T) {
	valid := func() httpconn.Config {
		return httpconn.Config{
			BaseURL:  "https://rkk.gov.example/api/",
			Paths:    map[string]string{"population": "/persons/{key}", "licence.driving": "/dl/{key}"},
			FieldMap: map[string]map[string]string{"population": {"household_address": "hukou.address"}, "licence.driving": {"class": "zjcx"}},
		}
	}
	tests := []struct {
		name    string
		edit    func(*httpconn.Config)
		wantMsg string // empty: valid
	}{
		{"valid", func(*httpconn.Config) {}, ""},
		{"valid with auth", func(c *httpconn.Config) { c.AuthHeader, c.AuthValue = "Authorization", "Bearer "+secret }, ""},
		{"empty BaseURL", func(c *httpconn.Config) { c.BaseURL = "" }, "BaseURL is empty"},
		{"relative BaseURL", func(c *httpconn.Config) { c.BaseURL = "/api" }, "must start with https://"},
		{"ftp BaseURL", func(c *httpconn.Config) { c.BaseURL = "ftp://rkk.gov.example" }, "must start with https://"},
		{"BaseURL without host", func(c *httpconn.Config) { c.BaseURL = "https:///api" }, "has no host"},
		{"BaseURL with a password", func(c *httpconn.Config) { c.BaseURL = "https://u:" + secret + "@rkk.gov.example" }, "carries credentials"},
		{"BaseURL with a query", func(c *httpconn.Config) { c.BaseURL = "https://rkk.gov.example/api?x=1" }, "has a query"},
		{"BaseURL not a URL", func(c *httpconn.Config) { c.BaseURL = "https://rkk gov\x7f" }, "BaseURL is not a valid URL"},
		{"no paths", func(c *httpconn.Config) { c.Paths = nil; c.FieldMap = nil }, "Paths is empty"},
		{"unknown source in Paths", func(c *httpconn.Config) { c.Paths["populace"] = "/p/{key}" }, `Paths names source "populace"`},
		{"path without {key}", func(c *httpconn.Config) { c.Paths["population"] = "/persons/{id}" }, "has no {key}"},
		{"path making a bad URL", func(c *httpconn.Config) { c.Paths["population"] = "/persons/{key}%zz" }, "does not make a valid URL"},
		{"unknown source in FieldMap", func(c *httpconn.Config) { c.FieldMap["populace"] = map[string]string{"name": "xm"} }, `FieldMap names source "populace"`},
		{"FieldMap source without a path", func(c *httpconn.Config) { c.FieldMap["credit"] = map[string]string{"level": "dj"} }, "credit, which has no path"},
		{"unknown field in FieldMap", func(c *httpconn.Config) { c.FieldMap["population"]["shoe_size"] = "x" }, "population.shoe_size, which the source does not have"},
		{"empty remote field", func(c *httpconn.Config) { c.FieldMap["population"]["name"] = "" }, "not a field name"},
		{"bad dotted path", func(c *httpconn.Config) { c.FieldMap["population"]["name"] = "a..b" }, "not a field name"},
		{"AuthValue without AuthHeader", func(c *httpconn.Config) { c.AuthValue = secret }, "AuthValue is set but AuthHeader is empty"},
		{"AuthHeader without AuthValue", func(c *httpconn.Config) { c.AuthHeader = "X-Api-Key" }, "AuthValue is empty"},
		{"bad AuthHeader", func(c *httpconn.Config) { c.AuthHeader, c.AuthValue = "X Api Key", secret }, "not a valid header name"},
		{"AuthValue with a line break", func(c *httpconn.Config) { c.AuthHeader, c.AuthValue = "X-Api-Key", secret+"\r\nX-Evil: 1" }, "line break"},
		{"negative timeout", func(c *httpconn.Config) { c.Timeout = -time.Second }, "Timeout is negative"},
		{"negative backoff", func(c *httpconn.Config) { c.Backoff = -time.Second }, "Backoff is negative"},
		{"negative cooldown", func(c *httpconn.Config) { c.BreakerCooldown = -time.Second }, "BreakerCooldown is negative"},
		{"negative breaker failures", func(c *httpconn.Config) { c.BreakerFailures = -1 }, "BreakerFailures is negative"},
		{"too many retries", func(c *httpconn.Config) { c.Retries = 11 }, "Retries is 11"},
		{"every problem at once", func(c *httpconn.Config) { c.BaseURL = ""; c.Timeout = -1; c.Retries = 99 }, "has 3 problem(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.edit(&cfg)
			conn, err := httpconn.New(cfg, nil)
			if tt.wantMsg == "" {
				if err != nil || conn == nil {
					t.Fatalf("New = %v, %v", conn, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New accepted the configuration, want %q", tt.wantMsg)
			}
			if !apperr.Is(err, apperr.Invalid) {
				t.Errorf("error kind = %v, want invalid", apperr.KindOf(err))
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			checkNoSecrets(t, "error", err.Error())
		})
	}

	t.Run("the caller's client and maps are not changed or shared", func(t *testing.T) {
		cfg := valid()
		client := &http.Client{Timeout: time.Minute}
		cfg.HTTPClient = client
		if _, err := httpconn.New(cfg, nil); err != nil {
			t.Fatal(err)
		}
		if client.CheckRedirect != nil {
			t.Error("New changed the caller's http.Client")
		}
	})
}

func FuzzResponseBody(f *testing.F) {
	for _, seed := range []string{
		`{"xm":"张三","csrq":"1949-12-31","hukou":{"address":"北京"},"children":2,"alive":true}`,
		`{"children":1e400,"alive":"yes"}`, `{"hukou":[1,2]}`, `{"hukou":{"address":null}}`,
		`[]`, `null`, `"x"`, `{`, `{"xm":"\ud800"}`, "\xff\xfe", `{"xm":1}{}`, ``, `{"children":-0}`,
	} {
		f.Add([]byte(seed))
	}
	var body atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*body.Load())
	}))
	defer srv.Close()
	conn, err := httpconn.New(httpconn.Config{
		BaseURL:  srv.URL,
		Paths:    map[string]string{"population": "/persons/{key}"},
		FieldMap: map[string]map[string]string{"population": {"name": "xm", "birth_date": "csrq", "household_address": "hukou.address", "children_count": "children"}},
		Timeout:  time.Second, Retries: -1,
	}, nil)
	if err != nil {
		f.Fatal(err)
	}
	fields := []string{"name", "birth_date", "household_address", "children_count", "alive"}
	wantType := map[string]reflect.Type{
		"name": reflect.TypeFor[string](), "birth_date": reflect.TypeFor[string](), "household_address": reflect.TypeFor[string](),
		"children_count": reflect.TypeFor[int64](), "alive": reflect.TypeFor[bool](),
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(&b)
		rec, err := conn.Fetch(context.Background(), "population", person, fields)
		if err != nil {
			if rec != nil {
				t.Fatalf("record %v together with error %v", rec, err)
			}
			if !errors.Is(err, hub.ErrMalformed) {
				t.Fatalf("error %v, want malformed", err)
			}
			return
		}
		for name, v := range rec {
			if reflect.TypeOf(v) != wantType[name] {
				t.Errorf("%s is %T, want %v", name, v, wantType[name])
			}
		}
	})
}

// clock is a settable clock for the breaker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log lines written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
