package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"yiwang/internal/rules"
)

const rulesSummary = `Test the review rules of a catalogue (秒批).

  yiwang rules test DIR    run every <item>.tests.yaml under the catalogue folder DIR
  yiwang rules try ITEM_FILE --applicant FILE.yaml [--on YYYY-MM-DD]
                           decide a draft item for a described applicant on a day
  yiwang rules simulate ITEM_FILE --since YYYY-MM-DD [--snapshot FILE.yaml]
                           replay a draft item's rules over its past decisions

The catalogue is validated first (as 'yiwang catalog validate' does, rule
types included). Each failed test is printed as file:line: test: message,
then a summary such as "47 passed, 0 failed". The exit status is 1 when a
test fails or a tests file names an unknown item or rule. The tests file
format is described in docs/RULES.md.`

func rulesCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintf(stdout, "Usage: yiwang rules test DIR | yiwang rules try ITEM_FILE --applicant FILE.yaml\n\n%s\n", rulesSummary)
		if len(args) == 0 {
			return usageError{fmt.Errorf("name the subcommand: test, try or simulate")}
		}
		return nil
	}
	if args[0] == "try" {
		return rulesTry(args[1:], stdout)
	}
	if args[0] == "simulate" {
		return rulesSimulate(ctx, args[1:], getenv, stdout, stderr)
	}
	if args[0] != "test" {
		return usageError{fmt.Errorf("unknown subcommand %q; run 'yiwang rules --help'", args[0])}
	}
	pos := args[1:]
	if len(pos) == 1 && (pos[0] == "--help" || pos[0] == "-h") {
		fmt.Fprintf(stdout, "Usage: yiwang rules test DIR\n\n%s\n", rulesSummary)
		return nil
	}
	if len(pos) != 1 || strings.HasPrefix(pos[0], "-") {
		return usageError{fmt.Errorf("rules test takes one argument, the catalogue folder: yiwang rules test catalog")}
	}
	dir := pos[0]
	c, err := loadCatalogue(dir, stdout)
	if err != nil {
		return err
	}
	report := rules.RunTests(os.DirFS(dir), c)
	for _, f := range report.Failures {
		f.File = dir + string(os.PathSeparator) + f.File
		fmt.Fprintln(stdout, f)
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", report.Passed, report.Failed)
	switch {
	case report.Files == 0 && report.Failed == 0:
		return fmt.Errorf("no rule tests in %s: write <item>.tests.yaml files beside the items", dir)
	case report.Failed > 0:
		return fmt.Errorf("%d rule test(s) failed in %s", report.Failed, dir)
	}
	return nil
}
