package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"yiwang/internal/config"
	"yiwang/internal/demo"
	"yiwang/internal/hub"
	"yiwang/internal/licence"
	"yiwang/internal/loadtest"
	"yiwang/internal/logging"
	"yiwang/internal/seal"
)

const demoSummary = `Generate demo data.

  yiwang demo generate [--persons N] [--enterprises M] [--seed S]
  yiwang demo history --applications N [--persons M] [--seed S]

Fills the built-in registries (人口库, 法人库, 教育库, 车驾管库, 不动产库, 社保库,
信用库 and e-licences) with fictional but consistent records of N residents and
M enterprises of the demo district, and of the demo people and company. The
same seed and sizes give the same records on the same day (ages are kept, and
some people turn 60 or 80 on the day); running it again replaces them.
Records are sealed with the personal-data key (--data-key or data.key in
--data-dir), so the server must use the same key to read them.

history writes two years of past activity into a demo database that
'yiwang serve' has seeded (with --demo on PostgreSQL): N applications by
N/5 fictional applicants (the first N/5 persons of 'demo generate --persons
M --seed S': give the same M and S for their registry records) and the demo
people, each as the platform stores it — sealed forms, consents and data
reads, numbers, timelines, machine decisions and spot checks, the steps'
tasks (open in the departments' inboxes for those under way), the decision
messages, and the demo people's licences. It needs the database to itself
while it runs, and a database takes one history: run again, it only issues
the demo people's licences still missing.`

func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "history" {
		return demoHistoryCmd(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "generate" {
		fmt.Fprintf(stdout, "Usage: yiwang demo generate|history [options]\n\n%s\n", demoSummary)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return nil
		}
		return usageError{fmt.Errorf("name the subcommand: generate or history")}
	}
	fs := flag.NewFlagSet("demo generate", flag.ContinueOnError)
	persons := fs.Int("persons", 300, fmt.Sprintf("residents to generate (0 to %d)", demo.MaxGenerated))
	enterprises := fs.Int("enterprises", 40, fmt.Sprintf("enterprises to generate (0 to %d)", demo.MaxGenerated))
	seed := fs.Uint64("seed", 1, "seed of the generator: the same seed and sizes give the same records")
	cfg, _, err := config.Parse(fs, "demo", demoSummary, args[1:], 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	for _, n := range []struct {
		flag string
		n    int
	}{{"persons", *persons}, {"enterprises", *enterprises}} {
		if n.n < 0 || n.n > demo.MaxGenerated {
			return usageError{fmt.Errorf("--%s must be between 0 and %s, not %d", n.flag, loadtest.Grouped(demo.MaxGenerated), n.n)}
		}
	}
	db, protector, err := openWithProtector(ctx, cfg, logging.New(stderr, "text", 0))
	if err != nil {
		return err
	}
	defer db.Close()
	// Generating allocates much short-lived garbage; collecting less often
	// buys CPU time for sealing (measured: about a sixth) at the cost of
	// memory (2–3 GB for a million persons), for this run only.
	defer debug.SetGCPercent(debug.SetGCPercent(400))

	bar := newProgress(stderr, "subjects")
	stats, err := demo.SeedRegistries(ctx, db, hub.NewBuiltin(db, protector), *persons, *enterprises, *seed, bar.update)
	bar.end()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: the records written so far are kept; run the same command again to complete them")
	}
	if err != nil {
		return err
	}
	if _, err := rebuildInsight(ctx, db); err != nil {
		return fmt.Errorf("the history is written, but the dashboard's rollups are not: run 'yiwang insight rebuild': %w", err)
	}
	secs := stats.Elapsed.Seconds()
	fmt.Fprintf(stdout, "wrote %s records of %s persons and %s enterprises (and the demo people and company) to %s in %.1fs (%s records/s): %s\n",
		loadtest.Grouped(stats.Total()), loadtest.Grouped(stats.Persons), loadtest.Grouped(stats.Enterprises), db.Where, secs,
		loadtest.Grouped(int(float64(stats.Total())/max(secs, 0.001))), countsText(stats.Records))
	return nil
}

// countsText is counts by name, in the order of the names: "a 1, b 2".
func countsText(counts map[string]int) string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for k, n := range names {
		parts[k] = n + " " + loadtest.Grouped(counts[n])
	}
	return strings.Join(parts, ", ")
}

// demoHistoryCmd is 'yiwang demo history'.
func demoHistoryCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo history", flag.ContinueOnError)
	apps := fs.Int("applications", 10_000, fmt.Sprintf("applications to write (1 to %d)", demo.MaxHistory))
	persons := fs.Int("persons", 0, "the --persons of 'demo generate', whose first applications/5 persons apply (0: applications/5)")
	seed := fs.Uint64("seed", 1, "seed of the generator, as given to 'demo generate'")
	cfg, _, err := config.Parse(fs, "demo", demoSummary, args, 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if *apps < 1 || *apps > demo.MaxHistory {
		return usageError{fmt.Errorf("--applications must be between 1 and %s, not %d", loadtest.Grouped(demo.MaxHistory), *apps)}
	}
	if *persons < 0 || *persons > demo.MaxGenerated {
		return usageError{fmt.Errorf("--persons must be between 0 and %s, not %d", loadtest.Grouped(demo.MaxGenerated), *persons)}
	}
	logger := logging.New(stderr, "text", 0)
	db, protector, err := openWithProtector(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	key, err := loadKey(cfg.DataKey, cfg.DataDir, logger)
	if err != nil {
		return err
	}
	ring, err := seal.NewKeyring(db, key)
	if err != nil {
		return err
	}
	defer debug.SetGCPercent(debug.SetGCPercent(400)) // as for generate
	bar := newProgress(stderr, "persons, then applications")
	stats, err := demo.WriteHistory(ctx, db, protector, demo.HistoryOptions{Applications: *apps, Persons: *persons, Seed: *seed, Progress: bar.update})
	bar.end()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: the history is incomplete; write it into a fresh demo database")
	}
	written := errors.Is(err, demo.ErrHistoryWritten) // then only the licences still missing
	if err != nil && !written {
		return err
	}
	builtin := hub.NewBuiltin(db, protector)
	licences, err := demo.IssueHistoryLicences(ctx, db, protector, licence.NewService(db, ring, protector, builtin, cfg.PublicURL))
	if err != nil {
		return err
	}
	if written {
		fmt.Fprintf(stdout, "the database has its history already; issued the %d licences of the demo people that were missing\n", licences)
		return nil
	}
	if _, err := rebuildInsight(ctx, db); err != nil {
		return fmt.Errorf("the history is written, but the dashboard's rollups are not: run 'yiwang insight rebuild': %w", err)
	}
	secs := stats.Elapsed.Seconds()
	fmt.Fprintf(stdout, "wrote %s rows of %s applications by %s applicants (and the demo people, with %d licences) to %s in %.1fs (%s rows/s): %s\n",
		loadtest.Grouped(stats.Total()), loadtest.Grouped(*apps), loadtest.Grouped(stats.Applicants), licences, db.Where, secs,
		loadtest.Grouped(int(float64(stats.Total())/max(secs, 0.001))), countsText(stats.Rows))
	return nil
}

// progress shows how far a long run is: a bar redrawn in place on a
// terminal, otherwise a line at every tenth, so logs stay short.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	terminal bool
	began    time.Time
	drawn    time.Time
	tenth    int
	shown    bool
}

func newProgress(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label, began: time.Now()}
	if f, ok := w.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if total <= 0 {
		return
	}
	pct := done * 100 / total
	now := time.Now()
	if p.terminal {
		if now.Sub(p.drawn) < 100*time.Millisecond && done < total {
			return
		}
		p.drawn = now
		const width = 30
		fill := done * width / total
		// \r returns to the start of the line, \033[K clears what a longer
		// line before left behind.
		fmt.Fprintf(p.w, "\r%s [%s%s] %s\033[K", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), p.line(done, total, pct, now))
		p.shown = true
		return
	}
	if tenth := done * 10 / total; tenth > p.tenth {
		p.tenth = tenth
		fmt.Fprintf(p.w, "%s  %s\n", p.label, p.line(done, total, pct, now))
	}
}

func (p *progress) line(done, total, pct int, now time.Time) string {
	eta := "-:--"
	if done > 0 {
		left := time.Duration(float64(now.Sub(p.began)) * float64(total-done) / float64(done)).Round(time.Second)
		eta = fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60)
	}
	return fmt.Sprintf("%s / %s  %3d%%  ETA %s", loadtest.Grouped(done), loadtest.Grouped(total), pct, eta)
}

// end finishes the bar's line on a terminal.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal && p.shown {
		fmt.Fprintln(p.w)
	}
}
