package main

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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
}

func itoa(n int) string { return strconv.Itoa(n) }
