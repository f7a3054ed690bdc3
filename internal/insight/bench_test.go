package insight_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"yiwang/internal/authz"
	"yiwang/internal/insight"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// BenchmarkDashboardView measures one dashboard view — by month over two
// years, every department — on the rollups of a synthetic history of about
// ten million applications: two years of days × 30 items in 10
// departments × 3 regions × 5 channels, 30 applications a row; and the
// same view of one department. It is the figure of docs/BENCHMARKS.md
// "Service-performance dashboard".
//
//	go test ./internal/insight/ -run '^$' -bench DashboardView -benchtime 20x
func BenchmarkDashboardView(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(backend.name, func(b *testing.B) {
			db := backend.open(b)
			applications := fill(b, db)
			svc := insight.NewService(db)
			p := authz.Principal{AccountID: 1, Kind: "staff", Roles: []authz.Role{authz.Supervisor}}
			for _, v := range []struct {
				name   string
				f      insight.Filter
				counts int64
			}{
				{"all", insight.Filter{Period: "month", From: "2025-01-01", To: "2026-12-31"}, applications},
				{"department", insight.Filter{Period: "month", From: "2025-01-01", To: "2026-12-31", Department: "dept03"}, applications / 10},
				{"days", insight.Filter{Period: "month", From: "2025-01-02", To: "2026-12-30"}, applications - 2*applications/730},
				{"item", insight.Filter{Period: "month", From: "2025-01-01", To: "2026-12-31", Item: "item07"}, applications / 30},
			} {
				b.Run(v.name, func(b *testing.B) {
					for b.Loop() {
						d, err := svc.View(context.Background(), p, v.f)
						if err != nil {
							b.Fatal(err)
						}
						if d.Total.Received != v.counts || len(d.Periods) != 24 {
							b.Fatalf("received %d of %d in %d months", d.Total.Received, v.counts, len(d.Periods))
						}
					}
					b.ReportMetric(float64(applications), "applications")
				})
			}
		})
	}
}

// fill writes the synthetic rollups and returns how many applications they count.
func fill(b *testing.B, db *store.DB) int64 {
	b.Helper()
	ctx := context.Background()
	const perRow = 30
	var rows int64
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for ; day.Year() < 2027; day = day.AddDate(0, 0, 1) {
		var values []string
		var args []any
		for item := range 30 {
			for _, region := range []string{"910102", "910103", "910104"} {
				for _, channel := range []string{"web", "mobile", "kiosk", "window", "bank"} {
					n := len(args)
					values = append(values, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, %d, %d, %d, %d, %d, %d, %d)", n+1, n+2, n+3, n+4, n+5,
						perRow, perRow, perRow*8/10, perRow/2, perRow*9/10, perRow*3, perRow))
					args = append(args, day.Format(time.DateOnly), fmt.Sprintf("dept%02d", item%10), fmt.Sprintf("item%02d", item), region, channel)
					rows++
				}
			}
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO insight_daily (day, department, item_code, region, channel,
			received, finished, approved, machine_approved, on_time, workdays_sum, w3) VALUES `+strings.Join(values, ", "), args...); err != nil {
			b.Fatal(err)
		}
	}
	// The months, as counting would have written them alongside.
	if _, err := db.ExecContext(ctx, `INSERT INTO insight_monthly (day, department, item_code, region, channel, received, finished, approved, machine_approved, on_time, workdays_sum, w3)
		SELECT substr(day, 1, 8) || '01', department, '', '', channel, SUM(received), SUM(finished), SUM(approved), SUM(machine_approved), SUM(on_time), SUM(workdays_sum), SUM(w3)
		FROM insight_daily GROUP BY substr(day, 1, 8) || '01', department, channel`); err != nil {
		b.Fatal(err)
	}
	return rows * perRow
}
