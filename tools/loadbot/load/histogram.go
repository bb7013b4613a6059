package load

import (
	"math"
	"sync/atomic"
	"time"
)

// Histogram buckets are 1/16 of a power of two wide: bucket i holds
// durations from 2^(i/16) to 2^((i+1)/16) nanoseconds, a precision of
// about 2% either side of a bucket's middle, up to 2^40 ns (18 minutes).
const (
	bucketsPerOctave = 16
	numBuckets       = 40 * bucketsPerOctave
)

// histogram counts durations. It is safe for concurrent use and never
// allocates after it is made.
type histogram struct {
	buckets [numBuckets]atomic.Uint64
	count   atomic.Uint64
	sum     atomic.Int64 // nanoseconds
	max     atomic.Int64
}

func bucketOf(d time.Duration) int {
	if d < 1 {
		return 0
	}
	i := int(math.Log2(float64(d)) * bucketsPerOctave)
	return min(max(i, 0), numBuckets-1)
}

// bucketValue is the geometric middle of bucket i.
func bucketValue(i int) time.Duration {
	return time.Duration(math.Exp2((float64(i) + 0.5) / bucketsPerOctave))
}

// add counts d; a negative d counts as 0.
func (h *histogram) add(d time.Duration) {
	d = max(d, 0)
	h.buckets[bucketOf(d)].Add(1)
	h.count.Add(1)
	h.sum.Add(int64(d))
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Summary describes a distribution of durations, in milliseconds.
// Percentiles are read from the histogram, within about 2%; Max is exact.
type Summary struct {
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
	MaxMs  float64 `json:"maxMs"`
}

// summary describes what h has counted so far.
func (h *histogram) summary() Summary {
	var counts [numBuckets]uint64
	var n uint64
	for i := range counts {
		counts[i] = h.buckets[i].Load()
		n += counts[i]
	}
	if n == 0 {
		return Summary{}
	}
	maxD := time.Duration(h.max.Load())
	pct := func(p float64) float64 {
		rank := uint64(math.Ceil(p / 100 * float64(n)))
		var seen uint64
		for i, c := range counts {
			seen += c
			if seen >= max(rank, 1) {
				return ms(min(bucketValue(i), maxD))
			}
		}
		return ms(maxD)
	}
	return Summary{
		Count:  n,
		MeanMs: ms(time.Duration(h.sum.Load() / int64(max(h.count.Load(), 1)))),
		P50Ms:  pct(50),
		P90Ms:  pct(90),
		P99Ms:  pct(99),
		MaxMs:  ms(maxD),
	}
}

// ms converts d to milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
