package main

// The browser journey of the service-performance dashboard (政务服务效能).

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserInsightDashboard: the demo gets a history of applications
// (yiwang demo history, which ends by rebuilding the rollups); a supervisor
// opens 政务服务效能, sees the history's figures in the table beside the
// charts, narrows it to one department by name, and downloads the Excel
// export. The public 办件公示 page is one click from the footer.
func TestBrowserInsightDashboard(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"demo", "history", "--applications", "300", "--data-dir", s.DataDir}, noEnv, &out, &errs); code != 0 {
		t.Fatalf("demo history exited %d: %s%s", code, out.String(), errs.String())
	}
	b.signIn(t, s, "supervisor")

	b.do(t, "open the dashboard by year", chromedp.Navigate(s.URL+"/workbench/insight?period=year&from=2020-01-01"), chromedp.WaitVisible(chromedp.CSS("table.queue")))
	main := b.text(t, "dashboard", "main")
	for _, want := range []string{"政务服务效能", "按时间", "按部门", "按办理渠道", "收件", "秒批率（%）", "用时中位数（工作日）", "免提交材料（份）", "合计"} {
		if !strings.Contains(main, want) {
			t.Errorf("the dashboard lacks %q:\n%s", want, main)
		}
	}
	// The history's applications are in the table: the total received is
	// the number of submitted applications, at most the 300 written.
	total := b.text(t, "total row", "table.queue tbody tr:last-child")
	m := regexp.MustCompile(`合计\s+(\d+)\s+(\d+)`).FindStringSubmatch(total)
	if m == nil || m[1] == "0" || len(m[1]) > 3 || m[2] == "0" {
		t.Fatalf("the total row reads %q", total)
	}
	if get(t, b, "charts drawn", chromedp.Evaluate[int](`document.querySelectorAll('#chart-volume canvas, #chart-volume svg').length`)) == 0 {
		t.Error("ECharts drew no chart")
	}
	b.checkA11y(t, "dashboard")

	// Narrowed to a department chosen by its name.
	// The filter loads a new page of the same shape: mark the old one, so
	// that the next steps wait for the new one instead of running on the
	// old one as it goes.
	get(t, b, "mark the page", chromedp.Evaluate[bool](`document.body.dataset.old = '1'; true`))
	b.do(t, "narrow to one department",
		chromedp.SetValue(chromedp.ID("department"), "civil"),
		chromedp.Click(chromedp.CSS("form.filters button[type=submit]")),
		chromedp.WaitNotPresent(chromedp.CSS("body[data-old]")),
		chromedp.WaitReady(chromedp.CSS("body")),
		chromedp.WaitVisible(chromedp.CSS("table.queue")))
	if got := b.text(t, "departments table", "main"); !strings.Contains(got, "民政局") {
		t.Errorf("the department is not named:\n%s", got)
	}

	// The Excel export of the same view.
	got := get(t, b, "download the Excel export", chromedp.Evaluate[[]string](`fetch(document.getElementById('export-xlsx').href).then(async r => {
		const b = new Uint8Array(await r.arrayBuffer());
		return [r.headers.get('Content-Type'), String.fromCharCode(b[0], b[1]), String(b.length)];
	})`, chromedp.EvalAwaitPromise))
	if got[0] != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || got[1] != "PK" {
		t.Errorf("the Excel export: %v", got)
	}

	csv := get(t, b, "download the CSV export", chromedp.Evaluate[[]string](`fetch(document.querySelector('a[href^="/workbench/insight/export.csv"]').href).then(async r => [r.headers.get('Content-Type'), await r.text()])`, chromedp.EvalAwaitPromise))
	if csv[0] != "text/csv; charset=utf-8" || !strings.Contains(csv[1], "按部门") || !strings.Contains(csv[1], "民政局") || strings.Contains(csv[1], "civil") {
		t.Errorf("the CSV export: %v", csv)
	}

	b.do(t, "the public page from the footer", chromedp.Click(chromedp.CSS(`footer a[href="/stats"]`)), chromedp.WaitVisible(chromedp.CSS("table.queue")))
	if got := b.text(t, "public figures", "main"); !strings.Contains(got, "办件公示") || !strings.Contains(got, "本月") {
		t.Errorf("the public page reads:\n%s", got)
	}
	b.checkA11y(t, "public figures")
}
