package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRulesCommand(t *testing.T) {
	// A copy of the demo catalogue with one wrong expectation and one
	// tests file naming an item that does not exist.
	broken := t.TempDir()
	if err := os.CopyFS(broken, os.DirFS("../../catalog")); err != nil {
		t.Fatal(err)
	}
	senior := filepath.Join(broken, "items", "civil", "senior_card.tests.yaml")
	b, err := os.ReadFile(senior)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(b), "reasons: [local_household]}", "reasons: [age_60]}", 1)
	if err := os.WriteFile(senior, []byte(wrong), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "items", "nobody.tests.yaml"), []byte("item: 11910102MB00011858-07-09999\ntests: [{name: x, expect: {outcome: approve}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout *regexp.Regexp // matched against the whole of stdout
		stderr string
	}{
		{"demo catalogue passes", []string{"rules", "test", "../../catalog"}, 0,
			regexp.MustCompile(`(?s)^[1-9][0-9]* passed, 0 failed\n$`), ""},
		{"failures and broken files", []string{"rules", "test", broken}, 1,
			regexp.MustCompile(`(?s)senior_card\.tests\.yaml:[0-9]+: 户籍不在本区，不予批准: want reasons \[age_60\], got \[local_household\].*nobody\.tests\.yaml:1: item 11910102MB00011858-07-09999 is not in the catalogue\n[1-9][0-9]* passed, 2 failed\n$`),
			"2 rule test(s) failed"},
		{"rule type errors stop the tests", []string{"rules", "test", "../../internal/rules/testdata/bad"}, 1,
			regexp.MustCompile(`type_errors\.yaml:29:25: rule int_vs_string: found no matching overload`), "problem(s)"},
		{"validate reports rule type errors", []string{"catalog", "validate", "../../internal/rules/testdata/bad"}, 1,
			regexp.MustCompile(`type_errors\.yaml:34:29: rule no_such_field: the population source has no field "shoe_size"`), "18 problem(s)"},
		{"no subcommand", []string{"rules"}, 2, nil, "name the subcommand: test"},
		{"unknown subcommand", []string{"rules", "run", "catalog"}, 2, nil, `unknown subcommand "run"`},
		{"no folder", []string{"rules", "test"}, 2, nil, "one argument"},
		{"not a folder", []string{"rules", "test", "no-such-dir"}, 1, nil, "is not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if tt.stdout != nil && !tt.stdout.MatchString(stdout) {
				t.Errorf("stdout = %q, want a match of %s", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.stderr)
			}
		})
	}
}

// TestRulesTry decides a draft item for a described applicant on chosen
// days, and refuses what it cannot use with a message that says why.
func TestRulesTry(t *testing.T) {
	const item = "../../catalog/items/civil/senior_card.yaml"
	turns60 := filepath.Join("testdata", "try", "turns_60.yaml")
	// A draft of the item with a rule that does not type-check.
	draft := filepath.Join(t.TempDir(), "draft.yaml")
	b, err := os.ReadFile(item)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(draft, []byte(strings.Replace(string(b), "expr: applicant.age >= 60", `expr: applicant.age >= "60"`, 1)), 0o644)

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // each must appear, in this order
		stderr string
	}{
		{"the day before the 60th birthday", []string{"rules", "try", item, "--applicant", turns60, "--on", "2027-02-28"}, 0, []string{
			"事项 Item: 老年人优待证办理 / Senior Citizen Preferential Card (11910102MB00011858-07-00001)\n",
			"决定日 Decided on: 2027-02-28\n",
			"决定 Decision: 不予批准 reject\n",
			"  - age_60: 申请人年龄未满60周岁 / The applicant is under 60\n",
			"  age_60 — 申请人年满60周岁 / The applicant is 60 or older\n    结果 result: 未通过 failed（不通过则不予批准 rejects if failed）\n    applicant.age = 59\n",
			"  local_household — 户籍在本区 / Household registered in the district\n    结果 result: 通过 passed",
			"    sources.population.household_region = 910102001001\n",
		}, ""},
		{"the birthday itself, flags first", []string{"rules", "try", "--on", "2027-03-01", "--applicant", turns60, item}, 0, []string{
			"决定 Decision: 批准 approve\n", "    applicant.age = 60\n",
		}, ""},
		{"a registry that did not answer", []string{"rules", "try", item, "--applicant", filepath.Join("testdata", "try", "no_population.yaml"), "--on", "2027-03-01"}, 0, []string{
			"决定 Decision: 转人工审核 manual review\n", "数据不可用 unknown", "sources.population.household_region = （不可用 unavailable）\n", "等待数据 waiting for: sources.population",
		}, ""},
		{"computed fields before the rules", []string{"rules", "try", "../../catalog/items/civil/elderly_allowance.yaml", "--applicant", filepath.Join("testdata", "try", "aged_91.yaml"), "--on", "2026-01-20"}, 0, []string{
			"决定 Decision: 批准 approve\n",
			"由系统计算 Computed by the system:\n",
			"  allowance_band — 津贴档次 / Allowance band\n", "    结果 result: 90_99\n", "    applicant.age = 91\n",
			"  monthly_amount — 每月津贴（元） / Monthly allowance (yuan)\n", "    结果 result: 300\n",
			"规则 Rules:\n",
		}, ""},
		{"a draft whose rule does not type-check", []string{"rules", "try", draft, "--applicant", turns60}, 1, []string{
			"draft.yaml:73:", "rule age_60: found no matching overload",
		}, "do not compile"},
		{"a misspelt applicant file", []string{"rules", "try", item, "--applicant", filepath.Join("testdata", "try", "misspelt.yaml")}, 1, nil, `unknown key "shoe_size"`},
		{"no applicant", []string{"rules", "try", item}, 2, nil, "--applicant FILE.yaml"},
		{"a bad day", []string{"rules", "try", item, "--applicant", turns60, "--on", "2027-02-30"}, 2, nil, "not a date written YYYY-MM-DD"},
		{"no item file", []string{"rules", "try", "nope.yaml", "--applicant", turns60}, 1, nil, "cannot read the item file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			rest := stdout
			for _, want := range tt.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Errorf("stdout lacks (in order) %q:\n%s", want, stdout)
					break
				}
				rest = rest[i+len(want):]
			}
		})
	}
}

// TestRulesTryDocExample keeps the example in docs/RULES.md true: its
// applicant file, tried on its day, prints exactly what the page shows.
func TestRulesTryDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	out := regexp.MustCompile("(?s)```\n\\$ yiwang rules try catalog/items/civil/senior_card.yaml --applicant turns_60.yaml --on 2027-02-28\n(.*?)```").FindSubmatch(doc)
	in := regexp.MustCompile("(?s)```yaml\n# turns_60.yaml[^\n]*\n(.*?)```").FindSubmatch(doc)
	if out == nil || in == nil {
		t.Fatal("docs/RULES.md lacks the yiwang rules try example")
	}
	file := filepath.Join(t.TempDir(), "turns_60.yaml")
	if err := os.WriteFile(file, in[1], 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "rules", "try", "../../catalog/items/civil/senior_card.yaml", "--applicant", file, "--on", "2027-02-28")
	if code != 0 || stdout != string(out[1]) {
		t.Errorf("exit %d\ngot:\n%s\nthe page shows:\n%s\nstderr: %s", code, stdout, out[1], stderr)
	}
}
