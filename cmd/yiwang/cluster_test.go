package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"yiwang/internal/blob/blobtest"
	"yiwang/internal/catalog"
	"yiwang/internal/demo"
	"yiwang/internal/identity"
	"yiwang/internal/loadtest"
	"yiwang/internal/store/storetest"
)

// clusterCatchUp bounds how long the test waits for the processes to
// agree (jobs worked, a publication indexed); it is a guard against a hang,
// not a measure: the figures are in docs/BENCHMARKS.md.
const clusterCatchUp = 30 * time.Second

// TestThreeProcessesOnOnePostgres runs three serve processes on one
// PostgreSQL database, as behind a load balancer — each its own address and
// data folder, one data key, one object store when YIWANG_TEST_S3_URL names
// one — loads all three at once with the load tool, and checks what sharing
// the database promises: no application or licence number given twice; each
// notification's delivery job run once, by one of the processes; a session
// made through one process valid through the others, and its sign-out too
// (through the others within identity.RecheckEvery);
// a catalogue publication through one process served by the others, in the
// API at once and in search within catalog.RefreshEvery; a material
// uploaded through one process read through another.
func TestThreeProcessesOnOnePostgres(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	var blobURL string
	if os.Getenv(blobtest.EnvS3) != "" || os.Getenv("CI") == "true" {
		blobURL = blobtest.S3URL(t)
	} else {
		t.Logf("no %s: materials stay on each process's disk and the upload check is skipped", blobtest.EnvS3)
	}
	bin := buildYiwang(t)
	began := time.Now()
	ctx := context.Background()
	key, _, _ := newDataKey(t)
	extra := []string{"--data-key", key}
	if blobURL != "" {
		extra = append(extra, "--blob-url", blobURL)
	}
	var procs [3]*child
	for i := range procs {
		procs[i] = startChild(t, bin, dsn, t.TempDir(), extra...)
	}
	urls := []string{procs[0].url, procs[1].url, procs[2].url}
	t.Logf("three processes serving in %s: %v", time.Since(began).Round(time.Millisecond), urls)

	// The load tool spreads applicants over the three and reports each.
	dataDir := t.TempDir()
	if code, _, stderr := runCmd(t, "bench", "prepare", "--db", dsn, "--data-key", key, "--data-dir", dataDir, "--applicants", "12"); code != 0 {
		t.Fatalf("bench prepare: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCmd(t, "bench", "run", "--url", strings.Join(urls, ","), "--applicants-file", filepath.Join(dataDir, loadtest.ApplicantsFile),
		"--duration", "3s", "--rate", "20", "--concurrency", "6", "--metrics-every", "1s")
	if code != 0 {
		t.Fatalf("bench run on three processes: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, u := range urls {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(u) + `\s+[1-9][\d,]*\s+\S+\s+0\s.*\s4$`).MatchString(stdout) {
			t.Errorf("%s: no submissions, or errors, or not 4 applicants signed in there:\n%s", u, stdout)
		}
	}

	db := storetest.Open(t, dsn)
	one := func(q string) string {
		rows := rowsOf(ctx, t, db, q)
		if len(rows) != 1 || len(rows[0]) != 1 {
			t.Fatalf("%s: %v", q, rows)
		}
		return rows[0][0]
	}
	for _, q := range []string{
		`SELECT number FROM applications WHERE number IS NOT NULL GROUP BY number HAVING COUNT(*) > 1`,
		`SELECT number FROM licences GROUP BY number HAVING COUNT(*) > 1`,
	} {
		if dup := rowsOf(ctx, t, db, q); len(dup) > 0 {
			t.Errorf("numbers given twice: %v (%s)", dup, q)
		}
	}
	t.Logf("%s applications numbered, %s licences", one(`SELECT CAST(COUNT(number) AS TEXT) FROM applications`), one(`SELECT CAST(COUNT(*) AS TEXT) FROM licences`))

	// Every notification is delivered by one job run once: River counts a
	// job's attempts and the clients that attempted it, the outbox counts
	// the delivery attempts its worker made.
	waitFor(t, "every notification job worked", func() bool {
		return one(`SELECT CAST(COUNT(*) AS TEXT) FROM river_job WHERE kind = 'notify_deliver' AND state <> 'completed'`) == "0"
	})
	if bad := rowsOf(ctx, t, db, `SELECT CAST(id AS TEXT), CAST(attempt AS TEXT), CAST(attempted_by AS TEXT) FROM river_job
		WHERE kind = 'notify_deliver' AND (attempt <> 1 OR cardinality(attempted_by) <> 1)`); len(bad) > 0 {
		t.Errorf("delivery jobs run more than once: %v", bad)
	}
	if bad := rowsOf(ctx, t, db, `SELECT CAST(id AS TEXT), status, CAST(attempts AS TEXT) FROM outbox_messages WHERE status <> 'delivered' OR attempts <> 1`); len(bad) > 0 {
		t.Errorf("messages not delivered exactly once: %v", bad)
	}
	jobs := one(`SELECT CAST(COUNT(*) AS TEXT) FROM river_job WHERE kind = 'notify_deliver'`)
	if msgs := one(`SELECT CAST(COUNT(*) AS TEXT) FROM outbox_messages`); jobs != msgs || jobs == "0" {
		t.Errorf("%s delivery jobs for %s messages", jobs, msgs)
	}
	t.Logf("%s delivery jobs, each run once, by %s processes", jobs, one(`SELECT CAST(COUNT(DISTINCT attempted_by[1]) AS TEXT) FROM river_job WHERE kind = 'notify_deliver'`))

	// A session made through one process is good on the others, for reads
	// and for a change with its CSRF token; signing out through a third
	// ends it there at once and on the others within identity.RecheckEvery.
	c := &http.Client{Timeout: 30 * time.Second}
	zhang := clusterSignIn(t, c, urls[0], demo.ZhangSan)
	for _, u := range urls[1:] {
		if code, body := clusterCall(t, c, "GET", u, "/api/v1/me", zhang, nil); code != http.StatusOK {
			t.Errorf("%s: the session made at %s: %d %s", u, urls[0], code, body)
		}
	}
	if code, body := clusterCall(t, c, "POST", urls[1], "/api/v1/applications", zhang, strings.NewReader(`{"item_code":"`+seniorCard+`","consent":true}`)); code != http.StatusCreated {
		t.Errorf("%s: starting an application with the session made at %s: %d %s", urls[1], urls[0], code, body)
	}
	if code, body := clusterCall(t, c, "DELETE", urls[2], "/api/v1/session", zhang, nil); code/100 != 2 {
		t.Fatalf("%s: sign out: %d %s", urls[2], code, body)
	}
	signedOut := time.Now()
	if code, _ := clusterCall(t, c, "GET", urls[2], "/api/v1/me", zhang, nil); code != http.StatusUnauthorized {
		t.Errorf("%s: the session signed out there answers %d, want 401", urls[2], code)
	}
	// The others answer it from memory for at most identity.RecheckEvery.
	for _, u := range urls[:2] {
		for {
			code, body := clusterCall(t, c, "GET", u, "/api/v1/me", zhang, nil)
			if code == http.StatusUnauthorized {
				break
			}
			if code != http.StatusOK || time.Since(signedOut) > identity.RecheckEvery+time.Second {
				t.Errorf("%s: the session signed out at %s answers %d %.100s after %s, want 401 within %s", u, urls[2], code, body,
					time.Since(signedOut).Round(time.Millisecond), identity.RecheckEvery)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("the sign-out reached the other processes in %s (RecheckEvery %s)", time.Since(signedOut).Round(10*time.Millisecond), identity.RecheckEvery)

	// A new version published through the first process: the others serve
	// it at once through the API and find it by its new keyword once their
	// indexers have looked at the catalogue's generation.
	const word = "麒麟" // in no demo item; put into the senior card's summary
	admin := clusterSignIn(t, c, urls[0], "catalog.admin")
	changed := zipCatalogue(t, func(name string, b []byte) []byte {
		if strings.HasSuffix(name, "senior_card.yaml") {
			return bytes.Replace(b, []byte("zh: 年满60周岁"), []byte("zh: "+word+"：年满60周岁"), 1)
		}
		return b
	})
	admin["Content-Type"] = "application/zip"
	if code, body := clusterCall(t, c, "POST", urls[0], "/api/v1/admin/catalog/import", admin, changed); code != http.StatusOK || !strings.Contains(body, `"version":2`) {
		t.Fatalf("import the changed senior card: %d %s", code, body)
	}
	delete(admin, "Content-Type")
	if code, body := clusterCall(t, c, "POST", urls[0], "/api/v1/admin/catalog/items/"+seniorCard+"/versions/2/publish", admin, nil); code != http.StatusOK {
		t.Fatalf("publish version 2: %d %s", code, body)
	}
	published := time.Now()
	for _, u := range urls[1:] {
		if code, body := clusterCall(t, c, "GET", u, "/api/v1/items/"+seniorCard, nil, nil); code != http.StatusOK || !strings.Contains(body, `"version":2`) {
			t.Errorf("%s: the item after publishing version 2 through %s: %d %.200s", u, urls[0], code, body)
		}
		if code, body := clusterCall(t, c, "GET", u, "/items/"+seniorCard, nil, nil); code != http.StatusOK || !strings.Contains(body, word) {
			t.Errorf("%s: the guide page after publishing version 2 through %s lacks %s: %d", u, urls[0], word, code)
		}
		waitFor(t, u+" finding the new keyword", func() bool {
			_, body := clusterCall(t, c, "GET", u, "/api/v1/search?q="+word, nil, nil)
			return strings.Contains(body, seniorCard)
		})
	}
	t.Logf("search on the other processes found the new version %s after it was published (RefreshEvery %s)", time.Since(published).Round(10*time.Millisecond), catalog.RefreshEvery)

	// A material uploaded through one process is read through another.
	if blobURL != "" {
		wang := clusterSignIn(t, c, urls[1], demo.WangWu)
		code, body := clusterCall(t, c, "POST", urls[1], "/api/v1/applications", wang, strings.NewReader(`{"item_code":"11910102MB0001111L-10-00005","answers":{"type":"complaint","identity":"named"},"consent":true}`))
		var app struct{ ID int64 }
		if code != http.StatusCreated || json.Unmarshal([]byte(body), &app) != nil {
			t.Fatalf("start the complaint: %d %s", code, body)
		}
		path := fmt.Sprintf("/api/v1/applications/%d/materials/receipt", app.ID)
		wang["Content-Type"] = "application/octet-stream"
		if code, body := clusterCall(t, c, "PUT", urls[1], path, wang, strings.NewReader(onePixelPNG)); code != http.StatusOK {
			t.Fatalf("upload through %s: %d %s", urls[1], code, body)
		}
		delete(wang, "Content-Type")
		for _, u := range []string{urls[0], urls[2]} {
			if code, body := clusterCall(t, c, "GET", u, path, wang, nil); code != http.StatusOK || body != onePixelPNG {
				t.Errorf("%s: the receipt uploaded through %s: %d", u, urls[1], code)
			}
		}
	}
	for _, p := range procs {
		p.stop(t)
	}
	t.Logf("whole test %s", time.Since(began).Round(time.Millisecond))
}

// waitFor polls ok until it holds, failing the test after clusterCatchUp.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(clusterCatchUp)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, clusterCatchUp)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clusterSignIn signs login in with the demo password at base and returns
// the session's headers.
func clusterSignIn(t *testing.T, c *http.Client, base, login string) map[string]string {
	t.Helper()
	resp, err := c.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"login":"`+login+`","password":"`+demo.Password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in as %s at %s: %d %v", login, base, resp.StatusCode, err)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == identity.SessionCookie {
			return map[string]string{"Cookie": ck.Name + "=" + ck.Value, identity.CSRFHeader: me.CSRF}
		}
	}
	t.Fatalf("sign in as %s at %s: no session cookie", login, base)
	return nil
}

// clusterCall sends one request to a process and returns the status and body.
func clusterCall(t *testing.T, c *http.Client, method, base, path string, header map[string]string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil && header["Content-Type"] == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
