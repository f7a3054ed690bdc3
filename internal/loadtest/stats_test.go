package loadtest

import (
	"math"
	"strings"
	"testing"
	"time"
)

// within reports whether got is within frac of want.
func within(got, want time.Duration, frac float64) bool {
	return math.Abs(float64(got-want)) <= frac*float64(want)
}

func TestQuantile(t *testing.T) {
	ms := time.Millisecond
	series := func(n int, step time.Duration) []time.Duration { // step, 2·step … n·step
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = time.Duration(i+1) * step
		}
		return out
	}
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
		exact  bool // Min, Max and one value are exact; others within half a bucket
	}{
		{"empty", nil, 0.99, 0, true},
		{"one value, median", []time.Duration{7 * ms}, 0.5, 7 * ms, true},
		{"one value, p99", []time.Duration{7 * ms}, 0.99, 7 * ms, true},
		{"q 0 is the minimum", series(100, ms), 0, ms, true},
		{"q 1 is the maximum", series(100, ms), 1, 100 * ms, true},
		{"median of 1..100 ms (nearest rank 50)", series(100, ms), 0.5, 50 * ms, false},
		{"p95 of 1..100 ms", series(100, ms), 0.95, 95 * ms, false},
		{"p99 of 1..100 ms", series(100, ms), 0.99, 99 * ms, false},
		{"p99 of 1..1000 µs", series(1000, time.Microsecond), 0.99, 990 * time.Microsecond, false},
		{"p50 of two values is the lower", []time.Duration{2 * ms, 10 * ms}, 0.5, 2 * ms, false},
		{"p51 of two values is the upper", []time.Duration{2 * ms, 10 * ms}, 0.51, 10 * ms, true},
		{"p99 of 99 fast and 1 slow is fast", repeat(99, ms, 500*ms), 0.99, ms, false},
		{"p99 of 98 fast and 2 slow is slow", repeat(98, ms, 500*ms, 500*ms), 0.99, 500 * ms, true},
		{"negative durations count as zero", []time.Duration{-5 * ms}, 0.5, 0, true},
		{"beyond the last bucket stays in range", []time.Duration{3 * time.Hour, 20 * time.Hour}, 0.5, 3 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tt.values {
				h.Record(v)
			}
			got := h.Quantile(tt.q)
			if tt.exact && got != tt.want || !tt.exact && !within(got, tt.want, 0.006) {
				t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

// repeat is n copies of v followed by tail.
func repeat(n int, v time.Duration, tail ...time.Duration) []time.Duration {
	out := make([]time.Duration, 0, n+len(tail))
	for range n {
		out = append(out, v)
	}
	return append(out, tail...)
}

func TestHistogramMergeMeanAndReset(t *testing.T) {
	var a, b, all Histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * 37 * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	for _, q := range []float64{0, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged Quantile(%v) = %v, recorded together %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != 1000 || a.Min() != 37*time.Microsecond || a.Max() != 37*time.Millisecond {
		t.Errorf("merged count %d, min %v, max %v", a.Count(), a.Min(), a.Max())
	}
	if want := 500500 * 37 * time.Microsecond / 1000; a.Mean() != want {
		t.Errorf("mean %v, want %v", a.Mean(), want)
	}
	var empty Histogram
	a.Merge(&empty)
	empty.Merge(&a)
	if empty.Count() != 1000 || empty.Min() != a.Min() {
		t.Errorf("merging into an empty histogram: count %d, min %v", empty.Count(), empty.Min())
	}
	a.Reset()
	if a.Count() != 0 || a.Quantile(0.5) != 0 || a.Max() != 0 || a.Mean() != 0 {
		t.Errorf("after Reset: count %d, p50 %v, max %v", a.Count(), a.Quantile(0.5), a.Max())
	}
}

func TestBucketsAreNarrow(t *testing.T) {
	// Every bucket's middle is within 0.55% of anything in it.
	for _, d := range []time.Duration{2, 999, time.Microsecond, 1234567, 9800 * time.Microsecond, 10 * time.Millisecond, 3 * time.Second} {
		if mid := bucketValue(bucketOf(d)); !within(mid, d, 0.0055) {
			t.Errorf("%v falls in a bucket whose middle is %v", d, mid)
		}
	}
	if bucketOf(9800*time.Microsecond) == bucketOf(10*time.Millisecond) {
		t.Error("9.8ms and 10ms share a bucket: p99 could not say which side of a 10ms goal it is")
	}
}

func TestBars(t *testing.T) {
	us, ms := time.Microsecond, time.Millisecond
	tests := []struct {
		name   string
		values []time.Duration
		want   []Bar
	}{
		{"empty", nil, nil},
		{"one value", []time.Duration{3 * ms}, []Bar{{2 * ms, 5 * ms, 1}}},
		{"1-2-5 decades, empty bars between kept", []time.Duration{300 * us, 1500 * us, 1600 * us, 12 * ms},
			[]Bar{{200 * us, 500 * us, 1}, {500 * us, ms, 0}, {ms, 2 * ms, 2}, {2 * ms, 5 * ms, 0}, {5 * ms, 10 * ms, 0}, {10 * ms, 20 * ms, 1}}},
		{"under a microsecond goes in the first bar", []time.Duration{100, 1500}, []Bar{{0, 2 * us, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tt.values {
				h.Record(v)
			}
			got := h.Bars()
			if len(got) != len(tt.want) {
				t.Fatalf("Bars() = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("bar %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
	var h Histogram
	for i := range 100 { // 100µs, 199µs … 9.901ms: none on an edge but the first
		h.Record(100*us + time.Duration(i)*99*us)
	}
	chart := h.Chart(20)
	if lines := strings.Count(chart, "\n"); lines != 6 { // 100–200µs, 200–500µs, 500µs–1ms, 1–2ms, 2–5ms, 5–10ms
		t.Errorf("chart has %d lines:\n%s", lines, chart)
	}
	if !strings.Contains(chart, "5ms – 10ms") || !strings.Contains(chart, "50.0%") {
		t.Errorf("chart lacks the 5–10ms bar with half the values:\n%s", chart)
	}
}

func TestShortAndGrouped(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0"}, {450, "450ns"}, {850 * time.Microsecond, "850µs"}, {9800 * time.Microsecond, "9.8ms"},
		{9830 * time.Microsecond, "9.83ms"}, {12340 * time.Microsecond, "12.3ms"}, {123 * time.Millisecond, "123ms"},
		{1234 * time.Millisecond, "1.23s"}, {30 * time.Second, "30s"}, {time.Millisecond, "1ms"},
	} {
		if got := Short(tt.d); got != tt.want {
			t.Errorf("Short(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-4200, "-4,200"}} {
		if got := Grouped(tt.n); got != tt.want {
			t.Errorf("Grouped(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestParseGauges(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_inuse_bytes 1.2582912e+07
go_sql_open_connections{db_name="postgres"} 7
go_sql_open_connections{db_name="other"} 3
process_resident_memory_bytes 9.8304e+07 1700000000000
go_goroutines_other 5
`
	got, err := parseGauges(strings.NewReader(text), SampledGauges)
	want := map[string]float64{"go_goroutines": 42, "go_memstats_heap_inuse_bytes": 12582912, "go_sql_open_connections": 10, "process_resident_memory_bytes": 98304000}
	if err != nil || len(got) != len(want) {
		t.Fatalf("parseGauges = %v, %v; want %v", got, err, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %g, want %g", k, got[k], v)
		}
	}
	if _, err := parseGauges(strings.NewReader("go_goroutines many\n"), SampledGauges); err == nil {
		t.Error("a value that is no number was accepted")
	}
}
