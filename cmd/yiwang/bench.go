package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/config"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/loadtest"
	"yiwang/internal/logging"
	"yiwang/internal/store"
)

const benchSummary = `Load-test a running server, like pgbench.

  yiwang bench prepare [--db URL | --data-dir DIR] [--applicants N]
  yiwang bench run [--url URL[,URL…]] [--concurrency N] [--duration D] [--warmup D] [--rate R] [--item CODE] [--flow three-request|one-call]
                   [--db URL | --data-dir DIR] [--floor D]

prepare puts N fictional applicants into the server's database — persons born
in 910102, accounts with the bench password, and their population, e-licence
and credit records — so that the 老年人优待证 item (the default --item) gives a
mix of approve, reject and manual decisions, and lists their sign-in names in
bench-applicants.txt in --data-dir. Use the server's --db, --data-dir and
--data-key: the records are sealed with its personal-data key.

run signs every applicant in once, then each worker repeats an application:
start it (consent given), fill the required fields the registries did not,
submit (--flow three-request), or makes it in one submission call (--flow
one-call). It times the submit call — where the machine decides — and the whole
application, prints a line a second and, at the end, throughput, outcomes,
errors, p50/p95/p99/max and a histogram; for a run of two minutes or more,
the submit latency minute by minute. It loads only the --url given, which
must be on this machine unless --allow-remote. With --rate it starts
applications at that rate instead of as fast as the workers go, and says when
the server could not keep up.

Several --url (repeated, or separated by commas) are processes of one
platform on one database: the applicants are shared between them in turn,
each signed in at one and applying through it, and the report gives each
server's part besides the total. While measuring, run reads every server's
/metrics (--metrics-every) and reports its memory, heap, goroutines and
database connections first, last, lowest and highest: flat in a soak, or
growing.

After the run, with the server idle, run measures the floor under it on the
server's database (--db, or the SQLite file in --data-dir) for --floor (5s):
what a submission commits — the application row set to submitted and its
decision — written straight to the database by --concurrency writers,
closed loop, on copies of an application the run made, removed afterwards.
The report gives the floor in submissions/s and the run's applications/s as
a share of it. --floor 0 skips it.

The server allows an account 30 submissions a day (--submission-limit of
serve); run spreads the load over the applicants, --per-applicant each.`

func benchCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "prepare":
			return benchPrepare(ctx, args[1:], getenv, stdout, stderr)
		case "run":
			return benchRun(ctx, args[1:], getenv, stdout, stderr)
		}
	}
	fmt.Fprintf(stdout, "Usage: yiwang bench prepare|run [options]\n\n%s\n\nRun 'yiwang bench prepare --help' or 'yiwang bench run --help' for the options.\n", benchSummary)
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
		return nil
	}
	return usageError{errors.New("name the subcommand: prepare or run")}
}

func benchPrepare(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench prepare", flag.ContinueOnError)
	n := fs.Int("applicants", 200, fmt.Sprintf("bench applicants to make, 1 to %s (default 200)", loadtest.Grouped(loadtest.MaxApplicants)))
	out := fs.String("out", "", "file listing the applicants for run (default: "+loadtest.ApplicantsFile+" in --data-dir)")
	cfg, _, err := config.Parse(fs, "bench prepare", benchSummary, args, 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if *n < 1 || *n > loadtest.MaxApplicants {
		return usageError{fmt.Errorf("--applicants must be between 1 and %s, not %d", loadtest.Grouped(loadtest.MaxApplicants), *n)}
	}
	if *out == "" {
		*out = filepath.Join(cfg.DataDir, loadtest.ApplicantsFile)
	}
	db, protector, err := openWithProtector(ctx, cfg, logging.New(stderr, "text", 0))
	if err != nil {
		return err
	}
	defer db.Close()
	began := time.Now()
	bar := newProgress(stderr, "applicants")
	applicants, err := loadtest.Prepare(ctx, db, identity.NewStore(db, protector), hub.NewBuiltin(db, protector),
		loadtest.PrepareOptions{Applicants: *n, Progress: bar.update})
	bar.end()
	if err != nil {
		return err
	}
	if err := loadtest.WriteApplicants(*out, applicants); err != nil {
		return err
	}
	expect := map[string]int{}
	for _, a := range applicants {
		expect[a.Expect]++
	}
	fmt.Fprintf(stdout, "prepared %s bench applicants in %s in %.1fs: for %s they should give approve %s, reject %s, manual %s\n",
		loadtest.Grouped(len(applicants)), db.Where, time.Since(began).Seconds(), loadtest.SeniorCard, loadtest.Grouped(expect["approve"]), loadtest.Grouped(expect["reject"]), loadtest.Grouped(expect["manual"]))
	fmt.Fprintf(stdout, "sign-in names in %s (password %q)\n", *out, loadtest.Password)
	fmt.Fprintf(stdout, "next: with 'yiwang serve' running on this database (started before prepare, so that it seeded the demo catalogue), 'yiwang bench run --url http://127.0.0.1:PORT --data-dir %s'\n", cfg.DataDir)
	return nil
}

func benchRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench run", flag.ContinueOnError)
	o := loadtest.Options{Concurrency: 16, Duration: 30 * time.Second, Item: loadtest.SeniorCard, PerApplicant: loadtest.DefaultPerApplicant, SampleEvery: 10 * time.Second}
	fs.Func("url", "a server to load, on this machine unless --allow-remote; repeat it or separate with commas for several processes of one platform, which share the applicants (default http://127.0.0.1:8080)", func(v string) error {
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				o.URLs = append(o.URLs, u)
			}
		}
		return nil
	})
	durationFlag(fs, &o.SampleEvery, "metrics-every", "how often to read each server's /metrics (memory, goroutines) while measuring; 0: never")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "workers: applications in flight at most (default 16)")
	durationFlag(fs, &o.Duration, "duration", "how long to measure, after the warm-up; at most 1h")
	durationFlag(fs, &o.Warmup, "warmup", "load before measuring, not counted")
	fs.Func("rate", "start this many applications a second instead of as fast as the workers go (default 0: closed loop)", func(v string) error {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return errors.New("not a number of applications a second, such as 1000")
		}
		o.Rate = r
		return nil
	})
	fs.StringVar(&o.Flow, "flow", loadtest.FlowThreeRequest, "how an application is made: "+loadtest.FlowThreeRequest+" (start, form, submit, as the portal does) or "+loadtest.FlowOneCall+" (POST /api/v1/submissions with an Idempotency-Key, as another system does) (default "+loadtest.FlowThreeRequest+")")
	fs.StringVar(&o.Item, "item", o.Item, "code of the item to apply for (default "+loadtest.SeniorCard+", 老年人优待证)")
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a --url that is not this machine (only one you are responsible for)")
	file := fs.String("applicants-file", "", "the applicants prepare listed (default: "+loadtest.ApplicantsFile+" in --data-dir)")
	use := fs.Int("applicants", 0, "sign in only the first N applicants of the file (default 0: all)")
	fs.IntVar(&o.PerApplicant, "per-applicant", o.PerApplicant, fmt.Sprintf("submissions per applicant in this run, at most serve's --submission-limit; 0: no limit of the tool's own (default %d)", loadtest.DefaultPerApplicant))
	fs.StringVar(&o.Password, "password", loadtest.Password, "the applicants' password (default: the one prepare uses)")
	quiet := fs.Bool("quiet", false, "no progress line every second")
	floor := 5 * time.Second
	durationFlag(fs, &floor, "floor", "after the run, how long to measure the floor on the server's database (--db or --data-dir): submissions written straight to it by --concurrency writers; 0: skip it")
	cfg, _, err := config.Parse(fs, "bench run", benchSummary, args, 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if len(o.URLs) == 0 {
		o.URLs = []string{"http://127.0.0.1:8080"}
	}
	if o.SampleEvery == 0 {
		o.SampleEvery = -1 // the flag's 0 is never; the option's 0 is the default
	}
	if *file == "" {
		*file = filepath.Join(cfg.DataDir, loadtest.ApplicantsFile)
	}
	if *use < 0 {
		return usageError{fmt.Errorf("--applicants must be zero (all) or positive, not %d", *use)}
	}
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	if floor < 0 || floor > maxFloor {
		return usageError{fmt.Errorf("--floor must be between 0 (skip it) and %s, not %s", maxFloor, floor)}
	}
	if o.Applicants, err = loadtest.ReadApplicants(*file); err != nil {
		return err
	}
	if *use > 0 && *use < len(o.Applicants) {
		o.Applicants = o.Applicants[:*use]
	}
	if !*quiet {
		o.Progress = stderr
	}
	fmt.Fprintf(stderr, "signing in %s applicants at %s ...\n", loadtest.Grouped(len(o.Applicants)), strings.Join(o.URLs, ", "))
	began := time.Now()
	rep, err := loadtest.Run(ctx, o)
	if err != nil {
		return err
	}
	if floor > 0 && ctx.Err() == nil {
		if rep.Floor, err = measureFloor(ctx, cfg, o, floor, began, stderr); err != nil {
			rep.FloorMissing = err.Error()
			fmt.Fprintf(stderr, "the floor was not measured: %v\n", err)
		}
	}
	rep.Write(stdout)
	switch {
	case rep.StoppedEarly != "":
		return fmt.Errorf("the run stopped early: %s", rep.StoppedEarly)
	case rep.ErrorTotal > 0:
		return fmt.Errorf("%s call(s) failed during the run (listed above); the figures do not describe a healthy server", loadtest.Grouped(rep.ErrorTotal))
	case rep.Unexpected > 0:
		return fmt.Errorf("%s decision(s) differ from what the prepared records should give", loadtest.Grouped(rep.Unexpected))
	}
	return nil
}

// maxFloor bounds --floor: the floor is steady within seconds.
const maxFloor = time.Minute

// measureFloor measures the floor on the database of the servers just
// loaded, now idle: as many writers as the run had, for d, copying an
// application of the run's item submitted since it began (a minute's
// leeway for the clocks), so that another database is not measured by
// mistake. Several servers share one database: it is measured once.
func measureFloor(ctx context.Context, cfg config.Config, o loadtest.Options, d time.Duration, began time.Time, stderr io.Writer) (*loadtest.FloorResult, error) {
	db, err := openExisting(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	f, err := loadtest.NewFloor(ctx, db, o.Item, began.Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "measuring the floor for %s: %d writers submitting %s ...\n", d, o.Concurrency, f)
	res, err := f.Measure(ctx, o.Concurrency, d)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "floor: %s submissions in %s = %s/s; the rows written for it are removed\n",
		loadtest.Grouped(res.Submits), loadtest.Short(res.Took), loadtest.Grouped(int64(math.Round(res.Rate()))))
	return &res, nil
}

// openExisting opens the configured database like openMigrated, but never
// makes one: an SQLite file that is not there is an error, since the
// database of a server under test exists.
func openExisting(ctx context.Context, cfg config.Config) (*store.DB, error) {
	path := ""
	switch {
	case cfg.DB == "":
		path = filepath.Join(cfg.DataDir, store.DefaultFile)
	case strings.HasPrefix(cfg.DB, "sqlite:"):
		path = strings.TrimPrefix(strings.TrimPrefix(cfg.DB, "sqlite:"), "//")
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database at %s: give bench run the server's --db or --data-dir, or --floor 0", path)
		}
	}
	return openMigrated(ctx, cfg)
}

// durationFlag defines a duration flag whose error says what a duration
// looks like; ranges are checked by loadtest.Options.Validate.
func durationFlag(fs *flag.FlagSet, d *time.Duration, name, usage string) {
	fs.Func(name, usage+" (default "+d.String()+")", func(v string) error {
		x, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("not a duration such as 30s, 1m30s or 500ms")
		}
		*d = x
		return nil
	})
}
