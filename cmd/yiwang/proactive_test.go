package main

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"yiwang/internal/catalog"
	"yiwang/internal/demo"
	"yiwang/internal/proactive"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestProactiveOnTheDemoData: the demo registries have residents who turn
// 60 and 80 on the day they are seeded. The day's sweep grants the old-age
// allowance (免申即享) to the 80-year-old whose data shows every condition,
// offers the senior card to those turning 60, and the supervisor's page
// shows the sweep in words. 张三 (66) asks what he qualifies for: the
// senior card, and the allowance with the age that stands in the way.
func TestProactiveOnTheDemoData(t *testing.T) {
	storetest.Each(t, testProactiveOnTheDemoData)
}

func testProactiveOnTheDemoData(t *testing.T, db *store.DB) {
	h, a := citizenServerOn(t, db)
	ctx := context.Background()
	on, err := proactive.ParseDay(time.Now().UTC().Format(time.DateOnly)) // the generator's day
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.proactive.Sweep(ctx, proactive.SweepRequest{On: on, Since: on.AddDate(0, 0, -1), By: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Granted < 1 || rep.Offered < 2 {
		t.Fatalf("the day's sweep on the demo data: %+v; want the allowance granted and the senior card offered", rep)
	}
	var granted int
	db.QueryRowContext(ctx, `SELECT COUNT(*) FROM applications a JOIN licences l ON l.application_id = a.id WHERE a.initiative = 'proactive' AND a.status = 'licence_issued'`).Scan(&granted)
	if granted != rep.Granted {
		t.Errorf("%d licensed applications made by the platform, the sweep says %d granted", granted, rep.Granted)
	}

	sup := signIn(t, h, "supervisor")
	_, board := page(t, h, sup, "GET", "/workbench/proactive", nil)
	for _, want := range []string{"命令行", "完成", ">" + itoa(rep.Granted) + "<", ">" + itoa(rep.Offered) + "<"} {
		if !strings.Contains(board, want) {
			t.Errorf("the supervisor's page lacks %q:\n%s", want, board)
		}
	}

	hd := signIn(t, h, demo.ZhangSan)
	_, ask := page(t, h, hd, "GET", "/me/eligible", nil)
	if !strings.Contains(ask, `name="consent"`) {
		t.Fatalf("the page does not ask for consent before reading:\n%s", ask)
	}
	_, list := page(t, h, hd, "POST", "/me/eligible", url.Values{"consent": {"yes"}, "csrf_token": {hd["X-CSRF-Token"]}})
	card := regexp.MustCompile(`(?s)<li class="qualifies">.*?老年人优待证办理.*?立即办理`)
	allowance := regexp.MustCompile(`(?s)<li class="nearly">.*?高龄津贴发放.*?差一项条件：申请人年龄未满80周岁`)
	if !card.MatchString(list) || !allowance.MatchString(list) {
		t.Errorf("张三's 我能办 lacks the senior card he qualifies for or the allowance with its reason:\n%s", list)
	}
	_, reads := page(t, h, hd, "GET", "/me/data-reads", nil)
	if !strings.Contains(reads, "查看我能办、我能享的事项") {
		t.Error("the reads for 我能办 are not in 张三's data-read list")
	}

	// Acting for his company, he sees the enterprise's services (惠企政策),
	// none of his own; without consent nothing is read.
	if code, _, body := call(t, h, "PUT", "/api/v1/me/acting-for", strings.NewReader(`{"credit_code":"`+demo.DemoCompany+`"}`), withJSON(hd)); code != 200 {
		t.Fatalf("acting for the demo company: %d %s", code, body)
	}
	if code, _, _ := call(t, h, "POST", "/api/v1/me/eligibility", strings.NewReader(`{"consent":false}`), withJSON(hd)); code != 400 {
		t.Errorf("eligibility without consent: %d, want 400", code)
	}
	code, body, raw := call(t, h, "POST", "/api/v1/me/eligibility", strings.NewReader(`{"consent":true}`), withJSON(hd))
	items, _ := body["items"].([]any)
	if code != 200 || len(items) == 0 {
		t.Fatalf("the company's eligibility: %d %s", code, raw)
	}
	for _, it := range items {
		code, _ := it.(map[string]any)["item_code"].(string)
		v, err := catalog.NewStore(db).Current(ctx, code)
		if err != nil || v.Item.Target != "enterprise" {
			t.Errorf("the company is told about %s, not an enterprise's service", code)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestProactiveRunCommand: yiwang proactive run on a database with the
// demo catalogue and generated registries — a dry run counts and writes
// nothing, the run grants and offers, a second run does nothing twice —
// and bad input is one clear line.
func TestProactiveRunCommand(t *testing.T) {
	storetest.EachURL(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		for _, args := range [][]string{
			{"migrate", "--db", dsn},
			{"catalog", "import", "--db", dsn, "--data-dir", dir, "../../catalog"},
			{"catalog", "publish", "--db", dsn, "--data-dir", dir, "--all"},
			{"demo", "generate", "--db", dsn, "--data-dir", dir, "--persons", "40", "--enterprises", "4"},
		} {
			if code, _, stderr := runCmd(t, args...); code != 0 {
				t.Fatalf("%v: %s", args, stderr)
			}
		}
		today := time.Now().UTC().Format(time.DateOnly) // the generator's day
		run := func(extra ...string) string {
			t.Helper()
			code, stdout, stderr := runCmd(t, append([]string{"proactive", "run", "--db", dsn, "--data-dir", dir, "--on", today}, extra...)...)
			if code != 0 {
				t.Fatalf("proactive run %v = %d: %s", extra, code, stderr)
			}
			return stdout
		}
		summary := regexp.MustCompile(`after \S+ up to ` + today + `: ([0-9,]+) records read, ([0-9]+) candidates .*; ([0-9]+) granted, ([0-9]+) offered, skipped (.*); acted`)
		dry := summary.FindStringSubmatch(run("--dry-run"))
		if dry == nil || dry[2] != "4" || dry[3] == "0" {
			t.Fatalf("dry run summary %q; want the 4 residents turning 60 and 80 today, one granted", dry)
		}
		db := storetest.Open(t, dsn)
		var apps int
		db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM applications`).Scan(&apps)
		if apps != 0 {
			t.Fatalf("the dry run made %d applications", apps)
		}
		real := summary.FindStringSubmatch(run())
		if real == nil || real[3] != dry[3] || real[4] != dry[4] {
			t.Errorf("the run %q does not do what its dry run %q said", real, dry)
		}
		again := summary.FindStringSubmatch(run("--since", time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)))
		if again == nil || again[3] != "0" || again[4] != "0" || !strings.Contains(again[5], "already_done 4") {
			t.Errorf("a second run of the day: %q; want nothing done twice", again)
		}

		for _, bad := range []struct {
			args []string
			want string
		}{
			{[]string{"proactive"}, "name the subcommand: run"},
			{[]string{"proactive", "run", "--db", dsn, "--on", "2026-13-01"}, "--on: a day is written YYYY-MM-DD"},
			{[]string{"proactive", "run", "--db", dsn, "--on", today, "--since", today}, "must be before --on"},
		} {
			code, _, stderr := runCmd(t, bad.args...)
			if code != 2 || !strings.Contains(stderr, bad.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("%v: exit %d, %q; want 2 and one line with %q", bad.args, code, stderr, bad.want)
			}
		}
	})
}

// TestBrowserServicesForMe: 张三 opens 我能办 from the menu, agrees to the
// reads, and sees the senior card he can apply for now and the allowance
// with its reason; the supervisor's page of sweeps; no serious
// accessibility problem on either.
func TestBrowserServicesForMe(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	b.signIn(t, s, demo.ZhangSan)
	b.do(t, "open 我能办 from the menu",
		chromedp.Navigate(s.URL+"/me"),
		chromedp.Click(chromedp.CSS(`nav a[href="/me/eligible"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="consent"]`)),
	)
	b.checkA11y(t, "我能办, asking")
	b.do(t, "agree and ask",
		chromedp.Click(chromedp.CSS(`input[name="consent"]`)),
		chromedp.Click(chromedp.CSS(`form.consent button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("eligible")),
	)
	list := b.text(t, "the list", "#eligible")
	for _, want := range []string{"老年人优待证办理", "立即办理", "高龄津贴发放", "申请人年龄未满80周岁"} {
		if !strings.Contains(list, want) {
			t.Errorf("我能办 lacks %q (screenshot: %s):\n%s", want, b.screenshot(t, "eligible"), list)
		}
	}
	b.checkA11y(t, "我能办, answered")

	b2 := newBrowser(t)
	b2.signIn(t, s, "supervisor")
	b2.do(t, "the sweeps", chromedp.Navigate(s.URL+"/workbench/proactive"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if h := b2.text(t, "title", "main h1"); !strings.Contains(h, "主动服务") {
		t.Errorf("the supervisor's page is titled %q", h)
	}
	b2.checkA11y(t, "sweeps")
}
