package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"yiwang/internal/config"
	"yiwang/internal/logging"
	"yiwang/internal/store"
)

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	statusOnly := fs.Bool("status", false, "list migrations and whether each is applied; change nothing")
	cfg, _, err := config.Parse(fs, "migrate", commands()[1].summary, args, 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if !*statusOnly {
		logger := logging.New(stderr, cfg.LogFormat, cfg.LogLevel)
		db, err := openAndMigrate(ctx, cfg, logger)
		if err != nil {
			return err
		}
		db.Close()
		return nil
	}
	db, err := store.Open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	status, riverApplied, riverLatest, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database: %s\n\n", db.Where)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
	for _, s := range status {
		applied := "pending"
		if s.AppliedAt != nil {
			applied = s.AppliedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", s.Version, s.Name, applied)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\njob queue (River) schema: version %d of %d\n", riverApplied, riverLatest)
	if n := store.Pending(status); n > 0 || riverApplied < riverLatest {
		fmt.Fprintf(stdout, "%d migration(s) pending: run 'yiwang migrate' (or 'yiwang serve', which migrates first)\n", n)
	} else {
		fmt.Fprintln(stdout, "up to date")
	}
	return nil
}
