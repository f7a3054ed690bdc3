package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"yiwang/internal/config"
	"yiwang/internal/logging"
	"yiwang/internal/rules"
	"yiwang/internal/simulate"
	"yiwang/internal/workday"
)

const rulesSimulateSummary = `yiwang rules simulate ITEM_FILE --since YYYY-MM-DD [--snapshot FILE.yaml]

Replay the rules of a draft item file over the item's past machine decisions
since the day (决策模拟): each stored decision's input is decided again with the
draft's rules on its own decision day. Prints how many outcomes would flip, by
pair (approve → reject, to and from manual review) and by reason, with a few
masked application numbers each, and the machine-approval rate before and
after. --snapshot sets registry fields in every input (a YAML mapping such as
population.household_region: "910102"). Reads the database only: nothing is
written to applications or decisions.`

// rulesSimulate is yiwang rules simulate.
func rulesSimulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rules simulate", flag.ContinueOnError)
	since := fs.String("since", "", "the first decision day replayed, YYYY-MM-DD")
	snapshot := fs.String("snapshot", "", "a YAML file of registry fields set in every input")
	var file string
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	cfg, rest, err := config.Parse(fs, "rules simulate", rulesSimulateSummary, args, 1, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if file == "" && len(rest) == 1 {
		file = rest[0]
	}
	if file == "" || *since == "" {
		return usageError{fmt.Errorf("rules simulate takes the item file and --since: yiwang rules simulate item.yaml --since 2026-01-01")}
	}
	day, err := workday.ParseDate(*since)
	if err != nil {
		return usageError{fmt.Errorf("--since %s", err)}
	}
	opt := simulate.Options{Since: day}
	if *snapshot != "" {
		b, err := os.ReadFile(*snapshot)
		if err != nil {
			return fmt.Errorf("cannot read the snapshot: %w", err)
		}
		if opt.Snapshot, err = simulate.ReadSnapshot(b); err != nil {
			return fmt.Errorf("%s: %v", *snapshot, err)
		}
	}
	it, err := readDraftItem(file, stdout)
	if err != nil {
		return err
	}
	p, problems := rules.Compile(it.Item)
	if len(problems) > 0 {
		return fmt.Errorf("the rules of %s do not compile: run 'yiwang rules try' on it for the problems", file)
	}
	opt.Item, opt.Program = it.Code, p
	db, protector, err := openWithProtector(ctx, cfg, logging.New(stderr, "text", 0))
	if err != nil {
		return err
	}
	defer db.Close()
	defer debug.SetGCPercent(debug.SetGCPercent(400)) // short-lived records: trade memory for less collecting, as demo history does
	bar := newProgress(stderr, "重放 replaying")
	opt.Progress = bar.update
	rep, err := simulate.Run(ctx, db, protector, opt)
	bar.end()
	if errors.Is(err, context.Canceled) {
		return err
	}
	if err != nil {
		return err
	}
	printSimulation(stdout, it.Name.Zh, it.Name.In("en"), rep)
	return nil
}

var flipWords = map[rules.Outcome]string{
	rules.Approve: "批准 approve",
	rules.Reject:  "不予批准 reject",
	rules.Manual:  "人工审核 manual",
}

// printSimulation writes a simulation's report for a person.
func printSimulation(w io.Writer, zh, en string, r simulate.Report) {
	fmt.Fprintf(w, "事项 Item: %s / %s (%s)\n", zh, en, r.Item)
	fmt.Fprintf(w, "重放 Replayed: %d 件决定 decisions since %s in %.1fs\n", r.Replayed, r.Since, float64(r.TookMS)/1000)
	if r.Unreadable > 0 {
		fmt.Fprintf(w, "无法读取 Unreadable records: %d\n", r.Unreadable)
	}
	fmt.Fprintf(w, "秒批率 Machine-approval rate: %.1f%% → %.1f%%\n", 100*r.Before.ApprovalRate(), 100*r.After.ApprovalRate())
	fmt.Fprintf(w, "  之前 before: 批准 approve %d, 不予批准 reject %d, 人工 manual %d\n", r.Before.Approve, r.Before.Reject, r.Before.Manual)
	fmt.Fprintf(w, "  之后 after:  批准 approve %d, 不予批准 reject %d, 人工 manual %d\n", r.After.Approve, r.After.Reject, r.After.Manual)
	fmt.Fprintf(w, "结果改变 Flipped: %d\n", r.Flipped())
	for _, f := range r.Flips {
		fmt.Fprintf(w, "  %s → %s: %d\n", flipWords[f.From], flipWords[f.To], f.Count)
		for _, g := range f.Groups {
			fmt.Fprintf(w, "    %s %s / %s: %d  例 e.g. %v\n", g.Code, g.Text.Zh, g.Text.In("en"), g.Count, g.Examples)
		}
	}
}
