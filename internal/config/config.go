// Package config turns command-line flags and YIWANG_* environment variables
// into one typed Config, once, in main. Nothing else reads the environment.
//
// Every setting is one row of the options table: its flag, its variable, its
// default and the commands that take it. Flags win over variables, variables
// over defaults.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is everything a yiwang command needs to know about its surroundings.
type Config struct {
	Addr              string        // HTTP listen address
	MetricsAddr       string        // listen address for /metrics alone; empty: /metrics on Addr
	PublicURL         string        // where people reach the site, for links and logs
	DB                string        // database URL; empty means embedded SQLite in DataDir
	DataDir           string        // folder for the embedded database and other local state
	Demo              bool          // seed demo data into an empty PostgreSQL database too (the embedded SQLite one always)
	NoDemo            bool          // never seed demo data
	LogFormat         string        // text or json
	LogLevel          slog.Level    // debug, info, warn, error
	ShutdownTimeout   time.Duration // how long SIGTERM waits for requests and jobs in flight
	JobPoll           time.Duration // how often the job queue looks for due work
	JobRescueAfter    time.Duration // how long a job may run before it counts as stuck and is tried again
	DataKey           string        // base64 master key for personal data; empty: key file in DataDir
	OIDCIssuer        string        // unified identity platform; empty: no OIDC sign-in
	OIDCClientID      string
	OIDCClientSecret  string
	HubConfig         string         // connectors file for departments' systems; empty: built-in registries only
	SubmissionLimit   int            // applications one account may submit in 24 hours (identity.SubmissionLimit by default)
	MaxPasswordChecks int            // argon2id checks run at once; 0: one per CPU (GOMAXPROCS)
	UploadMaxBytes    int64          // the largest uploaded material accepted, in bytes
	BlobURL           string         // where uploaded materials are kept: empty for the disk under DataDir, or s3://…
	TrustedProxies    []netip.Prefix // reverse proxies whose X-Forwarded-For names the client
	WarningDays       int            // working days left at which a deadline turns yellow
	PartyDays         int            // working days co-parties have to confirm an application (一事多人)
	RatingDays        int            // days after an application is finished its parties may rate it (好差评)
	CreditConfig      string         // YAML file of the credit levels' weights, half-life, thresholds and repair waits; empty: the defaults
	BlacklistAfter    int            // overdue supplements (容缺) that put a person on the credit blacklist
	SMTPHost          string         // the SMTP relay notifications are emailed through; empty: no email channel
	SMTPPort          int
	SMTPFrom          string // the sender's address
	SMTPUsername      string // empty: no SMTP AUTH
	SMTPPassword      string
	SMTPStartTLS      bool   // require STARTTLS before sending
	WebhooksFile      string // YAML file of other systems' webhook endpoints; empty: none
	NotifyRetention   int    // days delivered notifications' external copies and delivery log are kept; 0: for ever
	SMSURL            string // the SMS gateway's HTTP adapter; empty: no SMS channel
	SMSSecret         string // HMAC secret signing requests to it
}

// Option describes one setting, for flags, help and the README's table.
type Option struct {
	Flag     string
	Env      string
	Default  string
	Usage    string
	Commands []string // the subcommands that accept it
	set      func(c *Config, v string) error
}

// Options returns the settings table.
func Options() []Option {
	return []Option{
		{"addr", "YIWANG_ADDR", ":8080", "HTTP listen address (host:port)", []string{"serve"},
			func(c *Config, v string) error { c.Addr = v; return nil }},
		// Metrics tell an outsider about traffic and load: an operator can keep
		// them on an address only the monitoring network reaches.
		{"metrics-addr", "YIWANG_METRICS_ADDR", "", "listen address for /metrics alone (host:port), e.g. 127.0.0.1:9090; the public address then answers 404 for it (default: /metrics on --addr)", []string{"serve"},
			func(c *Config, v string) error { c.MetricsAddr = v; return nil }},
		{"public-url", "YIWANG_PUBLIC_URL", "", "public address of the site, e.g. https://zwfw.example.gov.cn (default: derived from --addr)", []string{"serve", "proactive"},
			func(c *Config, v string) error { c.PublicURL = strings.TrimRight(v, "/"); return nil }},
		{"db", "YIWANG_DB", "", "database URL: postgres://user:pass@host:5432/db, or sqlite:PATH; empty for the embedded SQLite file in --data-dir", []string{"serve", "migrate", "catalog", "calendar", "token", "demo", "bench prepare", "bench run", "seal", "audit", "backup", "restore", "proactive", "rules simulate"},
			func(c *Config, v string) error { c.DB = v; return nil }},
		{"data-dir", "YIWANG_DATA_DIR", "./yiwang-data", "folder for the embedded database and local state (created if missing)", []string{"serve", "migrate", "catalog", "calendar", "token", "demo", "bench prepare", "bench run", "seal", "audit", "backup", "restore", "proactive", "rules simulate"},
			func(c *Config, v string) error { c.DataDir = v; return nil }},
		{"demo", "YIWANG_DEMO", "false", "seed demo data into an empty PostgreSQL database too (an empty embedded SQLite database is seeded without it)", []string{"serve"},
			func(c *Config, v string) error { return setBool(&c.Demo, v) }},
		{"no-demo", "YIWANG_NO_DEMO", "false", "do not seed demo data, not even into an empty embedded SQLite database", []string{"serve"},
			func(c *Config, v string) error { return setBool(&c.NoDemo, v) }},
		{"log-format", "YIWANG_LOG_FORMAT", "text", "log output: text or json", []string{"serve", "migrate", "proactive"},
			func(c *Config, v string) error {
				if v != "text" && v != "json" {
					return errors.New("must be text or json")
				}
				c.LogFormat = v
				return nil
			}},
		{"log-level", "YIWANG_LOG_LEVEL", "info", "least severe log level: debug, info, warn or error", []string{"serve", "migrate", "proactive"},
			func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
		{"shutdown-timeout", "YIWANG_SHUTDOWN_TIMEOUT", "30s", "on SIGTERM, how long to wait for requests and jobs in flight", []string{"serve"},
			func(c *Config, v string) error { return setDuration(&c.ShutdownTimeout, v) }},
		{"data-key", "YIWANG_DATA_KEY", "", "base64 key (32 bytes) encrypting personal data at rest; empty: the key file data.key in --data-dir, created on first start", []string{"serve", "calendar", "token", "demo", "bench prepare", "seal", "audit", "restore", "proactive", "rules simulate"},
			func(c *Config, v string) error { c.DataKey = v; return nil }},
		{"oidc-issuer", "YIWANG_OIDC_ISSUER", "", "issuer URL of the unified identity platform (OpenID Connect); empty disables that sign-in", []string{"serve"},
			func(c *Config, v string) error { c.OIDCIssuer = v; return nil }},
		{"oidc-client-id", "YIWANG_OIDC_CLIENT_ID", "", "client ID registered with the identity platform", []string{"serve"},
			func(c *Config, v string) error { c.OIDCClientID = v; return nil }},
		{"oidc-client-secret", "YIWANG_OIDC_CLIENT_SECRET", "", "client secret registered with the identity platform", []string{"serve"},
			func(c *Config, v string) error { c.OIDCClientSecret = v; return nil }},
		{"hub-config", "YIWANG_HUB_CONFIG", "", "YAML file naming the data sources read from departments' own systems over HTTP (see docs/DATA_HUB.md); empty: every source from the built-in registries", []string{"serve", "hub", "proactive"},
			func(c *Config, v string) error { c.HubConfig = v; return nil }},
		{"job-poll", "YIWANG_JOB_POLL", "1s", "how often background workers look for due jobs", []string{"serve"},
			func(c *Config, v string) error { return setDuration(&c.JobPoll, v) }},
		// A job left running by a process that died (a crash, SIGKILL) is
		// found by its age alone: no process can tell another is dead.
		{"job-rescue-after", "YIWANG_JOB_RESCUE_AFTER", "5m", "how long a job may run before it counts as stuck — its process died — and is tried again; a job is cancelled after half of it", []string{"serve"},
			func(c *Config, v string) error { return setDuration(&c.JobRescueAfter, v) }},
		// An abuse limit: raised only so that a load test (yiwang bench) on
		// this machine need not sign in thousands of accounts.
		{"submission-limit", "YIWANG_SUBMISSION_LIMIT", "30", "applications one account may submit in 24 hours; raise it only for load tests on a test database", []string{"serve", "proactive"},
			func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					return errors.New("must be a whole number of at least 1")
				}
				c.SubmissionLimit = n
				return nil
			}},
		// Each argon2id check holds 19 MiB: this bounds sign-in memory to
		// N × 19 MiB, whatever the number of sign-ins sent at once.
		{"max-password-checks", "YIWANG_MAX_PASSWORD_CHECKS", "0", "password and PIN checks (argon2id, 19 MiB each) run at once; more wait up to 3 s, then get 503; 0: one per CPU", []string{"serve"},
			func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 1024 {
					return errors.New("must be a whole number from 0 (one per CPU) to 1024")
				}
				c.MaxPasswordChecks = n
				return nil
			}},
		{"deadline-warning-days", "YIWANG_DEADLINE_WARNING_DAYS", "2", "working days left at which a step's or application's deadline turns yellow and its staff are warned (0: on the last day)", []string{"serve", "proactive"},
			func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 60 {
					return errors.New("must be a whole number of working days from 0 to 60")
				}
				c.WarningDays = n
				return nil
			}},
		{"coparty-days", "YIWANG_COPARTY_DAYS", "5", "working days the co-parties of an application have to confirm it before it is cancelled", []string{"serve", "proactive"},
			func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 60 {
					return errors.New("must be a whole number of working days from 1 to 60")
				}
				c.PartyDays = n
				return nil
			}},
		{"rating-days", "YIWANG_RATING_DAYS", "15", "days after an application is finished in which its parties may rate it (好差评) or change their rating once", []string{"serve", "proactive"},
			func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 365 {
					return errors.New("must be a whole number of days from 1 to 365")
				}
				c.RatingDays = n
				return nil
			}},
		{"credit-config", "YIWANG_CREDIT_CONFIG", "", "YAML file of the credit levels' weights by kind of record, half-life, level thresholds, red-list years and repair waits (see docs/SUPERVISION.md); empty: the defaults", []string{"serve", "proactive"},
			func(c *Config, v string) error { c.CreditConfig = v; return nil }},
		{"blacklist-after", "YIWANG_BLACKLIST_AFTER", "2", "overdue supplements of deferred materials (容缺) after which a person is put on the credit blacklist", []string{"serve", "proactive"},
			func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 100 {
					return errors.New("must be a whole number from 1 to 100")
				}
				c.BlacklistAfter = n
				return nil
			}},
		// Email is a channel people opt into on /me; without a relay the
		// platform does not offer it.
		{"smtp-host", "YIWANG_SMTP_HOST", "", "SMTP relay that notifications are emailed through (people choose email on /me); empty: no email channel", []string{"serve", "proactive"},
			func(c *Config, v string) error { c.SMTPHost = strings.TrimSpace(v); return nil }},
		{"smtp-port", "YIWANG_SMTP_PORT", "587", "port of the SMTP relay", []string{"serve", "proactive"},
			func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 65535 {
					return errors.New("must be a port number from 1 to 65535")
				}
				c.SMTPPort = n
				return nil
			}},
		{"smtp-from", "YIWANG_SMTP_FROM", "", "sender address of notification emails, e.g. noreply@zwfw.example.gov.cn (needed with --smtp-host)", []string{"serve", "proactive"},
			func(c *Config, v string) error { c.SMTPFrom = strings.TrimSpace(v); return nil }},
		{"smtp-username", "YIWANG_SMTP_USERNAME", "", "account to sign in to the SMTP relay with (PLAIN, only over TLS); empty: no sign-in", []string{"serve", "proactive"},
			func(c *Config, v string) error { c.SMTPUsername = v; return nil }},
		{"smtp-password", "YIWANG_SMTP_PASSWORD", "", "password of --smtp-username", []string{"serve", "proactive"},
			func(c *Config, v string) error { c.SMTPPassword = v; return nil }},
		{"smtp-starttls", "YIWANG_SMTP_STARTTLS", "true", "require STARTTLS before sending; false only for a relay on a trusted network", []string{"serve", "proactive"},
			func(c *Config, v string) error { return setBool(&c.SMTPStartTLS, v) }},
		{"sms-url", "YIWANG_SMS_URL", "", "URL of the SMS gateway's HTTP adapter, which takes a signed JSON POST of {to, text, id} (people choose SMS on /me); empty: no SMS channel", []string{"serve", "proactive"},
			func(c *Config, v string) error { c.SMSURL = strings.TrimSpace(v); return nil }},
		{"sms-secret", "YIWANG_SMS_SECRET", "", "HMAC-SHA256 secret (at least 32 characters) signing requests to --sms-url", []string{"serve", "proactive"},
			func(c *Config, v string) error { c.SMSSecret = v; return nil }},
		{"webhooks-file", "YIWANG_WEBHOOKS_FILE", "", "YAML file of other government systems told of events by signed webhooks: endpoints with name, url, secret_env (the variable holding the HMAC secret) and kinds (see docs/NOTIFICATIONS.md); empty: none", []string{"serve", "proactive"},
			func(c *Config, v string) error { c.WebhooksFile = strings.TrimSpace(v); return nil }},
		{"notify-retention-days", "YIWANG_NOTIFY_RETENTION_DAYS", "180", "days the text of delivered email, SMS and webhook deliveries and the delivery log of delivered messages are kept before an hourly job prunes them (dead letters never); 0: keep them for ever", []string{"serve"},
			func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 3650 {
					return errors.New("must be a whole number of days from 0 (keep for ever) to 3650")
				}
				c.NotifyRetention = n
				return nil
			}},
		{"upload-max-bytes", "YIWANG_UPLOAD_MAX_BYTES", "20MiB", "largest uploaded material accepted: bytes, or a number with KiB, MiB or GiB", []string{"serve", "proactive"},
			func(c *Config, v string) error { return setBytes(&c.UploadMaxBytes, v) }},
		// On the disk a material uploaded through one process is not found
		// by another; several processes share an object store instead.
		{"blob-url", "YIWANG_BLOB_URL", "", "where uploaded materials are kept: empty for blobs/ under --data-dir (one machine), or s3://BUCKET[/PREFIX]?endpoint=HOST:PORT[&region=REGION][&tls=false] for an S3-compatible object store that several processes share, with the key from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", []string{"serve", "backup", "proactive"},
			func(c *Config, v string) error { c.BlobURL = v; return nil }},
		{"trusted-proxies", "YIWANG_TRUSTED_PROXIES", "", "addresses or networks of the reverse proxies in front of serve (e.g. 127.0.0.1,10.0.0.0/24), whose X-Forwarded-For names the client for per-address limits and logs; empty: the connecting address is the client", []string{"serve"},
			func(c *Config, v string) error {
				c.TrustedProxies = nil
				for _, f := range strings.Split(v, ",") {
					f = strings.TrimSpace(f)
					if f == "" {
						continue
					}
					p, err := netip.ParsePrefix(f)
					if err != nil {
						a, aerr := netip.ParseAddr(f)
						if aerr != nil {
							return fmt.Errorf("%q is not an address or a network such as 10.0.0.0/24", f)
						}
						p = netip.PrefixFrom(a, a.BitLen())
					}
					c.TrustedProxies = append(c.TrustedProxies, p.Masked())
				}
				return nil
			}},
	}
}

// setBytes reads a size such as 20MiB, 512KiB or 1048576.
func setBytes(n *int64, v string) error {
	units := []struct {
		suffix string
		shift  uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}, {"", 0}}
	for _, u := range units {
		num, ok := strings.CutSuffix(strings.TrimSpace(v), u.suffix)
		if !ok {
			continue
		}
		x, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || x < 1 || x > (1<<40)>>u.shift {
			break
		}
		*n = x << u.shift
		return nil
	}
	return errors.New("must be a size such as 20MiB, 512KiB or a whole number of bytes (at most 1024GiB)")
}

func setBool(b *bool, v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("must be true or false")
	}
	*b = x
	return nil
}

func setDuration(d *time.Duration, v string) error {
	x, err := time.ParseDuration(v)
	if err != nil || x <= 0 {
		return errors.New("must be a positive duration such as 30s or 2m")
	}
	*d = x
	return nil
}

// Parse reads the settings of command from args and getenv into a Config.
// fs may already hold the command's own flags (such as migrate --status); they
// are parsed alongside. Arguments after the flags are returned as they are;
// maxArgs bounds how many the command takes. It returns flag.ErrHelp after
// writing usage to out when asked for help, and otherwise errors of one line
// saying what is wrong.
func Parse(fs *flag.FlagSet, command, summary string, args []string, maxArgs int, getenv func(string) string, out io.Writer) (Config, []string, error) {
	var c Config
	fs.SetOutput(io.Discard)
	ownFlags := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { ownFlags[f.Name] = true })
	var opts []Option
	for _, o := range Options() {
		if !slices.Contains(o.Commands, command) {
			continue
		}
		opts = append(opts, o)
		if err := o.set(&c, o.Default); err != nil {
			panic(fmt.Sprintf("config: default of --%s: %v", o.Flag, err)) // a bug in the table above
		}
		if v := getenv(o.Env); v != "" {
			if err := o.set(&c, v); err != nil {
				return c, nil, fmt.Errorf("%s=%q: %v", o.Env, v, err)
			}
		}
		set := func(v string) error { return o.set(&c, v) }
		if o.Default == "false" { // a switch such as --no-demo takes no value
			fs.BoolFunc(o.Flag, o.Usage, set)
		} else {
			fs.Func(o.Flag, o.Usage, set)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(out, command, summary, opts, fs, ownFlags)
			return c, nil, err
		}
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
			msg = "unknown flag --" + name
		}
		return c, nil, fmt.Errorf("%s; run 'yiwang %s --help' for the options", msg, command)
	}
	if fs.NArg() > maxArgs {
		return c, nil, fmt.Errorf("unexpected argument %q (options go before arguments); run 'yiwang %s --help'", fs.Arg(maxArgs), command)
	}
	return c, fs.Args(), nil
}

func writeUsage(out io.Writer, command, summary string, opts []Option, fs *flag.FlagSet, ownFlags map[string]bool) {
	fmt.Fprintf(out, "Usage: yiwang %s [options] [arguments]\n\n%s\n\nOptions (flag, environment variable, default):\n", command, summary)
	fs.VisitAll(func(f *flag.Flag) {
		if ownFlags[f.Name] {
			fmt.Fprintf(out, "  --%-18s %s\n", f.Name, f.Usage)
		}
	})
	for _, o := range opts {
		def := o.Default
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(out, "  --%-18s %-24s %s\n      %s\n", o.Flag, o.Env, def, o.Usage)
	}
}
