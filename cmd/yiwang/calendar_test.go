package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
	"yiwang/internal/workday"
)

// year2027 is an illustration for tests, not the real 2027 notice.
const year2027 = `year: 2027
source: 测试通知（国办发明电〔2026〕N号）
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-05, to: 2027-02-12}
make_up_days:
  - {date: 2027-01-31, for: 春节}
  - {date: 2027-02-20, for: 春节}
`

func TestCalendarCommands(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "2027.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte(year2027), 0o644)
	os.WriteFile(bad, []byte(strings.NewReplacer("2027-02-20", "2027-02-22", "2027-01-03", "2026-01-03").Replace(year2027)), 0o644)
	data := filepath.Join(dir, "data")
	if code, _, stderr := runCmd(t, "migrate", "--data-dir", data); code != 0 {
		t.Fatal(stderr)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a regular expression
		stderr string
	}{
		{"check a good file", []string{"calendar", "check", good}, 0, `ok — the 2027 calendar, 2 holidays`, ""},
		{"check a bad file: every problem", []string{"calendar", "check", bad}, 1,
			`(?s)bad\.yaml: holiday 元旦 to 2026-01-03 is not in 2027.*\n.*bad\.yaml: make-up day 2027-02-22 is a Monday`, "3 problem(s) in"},
		{"load a bad file changes nothing", []string{"calendar", "load", "--data-dir", data, bad}, 1, `is a Monday`, "nothing was changed"},
		{"2027 is not there", []string{"calendar", "show", "--data-dir", data, "2027"}, 1, `^$`, "no working-day calendar for 2027 (there is for 2025, 2026)"},
		{"show a shipped year", []string{"calendar", "show", "--data-dir", data, "2026"}, 0, `(?s)2026 working-day calendar \(embedded\).*2026-02-15 Sun  2026-02-23 Mon  9     春节.*2026-02-28 Sat\s+春节`, ""},
		{"load a good file", []string{"calendar", "load", "--data-dir", data, good}, 0, `(?s)loaded the 2027 calendar.*\(loaded\).*loaded by cli:`, ""},
		{"then it is there", []string{"calendar", "show", "--data-dir", data, "2027"}, 0, `(?s)2027-01-31 Sun\s+春节`, ""},
		{"no subcommand", []string{"calendar"}, 2, ``, "name a subcommand"},
		{"a bad year", []string{"calendar", "show", "--data-dir", data, "27"}, 2, ``, `YEAR must be a year such as 2026`},
		{"no file", []string{"calendar", "load", "--data-dir", data, filepath.Join(dir, "none.yaml")}, 1, ``, "cannot read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != tt.code || !regexp.MustCompile(tt.stdout).MatchString(stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
		})
	}
}

// TestWorkflowDocExampleIsTheShippedYear keeps the example in
// docs/WORKFLOW.md true: it is the 2026 notice exactly as shipped.
func TestWorkflowDocExampleIsTheShippedYear(t *testing.T) {
	doc, err := os.ReadFile("../../docs/WORKFLOW.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/WORKFLOW.md has no yaml example")
	}
	n, err := workday.ParseYAML(m[1])
	if err != nil {
		t.Fatal(err)
	}
	fromDoc, err := n.Parse()
	if err != nil {
		t.Fatal(err)
	}
	years, err := workday.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, y := range years {
		if y.Year == 2026 {
			fromDoc.Origin = y.Origin
			if !reflect.DeepEqual(fromDoc, y) {
				t.Errorf("the example in docs/WORKFLOW.md differs from data/2026.yaml:\n%+v\n%+v", fromDoc, y)
			}
			return
		}
	}
	t.Fatal("2026 is not shipped")
}

func TestCalendarAPI(t *testing.T) {
	srv, a := demoServer(t)
	h := srv.Handler()
	admin := withJSON(signIn(t, h, "sysadmin"))

	code, body, _ := call(t, h, "GET", "/api/v1/calendar/2026", nil, nil)
	if code != 200 || body["origin"] != "embedded" || len(body["holidays"].([]any)) != 7 || len(body["make_up_days"].([]any)) != 6 {
		t.Fatalf("GET 2026: %d %v", code, body)
	}
	if h1 := body["holidays"].([]any)[1].(map[string]any); h1["name"] != "春节" || h1["from"] != "2026-02-15" || h1["days"] != 9.0 {
		t.Errorf("春节 2026: %v", h1)
	}
	if code, body, _ := call(t, h, "GET", "/api/v1/calendar/2027", nil, nil); code != 404 || body["error"].(map[string]any)["code"] != "calendar_year_not_found" {
		t.Errorf("GET 2027 before loading: %d %v", code, body)
	}
	if code, _, _ := call(t, h, "GET", "/api/v1/calendar/twenty", nil, nil); code != 400 {
		t.Errorf("GET a non-year: %d", code)
	}

	const good = `{"source":"测试通知","holidays":[{"name":"元旦","from":"2027-01-01","to":"2027-01-03"}],"make_up_days":[{"date":"2027-01-31"}]}`
	code, body, _ = call(t, h, "PUT", "/api/v1/admin/calendar/2027",
		strings.NewReader(`{"source":"","holidays":[{"name":"元旦","from":"2027-01-01","to":"2027-13-03"}],"make_up_days":[{"date":"2027-01-04"}]}`), admin)
	if code != 400 {
		t.Fatalf("bad year: %d %v", code, body)
	}
	e := body["error"].(map[string]any)
	if problems := e["details"].([]any); e["code"] != "calendar_invalid" || len(problems) != 4 {
		t.Errorf("want 4 problems (source, month 13, no holidays left, a Monday make-up day): %v", e)
	}
	if code, _, _ := call(t, h, "PUT", "/api/v1/admin/calendar/2028", strings.NewReader(strings.Replace(good, `{"source"`, `{"year":2027,"source"`, 1)), admin); code != 400 {
		t.Errorf("a body for another year: %d", code)
	}
	cal, _ := a.calendar.Calendar(context.Background())
	if cal.Known(2027) {
		t.Fatal("a refused year was stored")
	}

	code, body, _ = call(t, h, "PUT", "/api/v1/admin/calendar/2027", strings.NewReader(good), admin)
	if code != 200 || body["origin"] != "loaded" || !strings.HasPrefix(body["loaded_by"].(string), "staff:") {
		t.Fatalf("load 2027: %d %v", code, body)
	}
	if code, body, _ := call(t, h, "GET", "/api/v1/calendar/2027", nil, nil); code != 200 || body["source"] != "测试通知" {
		t.Errorf("GET 2027 after loading: %d %v", code, body)
	}
	cal, _ = a.calendar.Calendar(context.Background())
	if ok, err := cal.IsWorkday(workday.Date{Year: 2027, Month: 1, Day: 31}); !ok || err != nil {
		t.Errorf("the app's calendar does not have the loaded make-up Sunday: %v %v", ok, err)
	}
	catAdmin := withJSON(signIn(t, h, "catalog.admin"))
	if code, _, _ := call(t, h, "PUT", "/api/v1/admin/calendar/2027", strings.NewReader(good), catAdmin); code != 403 {
		t.Errorf("a catalogue administrator loaded a year: %d", code)
	}
}

// TestCalendarDeadlineAPI asks for due dates before and after a year is
// loaded, on both backends: the answer is the one an application accepted
// that day would get, marked provisional while it reaches into a year
// without its notice.
func TestCalendarDeadlineAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		srv, _ := demoServerOn(t, db)
		h := srv.Handler()
		due := func(query string, en bool) (int, map[string]any) {
			t.Helper()
			header := map[string]string{}
			if en {
				header["Accept-Language"] = "en"
			}
			code, body, _ := call(t, h, "GET", "/api/v1/calendar/deadline?"+query, nil, header)
			return code, body
		}
		for _, tt := range []struct {
			query, due  string
			provisional bool
		}{
			{"from=2026-12-07&days=0", "2026-12-07", false}, // 即办件: the day itself
			{"from=2026-12-07&days=5", "2026-12-14", false}, // Monday + 5 working days, over a weekend
			{"from=2026-09-30&days=1", "2026-10-08", false}, // 国庆节 2026, seven days off
			{"from=2026-12-31&days=1", "2027-01-04", true},  // 元旦 2027 provisionally, then a weekend
			{"from=2026-12-31&days=20", "2027-01-29", true}, // into a year without its notice
			{"from=2026-02-13&days=1", "2026-02-14", false}, // 春节 2026's make-up Saturday
		} {
			code, body := due(tt.query, false)
			if code != 200 || body["due"] != tt.due || body["provisional"] != tt.provisional || !strings.HasPrefix(body["due_at"].(string), tt.due+"T23:59:59.999+08:00") {
				t.Errorf("%s: %d %v, want due %s provisional %v", tt.query, code, body, tt.due, tt.provisional)
			}
		}
		for _, tt := range []struct{ query, code, words string }{
			{"from=2026-13-01&days=5", "bad_from_date", "YYYY-MM-DD"},
			{"days=5", "bad_from_date", "YYYY-MM-DD"},
			{"from=2026-12-07&days=366", "bad_working_days", "0 to 365"},
			{"from=2026-12-07&days=-1", "bad_working_days", "0 to 365"},
			{"from=2026-12-07&days=five", "bad_working_days", "0 to 365"},
			{"from=2027-03-01&days=5", "from_year_not_loaded", "calendar for the year of the start date"},
		} {
			code, body := due(tt.query, true)
			e, _ := body["error"].(map[string]any)
			if code != 400 || e["code"] != tt.code || !strings.Contains(e["message"].(string), tt.words) {
				t.Errorf("%s: %d %v, want 400 %s", tt.query, code, body, tt.code)
			}
		}
		if _, body := due("from=2027-03-01&days=5", false); !strings.Contains(body["error"].(map[string]any)["message"].(string), "起算日期所在年度") {
			t.Errorf("no Chinese words: %v", body)
		}

		admin := withJSON(signIn(t, h, "sysadmin"))
		const y2027 = `{"source":"测试通知","holidays":[{"name":"元旦","from":"2027-01-01","to":"2027-01-03"}],"make_up_days":[{"date":"2027-01-31"}]}`
		if code, body, _ := call(t, h, "PUT", "/api/v1/admin/calendar/2027", strings.NewReader(y2027), admin); code != 200 {
			t.Fatalf("load 2027: %d %v", code, body)
		}
		if code, body := due("from=2026-12-31&days=1", false); code != 200 || body["due"] != "2027-01-04" || body["provisional"] != false {
			t.Errorf("after loading 2027: %d %v", code, body)
		}
		if code, body := due("from=2027-01-29&days=1", false); code != 200 || body["due"] != "2027-01-31" {
			t.Errorf("the loaded make-up Sunday: %d %v", code, body)
		}
	})
}
