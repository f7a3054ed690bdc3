package main

// The browser harness: a real `yiwang serve` on a fresh SQLite data folder
// with demo data and background jobs, driven by Debian's headless Chromium
// through chromedp. Every failed step leaves a screenshot in
// testdata/failures/ so a person can see what the browser saw, and
// checkA11y runs axe-core (vendored in testdata/axe) inside the page.

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
)

//go:embed testdata/axe/axe.min.js
var axeSource string

// site is a running yiwang server for browser tests.
type site struct {
	URL     string // base address without the trailing slash
	DataDir string
	Log     *syncBuffer // the server's log, shown when a test fails
	stop    func()
}

// Stop stops the server and waits until it has finished; the test's end
// does it too.
func (s *site) Stop() { s.stop() }

// startServe runs `yiwang serve` in-process with args added to the usual
// ones and waits until it says where it serves. The server stops, and must
// stop cleanly, when the test ends.
func startServe(t *testing.T, args ...string) *site {
	t.Helper()
	return startServeEnv(t, noEnv, args...)
}

// startServeEnv is startServe with the environment getenv reads.
func startServeEnv(t *testing.T, getenv func(string) string, args ...string) *site {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	s := &site{DataDir: t.TempDir(), Log: &syncBuffer{}}
	var stdout syncBuffer
	done := make(chan int, 1)
	go func() {
		all := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", s.DataDir, "--job-poll", "100ms"}, args...)
		done <- run(ctx, all, getenv, &stdout, s.Log)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for s.URL == "" {
		if m := servingURL.FindStringSubmatch(s.Log.String()); m != nil {
			s.URL = strings.TrimSuffix(m[1], "/")
		} else if time.Now().After(deadline) {
			stop()
			t.Fatalf("server never said where to open it:\n%s", s.Log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			stop()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve exited %d:\n%s", code, s.Log.String())
				}
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop after the signal")
			}
			if t.Failed() {
				t.Logf("server log:\n%s", s.Log.String())
			}
		})
	}
	t.Cleanup(s.stop)
	return s
}

// startSite is the demo platform on a fresh SQLite database.
func startSite(t *testing.T) *site {
	t.Helper()
	return startServe(t)
}

// browser is one headless Chromium tab.
type browser struct {
	ctx context.Context

	mu  sync.Mutex
	csp []string // what the Content-Security-Policy blocked, as Chromium logged it
}

// chromiumPath finds Debian's Chromium. Without it the browser tests skip,
// except in CI where a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on this machine: CI must install Debian's chromium package (.ci/run does)")
	}
	t.Skip("no Chromium on this machine (install Debian's chromium package to run the browser tests)")
	return ""
}

// newBrowser opens a fresh browser (own profile, no cookies) sized like a
// laptop screen; it closes when the test ends.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	return newBrowserSized(t, 1280, 900)
}

// newBrowserSized opens a browser with the given window size, e.g. a phone's.
func newBrowserSized(t *testing.T, width, height int) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.WindowSize(width, height),
		chromedp.Flag("lang", "zh-CN"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	b := &browser{ctx: ctx}
	// Every page the browser tests open must satisfy the server's
	// Content-Security-Policy: Chromium logs each thing it blocks.
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			b.mu.Lock()
			b.csp = append(b.csp, e.Entry.URL+": "+e.Entry.Text)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("listen to Chromium's log: %v", err)
	}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, v := range b.csp {
			t.Errorf("CSP violation: %s", v)
		}
	})
	return b
}

// stepTimeout bounds one step: a page that never shows what a step waits
// for fails the step instead of hanging the suite.
const stepTimeout = 30 * time.Second

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// do runs one named step of a journey. On failure it saves a screenshot of
// the page as it was and fails the test.
func (b *browser) do(t *testing.T, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	get(t, b, step, chromedp.Steps(actions...))
}

// get runs one named step that reads something from the page and returns
// it, e.g. get(t, b, "title", chromedp.Text(chromedp.CSS("h1"))).
func get[T any](t *testing.T, b *browser, step string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("step %q: %v (screenshot: %s)", step, err, b.screenshot(t, step))
	}
	return v
}

// screenshot saves the whole page to testdata/failures/TEST-STEP.png.
func (b *browser) screenshot(t *testing.T, step string) string {
	t.Helper()
	dir := filepath.Join("testdata", "failures")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "not saved: " + err.Error()
	}
	name := unsafeName.ReplaceAllString(t.Name()+"-"+step, "_") + ".png"
	path := filepath.Join(dir, name)
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG; below it chromedp writes JPEG
	if err != nil {
		return "not saved: " + err.Error()
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "not saved: " + err.Error()
	}
	return path
}

// text returns the visible text of the first element matching sel.
func (b *browser) text(t *testing.T, step, sel string) string {
	t.Helper()
	read := chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)
	// A read that starts while the page after a form's redirect replaces
	// the one before loses its node ("No node with given id found");
	// reading is harmless to repeat, so it is tried again on the new page.
	for range 2 {
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		v, err := chromedp.Run(ctx, read)
		cancel()
		if err == nil {
			return v
		}
		if !strings.Contains(err.Error(), "No node with given id found") {
			break
		}
	}
	return get(t, b, step, read)
}

// signIn signs in through the login page, as a person would: login is a
// person's ID number (demo.ZhangSan) or a staff username ("reviewer.civil").
func (b *browser) signIn(t *testing.T, s *site, login string) {
	t.Helper()
	b.do(t, "sign in as "+login,
		chromedp.Navigate(s.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), login),
		chromedp.SendKeys(chromedp.ID("password"), demo.Password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitNotPresent(chromedp.ID("password")),
	)
}

// axeViolation is what axe-core reports about one rule.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkA11y runs axe-core on the current page and fails on every serious or
// critical violation (minor and moderate ones are logged).
func (b *browser) checkA11y(t *testing.T, step string) {
	t.Helper()
	script := axeSource + `;
		axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`
	raw := get(t, b, "axe: "+step, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	var violations []axeViolation
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		t.Fatalf("axe on %q: %v", step, err)
	}
	var serious []string
	for _, v := range violations {
		line := fmt.Sprintf("%s (%s): %s at %v", v.ID, v.Impact, v.Help, targets(v))
		if v.Impact == "serious" || v.Impact == "critical" {
			serious = append(serious, line)
		} else {
			t.Logf("axe on %q, %s", step, line)
		}
	}
	if len(serious) > 0 {
		t.Errorf("axe on %q found serious accessibility problems (screenshot: %s):\n%s", step, b.screenshot(t, "axe-"+step), strings.Join(serious, "\n"))
	}
}

func targets(v axeViolation) []any {
	var out []any
	for _, n := range v.Nodes {
		out = append(out, n.Target...)
	}
	return out
}

// TestBrowserHome is the harness's own check, and the first thing a visitor
// does: the home page opens in Chinese, a person signs in, and neither page
// has a serious accessibility problem.
func TestBrowserHome(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	b.do(t, "open home", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("main")))
	lang := get(t, b, "page language", chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value
	if !strings.HasPrefix(lang, "zh") {
		t.Errorf("home page language = %q, want Chinese by default", lang)
	}
	b.checkA11y(t, "home")
	b.signIn(t, s, demo.ZhangSan)
	b.do(t, "signed in", chromedp.Navigate(s.URL+"/me"), chromedp.WaitVisible(chromedp.CSS("main")))
	if got := b.text(t, "who am I", "main"); !strings.Contains(got, "张三") {
		t.Errorf("after signing in, /me shows %q, want 张三", got)
	}
}
