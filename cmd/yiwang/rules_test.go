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
			regexp.MustCompile(`type_errors\.yaml:34:29: rule no_such_field: the population source has no field "shoe_size"`), "16 problem(s)"},
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
