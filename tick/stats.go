package tick

import (
	"slices"
	"sync"
	"time"
)

// window is how many of the most recent ticks the percentiles in Stats
// cover: about 17 seconds at 60 Hz.
const window = 1024

// Stats is a snapshot of a Loop's measurements. Counters cover the whole
// run; the Summaries cover the last Window ticks run. In JSON, durations
// are integers of nanoseconds.
type Stats struct {
	Ticks    uint64 `json:"ticks"`    // ticks run (callbacks called)
	Skipped  uint64 `json:"skipped"`  // ticks skipped by the overrun policy, never run
	CatchUps uint64 `json:"catchUps"` // ticks run a whole Step or more late, to catch up
	Overruns uint64 `json:"overruns"` // ticks whose callback ran longer than Step

	Lateness Summary `json:"lateness"` // Tick.Lateness: how late ticks started
	Duration Summary `json:"duration"` // how long the callback ran
	Window   int     `json:"window"`   // ticks the Summaries cover: Ticks, at most 1024
}

// Summary describes a set of durations. Percentiles are nearest-rank: P99
// is the smallest value at least 99% of the set is at or below. All are
// zero for an empty set.
type Summary struct {
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

// recorder keeps a Loop's Stats. The loop records one tick at a time;
// anyone may take a snapshot. Recording does not allocate.
type recorder struct {
	mu    sync.Mutex
	stats Stats // counters; the Summaries are computed by snapshot
	ring  [window]sample
	next  int // ring position of the next sample
	count int // samples in the rings
}

// A sample is one tick's measurements. They are kept together, so that
// recording a tick touches one cache line of the ring, not two.
type sample struct {
	lateness time.Duration
	duration time.Duration
}

// record adds a tick that started lateness after it was due, ran its
// callback for d, and was preceded by skipped skipped ticks.
func (r *recorder) record(lateness, d, step time.Duration, skipped uint64) {
	r.mu.Lock()
	s := &r.stats
	s.Ticks++
	s.Skipped += skipped
	if lateness >= step {
		s.CatchUps++
	}
	if d > step {
		s.Overruns++
	}
	r.ring[r.next] = sample{lateness, d}
	r.next = (r.next + 1) % window
	r.count = min(r.count+1, window)
	r.mu.Unlock()
}

// snapshot returns the Stats with the Summaries computed now.
func (r *recorder) snapshot() Stats {
	var lat, dur [window]time.Duration
	r.mu.Lock()
	s := r.stats
	n := r.count
	for i, x := range r.ring[:n] {
		lat[i], dur[i] = x.lateness, x.duration
	}
	r.mu.Unlock()
	s.Window = n
	s.Lateness = summarize(lat[:n])
	s.Duration = summarize(dur[:n])
	return s
}

// summarize sorts v and describes it.
func summarize(v []time.Duration) Summary {
	if len(v) == 0 {
		return Summary{}
	}
	slices.Sort(v)
	return Summary{P50: percentile(v, 50), P99: percentile(v, 99), Max: v[len(v)-1]}
}

// percentile returns the nearest-rank percentile p of sorted, non-empty v.
func percentile(v []time.Duration, p int) time.Duration {
	rank := (p*len(v) + 99) / 100 // ceil(p/100 * n)
	return v[max(rank, 1)-1]
}
