package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SampledGauges are the figures read from each server's /metrics while the
// load is measured: what a leak would make grow.
var SampledGauges = []string{"process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_goroutines", "go_sql_open_connections"}

// Gauge is one sampled figure of one server over the measured run.
type Gauge struct {
	Name                  string
	First, Last, Min, Max float64
	Samples               int
}

// sampler collects one server's gauges.
type sampler struct {
	c      *client
	by     map[string]*Gauge
	err    string // the first failure to read /metrics
	failed int
}

// gauges returns the sampled gauges in the order of SampledGauges,
// leaving out those the server does not expose.
func (s *sampler) gauges() []Gauge {
	var out []Gauge
	for _, name := range SampledGauges {
		if g := s.by[name]; g != nil {
			out = append(out, *g)
		}
	}
	return out
}

// sample reads every server's /metrics when the measurement begins, every
// SampleEvery while it lasts, and once more when done closes; it returns
// what it read, one sampler a server.
func (r *runner) sample(done <-chan struct{}) []sampler {
	ss := make([]sampler, len(r.cs))
	for i, c := range r.cs {
		ss[i] = sampler{c: c, by: map[string]*Gauge{}}
	}
	if r.opts.SampleEvery < 0 {
		<-done
		return ss
	}
	readAll := func() {
		for i := range ss {
			ss[i].read(r.ctx)
		}
	}
	wait := time.NewTimer(time.Until(r.measureFrom))
	defer wait.Stop()
	select {
	case <-done:
		return ss
	case <-wait.C:
	}
	readAll()
	tick := time.NewTicker(r.opts.SampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			readAll()
			return ss
		case <-tick.C:
			readAll()
		}
	}
}

// read takes one sample of the server's gauges.
func (s *sampler) read(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	vals, err := s.c.metrics(ctx)
	if err != nil {
		s.failed++
		if s.err == "" {
			s.err = err.Error()
		}
		return
	}
	for name, v := range vals {
		g := s.by[name]
		if g == nil {
			g = &Gauge{Name: name, First: v, Min: v, Max: v}
			s.by[name] = g
		}
		g.Last = v
		g.Min, g.Max = math.Min(g.Min, v), math.Max(g.Max, v)
		g.Samples++
	}
}

// metrics reads the server's /metrics and returns the SampledGauges it has.
func (c *client) metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil, fmt.Errorf("GET %s/metrics answered %d (is /metrics on --metrics-addr?)", c.base, resp.StatusCode)
	}
	return parseGauges(io.LimitReader(resp.Body, 16<<20), SampledGauges)
}

// parseGauges reads the Prometheus text format and returns the value of
// each named metric that appears without labels; a metric with labels
// (several series) is summed over them.
func parseGauges(r io.Reader, names []string) (map[string]float64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
			if j := strings.LastIndexByte(line, '}'); j >= 0 {
				rest, ok = strings.TrimSpace(line[j+1:]), true
			}
		}
		if !ok || !want[name] {
			continue
		}
		value, _, _ := strings.Cut(strings.TrimSpace(rest), " ") // a timestamp may follow
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics: %s has the value %q", name, value)
		}
		out[name] += v
	}
	return out, sc.Err()
}
