// Package httpconn is the hub connector to a department's own system over
// HTTP and JSON: one GET per read, retried with backoff while the system is
// slow or failing, and a circuit breaker per source, so that a department
// that is down is not hammered and callers learn so at once.
//
// Records are typed exactly as the built-in connector types them
// (hub.Project), so forms and rules cannot tell the two apart. The subject's
// key and the credentials never appear in an error or a log line.
package httpconn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
)

// Defaults and limits.
const (
	defaultTimeout         = 3 * time.Second
	defaultRetries         = 2
	defaultBackoff         = 100 * time.Millisecond
	maxBackoff             = 2 * time.Second // a wait longer than this outlasts most callers
	defaultBreakerFailures = 5
	defaultBreakerCooldown = 30 * time.Second
	maxRetries             = 10      // more would keep a caller waiting for minutes
	maxBody                = 1 << 20 // one person's or enterprise's record is far smaller
	keyPlaceholder         = "{key}"
)

// Config says how to reach one department's system.
type Config struct {
	// BaseURL is the system's address, e.g. https://rkk.gov.example/api.
	BaseURL string
	// Paths maps a source to its path template, e.g. "population":
	// "/persons/{key}". {key} is replaced by the subject's ID number or
	// credit code, path-escaped (query-escaped if {key} is in the query,
	// as in "/licences?holder={key}").
	Paths map[string]string
	// AuthHeader names the header carrying the credentials, e.g.
	// "Authorization" or "X-Api-Key"; empty for none.
	AuthHeader string
	// AuthValue is the header's value. It is never logged.
	AuthValue string
	// FieldMap maps, per source, our field name to the remote JSON field; a
	// dotted path reaches into nested objects ("hukou.address"). Fields not
	// in the map are read under their own name.
	FieldMap map[string]map[string]string
	// Timeout bounds each attempt, reading the body included (default 3s).
	Timeout time.Duration
	// Retries is the number of extra attempts after timeouts, connection
	// errors and HTTP 5xx or 429 (default 2; negative for none).
	Retries int
	// Backoff is the first wait between attempts; it doubles, with jitter,
	// up to 2s (default 100ms).
	Backoff time.Duration
	// BreakerFailures is the number of consecutive failed calls, each after
	// its retries, that opens a source's circuit (default 5).
	BreakerFailures int
	// BreakerCooldown is how long an open circuit refuses calls before one
	// trial call is let through (default 30s).
	BreakerCooldown time.Duration
	// HTTPClient is used if set, e.g. for the department's CA or a client
	// certificate. It is copied and redirects are refused, so that the
	// credentials cannot follow one to another host.
	HTTPClient *http.Client
}

// Connector reads records from a department's system. It implements
// hub.Connector and is safe for concurrent use.
type Connector struct {
	base       string // without a trailing slash
	paths      map[string]string
	fieldMap   map[string]map[string]string
	authHeader string
	authValue  string
	timeout    time.Duration
	retries    int
	backoff    time.Duration
	threshold  int
	cooldown   time.Duration
	client     *http.Client
	logger     *slog.Logger
	now        func() time.Time // the breaker's clock; tests move it

	mu       sync.Mutex
	circuits map[string]*circuit // one per source in paths; the map itself is never written after New
}

// circuit is one source's breaker. It is closed while openUntil is zero,
// open until openUntil, and half-open after it.
type circuit struct {
	failures  int       // consecutive failed calls
	openUntil time.Time // zero while closed
	trial     bool      // the half-open trial call is under way
}

var _ hub.Connector = (*Connector)(nil)

// New checks cfg and returns a connector. Every problem found is reported at
// once, in an apperr.Invalid error.
func New(cfg Config, logger *slog.Logger) (*Connector, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var problems []apperr.Detail
	add := func(zh, en string, args ...any) {
		problems = append(problems, apperr.Detail{Words: apperr.Words{Zh: fmt.Sprintf(zh, args...), En: fmt.Sprintf(en, args...)}})
	}

	base := checkBaseURL(cfg.BaseURL, add)

	if len(cfg.Paths) == 0 {
		add("Paths为空：请至少为一个数据来源配置路径，如\"population\": \"/persons/{key}\"", `Paths is empty: map at least one source to a path, e.g. "population": "/persons/{key}"`)
	}
	for _, source := range sortedKeys(cfg.Paths) {
		tmpl := cfg.Paths[source]
		if _, ok := hub.Lookup(source); !ok {
			add("Paths中的数据来源%q不存在", "Paths names source %q, which the hub does not know", source)
		}
		if !strings.Contains(tmpl, keyPlaceholder) {
			add("%s的路径（%q）缺少{key}：请在身份证号码或统一社会信用代码所在位置写{key}", "the path of %s (%q) has no {key}: put {key} where the ID number or credit code goes", source, tmpl)
		} else if base != "" {
			if _, err := url.Parse(join(base, strings.ReplaceAll(tmpl, keyPlaceholder, "k"))); err != nil {
				add("%s的路径（%q）不是有效的网址：%v", "the path of %s (%q) does not make a valid URL: %v", source, tmpl, unwrapURLError(err))
			}
		}
	}
	for _, source := range sortedKeys(cfg.FieldMap) {
		src, known := hub.Lookup(source)
		switch _, hasPath := cfg.Paths[source]; {
		case !known:
			add("FieldMap中的数据来源%q不存在", "FieldMap names source %q, which the hub does not know", source)
		case !hasPath:
			add("FieldMap为%s配置了字段，但Paths中没有它的路径", "FieldMap has fields for %s, which has no path in Paths", source)
		}
		for _, field := range sortedKeys(cfg.FieldMap[source]) {
			remote := cfg.FieldMap[source][field]
			if _, ok := src.Field(field); known && !ok && !isLicence(source) {
				add("FieldMap配置的%s.%s在该数据来源中不存在", "FieldMap maps %s.%s, which the source does not have", source, field)
			}
			if slices.Contains(strings.Split(remote, "."), "") {
				add("FieldMap把%s.%s对应到%q，这不是字段名或如hukou.address的点分路径", "FieldMap maps %s.%s to %q, which is not a field name or dotted path such as hukou.address", source, field, remote)
			}
		}
	}

	switch {
	case cfg.AuthHeader == "" && cfg.AuthValue != "":
		add("已设置AuthValue但AuthHeader为空：请写明携带它的请求头，如Authorization", "AuthValue is set but AuthHeader is empty: name the header that carries it, e.g. Authorization")
	case cfg.AuthHeader != "" && !isToken(cfg.AuthHeader):
		add("AuthHeader %q不是有效的请求头名称", "AuthHeader %q is not a valid header name", cfg.AuthHeader)
	case cfg.AuthHeader != "" && cfg.AuthValue == "":
		add("已设置AuthHeader %s但AuthValue为空：请检查凭据的环境变量是否缺失", "AuthHeader %s is set but AuthValue is empty: is the credential's variable missing?", cfg.AuthHeader)
	case strings.ContainsAny(cfg.AuthValue, "\r\n\x00"):
		add("AuthValue含有换行符或NUL，请求头不能携带", "AuthValue contains a line break or NUL, which a header cannot carry")
	}

	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Timeout", cfg.Timeout}, {"Backoff", cfg.Backoff}, {"BreakerCooldown", cfg.BreakerCooldown}} {
		if d.v < 0 {
			add("%s为负数（%s）：留空为0即使用默认值", "%s is negative (%s): leave it zero for the default", d.name, d.v)
		}
	}
	if cfg.Retries > maxRetries {
		add("Retries为%d：最多%d次，否则调用方要等几分钟", "Retries is %d: at most %d, or callers wait for minutes", cfg.Retries, maxRetries)
	}
	if cfg.BreakerFailures < 0 {
		add("BreakerFailures为负数（%d）：留空为0即使用默认值", "BreakerFailures is negative (%d): leave it zero for the default", cfg.BreakerFailures)
	}
	if len(problems) > 0 {
		return nil, apperr.New(apperr.Invalid, apperr.HubHTTPConfigInvalid,
			"the HTTP connector's configuration has %d problem(s): %s", len(problems), apperr.JoinEnglish(problems)).WithDetails(problems)
	}

	c := &Connector{
		base:       base,
		authHeader: cfg.AuthHeader,
		authValue:  cfg.AuthValue,
		timeout:    orDefault(cfg.Timeout, defaultTimeout),
		retries:    cfg.Retries,
		backoff:    orDefault(cfg.Backoff, defaultBackoff),
		threshold:  orDefault(cfg.BreakerFailures, defaultBreakerFailures),
		cooldown:   orDefault(cfg.BreakerCooldown, defaultBreakerCooldown),
		logger:     logger,
		now:        time.Now,
		circuits:   map[string]*circuit{},
	}
	switch {
	case cfg.Retries == 0:
		c.retries = defaultRetries
	case cfg.Retries < 0:
		c.retries = 0
	}
	client := &http.Client{}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		client = &copied
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.client = client
	// Copy the maps so a caller changing its Config later cannot race with us.
	c.paths = maps.Clone(cfg.Paths)
	for source := range c.paths {
		c.circuits[source] = &circuit{}
	}
	c.fieldMap = make(map[string]map[string]string, len(cfg.FieldMap))
	for source, m := range cfg.FieldMap {
		c.fieldMap[source] = maps.Clone(m)
	}
	if strings.HasPrefix(base, "http://") && c.authHeader != "" {
		logger.Warn("hub: credentials for a department system are sent over plain HTTP; use https", "host", hostOf(base))
	}
	return c, nil
}

// checkBaseURL returns the base URL without its trailing slash, or "" after
// reporting why it is unusable. It never echoes user info, which may hold a
// password.
func checkBaseURL(raw string, add func(zh, en string, args ...any)) string {
	if raw == "" {
		add("BaseURL为空：请填写部门系统的地址，如https://rkk.gov.example/api", "BaseURL is empty: set the department system's address, e.g. https://rkk.gov.example/api")
		return ""
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		add("BaseURL不是有效的网址：%v", "BaseURL is not a valid URL: %v", unwrapURLError(err))
	case u.Scheme != "http" && u.Scheme != "https":
		add("BaseURL %s须以https://（或http://）开头", "BaseURL %s must start with https:// (or http://)", u.Redacted())
	case u.Host == "":
		add("BaseURL %s缺少主机名", "BaseURL %s has no host", u.Redacted())
	case u.User != nil:
		add("BaseURL %s中含有凭据：请改放在AuthHeader和AuthValue中", "BaseURL %s carries credentials: put them in AuthHeader and AuthValue instead", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		add("BaseURL %s含有查询参数或片段：查询参数请写在Paths中", "BaseURL %s has a query or fragment: put query parameters in Paths", u.Redacted())
	default:
		return strings.TrimRight(raw, "/")
	}
	return ""
}

// State returns the circuit state of source for health pages: "closed",
// "open" or "half-open" (the cooldown is over and the next call is a trial).
// Sources the connector does not serve are "closed".
func (c *Connector) State(source string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	cb, ok := c.circuits[source]
	switch {
	case !ok || cb.openUntil.IsZero():
		return "closed"
	case c.now().Before(cb.openUntil):
		return "open"
	}
	return "half-open"
}

// Fetch implements hub.Connector.
func (c *Connector) Fetch(ctx context.Context, source string, subject hub.Subject, fields []string) (hub.Record, error) {
	src, ok := hub.Lookup(source)
	if !ok {
		return nil, fmt.Errorf("%w: unknown source %q", hub.ErrNotFound, source)
	}
	tmpl, ok := c.paths[source]
	if !ok {
		// Not NotFound: the source may well hold a record, we just cannot ask.
		return nil, fmt.Errorf("%w: %s: this connector has no path for it; add the source to Paths", hub.ErrUnavailable, source)
	}
	if !isLicence(source) && !src.Keeps(subject.Kind) {
		return nil, fmt.Errorf("%w: %s keeps %s records, not %s records", hub.ErrNotFound, source, src.Subject, subject.Kind)
	}
	key := strings.TrimSpace(subject.Key)
	if subject.Kind == hub.Person {
		key = ident.NormalizeIDNumber(key)
	}
	if key == "" || key == "." || key == ".." { // the last two would change the path, not name a subject
		return nil, fmt.Errorf("%w: %s: no valid subject key given", hub.ErrNotFound, source)
	}
	if !isLicence(source) {
		for _, f := range fields {
			if _, ok := src.Field(f); !ok {
				return nil, fmt.Errorf("%w: %s has no field %q", hub.ErrNotFound, source, f)
			}
		}
	}

	s := scrubber{key, url.PathEscape(key), url.QueryEscape(key), c.authValue}
	trial, err := c.admit(source)
	if err != nil {
		return nil, err
	}
	rec, p := c.call(ctx, src, join(c.base, fill(tmpl, key)), fields, trial, s)
	if p == nil {
		c.settle(ctx, source, trial, answered)
		return rec, nil
	}
	var reopened time.Time
	switch {
	case p.cause != nil: // the caller gave up; the source is neither well nor ill
		c.settle(ctx, source, trial, neutral)
	case p.sentinel == hub.ErrUnavailable:
		reopened = c.settle(ctx, source, trial, failed)
	default:
		c.settle(ctx, source, trial, answered)
	}
	msg := p.what
	if !reopened.IsZero() {
		msg += "; circuit open until " + reopened.Format("15:04:05")
	}
	if p.cause != nil {
		return nil, fmt.Errorf("%w: %s: %s: %w", p.sentinel, source, s.scrub(msg), p.cause)
	}
	return nil, fmt.Errorf("%w: %s: %s", p.sentinel, source, s.scrub(msg))
}

// problem is why a call failed.
type problem struct {
	sentinel error  // hub.ErrNotFound, ErrUnavailable or ErrMalformed
	what     string // for the error message; may be scrubbed of the key later
	retry    bool   // another attempt may succeed
	cause    error  // the caller's context error, when it gave up
}

// call makes the attempts of one call: one for a half-open trial, so that a
// recovering system is not met with a burst.
func (c *Connector) call(ctx context.Context, src hub.Source, target string, fields []string, trial bool, s scrubber) (hub.Record, *problem) {
	attempts := c.retries + 1
	if trial {
		attempts = 1
	}
	var (
		body []byte
		ct   string
		p    *problem
	)
	for n := 1; n <= attempts; n++ {
		if n > 1 {
			if err := sleep(ctx, c.delay(n-1)); err != nil {
				return nil, &problem{sentinel: hub.ErrUnavailable, what: fmt.Sprintf("gave up waiting after %d attempt(s)", n-1), cause: err}
			}
		}
		body, ct, p = c.attempt(ctx, src.Name, target)
		if p == nil || !p.retry {
			break
		}
		c.logger.DebugContext(ctx, "hub: attempt failed", "source", src.Name, "attempt", n, "of", attempts, "reason", s.scrub(p.what))
	}
	if p != nil {
		if p.retry {
			switch {
			case trial:
				p.what = "trial call after the cooldown: " + p.what
			case attempts > 1:
				p.what += fmt.Sprintf(" after %d attempts", attempts)
			}
		}
		return nil, p
	}
	obj, what := decode(body, ct)
	if what != "" {
		return nil, &problem{sentinel: hub.ErrMalformed, what: what}
	}
	all, what := extract(obj, c.fieldMap[src.Name], fields)
	if what != "" {
		return nil, &problem{sentinel: hub.ErrMalformed, what: what}
	}
	rec, err := hub.Project(src, all, fields)
	if err != nil {
		// Project names the source and wraps the sentinel itself; keep only
		// what it says about the field.
		sentinel := hub.ErrMalformed
		if errors.Is(err, hub.ErrNotFound) {
			sentinel = hub.ErrNotFound
		}
		what := strings.TrimPrefix(strings.TrimPrefix(err.Error(), sentinel.Error()+": "), src.Name+".")
		return nil, &problem{sentinel: sentinel, what: "field " + what}
	}
	return rec, nil
}

// attempt makes one request and returns the body of a 2xx answer and its
// content type, or the problem.
func (c *Connector) attempt(ctx context.Context, source, target string) ([]byte, string, *problem) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, target, nil)
	if err != nil { // New checked the URL; only a strange key could get here
		return nil, "", &problem{sentinel: hub.ErrUnavailable, what: "cannot build the request: " + unwrapURLError(err).Error()}
	}
	req.Header.Set("Accept", "application/json")
	if c.authHeader != "" {
		req.Header.Set(c.authHeader, c.authValue)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", c.transportProblem(ctx, actx, "connection failed", err)
	}
	defer resp.Body.Close()

	status := resp.StatusCode
	switch {
	case status >= 200 && status < 300:
	case status == http.StatusNotFound:
		drain(resp.Body)
		return nil, "", &problem{sentinel: hub.ErrNotFound, what: "the system has no record (HTTP 404)"}
	case status >= 500 || status == http.StatusTooManyRequests:
		drain(resp.Body)
		return nil, "", &problem{sentinel: hub.ErrUnavailable, what: fmt.Sprintf("HTTP %d", status), retry: true}
	default:
		drain(resp.Body)
		var why string
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			why = "the system refused our credentials: check AuthHeader and AuthValue, and that the department granted access to this source"
		case status >= 300 && status < 400:
			why = "the system redirects, which is not followed: check BaseURL and Paths"
		default:
			why = "the system rejected the request: check BaseURL and Paths"
		}
		c.logger.ErrorContext(ctx, "hub: department system refuses our requests; the configuration or credentials are wrong",
			"source", source, "host", hostOf(c.base), "status", status, "hint", why)
		return nil, "", &problem{sentinel: hub.ErrUnavailable, what: fmt.Sprintf("HTTP %d: %s", status, why)}
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, "", c.transportProblem(ctx, actx, "the connection broke while reading the answer", err)
	}
	if len(body) > maxBody {
		return nil, "", &problem{sentinel: hub.ErrMalformed, what: fmt.Sprintf("the answer is larger than %d MiB", maxBody>>20)}
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// transportProblem tells apart the caller giving up, an attempt timing out
// and the network failing. The *url.Error is dropped: its text holds the
// URL, and so the subject's key.
func (c *Connector) transportProblem(ctx, actx context.Context, what string, err error) *problem {
	if ctx.Err() != nil {
		return &problem{sentinel: hub.ErrUnavailable, what: "the caller gave up", cause: ctx.Err()}
	}
	var ne net.Error
	if errors.Is(actx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &problem{sentinel: hub.ErrUnavailable, what: fmt.Sprintf("timed out (%s per attempt)", c.timeout), retry: true}
	}
	return &problem{sentinel: hub.ErrUnavailable, what: what + ": " + unwrapURLError(err).Error(), retry: true}
}

// delay is the wait before retry n (1-based): the backoff doubled n-1
// times, capped, and then jittered down by up to half so that callers that
// failed together do not retry together.
func (c *Connector) delay(n int) time.Duration {
	d := c.backoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// outcome is what a call says about the source's health.
type outcome int

const (
	answered outcome = iota // it answered, even "no record" or garbage
	failed                  // it did not answer
	neutral                 // the caller gave up first
)

// admit lets a call through the source's circuit, or says why not. trial
// reports that the call is the half-open trial.
func (c *Connector) admit(source string) (trial bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cb := c.circuits[source]
	switch {
	case cb.openUntil.IsZero():
		return false, nil
	case c.now().Before(cb.openUntil):
		return false, fmt.Errorf("%w: %s: circuit open after %d consecutive failed calls, until %s", hub.ErrUnavailable, source, cb.failures, cb.openUntil.Format("15:04:05"))
	case cb.trial:
		return false, fmt.Errorf("%w: %s: circuit half-open, a trial call is under way", hub.ErrUnavailable, source)
	}
	cb.trial = true
	return true, nil
}

// settle records a call's outcome in the source's circuit and returns when
// the circuit now stays open until, if this call opened it.
func (c *Connector) settle(ctx context.Context, source string, trial bool, o outcome) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	cb := c.circuits[source]
	if trial {
		cb.trial = false
	}
	switch o {
	case answered:
		if !cb.openUntil.IsZero() {
			c.logger.InfoContext(ctx, "hub: circuit closed, the department system answers again", "source", source)
		}
		cb.failures, cb.openUntil = 0, time.Time{}
	case failed:
		cb.failures++
		if trial || (cb.openUntil.IsZero() && cb.failures >= c.threshold) {
			cb.openUntil = c.now().Add(c.cooldown)
			c.logger.WarnContext(ctx, "hub: circuit open, calls to the department system are refused until the cooldown ends",
				"source", source, "failures", cb.failures, "until", cb.openUntil.Format(time.TimeOnly))
			return cb.openUntil
		}
	}
	return time.Time{}
}

// decode parses the answer as one JSON object. Numbers stay json.Number so
// that large whole numbers keep every digit.
func decode(body []byte, contentType string) (map[string]any, string) {
	hint := ""
	if contentType != "" && !strings.Contains(strings.ToLower(contentType), "json") {
		hint = fmt.Sprintf(" (Content-Type %.60q)", contentType)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Sprintf("malformed JSON at byte %d: %v%s", se.Offset, se, hint)
		case errors.Is(err, io.EOF):
			return nil, "empty answer, want a JSON object" + hint
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Sprintf("truncated JSON: the answer stops at byte %d inside a value%s", len(body), hint)
		}
		return nil, fmt.Sprintf("malformed JSON: %v%s", err, hint)
	}
	rest := body[dec.InputOffset():]
	if trimmed := bytes.TrimLeft(rest, " \t\r\n"); len(trimmed) > 0 {
		at := len(body) - len(trimmed) + 1 // 1-based, as json.SyntaxError counts
		return nil, fmt.Sprintf("malformed JSON at byte %d: data after the value%s", at, hint)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, "want a JSON object, got " + jsonKind(v) + hint
	}
	return obj, ""
}

// extract reads the asked fields out of the remote object under their
// remote names. Null and missing fields are left out.
func extract(obj map[string]any, fieldMap map[string]string, fields []string) (hub.Record, string) {
	all := hub.Record{}
	for _, name := range fields {
		remote := name
		if r, ok := fieldMap[name]; ok {
			remote = r
		}
		v, what := lookup(obj, remote)
		if what != "" {
			return nil, fmt.Sprintf("field %s (remote %s): %s", name, remote, what)
		}
		if v != nil {
			all[name] = normalize(v)
		}
	}
	return all, ""
}

// lookup follows a dotted path into nested objects. A missing or null step
// gives nil; a step that is not an object is malformed.
func lookup(obj map[string]any, path string) (any, string) {
	steps := strings.Split(path, ".")
	for i, step := range steps[:len(steps)-1] {
		next, ok := obj[step]
		if !ok || next == nil {
			return nil, ""
		}
		m, ok := next.(map[string]any)
		if !ok {
			return nil, fmt.Sprintf("%s is %s, want an object", strings.Join(steps[:i+1], "."), jsonKind(next))
		}
		obj = m
	}
	return obj[steps[len(steps)-1]], ""
}

// normalize turns json.Number into int64 (whole numbers that fit) or float64,
// the types hub.Project expects, inside lists and objects too. A number
// neither can hold stays json.Number, which Project refuses.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}

// jsonKind names a decoded JSON value's kind for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number, float64, int64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// scrubber removes secrets from messages, should a server or library ever
// echo them back.
type scrubber []string

func (s scrubber) scrub(msg string) string {
	for _, secret := range s {
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "***")
		}
	}
	return msg
}

// unwrapURLError drops the URL from a *url.Error: it may hold the key.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// drain reads a little of an unwanted body so the connection can be reused.
func drain(body io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10)) }

// fill puts the key into a path template, escaped for the part it is in, so
// that no key can add a path segment or a query parameter.
func fill(tmpl, key string) string {
	path, query, hasQuery := strings.Cut(tmpl, "?")
	path = strings.ReplaceAll(path, keyPlaceholder, url.PathEscape(key))
	if !hasQuery {
		return path
	}
	return path + "?" + strings.ReplaceAll(query, keyPlaceholder, url.QueryEscape(key))
}

func join(base, path string) string { return base + "/" + strings.TrimLeft(path, "/") }

func hostOf(base string) string {
	if u, err := url.Parse(base); err == nil {
		return u.Host
	}
	return ""
}

func isLicence(source string) bool { return strings.HasPrefix(source, "licence.") }

// isToken reports whether s is a valid HTTP header name (RFC 9110 token).
func isToken(s string) bool {
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return s != ""
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
