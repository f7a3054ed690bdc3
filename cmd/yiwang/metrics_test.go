package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"yiwang/internal/demo"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// TestMetricsShowRoutesDecisionsAndLateSteps: the platform as serve builds
// it labels requests by route pattern behind the identity middleware, and
// /metrics counts machine decisions by outcome and the steps the deadline
// sweep lit red.
func TestMetricsShowRoutesDecisionsAndLateSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv, a := demoServerOn(t, db)
		h := srv.Handler()
		clerk := clerkOf(t, a)
		if _, err := a.licences.EnsureKeys(ctx); err != nil {
			t.Fatal(err)
		}
		approvedSeniorCard(t, h, signIn(t, h, demo.ZhangSan))
		id := queueTransfer(t, a, clerk)
		// Its registration review was due three days ago.
		if _, err := db.ExecContext(ctx, `UPDATE tasks SET deadline = $1 WHERE application_id = $2 AND department = 'realestate' AND status = 'open'`,
			time.Now().AddDate(0, 0, -3).UTC(), id); err != nil {
			t.Fatal(err)
		}
		if _, err := a.applications.Deadlines.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		call(t, h, "GET", "/api/v1/departments/civil", nil, nil)
		call(t, h, "GET", "/api/v1/departments/realestate", nil, nil)
		code, _, body := call(t, h, "GET", "/metrics", nil, nil)
		if code != 200 {
			t.Fatalf("/metrics: %d", code)
		}
		for _, want := range []string{
			`yiwang_http_requests_total{method="GET",route="/api/v1/departments/{code}",status="200"} 2`,
			`yiwang_decisions_total{outcome="approve"} 1`,
			`yiwang_deadline_steps{light="red"} 1`,
			`yiwang_metrics_query_errors 0`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(body, `route="/api/v1/departments/civil"`) {
			t.Error("a department's code is in a label")
		}
		if t.Failed() {
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(l, "yiwang_") && !strings.Contains(l, "_bucket") {
					t.Log(l)
				}
			}
		}
	})
}

// TestServeServesMetricsApart: with --metrics-addr, /metrics answers there
// and the public address answers 404 for it.
func TestServeServesMetricsApart(t *testing.T) {
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close()
	s := startServe(t, "--metrics-addr", addr, "--no-demo")
	defer s.Stop()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("public /metrics = %d, want 404", resp.StatusCode)
	}
	if body := getBody(t, "http://"+addr+"/metrics"); !strings.Contains(body, `yiwang_http_requests_total{method="GET",route="/metrics",status="404"} 1`) {
		t.Errorf("/metrics on --metrics-addr lacks the public listener's request:\n%s", body)
	}
}
