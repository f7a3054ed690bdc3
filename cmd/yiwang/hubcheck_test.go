package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"yiwang/internal/hub"
)

// contractRecord is a record of source that keeps the contract: every
// field, each of its type, the first of its values where it has a list.
func contractRecord(t *testing.T, source string) map[string]any {
	t.Helper()
	src, ok := hub.Lookup(source)
	if !ok {
		t.Fatalf("no source %s", source)
	}
	rec := map[string]any{}
	for _, f := range src.Fields {
		switch {
		case len(f.Values) > 0:
			rec[f.Name] = f.Values[0]
		case f.Type == hub.Date:
			rec[f.Name] = "1960-03-15"
		case f.Type == hub.Int:
			rec[f.Name] = 2
		case f.Type == hub.Double:
			rec[f.Name] = 12.5
		case f.Type == hub.Bool:
			rec[f.Name] = true
		case f.Type == hub.StringList:
			rec[f.Name] = []string{"一", "二"}
		default:
			rec[f.Name] = "文字"
		}
	}
	return rec
}

// department answers population and enterprise reads for the person
// 11010519491231002X; spoil changes the person's record before it is sent,
// and notFound is the status for anyone else.
func department(t *testing.T, spoil func(map[string]any), notFound int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rec map[string]any
		switch {
		case r.URL.Path == "/persons/11010519491231002X":
			rec = contractRecord(t, "population")
			delete(rec, "household_address") // sent nested, mapped to hukou.line
			rec["hukou"] = map[string]any{"line": "示范市明德区幸福路1号"}
			spoil(rec)
		case strings.HasPrefix(r.URL.Path, "/persons/") || strings.HasPrefix(r.URL.Path, "/enterprises/"):
			w.WriteHeader(notFound)
			if notFound == http.StatusOK {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{}`))
			}
			return
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(rec)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func hubCheck(t *testing.T, srv *httptest.Server) (int, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "hub.yaml")
	os.WriteFile(file, []byte(`connectors:
  - name: bureau
    base_url: `+srv.URL+`
    paths: {population: "/persons/{key}", enterprise: "/enterprises/{key}"}
    field_map: {population: {household_address: hukou.line}}
`), 0o600)
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"hub", "check", "--hub-config", file, "--subject", "11010519491231002x"}, func(string) string { return "" }, &out, &errs)
	return code, out.String() + errs.String()
}

func TestHubCheckReportsEveryBreachOfTheContract(t *testing.T) {
	code, out := hubCheck(t, department(t, func(map[string]any) {}, http.StatusNotFound))
	if code != 0 || !strings.Contains(out, "population: ok") || !strings.Contains(out, "enterprise: ok") {
		t.Errorf("a system keeping the contract: exit %d\n%s", code, out)
	}

	code, out = hubCheck(t, department(t, func(rec map[string]any) {
		rec["name"] = 42                 // wrong type
		rec["birth_date"] = "1960/03/15" // bad date format
		rec["marital_status"] = "已婚"     // outside the list
		delete(rec, "household")         // missing
		rec["hukou"] = "示范市明德区幸福路1号"     // not an object on the mapped path
	}, http.StatusOK)) // 200 for a subject it does not hold
	want := []string{
		"population: field name: want text",
		"population: field birth_date: want a date YYYY-MM-DD",
		`population: field marital_status: "已婚" is not one of single, married, divorced, widowed`,
		"population: field household is missing",
		"population: field household_address (remote hukou.line): hukou is a string, want an object",
		"enterprise: HTTP 200 for a subject no system holds",
		"yiwang hub: 6 mismatch(es) with the data contract",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the report lacks %q:\n%s", w, out)
		}
	}
	if lines := strings.Count(out, "\n"); code != 1 || lines != len(want) {
		t.Errorf("exit %d with %d lines, want 1 with one line per mismatch and the summary:\n%s", code, lines, out)
	}
	if strings.Contains(out, "11010519491231002X") {
		t.Errorf("the report shows the subject's ID number:\n%s", out)
	}
}
