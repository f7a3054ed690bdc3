package loadtest

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Write prints the report for a person: what ran, throughput, outcomes,
// errors, latency quantiles and the submit latency histogram.
func (r *Report) Write(w io.Writer) {
	o := r.Options
	mode := "closed loop"
	if o.Rate > 0 {
		mode = fmt.Sprintf("fixed rate %s/s", trim(o.Rate))
	}
	warm := ""
	if o.Warmup > 0 {
		warm = fmt.Sprintf(" after a %s warm-up", o.Warmup)
	}
	fmt.Fprintf(w, "\n%s (%s) at %s\n", r.ItemName, o.Item, strings.Join(o.URLs, ", "))
	fmt.Fprintf(w, "%d workers, %s, %s measured%s; %d applicants signed in beforehand in %s\n\n", o.Concurrency, mode, o.Duration, warm, r.SignedIn, Short(r.SignInTook))
	if r.StoppedEarly != "" {
		fmt.Fprintf(w, "STOPPED EARLY after %s: %s\n\n", Short(r.Elapsed), r.StoppedEarly)
	}

	fmt.Fprintf(w, "submits      %s in %s = %s/s\n", Grouped(r.Submits), Short(r.Elapsed), trim(r.Throughput()))
	fmt.Fprintf(w, "outcomes     %s\n", r.outcomeLine())
	if r.Unexpected > 0 {
		fmt.Fprintf(w, "             %s decision(s) not as the prepared records should give, e.g. %s\n", Grouped(r.Unexpected), r.UnexpSample)
	}
	fmt.Fprintf(w, "errors       %s\n", Grouped(r.ErrorTotal))
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  %-14s %9s  e.g. %s\n", e.Key, Grouped(e.Count), e.Sample)
	}
	if o.Rate > 0 {
		pct := 0.0
		if r.Due > 0 {
			pct = 100 * float64(r.Dropped) / float64(r.Due)
		}
		fmt.Fprintf(w, "rate         asked %s/s, achieved %s/s; %s of %s applications dropped (%.1f%%); start lag p50 %s p99 %s max %s\n",
			trim(o.Rate), trim(r.Throughput()), Grouped(r.Dropped), Grouped(r.Due), pct, Short(r.Lag.Quantile(0.5)), Short(r.Lag.Quantile(0.99)), Short(r.Lag.Max()))
		if r.KeptUp() {
			fmt.Fprintln(w, "             the server kept up with the rate")
		} else {
			fmt.Fprintf(w, "             THE SERVER DID NOT KEEP UP: applications fell due while all %d workers were busy; if the server's CPU is not saturated, raise --concurrency, otherwise this rate is beyond it\n", o.Concurrency)
		}
	}
	r.writeFloor(w)

	fmt.Fprintf(w, "\nlatency      %8s %8s %8s %8s %8s %8s\n", "p50", "p95", "p99", "max", "mean", "count")
	for _, row := range []struct {
		name string
		h    *Histogram
	}{{"submit", &r.Submit}, {"application", &r.Application}} {
		fmt.Fprintf(w, "%-12s %8s %8s %8s %8s %8s %8s\n", row.name, Short(row.h.Quantile(0.5)), Short(row.h.Quantile(0.95)), Short(row.h.Quantile(0.99)),
			Short(row.h.Max()), Short(row.h.Mean()), Grouped(int64(row.h.Count())))
	}
	fmt.Fprintln(w, "  submit: the submit call alone — sources read again, the rules decide, the decision is stored")
	if o.Rate > 0 {
		fmt.Fprintln(w, "  application: start, form and submit, from when the application fell due (waiting for a worker included)")
	} else {
		fmt.Fprintln(w, "  application: start, form and submit, one after another")
	}
	if len(r.Servers) > 1 {
		fmt.Fprintf(w, "\nper server   %8s %8s %8s %8s %8s %8s  %s\n", "submits", "/s", "errors", "p50", "p99", "app p99", "signed in")
		for _, s := range r.Servers {
			rate := 0.0
			if r.Elapsed > 0 {
				rate = float64(s.Submits) / r.Elapsed.Seconds()
			}
			fmt.Fprintf(w, "%-12s %8s %8s %8s %8s %8s %8s  %s\n", s.URL, Grouped(s.Submits), trim(rate), Grouped(s.Errors),
				Short(s.Submit.Quantile(0.5)), Short(s.Submit.Quantile(0.99)), Short(s.Application.Quantile(0.99)), Grouped(s.SignedIn))
		}
	}
	if len(r.Minutes) > 1 {
		fmt.Fprintf(w, "\nper minute   %8s %8s %8s %8s %8s\n", "submits", "errors", "p50", "p99", "max")
		for i, m := range r.Minutes {
			fmt.Fprintf(w, "%-12s %8s %8s %8s %8s %8s\n", fmt.Sprintf("minute %d", i+1), Grouped(m.Submits), Grouped(m.Errors),
				Short(m.Submit.Quantile(0.5)), Short(m.Submit.Quantile(0.99)), Short(m.Submit.Max()))
		}
		fmt.Fprintln(w, "  the submit call, by the minute it completed in")
	}
	r.writeGauges(w)
	if r.Submit.Count() > 0 {
		fmt.Fprintf(w, "\nsubmit latency\n%s", r.Submit.Chart(40))
	}
}

// writeFloor compares the run with the floor, if it was measured or
// could not be.
func (r *Report) writeFloor(w io.Writer) {
	switch f := r.Floor; {
	case f != nil && f.Rate() > 0:
		fmt.Fprintf(w, "floor        %s submissions/s; this run %s applications/s = %s%% of the floor\n",
			perSecond(f.Rate()), trim(r.Throughput()), trim(100*r.Throughput()/f.Rate()))
		fmt.Fprintf(w, "             the floor: what a submission commits, written straight to %s by %d writers for %s after the run\n",
			f.Where, f.Workers, Short(f.Took))
	case r.FloorMissing != "":
		fmt.Fprintf(w, "floor        not measured: %s\n", r.FloorMissing)
	}
}

// perSecond writes a rate, grouped from a thousand on: 8,010.
func perSecond(v float64) string {
	if v >= 1000 {
		return Grouped(int64(math.Round(v)))
	}
	return trim(v)
}

// writeGauges lists what each server's /metrics said while measured.
func (r *Report) writeGauges(w io.Writer) {
	any := false
	for _, s := range r.Servers {
		any = any || len(s.Gauges) > 0 || s.MetricsErr != ""
	}
	if !any {
		return
	}
	fmt.Fprintf(w, "\nserver metrics while measured (/metrics every %s)\n", r.Options.SampleEvery)
	for _, s := range r.Servers {
		if len(r.Servers) > 1 || s.MetricsErr != "" {
			fmt.Fprintf(w, "  %s\n", s.URL)
		}
		if s.MetricsErr != "" {
			fmt.Fprintf(w, "    not read: %s\n", s.MetricsErr)
		}
		if len(s.Gauges) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %-31s %10s %10s %10s %10s %8s\n", "", "first", "last", "min", "max", "samples")
		for _, g := range s.Gauges {
			fmt.Fprintf(w, "  %-31s %10s %10s %10s %10s %8d\n", g.Name, gaugeValue(g.Name, g.First), gaugeValue(g.Name, g.Last),
				gaugeValue(g.Name, g.Min), gaugeValue(g.Name, g.Max), g.Samples)
		}
	}
}

// gaugeValue writes bytes in MiB and counts as they are.
func gaugeValue(name string, v float64) string {
	if strings.HasSuffix(name, "_bytes") {
		return trim(v/(1<<20)) + " MiB"
	}
	return Grouped(int64(math.Round(v)))
}

// outcomeLine lists the outcomes, most common first.
func (r *Report) outcomeLine() string {
	if len(r.Outcomes) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(r.Outcomes))
	for k := range r.Outcomes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(r.Outcomes[b], r.Outcomes[a]), strings.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s (%.1f%%)", k, Grouped(r.Outcomes[k]), 100*float64(r.Outcomes[k])/float64(max(r.Submits, 1)))
	}
	return strings.Join(parts, "  ")
}
