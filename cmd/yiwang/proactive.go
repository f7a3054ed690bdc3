package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"yiwang/internal/blob"
	"yiwang/internal/config"
	"yiwang/internal/loadtest"
	"yiwang/internal/logging"
	"yiwang/internal/proactive"
	"yiwang/internal/workday"
)

const proactiveSummary = `Run the proactive services' sweep (主动服务 / 免申即享) for a day.

  yiwang proactive run [--on YYYY-MM-DD] [--since YYYY-MM-DD] [--dry-run]

The sweep reads the built-in registries, finds the people whose trigger
fires after --since and up to --on (an age reached, a licence's expiry or
anniversary), decides each by the item's rules, and grants the item (an
application made, decided and licensed for the person, who is told) or
offers it (a message with the link to apply). Nobody gets the same item for
the same day twice, however often it runs. --on is today (China time) by
default; --since is the day of the last sweep that acted (at most 31 days
back) by default. --dry-run finds and decides but writes nothing except the
sweep's record. serve runs the sweep every day at 02:00 by itself; this
command is for a first run over past days, a catch-up, or a trial.
Messages are delivered by a running server's job queue.`

func proactiveCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintf(stdout, "Usage: yiwang proactive run [options]\n\n%s\n", proactiveSummary)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return nil
		}
		return usageError{fmt.Errorf("name the subcommand: run")}
	}
	fs := flag.NewFlagSet("proactive run", flag.ContinueOnError)
	onFlag := fs.String("on", "", "the day swept for, YYYY-MM-DD (default: today, China time)")
	sinceFlag := fs.String("since", "", "the day before the first day swept, YYYY-MM-DD (default: the last sweep's day)")
	dry := fs.Bool("dry-run", false, "find and decide, but write nothing except the sweep's record")
	cfg, _, err := config.Parse(fs, "proactive", proactiveSummary, args[1:], 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	on, err := proactive.ParseDay(time.Now().In(workday.CST).Format(time.DateOnly))
	if err != nil {
		return err
	}
	if *onFlag != "" {
		if on, err = proactive.ParseDay(*onFlag); err != nil {
			return usageError{fmt.Errorf("--on: %w", err)}
		}
	}
	var since time.Time
	if *sinceFlag != "" {
		if since, err = proactive.ParseDay(*sinceFlag); err != nil {
			return usageError{fmt.Errorf("--since: %w", err)}
		}
		if !since.Before(on) {
			return usageError{fmt.Errorf("--since %s must be before --on %s", *sinceFlag, on.Format(time.DateOnly))}
		}
	}
	logger := logging.New(stderr, "text", 0)
	db, err := openAndMigrate(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	blobs, err := blob.Open(ctx, cfg.BlobURL, cfg.DataDir, blob.Limits{MaxBytes: cfg.UploadMaxBytes}, getenv)
	if err != nil {
		return err
	}
	opts, err := appOptionsFrom(cfg, cfg.PublicURL, blobs, getenv, logger)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, db, opts, logger)
	if err != nil {
		return err
	}
	bars := map[string]*progress{"find": newProgress(stderr, "finding candidates"), "act": newProgress(stderr, "deciding and acting")}
	rep, err := a.proactive.Sweep(ctx, proactive.SweepRequest{On: on, Since: since, DryRun: *dry, By: "cli", Progress: func(stage string, done, total int) {
		if b := bars[stage]; b != nil {
			if stage == "act" {
				bars["find"].end()
			}
			b.update(done, total)
		}
	}})
	bars["find"].end()
	bars["act"].end()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: what was written is kept; run the same command again to finish (nothing is done twice)")
	}
	if err != nil {
		return err
	}
	mode := "swept"
	if rep.DryRun {
		mode = "dry run (nothing written)"
	}
	fmt.Fprintf(stdout, "%s %s after %s up to %s: %s records read, %s candidates in %.1fs; %s granted, %s offered, skipped %s; acted in %.1fs (%s grants/s)\n",
		mode, db.Where, rep.Since, rep.On, loadtest.Grouped(rep.Scanned), loadtest.Grouped(rep.Candidates), rep.FindTook.Seconds(),
		loadtest.Grouped(rep.Granted), loadtest.Grouped(rep.Offered), skipped(rep.Skipped), rep.ActTook.Seconds(),
		loadtest.Grouped(int(float64(rep.Granted)/max(rep.ActTook.Seconds(), 0.001))))
	return nil
}

// skipped is "none" or the skip reasons with their counts.
func skipped(counts map[string]int) string {
	if len(counts) == 0 {
		return "none"
	}
	return countsText(counts)
}
