package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"yiwang/internal/catalog"
	"yiwang/internal/rules"
	"yiwang/internal/workday"
)

const rulesTryUsage = `Usage: yiwang rules try ITEM_FILE --applicant FILE.yaml [--on YYYY-MM-DD]

Decide a draft item file for a described applicant, without a database: the
item is checked and its rules compiled, then decided on the given day (today
in China by default) for the applicant file — a mapping with the keys of a
tests file's input (applicant, answers, form, sources, licences, materials,
credit, unknown; docs/RULES.md). Prints the decision, its reasons and what
every rule did, in Chinese and English. The exit status is 0 whatever the
decision, 1 when the item or the applicant file is wrong.`

// rulesTry is yiwang rules try.
func rulesTry(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rules try", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	applicant := fs.String("applicant", "", "the applicant file")
	on := fs.String("on", "", "the decision day, YYYY-MM-DD")
	help := fs.Bool("help", false, "")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return usageError{fmt.Errorf("rules try: %v; run 'yiwang rules try --help'", err)}
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if *help {
		fmt.Fprintln(stdout, rulesTryUsage)
		return nil
	}
	if len(pos) != 1 || *applicant == "" {
		return usageError{fmt.Errorf("rules try takes the item file and --applicant FILE.yaml: yiwang rules try item.yaml --applicant someone.yaml --on 2027-03-01")}
	}
	day := workday.DateOf(time.Now())
	if *on != "" {
		d, err := workday.ParseDate(*on)
		if err != nil {
			return usageError{fmt.Errorf("--on %s", err)}
		}
		day = d
	}
	it, err := readDraftItem(pos[0], stdout)
	if err != nil {
		return err
	}
	p, problems := rules.Compile(it.Item)
	if len(problems) > 0 {
		// Type errors with their place in the file, as catalog validate
		// gives them; a syntax error is the loader's, so it comes here.
		for _, pr := range rules.CheckCatalogue(&catalog.Catalogue{Items: []*catalog.LoadedItem{it}}) {
			pr.File = pos[0]
			fmt.Fprintln(stdout, pr)
		}
		for _, pr := range problems {
			if pr.Syntax {
				fmt.Fprintf(stdout, "%s: %s\n", pos[0], pr.Message)
			}
		}
		return fmt.Errorf("the rules of %s do not compile (%d problem(s))", pos[0], len(problems))
	}
	b, err := os.ReadFile(*applicant)
	if err != nil {
		return fmt.Errorf("cannot read the applicant file: %w", err)
	}
	in, err := rules.ReadInput(b)
	if err != nil {
		return fmt.Errorf("%s: %v", *applicant, err)
	}
	printDecision(stdout, it.Item, p.Decide(in, rules.DecisionTime(day)))
	return nil
}

// readDraftItem reads and checks one item file, printing its problems.
func readDraftItem(file string, stdout io.Writer) (*catalog.LoadedItem, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read the item file: %w", err)
	}
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		return nil, err
	}
	it, problems := schemas.ParseItem(filepath.Base(file), b)
	for _, p := range problems {
		p.File = file
		fmt.Fprintln(stdout, p)
	}
	if it == nil {
		return nil, fmt.Errorf("%s is not a usable item (%d problem(s))", file, len(problems))
	}
	return it, nil
}

var outcomeWords = map[rules.Outcome]string{
	rules.Approve: "批准 approve",
	rules.Reject:  "不予批准 reject",
	rules.Manual:  "转人工审核 manual review",
}

var resultWords = map[rules.Result]string{
	rules.True:    "通过 passed",
	rules.False:   "未通过 failed",
	rules.Unknown: "数据不可用 unknown",
	rules.Error:   "出错 error",
	rules.Skipped: "未适用 skipped",
	// A computed field's result.
	rules.ComputedValue: "已计算 computed",
}

var onFailWords = map[string]string{
	"reject": "不通过则不予批准 rejects if failed",
	"manual": "不通过则转人工 goes to a person if failed",
}

// printDecision writes a decision and its trace for a person, in Chinese
// and English.
func printDecision(w io.Writer, it catalog.Item, d rules.Decision) {
	fmt.Fprintf(w, "事项 Item: %s / %s (%s)\n", it.Name.Zh, it.Name.In("en"), it.Code)
	fmt.Fprintf(w, "决定日 Decided on: %s\n", d.Today)
	fmt.Fprintf(w, "决定 Decision: %s\n", outcomeWords[d.Outcome])
	if len(d.Reasons) > 0 {
		fmt.Fprintln(w, "理由 Reasons:")
		for _, r := range d.Reasons {
			fmt.Fprintf(w, "  - %s: %s / %s\n", r.Code, r.Text.Zh, r.Text.In("en"))
		}
	}
	if len(d.Computed) > 0 {
		fmt.Fprintln(w, "由系统计算 Computed by the system:")
	}
	for _, c := range d.Computed {
		label := it.NameOf(c.Field)
		fmt.Fprintf(w, "  %s — %s / %s\n", c.Field, label.Zh, label.In("en"))
		fmt.Fprintf(w, "    表达式 expression: %s\n", c.Expr)
		if c.Result == rules.ComputedValue {
			fmt.Fprintf(w, "    结果 result: %s\n", rules.Looked{Value: c.Value}.Shown())
		} else {
			fmt.Fprintf(w, "    结果 result: %s\n", resultWords[c.Result])
		}
		printEvidence(w, c.Looked, c.Waiting, c.Error)
	}
	fmt.Fprintln(w, "规则 Rules:")
	for _, t := range d.Rules {
		desc := catalog.Text{}
		for _, r := range it.Rules {
			if r.ID == t.ID {
				desc = r.Description
			}
		}
		fmt.Fprintf(w, "  %s — %s / %s\n", t.ID, desc.Zh, desc.In("en"))
		fmt.Fprintf(w, "    结果 result: %s（%s）\n", resultWords[t.Result], onFailWords[t.OnFail])
		switch {
		case !t.InForce:
			fmt.Fprintf(w, "    %s 起施行，决定日尚未生效 in force from %s, not yet on the day\n", t.EffectiveFrom, t.EffectiveFrom)
		case !t.Applies:
			fmt.Fprintln(w, "    不适用于所选情形 not for the situation answered")
		}
		printEvidence(w, t.Looked, t.Waiting, t.Error)
	}
	if len(d.NotInForce) > 0 {
		fmt.Fprintf(w, "尚未生效 Not in force: %s\n", strings.Join(d.NotInForce, ", "))
	}
	if len(d.Unknown) > 0 {
		fmt.Fprintf(w, "不可用的数据 Unavailable data: %s\n", strings.Join(d.Unknown, ", "))
	}
	for _, p := range d.InputProblems {
		fmt.Fprintf(w, "输入有误 Input problem: %s\n", p)
	}
}

// printEvidence writes what a rule or a computation looked at, the data
// it waited for and its error.
func printEvidence(w io.Writer, looked []rules.Looked, waiting []string, evalErr string) {
	for _, l := range looked {
		fmt.Fprintf(w, "    %s = %s\n", l.Path, l.Shown())
	}
	if len(waiting) > 0 {
		fmt.Fprintf(w, "    等待数据 waiting for: %s\n", strings.Join(waiting, ", "))
	}
	if evalErr != "" {
		fmt.Fprintf(w, "    错误 error: %s\n", evalErr)
	}
}
