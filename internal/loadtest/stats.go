package loadtest

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// perDoubling is how many buckets a Histogram has between a duration and
// twice it: each bucket is 2^(1/64) ≈ 1.1% wide, so a quantile read from
// the middle of its bucket is within 0.55% of the true value.
const perDoubling = 64

// maxBucket covers durations up to 2^45 ns (about 9.8 hours).
const maxBucket = 45 * perDoubling

// Histogram counts durations in logarithmic buckets: constant memory
// however long a run is, mergeable, and precise to about half a percent,
// which is enough to tell 9.8 ms from 10 ms. The zero value is empty and
// ready. It is not safe for concurrent use.
type Histogram struct {
	counts   []uint64
	n        uint64
	sum      float64 // nanoseconds
	min, max time.Duration
}

// bucketOf returns the bucket of d: floor(log2(ns) × perDoubling).
func bucketOf(d time.Duration) int {
	if d <= 1 {
		return 0
	}
	return min(int(math.Log2(float64(d))*perDoubling), maxBucket)
}

// bucketValue is the middle of bucket i on the log scale.
func bucketValue(i int) time.Duration {
	return time.Duration(math.Exp2((float64(i) + 0.5) / perDoubling))
}

// Record counts one duration; negative ones count as zero.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	if h.counts == nil {
		h.counts = make([]uint64, maxBucket+1)
	}
	h.counts[bucketOf(d)]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += float64(d)
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, maxBucket+1)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Reset empties h, keeping its memory.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.n, h.sum, h.min, h.max = 0, 0, 0, 0
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Min returns the shortest duration recorded, exactly.
func (h *Histogram) Min() time.Duration { return h.min }

// Max returns the longest duration recorded, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean returns the mean duration, exactly.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) by the nearest-rank
// definition: the smallest recorded duration with at least q of all at or
// below it, read as the middle of its bucket and kept within [Min, Max].
// Quantile(0) is Min and Quantile(1) is Max; an empty histogram gives 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank >= h.n {
		return h.max
	}
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			return min(max(bucketValue(i), h.min), h.max)
		}
	}
	return h.max
}

// Bar is one row of a printed histogram: durations in [Lo, Hi).
type Bar struct {
	Lo, Hi time.Duration
	Count  uint64
}

// Bars regroups h into the decades of a 1–2–5 series (… 1ms, 2ms, 5ms,
// 10ms …), from the bar holding Min to the bar holding Max; each bucket
// goes to the bar its middle falls in.
func (h *Histogram) Bars() []Bar {
	if h.n == 0 {
		return nil
	}
	var edges []time.Duration
	for e := time.Duration(1000); e <= 1000*time.Second; e *= 10 { // 1µs … 1000s
		edges = append(edges, e, 2*e, 5*e)
	}
	barOf := func(d time.Duration) int {
		k := 0
		for k+1 < len(edges) && d >= edges[k+1] {
			k++
		}
		return k
	}
	first, last := barOf(h.min), barOf(h.max)
	bars := make([]Bar, last-first+1)
	for k := range bars {
		bars[k] = Bar{Lo: edges[first+k], Hi: edges[min(first+k+1, len(edges)-1)]}
	}
	if first == 0 {
		bars[0].Lo = 0 // anything under 1µs goes in the first bar
	}
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		k := min(max(barOf(min(max(bucketValue(i), h.min), h.max)), first), last)
		bars[k-first].Count += c
	}
	return bars
}

// Chart draws h's bars as text, width characters at the longest.
func (h *Histogram) Chart(width int) string {
	bars := h.Bars()
	var most uint64
	for _, b := range bars {
		most = max(most, b.Count)
	}
	var sb strings.Builder
	for _, b := range bars {
		n := 0
		if most > 0 {
			n = int(math.Round(float64(b.Count) / float64(most) * float64(width)))
		}
		if n == 0 && b.Count > 0 {
			n = 1 // every occupied bar shows
		}
		fmt.Fprintf(&sb, "  %7s – %-7s %s%s %9s  %5.1f%%\n", Short(b.Lo), Short(b.Hi), strings.Repeat("█", n), strings.Repeat(" ", width-n),
			Grouped(int64(b.Count)), 100*float64(b.Count)/float64(h.n))
	}
	return sb.String()
}

// Short writes a duration for a person with two or three significant
// digits: 850µs, 9.8ms, 12.3ms, 123ms, 1.23s.
func Short(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return trim(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return trim(float64(d)/float64(time.Millisecond)) + "ms"
	}
	return trim(d.Seconds()) + "s"
}

// trim keeps two decimals below 10, one below 100 and none above, without
// trailing zeros.
func trim(v float64) string {
	var s string
	switch {
	case v < 10:
		s = fmt.Sprintf("%.2f", v)
	case v < 100:
		s = fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Grouped writes n with thousands separators: 1,234,567.
func Grouped[N ~int | ~int64](n N) string {
	if n < 0 {
		return "-" + Grouped(-n)
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
