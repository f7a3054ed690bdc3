package loadtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yiwang/internal/ident"
)

func TestTargetStaysOnThisMachine(t *testing.T) {
	tests := []struct {
		url    string
		remote bool
		want   string // the base URL, or a fragment of the error
		ok     bool
	}{
		{"http://127.0.0.1:8080", false, "http://127.0.0.1:8080", true},
		{"http://127.0.0.1:8080/", false, "http://127.0.0.1:8080", true},
		{"http://127.1.2.3:80", false, "http://127.1.2.3:80", true},
		{"http://localhost:8080", false, "http://localhost:8080", true},
		{"https://LOCALHOST", false, "https://LOCALHOST", true},
		{"http://[::1]:8080", false, "http://[::1]:8080", true},
		{"http://10.0.0.5:8080", false, "not on this machine", false},
		{"http://0.0.0.0:8080", false, "not on this machine", false},
		{"http://example.com", false, "not on this machine", false},
		{"http://127.0.0.1.example.com", false, "not on this machine", false},
		{"http://localhost.example.com:8080", false, "not on this machine", false},
		{"http://[2001:db8::1]:8080", false, "not on this machine", false},
		{"http://10.0.0.5:8080", true, "http://10.0.0.5:8080", true},
		{"ftp://127.0.0.1", false, "not an address", false},
		{"127.0.0.1:8080", false, "not an address", false},
		{"http://", false, "not an address", false},
		{"http://127.0.0.1:8080/?x=1", false, "base address only", false},
		{"http://user:pw@127.0.0.1:8080", false, "base address only", false},
	}
	for _, tt := range tests {
		got, err := Target(tt.url, tt.remote)
		switch {
		case tt.ok && (err != nil || got != tt.want):
			t.Errorf("Target(%q, %v) = %q, %v; want %q", tt.url, tt.remote, got, err, tt.want)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Target(%q, %v) error = %v; want one containing %q", tt.url, tt.remote, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Options{URLs: []string{"http://127.0.0.1:8080"}, Concurrency: 16, Duration: 30 * time.Second, Item: SeniorCard, PerApplicant: 30}
	tests := []struct {
		name   string
		change func(*Options)
		want   string // "" for valid
	}{
		{"defaults", func(*Options) {}, ""},
		{"fixed rate with warm-up", func(o *Options) { o.Rate, o.Warmup = 1000, 3*time.Second }, ""},
		{"remote refused", func(o *Options) { o.URLs = []string{"http://192.0.2.7:8080"} }, "not on this machine"},
		{"remote allowed", func(o *Options) { o.URLs, o.AllowRemote = []string{"http://192.0.2.7:8080"}, true }, ""},
		{"zero duration", func(o *Options) { o.Duration = 0 }, "--duration must be positive"},
		{"negative duration", func(o *Options) { o.Duration = -time.Second }, "--duration must be positive"},
		{"duration over an hour", func(o *Options) { o.Duration = 61 * time.Minute }, "longer than an hour"},
		{"negative warm-up", func(o *Options) { o.Warmup = -time.Second }, "--warmup must be zero or positive"},
		{"warm-up over 10 minutes", func(o *Options) { o.Warmup = 11 * time.Minute }, "longer than 10 minutes"},
		{"no workers", func(o *Options) { o.Concurrency = 0 }, "--concurrency must be between 1 and 1024"},
		{"too many workers", func(o *Options) { o.Concurrency = 5000 }, "--concurrency"},
		{"negative rate", func(o *Options) { o.Rate = -1 }, "--rate must be between"},
		{"absurd rate", func(o *Options) { o.Rate = 1e6 }, "--rate must be between"},
		{"tiny rate", func(o *Options) { o.Rate = 0.01 }, "below 0.1"},
		{"no item", func(o *Options) { o.Item = " " }, "--item"},
		{"negative budget", func(o *Options) { o.PerApplicant = -1 }, "--per-applicant"},
		{"one call", func(o *Options) { o.Flow = FlowOneCall }, ""},
		{"unknown flow", func(o *Options) { o.Flow = "two-request" }, "--flow must be three-request or one-call"},
		{"three servers", func(o *Options) {
			o.URLs = []string{"http://127.0.0.1:8081", "http://127.0.0.1:8082/", "http://localhost:8083"}
		}, ""},
		{"no server", func(o *Options) { o.URLs = nil }, "at least one server"},
		{"a server twice", func(o *Options) { o.URLs = []string{"http://127.0.0.1:8081", "http://127.0.0.1:8081/"} }, "given twice"},
		{"one remote among several", func(o *Options) { o.URLs = []string{"http://127.0.0.1:8081", "http://192.0.2.7:8080"} }, "not on this machine"},
		{"fewer workers than servers", func(o *Options) {
			o.URLs, o.Concurrency = []string{"http://127.0.0.1:8081", "http://127.0.0.1:8082"}, 1
		}, "less than the 2 servers"},
	}
	for _, tt := range tests {
		o := good
		tt.change(&o)
		err := o.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestApplicantsAreDistinctValidAndMixed(t *testing.T) {
	today := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	seen := map[string]int{}
	old, outcomes := 0, map[string]int{}
	const n = MaxApplicants
	for i := range n {
		id := IDNumber(i, today)
		if j, dup := seen[id]; dup {
			t.Fatalf("applicants %d and %d share the ID number %s", j, i, id)
		}
		seen[id] = i
		info, err := ident.ParseIDNumber(id)
		if err != nil {
			t.Fatalf("applicant %d: %s: %v", i, id, err)
		}
		if info.Region != Region || (id[14:17] != "000" && id[14:17] != "001") {
			t.Fatalf("applicant %d: %s is outside the bench's region or sequence codes", i, id)
		}
		age := info.AgeOn(today)
		// A month's margin either way, so a run days after prepare decides the same.
		switch young := ProfileOf(i) == Young; {
		case young && (age < 18 || info.AgeOn(today.AddDate(0, 1, 0)) >= 60):
			t.Fatalf("young applicant %d is %d", i, age)
		case !young && (age < 60 || info.AgeOn(today.AddDate(0, 0, -30)) < 60 || age > 100):
			t.Fatalf("senior applicant %d is %d", i, age)
		case !young:
			old++
		}
		outcomes[ProfileOf(i).Expect()]++
	}
	if old*10 != n*7 {
		t.Errorf("%d of %d are 60 or older, want 70%%", old, n)
	}
	if outcomes["approve"]*20 != n*11 || outcomes["reject"]*20 != n*8 || outcomes["manual"]*20 != n {
		t.Errorf("expected outcomes %v, want 55%% approve, 40%% reject, 5%% manual", outcomes)
	}
	first := map[string]bool{}
	for i := range 10 {
		first[ProfileOf(i).Expect()] = true
	}
	if len(first) != 3 {
		t.Errorf("the first 10 applicants give only %v: a small prepare should show every outcome", first)
	}
}

func TestApplicantsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ApplicantsFile)
	want := []Applicant{{"910102196005121232", "approve"}, {"910102200001010011", "reject"}}
	if err := WriteApplicants(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadApplicants(path)
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("read back %v, %v", got, err)
	}
	for _, tt := range []struct{ content, want string }{
		{"", "lists no applicants"},
		{"# only a comment\n\n", "lists no applicants"},
		{"910102196005121232 maybe\n", ":1: want a sign-in name"},
		{"a\nb c d\n", ":2: want a sign-in name"},
	} {
		os.WriteFile(path, []byte(tt.content), 0o600)
		if _, err := ReadApplicants(path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadApplicants(%q) = %v, want %q", tt.content, err, tt.want)
		}
	}
	if _, err := ReadApplicants(filepath.Join(dir, "missing.txt")); err == nil || !strings.Contains(err.Error(), "bench prepare") {
		t.Errorf("missing file: %v", err)
	}
	if got, err := ReadApplicants(writeFile(t, "x approve\n# c\ny\n")); err != nil || len(got) != 2 || got[1] != (Applicant{Login: "y"}) {
		t.Errorf("a name without an outcome: %v, %v", got, err)
	}
}

func writeFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPoolSpreadsAndRetires(t *testing.T) {
	p := &pool{budget: 2}
	for _, l := range []string{"a", "b", "c"} {
		p.all = append(p.all, &session{Applicant: Applicant{Login: l}})
	}
	var got []string
	for s := p.take(); s != nil; s = p.take() {
		got = append(got, s.Login)
	}
	if strings.Join(got, "") != "abcabc" {
		t.Errorf("took %v, want each of a, b, c twice in turn", got)
	}
	p = &pool{all: []*session{{Applicant: Applicant{Login: "a"}}, {Applicant: Applicant{Login: "b"}}}}
	p.retire(p.all[0], true)
	for range 5 {
		if s := p.take(); s == nil || s.Login != "b" {
			t.Fatalf("took %v after a was refused", s)
		}
	}
	p.retire(p.all[1], true)
	if s := p.take(); s != nil || p.limited.Load() != 2 {
		t.Errorf("took %v with every applicant refused; limited %d", s, p.limited.Load())
	}
}
