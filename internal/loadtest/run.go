package loadtest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
	"yiwang/internal/identity"
	"yiwang/internal/pii"
)

// Bounds of a run: a load test measures, it does not soak.
const (
	MaxDuration    = time.Hour        // the messages below say so
	MaxWarmup      = 10 * time.Minute // likewise
	MaxConcurrency = 1024
	MaxRate        = 100_000
)

// DefaultPerApplicant is how many applications run submits for one
// applicant: what the server allows an account in a day by default.
var DefaultPerApplicant = identity.SubmissionLimit.N

// Options say what a run does.
type Options struct {
	// URLs are the servers, e.g. http://127.0.0.1:8080: several
	// processes of one platform (on one database) share the applicants
	// between them, each applicant signed in at and applying through one.
	URLs        []string
	Concurrency int           // workers: applications in flight at most
	Duration    time.Duration // how long to measure, after Warmup
	Warmup      time.Duration // load before measuring, not counted
	Rate        float64       // applications started a second; 0: each worker starts the next when one ends (closed loop)
	Item        string        // the item applied for
	AllowRemote bool          // allow a URL that is not this machine
	Password    string        // the applicants' password; empty: Password
	// PerApplicant is how many applications one applicant submits in this
	// run before the next takes over; 0 means no limit of the tool's own
	// (the server may still answer 429).
	PerApplicant int
	Applicants   []Applicant
	Progress     io.Writer     // a line a second; nil: none
	Timeout      time.Duration // for each request; 0: 30s
	// Flow is how an application is made: FlowThreeRequest (empty too) or
	// FlowOneCall.
	Flow string
	// SampleEvery is how often each server's /metrics is read while the
	// load is measured (memory, goroutines), so that a soak shows them
	// flat or growing; 0: every 10s, negative: never.
	SampleEvery time.Duration
}

// Target checks that rawURL is an http(s) address of this machine —
// loopback — unless allowRemote, and returns it without a trailing slash.
// Names other than localhost are refused rather than resolved: what a name
// resolves to can change between the check and the load.
func Target(rawURL string, allowRemote bool) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url %q is not an address such as http://127.0.0.1:8080", rawURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("--url %q: give the server's base address only, without a query, fragment or user", rawURL)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	local := strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
	if !local && !allowRemote {
		return "", fmt.Errorf("--url %s is not on this machine: load tests go to loopback addresses only (127.0.0.1, ::1, localhost); pass --allow-remote to load another machine, and only one you are responsible for", rawURL)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}

// Validate checks the options but the applicants, saying which flag is
// wrong and why.
func (o Options) Validate() error {
	if len(o.URLs) == 0 {
		return errors.New("--url must name at least one server")
	}
	seen := map[string]bool{}
	for _, u := range o.URLs {
		base, err := Target(u, o.AllowRemote)
		if err != nil {
			return err
		}
		if seen[base] {
			return fmt.Errorf("--url %s is given twice: name each server once", u)
		}
		seen[base] = true
	}
	switch {
	case o.Concurrency < 1 || o.Concurrency > MaxConcurrency:
		return fmt.Errorf("--concurrency must be between 1 and %d, not %d", MaxConcurrency, o.Concurrency)
	case o.Concurrency < len(o.URLs):
		return fmt.Errorf("--concurrency %d is less than the %d servers: give each server a worker at least", o.Concurrency, len(o.URLs))
	case o.Duration <= 0:
		return fmt.Errorf("--duration must be positive, such as 30s or 2m, not %s", o.Duration)
	case o.Duration > MaxDuration:
		return fmt.Errorf("--duration %s is longer than an hour: a load test measures, it does not soak; run it again instead", o.Duration)
	case o.Warmup < 0:
		return fmt.Errorf("--warmup must be zero or positive, such as 3s, not %s", o.Warmup)
	case o.Warmup > MaxWarmup:
		return fmt.Errorf("--warmup %s is longer than 10 minutes: a few seconds warm the server up", o.Warmup)
	case o.Rate < 0 || o.Rate > MaxRate:
		return fmt.Errorf("--rate must be between 0 (closed loop) and %d applications a second, not %g", MaxRate, o.Rate)
	case o.Rate > 0 && o.Rate < 0.1:
		return fmt.Errorf("--rate %g is below 0.1 a second: use a longer --duration at a higher rate, or 0 for closed loop", o.Rate)
	case strings.TrimSpace(o.Item) == "":
		return errors.New("--item must name an item code")
	case o.PerApplicant < 0:
		return fmt.Errorf("--per-applicant must be zero (no limit) or positive, not %d", o.PerApplicant)
	case o.Flow != "" && o.Flow != FlowThreeRequest && o.Flow != FlowOneCall:
		return fmt.Errorf("--flow must be %s or %s, not %q", FlowThreeRequest, FlowOneCall, o.Flow)
	}
	return nil
}

// ErrorCount is one kind of failed call: the step and the HTTP status
// (or "network"), how often, and the first message.
type ErrorCount struct {
	Key    string
	Count  int64
	Sample string
}

// Report is what a run measured. Only applications started after the
// warm-up count.
type Report struct {
	Options     Options
	ItemName    string
	SignedIn    int
	SignInTook  time.Duration
	Elapsed     time.Duration // from the end of the warm-up to the last completion
	Submits     int64         // successful submissions
	Submit      Histogram     // latency of the submit call: the re-check and the machine decision
	Application Histogram     // start, fill and submit, from the moment the application was due
	Outcomes    map[string]int64
	Unexpected  int64  // decisions other than the applicant's records should give
	UnexpSample string // the first of them
	Errors      []ErrorCount
	ErrorTotal  int64
	// With a fixed rate: applications due, dropped because every worker
	// was busy, and how late the others started.
	Due, Dropped int64
	Lag          Histogram
	// StoppedEarly says why the run ended before its time, if it did.
	StoppedEarly string
	// Servers is what each server did, in the order of Options.URLs.
	Servers []ServerReport
	// Minutes are the measured submissions by the minute they completed
	// in, so that a long run shows whether latency stays where it was.
	Minutes []Minute
	// Floor is the storage floor (Floor) measured on the run's database
	// after the run, if it was; FloorMissing says why it was not.
	Floor        *FloorResult
	FloorMissing string
}

// ServerReport is one server's share of a run and what its /metrics said.
type ServerReport struct {
	URL         string
	SignedIn    int
	Submits     int64
	Errors      int64
	Submit      Histogram
	Application Histogram
	Gauges      []Gauge // sampled while measured; empty if never read
	MetricsErr  string  // why /metrics could not be read, if it could not
}

// Minute is one minute of the measured load.
type Minute struct {
	Submits, Errors int64
	Submit          Histogram
}

// Throughput is successful submissions a second.
func (r *Report) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Submits) / r.Elapsed.Seconds()
}

// KeptUp reports whether, at a fixed rate, the server took every
// application when it was due: none dropped, and the rate achieved within
// 2% of the rate asked.
func (r *Report) KeptUp() bool {
	return r.Options.Rate > 0 && r.Dropped == 0 && r.Throughput() >= 0.98*r.Options.Rate
}

// Run loads the server as opts say and reports what it measured. It signs
// every applicant in first (not measured), runs the warm-up and then the
// measured load, and ends when the duration is over, when ctx is cancelled
// (the report then covers what was done), or when every applicant has
// used its submissions.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if len(opts.Applicants) == 0 {
		return nil, errors.New("no applicants to sign in as: run 'yiwang bench prepare' first")
	}
	if len(opts.Applicants) < len(opts.URLs) {
		return nil, fmt.Errorf("%d applicants for %d servers: prepare at least one for each", len(opts.Applicants), len(opts.URLs))
	}
	if opts.Password == "" {
		opts.Password = Password
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.SampleEvery == 0 {
		opts.SampleEvery = 10 * time.Second
	}
	cs := make([]*client, len(opts.URLs))
	for i, u := range opts.URLs {
		cs[i] = newClient(opts.Concurrency, opts.Timeout)
		defer cs[i].http.CloseIdleConnections()
		cs[i].base, _ = Target(u, opts.AllowRemote)
	}
	// Every server must serve the item: the plan is read from each, so a
	// process left on another catalogue fails here rather than in the load.
	var plan plan
	for i, c := range cs {
		p, err := c.itemPlan(ctx, opts.Item)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			plan = p
		}
	}
	began := time.Now()
	sessions, err := signInEverywhere(ctx, cs, opts)
	if err != nil {
		return nil, err
	}
	rep := &Report{Options: opts, ItemName: plan.name, SignedIn: len(sessions), SignInTook: time.Since(began), Outcomes: map[string]int64{}}
	rep.Options.Applicants = nil
	rep.Servers = make([]ServerReport, len(cs))
	for i, c := range cs {
		rep.Servers[i].URL = c.base
	}
	for _, s := range sessions {
		rep.Servers[s.srv].SignedIn++
	}

	loadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	r := &runner{opts: opts, cs: cs, plan: plan, ctx: loadCtx, keys: newOneCallKeys(),
		pool: &pool{all: sessions, budget: int64(opts.PerApplicant)}}
	r.measureFrom = start.Add(opts.Warmup)
	r.end = r.measureFrom.Add(opts.Duration)
	r.rec = newRecorder(len(cs), r.measureFrom, opts.Duration)

	samplerDone := make(chan struct{})
	samples := make(chan []sampler, 1)
	go func() { samples <- r.sample(samplerDone) }()

	progressDone := make(chan struct{})
	progressStopped := make(chan struct{})
	go func() {
		defer close(progressStopped)
		r.progress(progressDone)
	}()
	var wg sync.WaitGroup
	if opts.Rate > 0 {
		arrivals := make(chan time.Time, opts.Concurrency)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(arrivals)
			r.schedule(arrivals, start)
		}()
		for range opts.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for due := range arrivals {
					if r.stopping() {
						continue // drain
					}
					r.rec.started(!due.Before(r.measureFrom), time.Since(due))
					if s := r.take(); s != nil {
						r.apply(s, due)
					}
				}
			}()
		}
	} else {
		for range opts.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !r.stopping() {
					now := time.Now()
					if !now.Before(r.end) {
						return
					}
					s := r.take()
					if s == nil {
						return
					}
					r.apply(s, now)
				}
			}()
		}
	}
	wg.Wait()
	finished := time.Now()
	close(progressDone)
	close(samplerDone)
	<-progressStopped
	for i, sm := range <-samples {
		rep.Servers[i].Gauges, rep.Servers[i].MetricsErr = sm.gauges(), sm.err
	}

	if finished.After(r.measureFrom) {
		rep.Elapsed = finished.Sub(r.measureFrom)
	}
	r.rec.fill(rep)
	rep.StoppedEarly = r.stopReason()
	if rep.StoppedEarly == "" && ctx.Err() != nil {
		rep.StoppedEarly = "interrupted"
	}
	return rep, nil
}

// runner is one run under way.
type runner struct {
	opts        Options
	cs          []*client // one a server, in the order of opts.URLs
	keys        *oneCallKeys
	plan        plan
	pool        *pool
	rec         *recorder
	ctx         context.Context // cancelled when the caller's is: requests in flight stop
	measureFrom time.Time
	end         time.Time

	halted atomic.Bool
	mu     sync.Mutex
	reason string
}

// halt ends the run early, for reason: no application starts after it,
// and those in flight finish and count.
func (r *runner) halt(reason string) {
	r.mu.Lock()
	if r.reason == "" {
		r.reason = reason
	}
	r.mu.Unlock()
	r.halted.Store(true)
}

// stopping reports whether no further application should start.
func (r *runner) stopping() bool { return r.halted.Load() || r.ctx.Err() != nil }

func (r *runner) stopReason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

// take returns the next applicant with submissions left, or halts the run.
func (r *runner) take() *session {
	s := r.pool.take()
	if s == nil {
		if r.pool.limited.Load() > 0 {
			r.halt(fmt.Sprintf("the server refused further submissions (429) from all %d applicants: they have used the day's limit; prepare more with 'yiwang bench prepare --applicants N', or for a load test on a test database start serve with --submission-limit N", len(r.pool.all)))
		} else {
			r.halt(fmt.Sprintf("all %d applicants have made their %d submissions (--per-applicant); prepare more with 'yiwang bench prepare --applicants N', or raise --per-applicant if serve runs with a higher --submission-limit", len(r.pool.all), r.pool.budget))
		}
	}
	return s
}

// schedule sends the due time of each application at the fixed rate, from
// start to the end of the run. An application due when every worker is busy
// and the queue is full is dropped and counted: the server is not keeping
// up. Due times are computed, not slept, so a late wake-up sends every
// application that fell due meanwhile.
func (r *runner) schedule(arrivals chan<- time.Time, start time.Time) {
	every := float64(time.Second) / r.opts.Rate
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := int64(0); ; i++ {
		due := start.Add(time.Duration(float64(i) * every))
		if !due.Before(r.end) || r.stopping() {
			return
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-r.ctx.Done():
				return
			}
		}
		measured := !due.Before(r.measureFrom)
		r.rec.due(measured)
		select {
		case arrivals <- due:
		default:
			r.rec.drop(measured)
		}
	}
}

// apply makes one application as applicant s: start (with consent), fill
// what the registries did not, submit. due is when it should have started.
func (r *runner) apply(s *session, due time.Time) {
	if r.opts.Flow == FlowOneCall {
		r.applyInOneCall(s, due)
		return
	}
	measured := !due.Before(r.measureFrom)
	c := r.cs[s.srv]
	var draft struct {
		ID   int64          `json:"id"`
		Form map[string]any `json:"form"`
	}
	start := map[string]any{"item_code": r.opts.Item, "consent": true}
	if len(r.plan.answers) > 0 {
		start["answers"] = r.plan.answers
	}
	if code, err := c.call(r.ctx, s, "POST", "/api/v1/applications", start, http.StatusCreated, &draft); err != nil {
		r.failed(s, measured, "start", code, err)
		return
	}
	if values := r.plan.fill(draft.Form, s.Login); len(values) > 0 {
		if code, err := c.call(r.ctx, s, "PATCH", fmt.Sprintf("/api/v1/applications/%d/form", draft.ID), values, http.StatusOK, nil); err != nil {
			r.failed(s, measured, "form", code, err)
			return
		}
	}
	var done struct {
		Decision *decision `json:"decision"`
	}
	t := time.Now()
	code, err := c.call(r.ctx, s, "POST", fmt.Sprintf("/api/v1/applications/%d/submit", draft.ID), nil, http.StatusOK, &done)
	r.submitted(s, measured, "submit", code, err, draft.ID, done.Decision, time.Since(t), due)
}

// submitted records the answer to a submission — made in the submit step
// or the one call — that took took: a failure (a 429 retires the applicant:
// the server allows it no more today), or the decision.
func (r *runner) submitted(s *session, measured bool, step string, code int, err error, id int64, d *decision, took time.Duration, due time.Time) {
	if err != nil {
		if code == http.StatusTooManyRequests {
			r.pool.retire(s, true)
		}
		r.failed(s, measured, step, code, err)
		return
	}
	r.decided(s, measured, id, d, took, due)
}

// decision is the part of an application's answer the tool reads.
type decision struct {
	Outcome string `json:"outcome"`
}

// decided records a successful submission of application id: its outcome
// (none: not an item decided by machine), checked against what s's
// records should give, and how long the submission took.
func (r *runner) decided(s *session, measured bool, id int64, d *decision, took time.Duration, due time.Time) {
	outcome := "none"
	if d != nil {
		outcome = d.Outcome
	}
	var unexpected string
	if s.Expect != "" && r.opts.Item == SeniorCard && outcome != s.Expect {
		unexpected = fmt.Sprintf("application %d of %s: %s, but the records prepared should give %s", id, pii.MaskIDNumber(s.Login), outcome, s.Expect)
	}
	r.rec.submitted(s.srv, measured, took, time.Since(due), outcome, unexpected)
}

// failed counts a failed call, unless the run is stopping: calls cut short
// by the stop are not the server's failures.
func (r *runner) failed(s *session, measured bool, step string, code int, err error) {
	if r.ctx.Err() != nil {
		return
	}
	key := fmt.Sprintf("%s %d", step, code)
	if code == 0 {
		key = step + " network"
	}
	if len(r.cs) > 1 {
		key += " at " + r.cs[s.srv].base
	}
	r.rec.failed(s.srv, measured, key, err.Error())
}

// progress writes a line a second until done is closed.
func (r *runner) progress(done <-chan struct{}) {
	if r.opts.Progress == nil {
		<-done
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			// A tick within half a second of the end of the warm-up closes
			// the warm-up rather than open the measurement with nothing.
			measuring := now.Sub(r.measureFrom) >= 500*time.Millisecond
			p := r.rec.tick(measuring)
			rate := float64(p.submits) / now.Sub(last).Seconds()
			last = now
			phase := fmt.Sprintf("%3.0fs", now.Sub(r.measureFrom).Seconds())
			if !measuring {
				phase = fmt.Sprintf("warm-up %2.0fs", now.Sub(r.measureFrom.Add(-r.opts.Warmup)).Seconds())
			}
			line := fmt.Sprintf("%s  %s submits  %s/s  p99 %s  errors %s", phase, Grouped(p.total), Grouped(int64(rate+0.5)), Short(p.p99), Grouped(p.errors))
			if r.opts.Rate > 0 {
				line += "  dropped " + Grouped(p.dropped)
			}
			fmt.Fprintln(r.opts.Progress, line)
		}
	}
}

// session is a signed-in applicant.
type session struct {
	Applicant
	srv     int    // the server it is signed in at: an index of Options.URLs
	cookie  string // the session cookie, name=value
	csrf    string
	used    atomic.Int64
	retired atomic.Bool
}

// pool hands out applicants in turn, each until its budget is spent or the
// server refuses it more submissions.
type pool struct {
	all     []*session
	next    atomic.Uint64
	budget  int64        // submissions per applicant; 0: no limit
	limited atomic.Int64 // retired because the server said 429
}

func (p *pool) take() *session {
	for range len(p.all) {
		s := p.all[(p.next.Add(1)-1)%uint64(len(p.all))]
		if s.retired.Load() {
			continue
		}
		if p.budget > 0 && s.used.Add(1) > p.budget {
			p.retire(s, false)
			continue
		}
		return s
	}
	return nil
}

func (p *pool) retire(s *session, limited bool) {
	if s.retired.CompareAndSwap(false, true) && limited {
		p.limited.Add(1)
	}
}

// recorder collects the measurements of all workers.
type recorder struct {
	mu sync.Mutex
	// since the last progress line, warm-up included
	tickSubmit  Histogram
	tickSubmits int64
	// per phase: 0 warm-up, 1 measured
	submits, errs, dropped [2]int64
	// measured only
	submit, app, lag Histogram
	dueCount         int64
	outcomes         map[string]int64
	unexpected       int64
	unexpSample      string
	errors           map[string]*ErrorCount
	servers          []serverCounts
	from             time.Time // when measuring began: minute 0 starts here
	lastMinute       int       // the last minute of the duration: what completes after it counts in it
	minutes          []Minute
}

// serverCounts are one server's measured figures.
type serverCounts struct {
	submits, errs int64
	submit, app   Histogram
}

func newRecorder(servers int, from time.Time, d time.Duration) *recorder {
	return &recorder{outcomes: map[string]int64{}, errors: map[string]*ErrorCount{}, servers: make([]serverCounts, servers),
		from: from, lastMinute: max(int((d-1)/time.Minute), 0)}
}

// minute returns the current minute of the measurement, adding it if new.
func (rc *recorder) minute() *Minute {
	i := min(max(int(time.Since(rc.from)/time.Minute), 0), rc.lastMinute)
	for len(rc.minutes) <= i {
		rc.minutes = append(rc.minutes, Minute{})
	}
	return &rc.minutes[i]
}

func phase(measured bool) int {
	if measured {
		return 1
	}
	return 0
}

func (rc *recorder) submitted(srv int, measured bool, submit, whole time.Duration, outcome, unexpected string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.tickSubmit.Record(submit)
	rc.tickSubmits++
	rc.submits[phase(measured)]++
	if !measured {
		return
	}
	rc.submit.Record(submit)
	rc.app.Record(whole)
	sc := &rc.servers[srv]
	sc.submits++
	sc.submit.Record(submit)
	sc.app.Record(whole)
	m := rc.minute()
	m.Submits++
	m.Submit.Record(submit)
	rc.outcomes[outcome]++
	if unexpected != "" {
		rc.unexpected++
		if rc.unexpSample == "" {
			rc.unexpSample = unexpected
		}
	}
}

func (rc *recorder) failed(srv int, measured bool, key, msg string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.errs[phase(measured)]++
	if !measured {
		return
	}
	rc.servers[srv].errs++
	rc.minute().Errors++
	e := rc.errors[key]
	if e == nil {
		e = &ErrorCount{Key: key, Sample: msg}
		rc.errors[key] = e
	}
	e.Count++
}

func (rc *recorder) started(measured bool, lag time.Duration) {
	if !measured {
		return
	}
	rc.mu.Lock()
	rc.lag.Record(lag)
	rc.mu.Unlock()
}

func (rc *recorder) due(measured bool) {
	if measured {
		rc.mu.Lock()
		rc.dueCount++
		rc.mu.Unlock()
	}
}

func (rc *recorder) drop(measured bool) {
	rc.mu.Lock()
	rc.dropped[phase(measured)]++
	rc.mu.Unlock()
}

// tickStats is what a progress line shows.
type tickStats struct {
	submits, total, errors, dropped int64
	p99                             time.Duration
}

// tick returns the figures for a progress line — the current phase's
// totals, the submissions since the last line and their p99 — and starts
// the next interval.
func (rc *recorder) tick(measured bool) tickStats {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ph := phase(measured)
	t := tickStats{submits: rc.tickSubmits, total: rc.submits[ph], errors: rc.errs[ph], dropped: rc.dropped[ph], p99: rc.tickSubmit.Quantile(0.99)}
	rc.tickSubmit.Reset()
	rc.tickSubmits = 0
	return t
}

// fill copies the measured figures into rep.
func (rc *recorder) fill(rep *Report) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rep.Submits = rc.submits[1]
	rep.Submit, rep.Application, rep.Lag = rc.submit, rc.app, rc.lag
	rep.Due, rep.Dropped = rc.dueCount, rc.dropped[1]
	for k, v := range rc.outcomes {
		rep.Outcomes[k] = v
	}
	for i, sc := range rc.servers {
		sr := &rep.Servers[i]
		sr.Submits, sr.Errors, sr.Submit, sr.Application = sc.submits, sc.errs, sc.submit, sc.app
	}
	rep.Minutes = rc.minutes
	rep.Unexpected, rep.UnexpSample = rc.unexpected, rc.unexpSample
	for _, e := range rc.errors {
		rep.Errors = append(rep.Errors, *e)
		rep.ErrorTotal += e.Count
	}
	sortErrors(rep.Errors)
}

func sortErrors(es []ErrorCount) {
	slices.SortFunc(es, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Key, b.Key))
	})
}

// client talks to the server under test.
type client struct {
	http *http.Client
	base string
}

// newClient returns a client whose one Transport keeps a connection per
// worker alive, so the load is requests, not TCP handshakes. Proxies from
// the environment are ignored: the load goes where --url says.
func newClient(workers int, timeout time.Duration) *client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2*workers + 16,
		MaxIdleConnsPerHost: 2*workers + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &client{http: &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// apiError is a refusal from the server: its status and message.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string {
	if e.code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.status, e.msg)
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.status, e.code, e.msg)
}

// call sends one JSON request as s (nil: anonymously) and decodes the
// answer into out; a status other than want is an *apiError. It returns
// the status, 0 if there was no answer.
func (c *client) call(ctx context.Context, s *session, method, path string, in any, want int, out any) (int, error) {
	return c.callWith(ctx, s, method, path, nil, in, want, out)
}

// callWith is call with further request headers.
func (c *client) callWith(ctx context.Context, s *session, method, path string, header map[string]string, in any, want int, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s != nil {
		req.Header.Set("Cookie", s.cookie)
		req.Header.Set(identity.CSRFHeader, s.csrf)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != want {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		ae := &apiError{status: resp.StatusCode}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			ae.code, ae.msg = e.Error.Code, e.Error.Message
		} else {
			ae.msg = strings.TrimSpace(string(b[:min(len(b), 200)]))
		}
		return resp.StatusCode, ae
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("the answer to %s %s is not the JSON expected: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// signInEverywhere shares the applicants between the servers in turn —
// the first at the first server, the second at the second, … — and signs
// each in at its server, the servers at once. The sessions come back in
// the applicants' order, so taking them in turn spreads the load evenly.
func signInEverywhere(ctx context.Context, cs []*client, opts Options) ([]*session, error) {
	n := len(cs)
	shares := make([][]*session, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range cs {
		var mine []Applicant
		for j := i; j < len(opts.Applicants); j += n {
			mine = append(mine, opts.Applicants[j])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			shares[i], errs[i] = c.signInAll(ctx, mine, opts.Password, max(opts.Concurrency/n, 1), opts.Progress)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]*session, 0, len(opts.Applicants))
	for j := range opts.Applicants {
		s := shares[j%n][j/n]
		s.srv = j % n
		out = append(out, s)
	}
	return out, nil
}

// signInAll signs every applicant in, workers at a time, and fails on the
// first refusal: a run with missing applicants would measure something else.
func (c *client) signInAll(ctx context.Context, applicants []Applicant, password string, workers int, progress io.Writer) ([]*session, error) {
	out := make([]*session, len(applicants))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     atomic.Int64
	)
	if progress != nil { // thousands of sign-ins take a while: say how far
		go func() {
			tick := time.NewTicker(5 * time.Second)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					fmt.Fprintf(progress, "signed in %s of %s at %s\n", Grouped(done.Load()), Grouped(int64(len(applicants))), c.base)
				}
			}
		}()
	}
	next := make(chan int)
	// Sign-ins hash a password on the server (deliberately slow): a few at
	// once keep its CPUs busy even when the run itself has one worker, and
	// more would only wait for the server's few password checks at once
	// (serve --max-password-checks), which answers 503 sign_in_busy to
	// those that wait too long: they are tried again.
	for range min(8, len(applicants)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s, err := c.signInPatiently(ctx, applicants[i], password)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("sign-in of applicant %d (%s) at %s failed: %w", i+1, pii.MaskIDNumber(applicants[i].Login), c.base, err)
						cancel()
					}
					mu.Unlock()
					continue
				}
				out[i] = s
				done.Add(1)
			}
		}()
	}
feed:
	for i := range applicants {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		var ae *apiError
		if errors.As(firstErr, &ae) && ae.status == http.StatusUnauthorized {
			firstErr = fmt.Errorf("%w — were the applicants prepared on the database this server uses, with the same data key and password?", firstErr)
		}
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// signInPatiently signs a in, trying again while the server answers that
// too many are signing in at once.
func (c *client) signInPatiently(ctx context.Context, a Applicant, password string) (*session, error) {
	for try := 1; ; try++ {
		s, err := c.signIn(ctx, a, password)
		var ae *apiError
		if try == 30 || !errors.As(err, &ae) || ae.code != string(apperr.SignInBusy) {
			return s, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(try) * 100 * time.Millisecond):
		}
	}
}

func (c *client) signIn(ctx context.Context, a Applicant, password string) (*session, error) {
	b, _ := json.Marshal(map[string]string{"login": a.Login, "password": password})
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/api/v1/session", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		json.Unmarshal(body, &e)
		return nil, &apiError{status: resp.StatusCode, code: e.Error.Code, msg: e.Error.Message}
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(body, &me); err != nil || me.CSRF == "" {
		return nil, errors.New("the sign-in answer has no csrf_token: is this a yiwang server?")
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == identity.SessionCookie && ck.Value != "" {
			return &session{Applicant: a, cookie: ck.Name + "=" + ck.Value, csrf: me.CSRF}, nil
		}
	}
	return nil, fmt.Errorf("the sign-in answer set no %s cookie", identity.SessionCookie)
}

// plan is how to fill an item's application: the situation answers, and
// the form fields to type when the registries did not fill them.
type plan struct {
	name    string
	answers map[string]string
	fields  []field
}

// field is what the tool needs of a form field.
type field struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Options  []option `json:"options"`
	Prefill  *struct {
		Source string `json:"source"`
	} `json:"prefill"`
	Validation *struct {
		MinLength *int     `json:"min_length"`
		Min       *float64 `json:"min"`
		Max       *float64 `json:"max"`
	} `json:"validation"`
	When catalog.When `json:"when"`
}

type option struct {
	Value string `json:"value"`
}

// itemPlan reads the item's guide and decides how to fill its form: the
// first answer to every situation question, and a plausible value for
// every required field that applies.
func (c *client) itemPlan(ctx context.Context, code string) (plan, error) {
	var g struct {
		Item struct {
			Name struct {
				Zh string `json:"zh"`
			} `json:"name"`
			Situations []struct {
				ID      string   `json:"id"`
				Answers []option `json:"answers"`
			} `json:"situations"`
			Form []field `json:"form"`
		} `json:"item"`
	}
	status, err := c.call(ctx, nil, "GET", "/api/v1/items/"+url.PathEscape(code), nil, http.StatusOK, &g)
	switch {
	case status == http.StatusNotFound:
		return plan{}, fmt.Errorf("item %s is not in service at %s: check --item, or whether the server has its catalogue published", code, c.base)
	case err != nil && status == 0:
		return plan{}, fmt.Errorf("cannot reach the server at %s: %w — is 'yiwang serve' running there?", c.base, err)
	case err != nil:
		return plan{}, fmt.Errorf("reading item %s at %s: %w", code, c.base, err)
	}
	p := plan{name: g.Item.Name.Zh, answers: map[string]string{}}
	for _, s := range g.Item.Situations {
		if len(s.Answers) > 0 {
			p.answers[s.ID] = s.Answers[0].Value
		}
	}
	for _, f := range g.Item.Form {
		if f.Required && f.When.Matches(p.answers) {
			p.fields = append(p.fields, f)
		}
	}
	return p, nil
}

// fill returns values for the required fields the draft lacks.
func (p plan) fill(form map[string]any, login string) map[string]any {
	out := map[string]any{}
	for _, f := range p.fields {
		if _, ok := form[f.ID]; ok {
			continue
		}
		if v, ok := f.value(login); ok {
			out[f.ID] = v
		}
	}
	return out
}

// value is a plausible value of the field's type; fields the tool cannot
// make up (a credit code, a table) are left for the server to complain of.
func (f field) value(login string) (any, bool) {
	switch f.Type {
	case "enum":
		if len(f.Options) > 0 {
			return f.Options[0].Value, true
		}
	case "bool":
		return true, true
	case "number":
		n := 1.0
		if f.Validation != nil && f.Validation.Min != nil {
			n = *f.Validation.Min
		}
		return n, true
	case "date":
		return time.Now().Format(time.DateOnly), true
	case "phone":
		return "13900000000", true
	case "id_number":
		return login, true
	case "text", "address", "file":
		s := "压测填写"
		if f.Validation != nil && f.Validation.MinLength != nil {
			for len([]rune(s)) < *f.Validation.MinLength {
				s += "压测"
			}
		}
		return s, true
	}
	return nil, false
}
