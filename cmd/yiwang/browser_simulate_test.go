package main

// The browser journey of a rule-change simulation (决策模拟): a real machine
// approval, a draft that would refuse it, and the administrator's report.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
	"yiwang/internal/simulate"
)

// TestBrowserSimulateRuleChange: Zhang San's senior card is approved by
// machine; the catalogue administrator imports a draft raising the age to
// 99, starts a simulation of it from the item's page, and the report says
// his approval alone would be rejected, naming it by masked number only.
func TestBrowserSimulateRuleChange(t *testing.T) {
	s := startSite(t)
	applicant := newBrowser(t)
	applicant.signIn(t, s, demo.ZhangSan)
	if decision := applySeniorCard(t, applicant, s, false); !strings.Contains(decision, "审批通过") {
		t.Fatalf("the senior card was not machine-approved:\n%s", decision)
	}
	number := applicant.text(t, "application number", "#app-number")

	dir := filepath.Join(t.TempDir(), "catalog")
	if err := os.CopyFS(dir, os.DirFS("../../catalog")); err != nil {
		t.Fatal(err)
	}
	card := filepath.Join(dir, "items", "civil", "senior_card.yaml")
	raw, err := os.ReadFile(card)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(card, []byte(strings.Replace(string(raw), "expr: applicant.age >= 60", "expr: applicant.age >= 99", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := runCmd(t, "catalog", "import", "--data-dir", s.DataDir, dir); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}

	admin := newBrowser(t)
	admin.signIn(t, s, "catalog.admin")
	admin.do(t, "the item's administration", chromedp.Navigate(s.URL+"/admin/catalog/"+seniorCard), chromedp.WaitVisible(chromedp.ID("since-2")))
	admin.checkA11y(t, "item admin with the simulate form")
	admin.do(t, "simulate the draft", chromedp.SetValue(chromedp.ID("since-2"), "2020-01-01"),
		chromedp.Click(chromedp.CSS(`form.simulate:has(#since-2) button`)), chromedp.WaitVisible(chromedp.ID("simulation-status")))
	url := get(t, admin, "the simulation's address", chromedp.Location())
	for deadline := time.Now().Add(30 * time.Second); admin.text(t, "status", "#simulation-status") != "已完成"; {
		if time.Now().After(deadline) {
			t.Fatalf("the simulation did not finish (screenshot: %s)", admin.screenshot(t, "unfinished"))
		}
		time.Sleep(500 * time.Millisecond)
		admin.do(t, "reload", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("simulation-status")))
	}
	if got := admin.text(t, "flipped", "#simulation-flipped"); got != "1" {
		t.Errorf("flipped %q, want 1 (Zhang San's approval)", got)
	}
	report := admin.text(t, "report", "main")
	for _, want := range []string{"通过 → 不予准许：1", simulate.MaskNumber(number), "申请人年龄未满60周岁"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, number) || strings.Contains(report, "张三") {
		t.Errorf("the report shows the number or the name unmasked:\n%s", report)
	}
	admin.checkA11y(t, "the simulation's report")
}
