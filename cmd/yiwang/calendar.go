package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/config"
	"yiwang/internal/logging"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

const calendarSummary = `Work with the working-day calendar that time limits are counted on (工作日).

  yiwang calendar show YEAR     print a year's holidays and make-up working days (调休上班)
  yiwang calendar check FILE    check a year's file; print every problem; change nothing
  yiwang calendar load FILE     check a year's file, then store it, replacing that year

2025 and 2026 ship with yiwang. Load each later year from the State Council's
yearly notice (国务院办公厅关于YYYY年部分节假日安排的通知); the file format and an
example are in docs/WORKFLOW.md. show and load work on the database given by
--db / --data-dir, as serve does; running servers pick a loaded year up within
30 seconds.`

func calendarCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintf(stdout, "Usage: yiwang calendar SUBCOMMAND [options] ARG\n\n%s\n", calendarSummary)
		if len(args) == 0 {
			return usageError{errors.New("name a subcommand: show, check or load")}
		}
		return nil
	}
	sub, args := args[0], args[1:]
	if sub != "show" && sub != "check" && sub != "load" {
		return usageError{fmt.Errorf("unknown subcommand %q; run 'yiwang calendar --help'", sub)}
	}
	cfg, pos, err := config.Parse(flag.NewFlagSet("calendar "+sub, flag.ContinueOnError), "calendar", calendarSummary, args, 1, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if len(pos) != 1 {
		what := map[string]string{"show": "YEAR", "check": "FILE", "load": "FILE"}[sub]
		return usageError{fmt.Errorf("calendar %s takes one argument, %s", sub, what)}
	}
	var notice workday.Notice
	if sub != "show" {
		if notice, err = readNotice(pos[0], stdout); err != nil {
			return err
		}
		if sub == "check" {
			fmt.Fprintf(stdout, "%s: ok — the %d calendar, %d holidays, %d make-up working days\n", pos[0], notice.Year, len(notice.Holidays), len(notice.MakeUpDays))
			return nil
		}
	}
	year := 0
	if sub == "show" {
		if year, err = strconv.Atoi(pos[0]); err != nil || len(pos[0]) != 4 {
			return usageError{fmt.Errorf("YEAR must be a year such as 2026, not %q", pos[0])}
		}
	}
	// Loading a year recounts deadlines and writes their timeline entries,
	// which are sealed: that needs the data key.
	var db *store.DB
	var protector *pii.Protector
	if sub == "load" {
		db, protector, err = openWithProtector(ctx, cfg, logging.New(stderr, "text", 0))
	} else {
		db, err = openMigrated(ctx, cfg)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	cs, err := workday.NewStore(ctx, db)
	if err != nil {
		return err
	}
	cs.OnLoad(recountWith(application.NewServices(application.Deps{DB: db, Protector: protector}).Deadlines))
	var y workday.Year
	if sub == "load" {
		if y, err = cs.Load(ctx, notice, "cli:"+osUser()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "loaded the %d calendar into %s:\n\n", y.Year, db.Where)
	} else if y, err = cs.Year(ctx, year); err != nil {
		return err
	}
	printYear(stdout, y)
	return nil
}

// recountWith counts provisional deadlines again when a year is loaded,
// whichever way it is loaded (the server's API and page, or this command).
func recountWith(deadlines *application.Deadlines) workday.Recount {
	return func(ctx context.Context, tx *sql.Tx, before, after *workday.Calendar) error {
		return deadlines.Recount(ctx, tx, before, after)
	}
}

// readNotice reads and checks a year's file, printing every problem on a
// line of its own.
func readNotice(file string, out io.Writer) (workday.Notice, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return workday.Notice{}, fmt.Errorf("cannot read %s: %w", file, err)
	}
	n, err := workday.ParseYAML(b)
	if err == nil {
		_, err = n.Parse()
	}
	if e := apperr.As(err); e != nil {
		if ds, ok := e.Details.([]apperr.Detail); ok {
			for _, d := range ds {
				fmt.Fprintf(out, "%s: %s\n", file, d.En)
			}
			return n, fmt.Errorf("%d problem(s) in %s; nothing was changed", len(ds), file)
		}
	}
	if err != nil {
		return n, fmt.Errorf("%s: %w", file, err)
	}
	return n, nil
}

func printYear(w io.Writer, y workday.Year) {
	fmt.Fprintf(w, "%d working-day calendar (%s)\nsource: %s\n", y.Year, y.Origin, y.Source)
	if y.LoadedAt != nil {
		fmt.Fprintf(w, "loaded by %s at %s\n", y.LoadedBy, y.LoadedAt.In(workday.CST).Format("2006-01-02 15:04 CST"))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nHOLIDAY FROM\tTO\tDAYS\tNAME")
	for _, h := range y.Holidays {
		fmt.Fprintf(tw, "%s %s\t%s %s\t%d\t%s\n", h.From, h.From.Weekday().String()[:3], h.To, h.To.Weekday().String()[:3], h.Days, h.Name)
	}
	fmt.Fprintln(tw, "\nMAKE-UP WORKING DAY\t\t\tFOR")
	for _, m := range y.MakeUpDays {
		fmt.Fprintf(tw, "%s %s\t\t\t%s\n", m.Date, m.Date.Weekday().String()[:3], m.For)
	}
	tw.Flush()
}
