// Package hist is a fixed-bucket latency histogram: recording is a few
// arithmetic operations and an increment, with no allocation, and values
// are kept to within about 3%.
package hist

import (
	"math/bits"
	"time"
)

const (
	subBits = 5
	sub     = 1 << subBits // buckets per power of two
	// maxShift bounds the range to about 2^40 ns (18 minutes).
	maxShift = 40 - subBits
	nBuckets = (maxShift+2)*sub + 1
)

// Histogram counts durations in nanoseconds. The zero value is ready to
// use. It is not safe for concurrent use: give each goroutine its own and
// Merge them.
type Histogram struct {
	counts [nBuckets]uint64
	n      uint64
	sum    uint64
	max    uint64
}

func index(v uint64) int {
	if v < 2*sub {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	if shift > maxShift {
		return nBuckets - 1
	}
	return (shift+1)*sub + int(v>>shift) - sub
}

// bucketValue returns the middle of bucket i.
func bucketValue(i int) uint64 {
	if i < 2*sub {
		return uint64(i)
	}
	shift := i/sub - 1
	m := uint64(i%sub + sub)
	lo := m << shift
	return lo + (uint64(1)<<shift)/2
}

// Record adds one duration; negative durations count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[index(v)]++
	h.n++
	h.sum += v
	if v > h.max {
		h.max = v
	}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Reset forgets every value.
func (h *Histogram) Reset() { *h = Histogram{} }

// Merge adds o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Quantile returns the value below which a fraction q (0 to 1) of the
// recorded values fall, or 0 when none is recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketValue(i), h.max))
		}
	}
	return time.Duration(h.max)
}

// Mean returns the average recorded value.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}

// Max returns the largest recorded value.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }
