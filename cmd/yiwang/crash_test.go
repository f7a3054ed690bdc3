package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"yiwang/internal/identity"
	"yiwang/internal/loadtest"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// The crash test's size: enough submissions in flight that the kill lands
// in the middle of some, small enough to run in well under a minute.
const (
	crashApplicants   = 12 // bench applicants: approve, reject and manual profiles
	crashPerApplicant = 5  // applications each, so 60 in the burst
	crashWorkers      = 8  // applications in flight at once
	crashKillAfter    = 20 // acknowledged submissions before each SIGKILL
	crashKills        = 2  // in the burst, then in the retries after the restart
	// Jobs left running by a killed server are tried again once River's
	// rescuer sees them (--job-rescue-after 2s): when the new server is
	// elected leader, after the dead one's lease ends.
	crashCatchUp = 45 * time.Second
)

// TestCrashDuringSubmissionBurst kills the real server (SIGKILL, no
// shutdown) in the middle of a burst of submissions, restarts it on the
// same database and retries, with the same Idempotency-Keys, every request
// that was not answered and some that were. Then it checks with SQL what
// issue 7 promises: every acknowledged application exists, once per key,
// with the number it was acknowledged with; retries made no second
// application; no licence exists without its approved application; every
// application the machine approved has exactly one licence; no application
// or licence number is used twice, and the numbering has no gaps.
func TestCrashDuringSubmissionBurst(t *testing.T) {
	bin := buildYiwang(t)
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		began := time.Now()
		ctx := context.Background()
		dataDir := t.TempDir()
		first := startChild(t, bin, dsn, dataDir)
		if code, _, stderr := runCmd(t, "bench", "prepare", "--db", dsn, "--data-dir", dataDir, "--applicants", strconv.Itoa(crashApplicants)); code != 0 {
			t.Fatalf("bench prepare: exit %d: %s", code, stderr)
		}
		applicants, err := loadtest.ReadApplicants(filepath.Join(dataDir, loadtest.ApplicantsFile))
		if err != nil {
			t.Fatal(err)
		}
		c := &crashClient{http: &http.Client{Timeout: 30 * time.Second}}
		c.base.Store(first.url)
		sessions := make([]*crashSession, len(applicants))
		for i, a := range applicants {
			if sessions[i], err = c.signIn(ctx, a.Login); err != nil {
				t.Fatalf("sign in applicant %d: %v", i, err)
			}
		}
		var attempts []*attempt
		for j := range crashPerApplicant {
			for i, s := range sessions {
				attempts = append(attempts, &attempt{s: s, expect: applicants[i].Expect,
					startKey: fmt.Sprintf("crash-%d-%d-start", i, j), submitKey: fmt.Sprintf("crash-%d-%d-submit", i, j)})
			}
		}
		prepared := time.Since(began)

		// The burst, killed once enough submissions are acknowledged; then
		// after each restart the retries — of everything unacknowledged,
		// twice at once, and of some acknowledged — killed again the same
		// way, until the last round runs to its end.
		srv, restarted := first, time.Now()
		for round := 0; ; round++ {
			last := round == crashKills
			var acked atomic.Int64
			var killed atomic.Bool
			kill := sync.OnceFunc(func() { killed.Store(true); srv.kill(t) })
			work(attempts, crashWorkers, func(at *attempt) {
				if killed.Load() || (round > 0 && !at.retry) {
					return // not sent: retried in the next round
				}
				err := c.apply(ctx, at, round > 0)
				if err == nil && !last && acked.Add(1) == crashKillAfter {
					kill()
				}
				if err != nil && !(killed.Load() && errors.Is(err, errNoAnswer)) {
					at.fail(fmt.Errorf("round %d: %w", round, err))
				}
			})
			if last {
				break
			}
			kill() // a round that ended early still ends in a kill
			var open, retried int
			for i, at := range attempts {
				at.retry = at.number == "" || (i+round)%3 == 0
				if at.number == "" {
					open++
				} else if at.retry {
					retried++
				}
			}
			t.Logf("round %d: killed the server after %d acknowledged submissions; %d of %d applications unacknowledged, retrying them and %d acknowledged ones",
				round, acked.Load(), open, len(attempts), retried)
			srv = startChild(t, bin, dsn, dataDir)
			c.base.Store(srv.url)
			restarted = time.Now()
		}
		lost := 0
		for _, at := range attempts {
			for _, err := range at.errs {
				t.Errorf("%s: %v", at.startKey, err)
			}
			if at.number == "" && len(at.errs) == 0 {
				t.Errorf("%s: never acknowledged, even after the restarts", at.startKey)
			}
			if at.lost {
				lost++
			}
		}
		t.Logf("%d submissions committed without their answer reaching the client before a kill", lost)
		c.actOnceAtATime(ctx, t, attempts)

		db := storetest.Open(t, dsn)
		// Licences are issued in the approving transaction, or by a job
		// enqueued in it: give jobs time to catch up before judging.
		var problems []string
		deadline := time.Now().Add(crashCatchUp)
		for {
			problems = crashInvariants(ctx, t, db, attempts)
			if len(problems) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, p := range problems {
			t.Error(p)
		}
		t.Logf("caught up %s after the last restart", time.Since(restarted).Round(100*time.Millisecond))
		for _, r := range rowsOf(ctx, t, db, `SELECT kind, state, CAST(COUNT(*) AS TEXT) FROM river_job GROUP BY kind, state`) {
			t.Logf("jobs: %v", r)
		}
		srv.stop(t)
		t.Logf("%s: prepared in %s, whole test %s", db.Backend, prepared.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	})
}

// crashInvariants checks the database after the crash and the retries and
// returns what is wrong.
func crashInvariants(ctx context.Context, t *testing.T, db *store.DB, attempts []*attempt) []string {
	t.Helper()
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	rows := func(q string, args ...any) [][]string { return rowsOf(ctx, t, db, q, args...) }

	// Every key names one application, the one acknowledged with it.
	keyApp := map[string]string{}
	for _, r := range rows(`SELECT key, CAST(application_id AS TEXT) FROM idempotency_keys WHERE key LIKE 'crash-%'`) {
		keyApp[r[0]] = r[1]
	}
	type app struct{ number, status, outcome string }
	apps := map[string]app{}
	for _, r := range rows(`SELECT CAST(a.id AS TEXT), COALESCE(a.number, ''), a.status, COALESCE(d.outcome, '')
		FROM applications a LEFT JOIN decisions d ON d.application_id = a.id
		WHERE a.account_id IN (SELECT account_id FROM idempotency_keys WHERE key LIKE 'crash-%')`) {
		apps[r[0]] = app{r[1], r[2], r[3]}
	}
	seen := map[string]string{}
	for _, at := range attempts {
		id, sid := keyApp[at.startKey], keyApp[at.submitKey]
		switch {
		case id == "":
			bad("%s: no application remembered for the key", at.startKey)
			continue
		case strconv.FormatInt(at.startedID, 10) != id:
			bad("%s: acknowledged as application %d, the key names %s", at.startKey, at.startedID, id)
		case sid != id:
			bad("%s: the submission key names application %q, the start key %s", at.submitKey, sid, id)
		case seen[id] != "":
			bad("%s and %s both name application %s", seen[id], at.startKey, id)
		}
		seen[id] = at.startKey
		a, ok := apps[id]
		switch {
		case !ok:
			bad("%s: acknowledged application %s does not exist", at.startKey, id)
		case a.number == "" || a.number != at.number:
			bad("%s: application %s has number %q, acknowledged as %q", at.startKey, id, a.number, at.number)
		case a.outcome != at.expect:
			bad("%s: application %s decided %q, the applicant's records give %q", at.startKey, id, a.outcome, at.expect)
		}
	}
	if len(apps) != len(attempts) {
		bad("the applicants have %d applications for %d idempotency keys: a retry made another", len(apps), len(attempts))
	}

	// No licence without its approved application; every machine approval
	// has exactly one licence.
	for _, r := range rows(`SELECT l.number, COALESCE(a.status, 'missing') FROM licences l LEFT JOIN applications a ON a.id = l.application_id
		WHERE l.application_id IS NOT NULL AND (a.id IS NULL OR a.status NOT IN ('licence_issued', 'delivered', 'revoked') OR l.application_number <> a.number)`) {
		bad("licence %s belongs to an application that is %s (or numbered otherwise)", r[0], r[1])
	}
	for _, r := range rows(`SELECT COALESCE(a.number, ''), a.status, CAST(COUNT(l.id) AS TEXT) FROM applications a
		JOIN decisions d ON d.application_id = a.id AND d.outcome = 'approve'
		LEFT JOIN licences l ON l.application_id = a.id
		GROUP BY a.id, a.number, a.status HAVING COUNT(l.id) <> 1 OR a.status <> 'licence_issued'`) {
		bad("machine-approved application %s is %s with %s licence(s)", r[0], r[1], r[2])
	}

	// Jobs catch up: none is left waiting or running, e.g. one that was
	// running when its process was killed.
	for _, r := range rows(`SELECT kind, state, CAST(COUNT(*) AS TEXT) FROM river_job WHERE state IN ('available', 'running', 'retryable') GROUP BY kind, state`) {
		bad("%s %s job(s) %s", r[2], r[0], r[1])
	}

	// No number used twice; an application number's sequence has no gaps
	// and its counter never went back.
	for _, q := range []string{
		`SELECT number, CAST(COUNT(*) AS TEXT) FROM applications WHERE number IS NOT NULL GROUP BY number HAVING COUNT(*) > 1`,
		`SELECT number, CAST(COUNT(*) AS TEXT) FROM licences GROUP BY number HAVING COUNT(*) > 1`,
	} {
		for _, r := range rows(q) {
			bad("number %s is used %s times", r[0], r[1])
		}
	}
	prefixes := map[string]int{}
	for _, a := range apps {
		if i := strings.LastIndex(a.number, "-"); i > 0 {
			prefixes[a.number[:i]] = 0
		}
	}
	for prefix := range prefixes {
		var last, count, top int
		if err := db.QueryRowContext(ctx, `SELECT last FROM application_numbers WHERE prefix = $1`, prefix).Scan(&last); err != nil {
			t.Fatalf("counter of %s: %v", prefix, err)
		}
		for _, r := range rows(`SELECT number FROM applications WHERE number LIKE $1`, prefix+"-%") {
			n, err := strconv.Atoi(strings.TrimPrefix(r[0], prefix+"-"))
			if err != nil {
				bad("application number %s is malformed", r[0])
				continue
			}
			count, top = count+1, max(top, n)
		}
		if last != count || top != count {
			bad("numbers %s-*: %d used, highest %d, counter at %d: want all three equal", prefix, count, top, last)
		}
	}
	return out
}

// attempt is one application of the burst: its keys, and what the server
// acknowledged. Only the one goroutine applying it writes it.
type attempt struct {
	s                   *crashSession
	expect              string // the decision the applicant's records give
	startKey, submitKey string
	startedID           int64  // acknowledged by the start
	number              string // acknowledged by the submission
	retry               bool
	lost                bool // found submitted though never acknowledged
	errs                []error
}

func (at *attempt) fail(err error) { at.errs = append(at.errs, err) }

// work runs fn on every attempt, n at a time.
func work(attempts []*attempt, n int, fn func(*attempt)) {
	next := make(chan *attempt)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for at := range next {
				fn(at)
			}
		})
	}
	for _, at := range attempts {
		next <- at
	}
	close(next)
	wg.Wait()
}

type crashSession struct{ cookie, csrf string }

// crashClient is an applicant's browser as far as the API goes; base is
// the current server's address, which changes at the restart.
type crashClient struct {
	http *http.Client
	base atomic.Value
}

// errNoAnswer: the request got no HTTP answer (the server died or was down).
var errNoAnswer = errors.New("no answer")

// call sends one JSON request with the headers given and decodes a `want` answer into out.
func (c *crashClient) call(ctx context.Context, s *crashSession, method, path string, header map[string]string, in any, want int, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.Load().(string)+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if s != nil {
		req.Header.Set("Cookie", s.cookie)
		req.Header.Set(identity.CSRFHeader, s.csrf)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w: %v", method, path, errNoAnswer, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w: %v", method, path, errNoAnswer, err)
	}
	if resp.StatusCode != want {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

func (c *crashClient) signIn(ctx context.Context, login string) (*crashSession, error) {
	b, _ := json.Marshal(map[string]string{"login": login, "password": loadtest.Password})
	req, _ := http.NewRequestWithContext(ctx, "POST", c.base.Load().(string)+"/api/v1/session", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %v", resp.StatusCode, err)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == identity.SessionCookie {
			return &crashSession{cookie: ck.Name + "=" + ck.Value, csrf: me.CSRF}, nil
		}
	}
	return nil, errors.New("no session cookie")
}

type crashApp struct {
	ID     int64          `json:"id"`
	Number string         `json:"number"`
	Status string         `json:"status"`
	Form   map[string]any `json:"form"`
}

// apply starts, fills and submits the attempt's application with its keys,
// as an applicant's client does, and checks what a retry answers against
// what was acknowledged before. With twice, the submission goes twice at
// once, as a client retrying too early would send it.
func (c *crashClient) apply(ctx context.Context, at *attempt, twice bool) error {
	var a crashApp
	if _, err := c.call(ctx, at.s, "POST", "/api/v1/applications", map[string]string{"Idempotency-Key": at.startKey},
		map[string]any{"item_code": loadtest.SeniorCard, "consent": true}, http.StatusCreated, &a); err != nil {
		return err
	}
	if at.startedID != 0 && a.ID != at.startedID {
		return fmt.Errorf("the start retried with its key gave application %d, first %d", a.ID, at.startedID)
	}
	if at.number == "" && a.Status != "draft" {
		at.lost = true // submitted before the crash, its answer lost
	}
	at.startedID = a.ID
	path := fmt.Sprintf("/api/v1/applications/%d", a.ID)
	if _, ok := a.Form["delivery"]; !ok && a.Status == "draft" {
		code, err := c.call(ctx, at.s, "PATCH", path+"/form", nil, map[string]any{"delivery": "electronic"}, http.StatusOK, nil)
		if err != nil && code != http.StatusConflict { // 409: submitted before the crash, unacknowledged
			return err
		}
	}
	submit := func() (crashApp, error) {
		var done crashApp
		_, err := c.call(ctx, at.s, "POST", path+"/submit", map[string]string{"Idempotency-Key": at.submitKey}, nil, http.StatusOK, &done)
		return done, err
	}
	var done crashApp
	var err error
	if twice && at.number == "" {
		var other crashApp
		var otherErr error
		var wg sync.WaitGroup
		wg.Go(func() { other, otherErr = submit() })
		done, err = submit()
		wg.Wait()
		if err == nil && otherErr == nil && other.Number != done.Number {
			return fmt.Errorf("two submissions with one key got numbers %s and %s", other.Number, done.Number)
		}
		err = errors.Join(err, otherErr)
	} else {
		done, err = submit()
	}
	if err != nil {
		return err
	}
	if done.Number == "" || done.Status == "draft" {
		return fmt.Errorf("submission acknowledged without a number: %+v", done)
	}
	if at.number != "" && done.Number != at.number {
		return fmt.Errorf("the submission retried with its key gave number %s, first %s", done.Number, at.number)
	}
	at.number = done.Number
	return nil
}

// actOnceAtATime withdraws an application sent to a person (manual) twice
// at once with the revision read: one withdrawal wins, the other is 409
// stale_application, as is a third with the old revision.
func (c *crashClient) actOnceAtATime(ctx context.Context, t *testing.T, attempts []*attempt) {
	t.Helper()
	var at *attempt
	for _, x := range attempts {
		if x.expect == "manual" && x.number != "" {
			at = x
			break
		}
	}
	if at == nil {
		t.Fatal("no application went to a person")
	}
	path := fmt.Sprintf("/api/v1/applications/%d", at.startedID)
	var a struct {
		Revision int64 `json:"revision"`
	}
	if _, err := c.call(ctx, at.s, "GET", path, nil, nil, http.StatusOK, &a); err != nil {
		t.Fatal(err)
	}
	withdraw := func() (int, error) {
		return c.call(ctx, at.s, "POST", path+"/withdraw", map[string]string{"If-Match": strconv.FormatInt(a.Revision, 10)}, map[string]string{"reason": "不办了"}, http.StatusOK, nil)
	}
	codes := make([]int, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() { codes[i], errs[i] = withdraw() })
	}
	wg.Wait()
	code, err := withdraw()
	codes, errs = append(codes, code), append(errs, err)
	won := 0
	for i, code := range codes {
		switch {
		case code == http.StatusOK:
			won++
		case code != http.StatusConflict || !strings.Contains(errs[i].Error(), "stale_application"):
			t.Errorf("withdrawal %d with revision %d: %v", i, a.Revision, errs[i])
		}
	}
	if won != 1 || codes[2] == http.StatusOK {
		t.Errorf("withdrawals with one revision: %v, want one 200 and the rest 409", codes)
	}
}

// buildYiwang builds the yiwang binary once for the test: the crash test
// needs a process of its own to kill.
func buildYiwang(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "yiwang")
	began := time.Now()
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built yiwang in %s", time.Since(began).Round(time.Millisecond))
	return bin
}

// child is a `yiwang serve` process.
type child struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	url  string
	done chan error
}

// startChild runs `yiwang serve` on the database at dsn, with the extra
// flags given, and waits until it says where it serves. Anything left
// running is killed when the test ends.
func startChild(t *testing.T, bin, dsn, dataDir string, extra ...string) *child {
	t.Helper()
	c := &child{log: &syncBuffer{}, done: make(chan error, 1)}
	c.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dsn, "--demo", "--data-dir", dataDir, "--job-poll", "100ms", "--job-rescue-after", "2s", "--submission-limit", "1000")
	c.cmd.Args = append(c.cmd.Args, extra...)
	for _, kv := range os.Environ() { // the flags say everything: no YIWANG_* from the environment
		if !strings.HasPrefix(kv, "YIWANG_") {
			c.cmd.Env = append(c.cmd.Env, kv)
		}
	}
	c.cmd.Stdout, c.cmd.Stderr = io.Discard, c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-c.done: // it has exited
			c.done <- err
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
		if log := c.log.String(); t.Failed() {
			t.Logf("server log, the end:\n%s", log[max(0, len(log)-16<<10):])
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for c.url == "" {
		if m := servingURL.FindStringSubmatch(c.log.String()); m != nil {
			c.url = strings.TrimSuffix(m[1], "/")
			break
		}
		select {
		case err := <-c.done:
			c.done <- err
			t.Fatalf("serve exited (%v) before serving:\n%s", err, c.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never said where to open it:\n%s", c.log.String())
		}
	}
	return c
}

// kill ends the server with SIGKILL: no shutdown, no deferred cleanup. It
// may be called from any goroutine.
func (c *child) kill(t *testing.T) {
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("SIGKILL: %v", err)
		return
	}
	<-c.done
	c.done <- nil
}

// stop ends the server as an operator does (SIGTERM) and expects a clean exit.
func (c *child) stop(t *testing.T) {
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM", err)
		}
		c.done <- err
	case <-time.After(30 * time.Second):
		t.Error("serve did not stop after SIGTERM")
	}
}

// rowsOf runs a query and returns its rows as text.
func rowsOf(ctx context.Context, t *testing.T, db *store.DB, q string, args ...any) [][]string {
	t.Helper()
	r, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	var all [][]string
	for r.Next() {
		vals := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		all = append(all, vals)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return all
}
