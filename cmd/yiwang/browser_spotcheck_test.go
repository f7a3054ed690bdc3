package main

// The browser journey of a spot check (双随机一公开): a machine approval is
// sampled, its inspector finds it 不合格, and the approval, its licence and
// the applicant's credit show it.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
	"yiwang/internal/store"
)

// TestBrowserSpotCheckFailure: the senior card is republished to sample
// every machine approval; Zhang San's approval is assigned to an inspector
// of civil affairs drawn at random, who signs in, finds the list with the
// application and records 不合格 with findings. The application is then
// revoked with its licence, a credit record written, the applicant told,
// and the result published with the number masked.
func TestBrowserSpotCheckFailure(t *testing.T) {
	s := startSite(t)
	ctx := context.Background()

	// The catalogue administrator's change: every approval sampled.
	dir := filepath.Join(t.TempDir(), "catalog")
	if err := os.CopyFS(dir, os.DirFS("../../catalog")); err != nil {
		t.Fatal(err)
	}
	card := filepath.Join(dir, "items", "civil", "senior_card.yaml")
	raw, err := os.ReadFile(card)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(card, []byte(strings.Replace(string(raw), "sample_percent: 5,", "sample_percent: 100,", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCmd(t, "catalog", "import", "--data-dir", s.DataDir, dir); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}
	if code, out, stderr := runCmd(t, "catalog", "publish", "--data-dir", s.DataDir, seniorCard); code != 0 {
		t.Fatalf("publish: %d %s %s", code, out, stderr)
	}

	applicant := newBrowser(t)
	applicant.signIn(t, s, demo.ZhangSan)
	if decision := applySeniorCard(t, applicant, s, false); !strings.Contains(decision, "审批通过") {
		t.Fatalf("the senior card was not machine-approved:\n%s", decision)
	}
	number := applicant.text(t, "application number", "#app-number")

	db, err := store.Open(ctx, "", s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var inspector, dept string
	var appID int64
	if err := db.QueryRowContext(ctx, `SELECT ac.username, ac.department_code, sc.application_id FROM spot_checks sc JOIN accounts ac ON ac.id = sc.inspector
		JOIN applications a ON a.id = sc.application_id WHERE a.number = $1`, number).Scan(&inspector, &dept, &appID); err != nil {
		t.Fatalf("application %s has no assigned spot check: %v", number, err)
	}
	if dept != "civil" {
		t.Fatalf("the spot check went to %s of %s, want civil affairs staff", inspector, dept)
	}

	b := newBrowser(t)
	b.signIn(t, s, inspector)
	b.do(t, "open the spot checks", chromedp.Navigate(s.URL+"/workbench"), chromedp.WaitVisible(chromedp.CSS(`a[href="/workbench/spot-checks"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/workbench/spot-checks"]`)), chromedp.WaitVisible(chromedp.ID("spot-checks")))
	list := b.text(t, "my spot checks", "#spot-checks")
	for _, want := range []string{number, "老年人优待证", "秒批", "已出证"} {
		if !strings.Contains(list, want) {
			t.Errorf("the inspector's list lacks %q:\n%s", want, list)
		}
	}
	b.checkA11y(t, "my spot checks")
	b.do(t, "record 不合格",
		chromedp.Click(chromedp.CSS(`#spot-checks input[value="fail"]`)),
		chromedp.SendKeys(chromedp.CSS(`#spot-checks textarea`), "现场核查：申请人户籍已迁出本区，不符合条件"),
		chromedp.Click(chromedp.CSS(`#spot-checks button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
	if got := b.text(t, "what happened", `p[role="status"]`); !strings.Contains(got, "不合格") || !strings.Contains(got, "信用记录") {
		t.Errorf("after recording the failure the page says %q", got)
	}
	if got := b.text(t, "the check now", "#spot-checks"); !strings.Contains(got, "不合格") || !strings.Contains(got, "已撤销") || !strings.Contains(got, "户籍已迁出") {
		t.Errorf("after the failure the list reads:\n%s", got)
	}
	b.checkA11y(t, "after the failure")

	var licence, credit string
	if err := db.QueryRowContext(ctx, `SELECT status FROM licences WHERE application_id = $1`, appID).Scan(&licence); err != nil || licence != "revoked" {
		t.Errorf("the licence is %q (%v), want revoked", licence, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT kind FROM credit_records WHERE application_id = $1`, appID).Scan(&credit); err != nil || credit != "spot_check_failed" {
		t.Errorf("the credit record is %q (%v), want spot_check_failed", credit, err)
	}
	applicant.do(t, "my applications", chromedp.Navigate(s.URL+"/me/applications"), chromedp.WaitVisible(chromedp.ID("applications")))
	if got := applicant.text(t, "applications list", "#applications"); !strings.Contains(got, number) || !strings.Contains(got, "已撤销") {
		t.Errorf("my applications shows:\n%s\nwant %s revoked", got, number)
	}

	// The supervisor sees it among civil affairs' checks, with its
	// inspector, and switches the department's machine approval off.
	sup := newBrowser(t)
	sup.signIn(t, s, "supervisor")
	sup.do(t, "civil affairs' spot checks", chromedp.Navigate(s.URL+"/workbench/spot-checks?department=civil"), chromedp.WaitVisible(chromedp.ID("spot-checks")))
	var name string
	if err := db.QueryRowContext(ctx, `SELECT display_name FROM accounts WHERE username = $1`, inspector).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if got := sup.text(t, "supervisor's list", "#spot-checks"); !strings.Contains(got, number) || !strings.Contains(got, name) || !strings.Contains(got, "不合格") {
		t.Errorf("the supervisor's list reads:\n%s\nwant %s checked by %s", got, number, name)
	}
	sup.checkA11y(t, "supervisor's spot checks")
	sup.do(t, "switch civil affairs off",
		chromedp.SetValue(chromedp.ID("s-department"), "civil"),
		chromedp.SetValue(chromedp.ID("s-suspended"), "true"),
		chromedp.SendKeys(chromedp.ID("s-reason"), "抽查发现问题，暂停核查"),
		chromedp.Click(chromedp.CSS(`form[action="/workbench/spot-checks/department-switch"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
	if got := sup.text(t, "suspended departments", "#departments"); !strings.Contains(got, "民政") {
		t.Errorf("the suspended departments read %q, want civil affairs", got)
	}
	var off bool
	if err := db.QueryRowContext(ctx, `SELECT machine_suspended FROM department_controls WHERE department_code = 'civil'`).Scan(&off); err != nil || !off {
		t.Errorf("civil affairs' switch: %v %v", off, err)
	}

	// 一公开: anyone sees the result, without the number in full.
	public := newBrowser(t)
	public.do(t, "public results", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`footer a[href="/spot-checks"]`)),
		chromedp.Click(chromedp.CSS(`footer a[href="/spot-checks"]`)), chromedp.WaitVisible(chromedp.ID("results")))
	got := public.text(t, "results", "#results")
	if !strings.Contains(got, "老年人优待证") || !strings.Contains(got, "不合格") || !strings.Contains(got, "已撤销审批") {
		t.Errorf("the public results read:\n%s", got)
	}
	for _, secret := range []string{number, "张三", "户籍已迁出"} {
		if strings.Contains(got, secret) {
			t.Errorf("the public results give away %q:\n%s", secret, got)
		}
	}
	public.checkA11y(t, "public results")
}
