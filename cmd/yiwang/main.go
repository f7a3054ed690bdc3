// Command yiwang runs the yiwang government-services platform.
//
//	yiwang serve      start the HTTP server (embedded SQLite with demo data by default)
//	yiwang migrate    apply database migrations (--status to list them)
//	yiwang backup     copy the database and materials while serving; restore puts a copy back
//	yiwang version    print the version
//
// Flags and YIWANG_* variables are read here, once, into a config.Config that
// is passed down; nothing below main reads the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"yiwang/internal/apperr"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "Start the HTTP server (embedded SQLite with demo data unless told otherwise).\nWith no --db it uses the SQLite file in --data-dir; it applies migrations first\nand seeds demo data into an empty one: SQLite unless --no-demo, PostgreSQL\nonly with --demo.", serve},
		{"migrate", "Apply pending database migrations, each in its own transaction (forward-only).", migrate},
		{"catalog", "Validate, import, publish, retire and diff service items (事项库).", catalogCmd},
		{"rules", "Test item rules: yiwang rules test DIR; try a draft item: yiwang rules try ITEM_FILE --applicant FILE", rulesCmd},
		{"hub", "Check departments' systems against the data contract: yiwang hub check --hub-config FILE [--subject ID]", hubCmd},
		{"calendar", "Show, check and load years of the working-day calendar (工作日).", calendarCmd},
		{"token", "Issue an API token for another government system.", tokenCmd},
		{"seal", "List or rotate the departments' electronic seal keys: yiwang seal list | rotate DEPT", sealCmd},
		{"audit", "Sign, verify or export the tamper-evident audit trail: yiwang audit sign | verify | export", auditCmd},
		{"backup", "Back up the database and uploaded materials while serving: yiwang backup DEST", backupCmd},
		{"restore", "Restore a backup into a new place: yiwang restore SRC --data-dir NEW | --db URL", restoreCmd},
		{"proactive", "Run the proactive services' sweep for a day: yiwang proactive run [--on DATE] [--dry-run]", proactiveCmd},
		{"insight", "Recompute the service-performance dashboard's rollups: yiwang insight rebuild", insightCmd},
		{"demo", "Generate demo registry data: yiwang demo generate --persons N --enterprises M", demoCmd},
		{"bench", "Load-test a running server: yiwang bench --url URL --concurrency N --duration D", benchCmd},
		{"version", "Print the version of this binary.", version},
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, "yiwang — one network for government services (一网通办)\n\nUsage: yiwang COMMAND [options]\n\nCommands:\n")
	for _, c := range commands() {
		first, _, _ := strings.Cut(c.summary, "\n")
		fmt.Fprintf(w, "  %-10s %s\n", c.name, first)
	}
	fmt.Fprint(w, "\nRun 'yiwang COMMAND --help' for a command's options.\n")
}

// run executes the command line and returns the process exit code: 0 on
// success, 1 when the command failed, 2 for a usage error. Failures are one
// line on stderr saying what is wrong and what to do.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, args[1:], getenv, stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		}
		fmt.Fprintf(stderr, "yiwang %s: %s\n", name, oneLine(err))
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(stderr, "yiwang: unknown command %q; run 'yiwang --help' for the list\n", name)
	return 2
}

// usageError marks a mistake on the command line (exit code 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// oneLine renders err for a person: the message of an apperr with its cause
// in brackets, never a stack, never more than one line.
func oneLine(err error) string {
	msg := err.Error()
	if e := apperr.As(err); e != nil {
		msg = e.Message
		if e.Err != nil {
			msg += " (" + e.Err.Error() + ")"
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}
