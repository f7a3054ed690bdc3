package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/audit"
	"yiwang/internal/blob"
	"yiwang/internal/catalog"
	"yiwang/internal/config"
	"yiwang/internal/credit"
	"yiwang/internal/demo"
	"yiwang/internal/identity"
	"yiwang/internal/jobs"
	"yiwang/internal/kiosk"
	"yiwang/internal/logging"
	"yiwang/internal/proactive"
	"yiwang/internal/server"
	"yiwang/internal/store"
	"yiwang/internal/supervision"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg, _, err := config.Parse(fs, "serve", commands()[0].summary, args, 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	logger := logging.New(stderr, cfg.LogFormat, cfg.LogLevel)
	if cfg.Demo && cfg.NoDemo {
		return usageError{errors.New("--demo and --no-demo contradict each other: give one")}
	}

	// Bind first: a taken port should fail before we touch the database.
	ln, err := server.Listen(cfg.Addr, "--addr or YIWANG_ADDR")
	if err != nil {
		return err
	}
	defer ln.Close()
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = server.Listen(cfg.MetricsAddr, "--metrics-addr or YIWANG_METRICS_ADDR"); err != nil {
			return err
		}
		defer metricsLn.Close()
	}

	// A store of materials that cannot be used fails before the database is touched too.
	blobs, err := blob.Open(ctx, cfg.BlobURL, cfg.DataDir, blob.Limits{MaxBytes: cfg.UploadMaxBytes}, getenv)
	if err != nil {
		return err
	}

	db, err := openAndMigrate(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()

	opts, err := appOptionsFrom(cfg, siteURL(cfg, ln.Addr()), blobs, getenv, logger)
	if err != nil {
		return err
	}

	a, err := newApp(ctx, db, opts, logger)
	if err != nil {
		return err
	}

	workers := jobs.NewWorkers() // domains register their workers here
	registerWorkers(workers, db, a)
	queue, err := jobs.New(db, workers, logger, jobs.Config{PollInterval: cfg.JobPoll, RescueAfter: cfg.JobRescueAfter})
	if err != nil {
		return err
	}
	queue.OnFinished(ctx, a.metrics.JobFinished)
	if err := queue.Start(ctx); err != nil {
		return fmt.Errorf("start background jobs: %w", err)
	}
	logger.Info("background jobs started", "kinds", workers.Kinds())
	if err := application.ScheduleSweep(ctx, db, queue); err != nil {
		return fmt.Errorf("schedule the deadline sweep: %w", err)
	}
	if err := proactive.Schedule(ctx, db, queue); err != nil {
		return fmt.Errorf("schedule the proactive services' sweep: %w", err)
	}
	if err := credit.Schedule(ctx, db, queue); err != nil {
		return fmt.Errorf("schedule the daily credit recompute: %w", err)
	}
	if err := supervision.Schedule(ctx, db, queue); err != nil {
		return fmt.Errorf("schedule the supervision alerts: %w", err)
	}
	if err := a.retention.Schedule(ctx, queue); err != nil {
		return fmt.Errorf("schedule the pruning of old notifications: %w", err)
	}
	var demoAccounts []demo.Account
	if !cfg.NoDemo {
		if demoAccounts, err = seedDemo(ctx, db, a, cfg.Demo, logger); err != nil {
			return err
		}
		a.signIn.ShowDemoAccounts(signInHints(demoAccounts))
	}
	// Every department that issues licences has its seal key before the first approval.
	if created, err := a.licences.EnsureKeys(ctx); err != nil {
		return fmt.Errorf("seal keys: %w", err)
	} else if len(created) > 0 {
		logger.Info("seal keys created", "departments", created)
	}
	if n, err := a.licences.SignUnsignedStatuses(ctx); err != nil {
		return fmt.Errorf("sign licences' statuses: %w", err)
	} else if n > 0 {
		logger.Info("signed the status of licences issued before statuses were signed", "licences", n)
	}
	go audit.Run(ctx, db, a.keyring, logger) // chains the audit trail and signs its head
	if err := a.indexer.Refresh(ctx); err != nil {
		return fmt.Errorf("build the search index: %w", err)
	}
	go a.indexer.Run(ctx, catalog.RefreshEvery) // publications through other processes
	// What the first visitor of the home page would wait for (docs/
	// BENCHMARKS.md, "The first visit"), done in the background.
	go func() {
		began := time.Now()
		if err := a.portal.Warm(ctx); err != nil {
			logger.Warn("could not warm the home page: its first visit does it", "err", err)
			return
		}
		logger.Info("home page warmed", "took", time.Since(began).Round(time.Millisecond))
	}()
	srv := a.server(db, logger)
	if strings.HasPrefix(cfg.PublicURL, "https://") {
		srv.UseHTTPS()
	}
	srv.TrustProxies(cfg.TrustedProxies)
	if metricsLn != nil {
		srv.ServeMetricsOn(ctx, metricsLn)
		logger.Info("metrics are served apart, not on the public address", "metrics_addr", metricsLn.Addr().String())
	}
	if len(demoAccounts) > 0 {
		printDemoAccounts(stdout, demoAccounts, siteURL(cfg, ln.Addr()))
	}
	materials := cfg.BlobURL // never holds a key: blob.Open refuses one in the URL
	if materials == "" {
		materials = blobDir(cfg)
	}
	logger.Info("yiwang is serving: open "+siteURL(cfg, ln.Addr()), "database", db.Where, "materials", materials)
	serveErr := srv.Serve(ctx, ln, cfg.ShutdownTimeout)

	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := queue.Stop(stopCtx); err != nil {
		logger.Warn("background jobs did not stop in time; unfinished jobs will be retried", "err", err)
	}
	if serveErr == nil {
		logger.Info("yiwang stopped")
	}
	return serveErr
}

// openAndMigrate opens the configured database and brings its schema up to date.
func openAndMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, m := range applied {
		logger.Info("migration applied", "version", m.Version, "name", m.Name)
	}
	logger.Info("database ready", "database", db.Where, "backend", db.Backend, "migrations_applied", len(applied), "took", time.Since(start).Round(time.Millisecond))
	return db, nil
}

// siteURL is where a person should point their browser.
func siteURL(cfg config.Config, addr net.Addr) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL + "/"
	}
	host, port, _ := net.SplitHostPort(addr.String())
	if host == "" || host == "::" || host == "0.0.0.0" || strings.HasPrefix(cfg.Addr, ":") {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// parseError passes help through and marks other flag problems as usage errors.
func parseError(err error) error {
	if err == flag.ErrHelp {
		return err
	}
	return usageError{err}
}

// seedDemo seeds an empty database with demo data where that is allowed, and
// returns the demo accounts if it is a demo database. It says in one line
// why a database is left alone.
func seedDemo(ctx context.Context, db *store.DB, a *app, onPostgres bool, logger *slog.Logger) ([]demo.Account, error) {
	outcome, err := demo.Seed(ctx, db, demo.Options{OnPostgres: onPostgres, Fill: func(ctx context.Context) error {
		if err := demo.SeedAccounts(ctx, db, a.identities); err != nil {
			return err
		}
		if err := a.pins.SeedDemo(ctx, demo.ZhangSan, demo.LiSi, demo.WangWu); err != nil {
			return err
		}
		// A small, consistent population so that forms fill themselves;
		// 'yiwang demo generate' makes a large one.
		st, err := demo.SeedRegistries(ctx, db, a.registries, demoPersons, demoEnterprises, 1, nil)
		if err != nil {
			return fmt.Errorf("seed demo registries: %w", err)
		}
		logger.Info("demo registries seeded", "persons", st.Persons, "enterprises", st.Enterprises, "took", st.Elapsed.Round(time.Millisecond))
		return nil
	}})
	switch {
	case err != nil:
		return nil, err
	case outcome == demo.Declined:
		logger.Info("no demo data: the database holds data of its own")
		return nil, nil
	case outcome == demo.Skipped:
		logger.Info("no demo data: the PostgreSQL database is empty; start once with --demo to seed it")
		return nil, nil
	case outcome == demo.Seeded:
		logger.Info("demo data seeded into the empty database (fictional city, departments and people)")
	}
	return demo.Accounts(), nil
}

// signInHints lists the demo accounts for the sign-in page.
func signInHints(accounts []demo.Account) []identity.DemoAccount {
	var out []identity.DemoAccount
	for _, a := range accounts {
		out = append(out, identity.DemoAccount{RoleZh: a.RoleZh, RoleEn: a.Role, Login: a.Login, Password: demo.Password})
	}
	return out
}

// The demo registries' size at first start: small, so startup stays quick.
const (
	demoPersons     = 300
	demoEnterprises = 40
)

// printDemoAccounts tells a person trying the demo how to sign in.
func printDemoAccounts(w io.Writer, accounts []demo.Account, site string) {
	fmt.Fprintf(w, "\nDemo mode — sign in at %slogin with password %q as:\n", site, demo.Password)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ROLE\tSIGN-IN NAME\tWHO")
	for _, a := range accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.Role, a.Login, a.Note)
	}
	tw.Flush()
	fmt.Fprintf(w, "At the self-service kiosk (%skiosk) the people's PIN is %s.\n", site, kiosk.DemoPIN)
	fmt.Fprintln(w, "All demo people, companies and data are fictional.")
}
