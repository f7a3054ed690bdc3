package search_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"yiwang/internal/apitest"
	"yiwang/internal/httpx"
	"yiwang/internal/search"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

func newRouter(t *testing.T, stats *search.Stats, logs io.Writer) *httpx.Router {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logs, nil))
	r := httpx.NewRouter(logger)
	search.NewHandler(newIndex(t, fixture), stats, logger).Register(r)
	return r
}

// get serves path and decodes the JSON answer into a generic value.
func get(t *testing.T, r http.Handler, path string) (int, map[string]any) {
	t.Helper()
	rec := apitest.MustNew(t).Serve(t, r, httptest.NewRequest("GET", path, nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, rec.Body)
	}
	return rec.Code, body
}

func TestSearchAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRouter(t, search.NewStats(db.DB).WithHotMinCount(1), io.Discard)
		tests := []struct {
			name   string
			path   string
			status int
			code   string   // error code, when status is not 200
			hits   []string // codes, when status is 200
		}{
			{"found", "/api/v1/search?q=" + url.QueryEscape("落户"), 200, "", []string{"RS-0001", "GA-0007"}},
			{"limited", "/api/v1/search?limit=1&q=" + url.QueryEscape("落户"), 200, "", []string{"RS-0001"}},
			{"English", "/api/v1/search?q=Senior", 200, "", []string{"MZ-0003"}},
			{"nothing found is an empty list", "/api/v1/search?q=" + url.QueryEscape("火箭"), 200, "", []string{}},
			{"no query", "/api/v1/search", 400, "empty_query", nil},
			{"blank query", "/api/v1/search?q=+++", 400, "empty_query", nil},
			{"query too long", "/api/v1/search?q=" + strings.Repeat("a", 101), 400, "query_too_long", nil},
			{"limit zero", "/api/v1/search?q=x&limit=0", 400, "bad_limit", nil},
			{"limit negative", "/api/v1/search?q=x&limit=-1", 400, "bad_limit", nil},
			{"limit over the maximum", "/api/v1/search?q=x&limit=101", 400, "bad_limit", nil},
			{"limit not a number", "/api/v1/search?q=x&limit=ten", 400, "bad_limit", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body := get(t, r, tt.path)
				if status != tt.status {
					t.Fatalf("status %d, want %d: %v", status, tt.status, body)
				}
				if tt.status != 200 {
					e, _ := body["error"].(map[string]any)
					if e == nil || e["code"] != tt.code || e["message"] == "" {
						t.Errorf("body = %v, want error code %s with a message", body, tt.code)
					}
					return
				}
				hits, ok := body["hits"].([]any)
				if !ok {
					t.Fatalf("hits is not a list: %v", body)
				}
				var got []string
				for _, h := range hits {
					got = append(got, h.(map[string]any)["code"].(string))
				}
				if strings.Join(got, ",") != strings.Join(tt.hits, ",") {
					t.Errorf("hits %v, want %v", got, tt.hits)
				}
			})
		}

		// Only valid searches were counted, normalised; 火箭 found nothing.
		status, body := get(t, r, "/api/v1/search/hot")
		want := `{"hot":[{"count":2,"last_hits":1,"query":"落户"},{"count":1,"last_hits":1,"query":"senior"},{"count":1,"last_hits":0,"query":"火箭"}]}`
		if got, _ := json.Marshal(body); status != 200 || string(got) != want {
			t.Errorf("hot: %d %s, want %s", status, got, want)
		}
		status, body = get(t, r, "/api/v1/search/hot?limit=1")
		if hot, _ := body["hot"].([]any); status != 200 || len(hot) != 1 {
			t.Errorf("hot?limit=1: %d %v", status, body)
		}
		status, body = get(t, r, "/api/v1/search/hot?limit=1000")
		if e, _ := body["error"].(map[string]any); status != 400 || e["code"] != "bad_limit" {
			t.Errorf("hot?limit=1000: %d %v", status, body)
		}
	})
}

func TestSearchAPIEchoesTheNormalisedQuery(t *testing.T) {
	r := newRouter(t, search.NewStats(storetest.SQLite(t).DB).WithHotMinCount(1), io.Discard)
	_, body := get(t, r, "/api/v1/search?q="+url.QueryEscape("  Senior   CITIZEN "))
	if body["query"] != "senior citizen" {
		t.Errorf("query = %v", body["query"])
	}
	_, body = get(t, r, "/api/v1/search/hot")
	if hot, ok := body["hot"].([]any); !ok || len(hot) != 1 {
		t.Errorf("hot = %v", body)
	}
}

func TestSearchAPIEmptyHotIsAList(t *testing.T) {
	r := newRouter(t, search.NewStats(storetest.SQLite(t).DB).WithHotMinCount(1), io.Discard)
	rec := apitest.MustNew(t).Serve(t, r, httptest.NewRequest("GET", "/api/v1/search/hot", nil))
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != `{"hot":[]}` {
		t.Errorf("%d %s", rec.Code, got)
	}
}

// A search whose counting fails still answers; the failure is logged.
func TestSearchAPIAnswersWhenCountingFails(t *testing.T) {
	db := storetest.SQLite(t)
	db.Close()
	var logs bytes.Buffer
	r := newRouter(t, search.NewStats(db.DB).WithHotMinCount(1), &logs)
	status, body := get(t, r, "/api/v1/search?q="+url.QueryEscape("老人"))
	if hits, _ := body["hits"].([]any); status != 200 || len(hits) != 1 {
		t.Errorf("search with a broken database: %d %v", status, body)
	}
	if !strings.Contains(logs.String(), "search query not counted") {
		t.Errorf("the failure was not logged: %q", logs.String())
	}
	// Hot words need the database, so they fail as an internal error.
	status, body = get(t, r, "/api/v1/search/hot")
	if e, _ := body["error"].(map[string]any); status != 500 || e["code"] != "internal" {
		t.Errorf("hot with a broken database: %d %v", status, body)
	}
}
