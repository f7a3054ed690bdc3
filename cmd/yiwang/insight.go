package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"yiwang/internal/config"
	"yiwang/internal/insight"
	"yiwang/internal/logging"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

const insightSummary = `Recompute the service-performance dashboard's rollups (政务服务效能).

  yiwang insight rebuild

The dashboard reads daily rollups that every application's move updates in
its own transaction. This recomputes them once from the applications'
timelines: for a database that had applications before the rollups
existed. 'yiwang demo history' rebuilds them by itself.`

func insightCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprintf(stdout, "Usage: yiwang insight rebuild [options]\n\n%s\n", insightSummary)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return nil
		}
		return usageError{fmt.Errorf("name the subcommand: rebuild")}
	}
	fs := flag.NewFlagSet("insight rebuild", flag.ContinueOnError)
	cfg, _, err := config.Parse(fs, "insight", insightSummary, args[1:], 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	db, err := openAndMigrate(ctx, cfg, logging.New(stderr, "text", 0))
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := rebuildInsight(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rebuilt the dashboard's rollups from %d moves of applications\n", n)
	return nil
}

// rebuildInsight recomputes the rollups on the calendar in the database.
func rebuildInsight(ctx context.Context, db *store.DB) (int, error) {
	ws, err := workday.NewStore(ctx, db)
	if err != nil {
		return 0, err
	}
	cal, err := ws.Calendar(ctx)
	if err != nil {
		return 0, err
	}
	return insight.Rebuild(ctx, db, cal)
}
