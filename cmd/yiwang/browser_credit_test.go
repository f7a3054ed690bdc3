package main

// The browser check of 我的信用: a record against Zhang San, his level, and
// a repair applied for from the page.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"yiwang/internal/demo"
	"yiwang/internal/store"
)

// TestBrowserCreditRepair: Zhang San, with a false commitment half a year
// old on record, opens 我的信用 from the footer, sees his level and the
// record, and applies to repair it with a statement and the signed pledge;
// the page then shows the repair under review.
func TestBrowserCreditRepair(t *testing.T) {
	s := startSite(t)
	b := newBrowser(t)
	ctx := context.Background()
	db, err := store.Open(ctx, "", s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	var app int64
	err = db.QueryRowContext(ctx, `INSERT INTO applications (item_code, version_id, account_id, person_id, status, answers, form, provenance, materials,
			consent_id, fields_total, fields_prefilled, materials_total, materials_attached, created_at, updated_at, number)
		SELECT v.item_code, v.id, ac.id, ac.person_id, 'revoked', '{}', '{}', '{}', '[]', 0, 0, 0, 0, 0, $1, $1, 'B-CREDIT-1'
		FROM catalog_versions v, accounts ac WHERE v.status = 'published' AND ac.kind = 'person' AND ac.display_name = '张三' ORDER BY v.id LIMIT 1
		RETURNING id`, time.Now().AddDate(0, -7, 0)).Scan(&app)
	if err == nil {
		_, err = db.ExecContext(ctx, `INSERT INTO credit_records (person_id, application_id, kind, ref, note, created_at)
			SELECT person_id, id, 'false_commitment', '', '核查发现承诺不实', created_at FROM applications WHERE id = $1`, app)
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	b.signIn(t, s, demo.ZhangSan)
	b.do(t, "open 我的信用", chromedp.Navigate(s.URL+"/"), chromedp.Click(`a[href="/me/credit"]`), chromedp.WaitVisible(chromedp.ID("records")))
	if got := b.text(t, "credit page", "main"); !strings.Contains(got, "虚假承诺") || !strings.Contains(got, "信用等级") {
		t.Fatalf("the credit page reads:\n%s", got)
	}
	b.do(t, "open the repair form", chromedp.Click(`#records summary`), chromedp.WaitVisible(`#records textarea`))
	b.checkA11y(t, "credit page with the repair form")
	b.do(t, "apply for repair",
		chromedp.SendKeys(`#records textarea`, "已如实补正材料并接受核查"),
		chromedp.Click(`#records input[name="pledge"]`),
		chromedp.Click(`#records button[type="submit"]`),
		chromedp.WaitNotPresent(`#records textarea`)) // the form goes once a repair is under review
	if got := b.text(t, "after applying", "#records"); !strings.Contains(got, "修复审核中") {
		t.Errorf("after applying the records read:\n%s", got)
	}
}
