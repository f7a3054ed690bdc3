package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/blob"
	"yiwang/internal/bundle"
	"yiwang/internal/catalog"
	"yiwang/internal/config"
	"yiwang/internal/consult"
	"yiwang/internal/credit"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/insight"
	"yiwang/internal/jobs"
	"yiwang/internal/kiosk"
	"yiwang/internal/licence"
	"yiwang/internal/notify"
	"yiwang/internal/notify/email"
	"yiwang/internal/notify/sms"
	"yiwang/internal/notify/webhook"
	"yiwang/internal/oidc"
	"yiwang/internal/ops"
	"yiwang/internal/org"
	"yiwang/internal/pii"
	"yiwang/internal/portal"
	"yiwang/internal/proactive"
	"yiwang/internal/rating"
	"yiwang/internal/seal"
	"yiwang/internal/search"
	"yiwang/internal/server"
	"yiwang/internal/simulate"
	"yiwang/internal/store"
	"yiwang/internal/supervision"
	"yiwang/internal/workbench"
	"yiwang/internal/workday"
)

// app is the platform's domains wired together over one database. serve
// runs it; tests build the same one, so they check the routes people get.
type app struct {
	routes     []server.Routes
	auth       func(http.Handler) http.Handler
	indexer    *catalog.Indexer
	index      *search.Index
	identities *identity.Store
	signIn     *identity.Handler // the sign-in pages, which list the demo accounts on a demo database
	registries *hub.Builtin
	outbox     *notify.Outbox    // everything that tells a person something goes through it
	retention  *notify.Retention // prunes old delivered copies and delivery log
	channels   []notify.Channel  // the channels besides the inbox this deployment delivers by
	blobs      blob.Store        // uploaded materials
	calendar   *workday.Store    // the working-day calendar deadlines are counted on
	licences   *licence.Service
	keyring    *seal.Keyring // seal keys, and the platform's audit key
	pins       *kiosk.PINs   // kiosk sign-in PINs
	metrics    *ops.Metrics
	portal     *portal.Handler  // the citizen site, whose home serve warms at start
	guides     *catalog.Handler // the catalogue's guides, API and administration
	// applications run the workflow, and sweep its deadlines.
	applications application.Services
	// proactive finds who qualifies and grants or offers (主动服务).
	proactive *proactive.Engine
	// credit keeps credit levels, lists and repairs (信用).
	credit  *credit.Service
	bundles *bundle.Service
	// ratings are 好差评 with rectification; the supervisors' board watches it (supervision.Watcher).
	ratings *rating.Service
	// consults are 我要问、我要投诉; as a supervision.Watcher they
	// report what is answered late.
	consults *consult.Service
	// alerts tell department heads what the 电子监察 board finds.
	alerts *supervision.Alerts
	// simulations replay a version's rules over past decisions (决策模拟).
	simulations *simulate.Service
}

// appOptions are the settings newApp needs beyond the database.
type appOptions struct {
	protector      *pii.Protector
	dataKey        pii.Key                  // the master key; seal keys are sealed under a subkey of it
	site           string                   // public address, for licences' verification links
	secureCookie   bool                     // mark cookies Secure: the site is served over TLS
	oidc           *oidc.Config             // the unified identity platform, or nil
	connectors     map[string]hub.Connector // sources read from departments' systems
	submissions    int                      // applications an account may submit a day; 0: identity.SubmissionLimit
	passwordChecks int                      // argon2id checks at once; 0: one per CPU
	queue          *jobs.Queue              // the process's job queue; nil: an enqueue-only one (another process works the jobs)
	blobs          blob.Store               // where uploaded materials are kept
	warningDays    int                      // working days left at which a deadline turns yellow
	partyDays      int                      // working days co-parties have to confirm
	ratingDays     int                      // days after finishing in which a rating is given; 0: rating.DefaultDays
	blacklist      int                      // overdue supplements that blacklist a person
	credit         credit.Config            // the credit levels' weights and thresholds (--credit-config)
	retentionDays  int                      // days delivered notifications' copies and log are kept; 0: for ever
	smtp           *email.Config            // the relay notifications are emailed through, or nil
	webhooks       []webhook.Endpoint       // other systems told of events
	sms            sms.Provider             // the SMS gateway, or nil
}

func newApp(ctx context.Context, db *store.DB, opts appOptions, logger *slog.Logger) (*app, error) {
	// Another key than the database's would seed, seal and fail to read:
	// refuse before anything is written. Then seal what an older version
	// left in plaintext.
	if err := pii.CheckFingerprint(ctx, db.DB, opts.protector); err != nil {
		return nil, err
	}
	if n, err := application.SealPlaintext(ctx, db, opts.protector); err != nil {
		return nil, err
	} else if n > 0 {
		logger.Info("sealed personal data left in plaintext by an earlier version", "values", n)
	}
	orgStore := org.NewStore(db.DB)
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		return nil, err
	}
	index, err := search.NewIndex()
	if err != nil {
		return nil, err
	}
	catalogStore := catalog.NewStore(db)
	indexer := catalog.NewIndexer(catalogStore, orgStore, index, logger)
	stats := search.NewStats(db.DB)
	catalogHandler, err := catalog.NewHandler(catalogStore, schemas, orgStore, indexer, index, stats, logger)
	if err != nil {
		return nil, err
	}
	ids := identity.NewStore(db, opts.protector)
	ids.SetHasher(identity.NewHasher(opts.passwordChecks, identity.PasswordCheckWait))
	routes := []server.Routes{org.NewHandler(orgStore, logger), catalogHandler, search.NewHandler(index, stats, logger)}
	oidcLogin := ""
	if opts.oidc != nil {
		h, err := oidc.New(ctx, *opts.oidc, identity.OIDCAccounts{Store: ids, Secure: opts.secureCookie}, logger)
		if err != nil {
			return nil, err
		}
		routes = append(routes, h)
		oidcLogin = oidc.LoginPath
	}
	limiter := identity.NewLimiterSubmissions(db, opts.submissions)
	idHandler, err := identity.NewHandler(ids, limiter, logger, opts.secureCookie, oidcLogin)
	if err != nil {
		return nil, err
	}
	idHandler.Org = orgStore
	metrics := ops.New(db)
	builtin := hub.NewBuiltin(db, opts.protector)
	router := hub.Router{Default: builtin, BySource: metrics.Sources(opts.connectors)}
	reader := hub.NewReader(db, router, builtin.SubjectIndex)
	ids.SetRegistry(reader)
	queue := opts.queue
	if queue == nil {
		if queue, err = jobs.New(db, jobs.NewWorkers(), logger, jobs.Config{}); err != nil {
			return nil, err
		}
	}
	outbox := notify.NewOutbox(db, queue)
	var channels []notify.Channel
	if opts.smtp != nil {
		channels = append(channels, email.New(*opts.smtp, outbox.Address))
	}
	if opts.sms != nil {
		channels = append(channels, sms.New(opts.sms, outbox.Address, opts.site))
	}
	var offered []string // the channels people choose; webhooks are the operators'
	for _, c := range channels {
		offered = append(offered, c.Name())
	}
	outbox.Offer(opts.protector, offered...)
	if len(opts.webhooks) > 0 {
		channels = append(channels, webhook.New(opts.webhooks, opts.site))
		outbox.Forward(webhook.Subscriptions(opts.webhooks))
	}
	idHandler.Notices = outbox // the account page's "how you are notified"
	ids.SetNotifier(outbox)
	calendar, err := workday.NewStore(ctx, db)
	if err != nil {
		return nil, err
	}
	catalogHandler.Calendar = calendar.Calendar
	keyring, err := seal.NewKeyring(db, opts.dataKey)
	if err != nil {
		return nil, err
	}
	licences := licence.NewService(db, keyring, opts.protector, builtin, opts.site)
	creditCfg := opts.credit
	if creditCfg.Weights == nil { // tests build options without appOptionsFrom
		creditCfg = credit.DefaultConfig()
	}
	creditCfg.BlacklistAfter = cmp.Or(opts.blacklist, creditCfg.BlacklistAfter)
	credits := credit.New(credit.Deps{DB: db, Registries: builtin, Persons: ids, Notifier: outbox, Protector: opts.protector, Config: &creditCfg})
	applications := application.NewServices(application.Deps{DB: db, Protector: opts.protector, Catalog: catalogStore, Identities: ids, Reader: reader, Limits: limiter,
		Calendars: func(ctx context.Context) (application.Calendar, error) { return calendar.Calendar(ctx) },
		Notifier:  outbox, Blobs: opts.blobs, Licences: licences, Registries: builtin, WarningDays: opts.warningDays,
		Queue: queue, PartyDays: opts.partyDays, Credit: credits})
	calendar.OnLoad(recountWith(applications.Deadlines))
	engine := proactive.New(db, catalogStore, builtin, applications.Drafts, ids, outbox)
	engine.Connector = router
	engine.External = map[string]bool{}
	for source := range opts.connectors {
		engine.External[source] = true
	}
	licenceHandler, err := licence.NewHandler(licences, ids, applications.Tasks, logger)
	if err != nil {
		return nil, err
	}
	modesHandler, err := application.NewModesHandler(applications.Modes, logger)
	if err != nil {
		return nil, err
	}
	ratings := rating.New(rating.Deps{DB: db, Protector: opts.protector, Catalog: catalogStore, Notifier: outbox, Site: opts.site,
		Calendars: func(ctx context.Context) (application.Calendar, error) { return calendar.Calendar(ctx) }})
	if opts.ratingDays > 0 {
		ratings.Days = opts.ratingDays
	}
	if n, err := ratings.SealPlaintext(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		logger.Info("sealed rating comments left in plaintext by an earlier version", "comments", n)
	}
	spotChecksHandler, err := application.NewSpotChecksHandler(applications.SpotChecks, logger)
	if err != nil {
		return nil, err
	}
	bundles := bundle.New(bundle.Deps{DB: db, Catalog: catalogStore, Drafts: applications.Drafts, Identities: ids, Licences: licences, Protector: opts.protector, Queue: queue})
	portalHandler, err := portal.NewHandler(portal.Deps{Bundles: bundles, Ratings: ratings, DB: db, Org: orgStore, Catalog: catalogStore, Stats: stats, Drafts: applications.Drafts, Modes: applications.Modes, Licences: licences,
		Identities: ids, Outbox: outbox, Secure: opts.secureCookie, Logger: logger, WarningDays: opts.warningDays,
		Calendars: func(ctx context.Context) (application.Calendar, error) { return calendar.Calendar(ctx) }})
	if err != nil {
		return nil, err
	}
	routes = append(routes, portalHandler, application.NewHandler(applications, logger), modesHandler, spotChecksHandler, hub.Handler{}, notify.NewHandler(outbox, logger), workday.NewHandler(calendar, logger), licenceHandler)
	staff, err := workbench.NewHandler(workbench.Deps{Bundles: bundles, Drafts: applications.Drafts, Tasks: applications.Tasks, Modes: applications.Modes, Deadlines: applications.Deadlines,
		Catalog: catalogStore, Identities: ids, Calendar: calendar, Org: orgStore, Outbox: outbox, Proactive: engine,
		Published: func(ctx context.Context) { indexer.Refresh(ctx) }, Logger: logger})
	if err != nil {
		return nil, err
	}
	pins := kiosk.NewPINs(db, ids)
	kioskHandler, err := kiosk.NewHandler(kiosk.Deps{Auth: pins, Identities: ids, Drafts: applications.Drafts, Catalog: catalogStore, Licences: licences,
		Secure: opts.secureCookie, Logger: logger, RatingToken: ratings.ApplicantToken})
	if err != nil {
		return nil, err
	}
	bundleHandler, err := bundle.NewHandler(bundles, logger)
	if err != nil {
		return nil, err
	}
	ratingHandler, err := rating.NewHandler(ratings, func(ctx context.Context, p authz.Principal, id int64) error {
		_, err := applications.Tasks.StaffApplication(ctx, p, id)
		return err
	}, logger)
	if err != nil {
		return nil, err
	}
	creditHandler, err := credit.NewHandler(credits, logger)
	if err != nil {
		return nil, err
	}
	consultations := consult.New(consult.Deps{DB: db, Catalog: catalogStore, Org: orgStore, Index: index, Protector: opts.protector, Limits: limiter,
		Calendar: calendar.Calendar, Notifier: outbox})
	consultHandler, err := consult.NewHandler(consultations, logger)
	if err != nil {
		return nil, err
	}
	board := supervision.NewBoard(orgStore, applications.Deadlines, ratings, consultations, applications.SpotChecks)
	alerts := supervision.NewAlerts(db, board, outbox,
		func(ctx context.Context, q store.Querier, department string) ([]int64, error) {
			return ids.StaffOf(ctx, q, department, authz.Head)
		},
		func(ctx context.Context, day time.Time) (bool, error) {
			cal, err := calendar.Calendar(ctx)
			if err != nil {
				return false, err
			}
			return cal.IsWorkday(workday.DateOf(day))
		})
	boardHandler, err := supervision.NewHandler(board, alerts, logger)
	if err != nil {
		return nil, err
	}
	simulations := simulate.New(db, opts.protector, catalogStore, queue)
	simulateHandler, err := simulate.NewHandler(simulations, logger)
	if err != nil {
		return nil, err
	}
	insightHandler, err := insight.NewHandler(insight.NewService(db), logger)
	if err != nil {
		return nil, err
	}
	routes = append(routes, staff, kioskHandler, bundleHandler, proactive.NewHandler(engine, logger), ratingHandler, creditHandler, consultHandler, boardHandler, simulateHandler, insightHandler)
	return &app{
		applications: applications,
		proactive:    engine,
		credit:       credits,
		consults:     consultations,
		bundles:      bundles,
		ratings:      ratings,
		alerts:       alerts,
		simulations:  simulations,
		licences:     licences,
		keyring:      keyring,
		pins:         pins,
		metrics:      metrics,
		routes:       append(routes, idHandler),
		auth:         ids.Middleware(logger, opts.secureCookie),
		indexer:      indexer,
		index:        index,
		identities:   ids,
		signIn:       idHandler,
		registries:   builtin,
		outbox:       outbox,
		retention:    notify.NewRetention(db, opts.retentionDays),
		channels:     channels,
		blobs:        opts.blobs,
		calendar:     calendar,
		portal:       portalHandler,
		guides:       catalogHandler,
	}, nil
}

// server serves the app's routes, with its metrics on /metrics.
func (a *app) server(db *store.DB, logger *slog.Logger) *server.Server {
	srv := server.New(db, logger, a.auth, a.routes...)
	srv.ReadyWhen(a.blobs.Check) // uploads and downloads need the file store
	srv.MustRegister(a.metrics)
	return srv
}

// registerWorkers adds every domain's background job workers. serve calls
// it before building the job queue, and tests that need jobs worked do too.
func registerWorkers(ws *jobs.Workers, db *store.DB, a *app) {
	jobs.Register(ws, licence.NewIssueWorker(db, a.licences))
	jobs.Register(ws, notify.NewWorker(db, append([]notify.Channel{notify.InApp{}}, a.channels...)...))
	jobs.Register(ws, application.NewSweepWorker(a.applications.Deadlines))
	jobs.Register(ws, application.NewNoticeWorker(a.applications.Modes))
	jobs.Register(ws, application.NewPartyTimeoutWorker(a.applications.Modes))
	jobs.Register(ws, proactive.NewDailyWorker(a.proactive))
	jobs.Register(ws, proactive.NewEventsWorker(a.proactive))
	jobs.Register(ws, credit.NewRecomputeWorker(a.credit))
	jobs.Register(ws, notify.NewPruneWorker(a.retention))
	jobs.Register(ws, bundle.NewAdvanceWorker(a.bundles))
	jobs.Register(ws, supervision.NewAlertWorker(a.alerts))
	jobs.Register(ws, simulate.NewRunWorker(a.simulations))
}

// keyFile holds the personal-data key when none is configured.
const keyFile = "data.key"

// loadKey returns the personal-data master key: the configured one, or the
// key file in the data folder, created on first start.
func loadKey(dataKey, dataDir string, logger *slog.Logger) (pii.Key, error) {
	if dataKey == "" {
		path := filepath.Join(dataDir, keyFile)
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			k, err := pii.NewKey()
			if err != nil {
				return pii.Key{}, err
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return pii.Key{}, err
			}
			if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
				return pii.Key{}, fmt.Errorf("cannot write the new data key to %s: %w", path, err)
			}
			logger.Warn("created a new key for personal data; keep it safe — without it the data cannot be read. In production set YIWANG_DATA_KEY from a secret store instead", "file", path)
			b = []byte(k)
		case err != nil:
			return pii.Key{}, fmt.Errorf("cannot read the data key %s: %w", path, err)
		}
		dataKey = strings.TrimSpace(string(b))
	}
	key, err := pii.ParseKey(dataKey)
	if err != nil {
		return pii.Key{}, fmt.Errorf("the personal-data key (YIWANG_DATA_KEY or %s) is not usable: %w", keyFile, err)
	}
	return key, nil
}

// blobDir is the disk store's folder of uploaded materials: serve keeps
// them there, backup copies them from there and restore into it.
func blobDir(cfg config.Config) string { return filepath.Join(cfg.DataDir, "blobs") }

// appOptionsFrom turns the configuration into what newApp needs; blobs is
// the store of materials serve opened from it.
func appOptionsFrom(cfg config.Config, site string, blobs blob.Store, getenv func(string) string, logger *slog.Logger) (appOptions, error) {
	key, err := loadKey(cfg.DataKey, cfg.DataDir, logger)
	if err != nil {
		return appOptions{}, err
	}
	protector, err := pii.NewProtector(key)
	if err != nil {
		return appOptions{}, err
	}
	connectors, err := loadConnectors(cfg.HubConfig, getenv, logger)
	if err != nil {
		return appOptions{}, err
	}
	creditCfg, err := credit.LoadConfig(cfg.CreditConfig)
	if err != nil {
		return appOptions{}, err
	}
	opts := appOptions{credit: creditCfg, protector: protector, secureCookie: strings.HasPrefix(site, "https://"), connectors: connectors, submissions: cfg.SubmissionLimit, passwordChecks: cfg.MaxPasswordChecks, blobs: blobs,
		warningDays: cfg.WarningDays, partyDays: cfg.PartyDays, ratingDays: cfg.RatingDays, blacklist: cfg.BlacklistAfter, retentionDays: cfg.NotifyRetention,
		dataKey: key, site: strings.TrimSuffix(site, "/")}
	if cfg.SubmissionLimit > identity.SubmissionLimit.N {
		logger.Warn("the submission limit is raised above the default: fine for a load test, not for people's accounts", "per_account_per_day", cfg.SubmissionLimit, "default", identity.SubmissionLimit.N)
	}
	if cfg.SMSURL != "" {
		if len(cfg.SMSSecret) < 32 {
			return appOptions{}, errors.New("--sms-url is set but --sms-secret (YIWANG_SMS_SECRET) has fewer than 32 characters: give the gateway's signing secret")
		}
		opts.sms = sms.NewHTTP(cfg.SMSURL, cfg.SMSSecret)
	}
	if cfg.WebhooksFile != "" {
		if opts.webhooks, err = webhook.Load(cfg.WebhooksFile, getenv); err != nil {
			return appOptions{}, err
		}
	}
	if cfg.SMTPHost != "" {
		if cfg.SMTPFrom == "" {
			return appOptions{}, errors.New("--smtp-host is set but --smtp-from (YIWANG_SMTP_FROM) is not: give the sender address of notification emails")
		}
		opts.smtp = &email.Config{Host: cfg.SMTPHost, Port: cfg.SMTPPort, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			StartTLS: cfg.SMTPStartTLS, Site: opts.site}
	}
	if cfg.OIDCIssuer != "" {
		cookieKey, err := pii.DeriveKey(key, "oidc state v1")
		if err != nil {
			return appOptions{}, err
		}
		opts.oidc = &oidc.Config{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: strings.TrimSuffix(site, "/") + oidc.CallbackPath, CookieKey: cookieKey}
	}
	return opts, nil
}
