package tick

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	seq := func(from, to int) []time.Duration { // from..to ms, shuffled
		var v []time.Duration
		n := to - from + 1
		for i := range n {
			v = append(v, time.Duration(from+(i*37)%n)*ms)
		}
		return v
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"one", []time.Duration{7 * ms}, Summary{7 * ms, 7 * ms, 7 * ms}},
		{"two", []time.Duration{9 * ms, 3 * ms}, Summary{3 * ms, 9 * ms, 9 * ms}},
		{"1..100", seq(1, 100), Summary{50 * ms, 99 * ms, 100 * ms}},
		{"1..1000", seq(1, 1000), Summary{500 * ms, 990 * ms, 1000 * ms}},
		{"1..1024", seq(1, 1024), Summary{512 * ms, 1014 * ms, 1024 * ms}},
		{"all equal", []time.Duration{ms, ms, ms}, Summary{ms, ms, ms}},
		{"one outlier in 100", append(make([]time.Duration, 99), time.Second), Summary{0, 0, time.Second}},
		{"two outliers in 100", append(make([]time.Duration, 98), time.Second, time.Second), Summary{0, time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.in); got != tt.want {
				t.Errorf("summarize = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRecorder(t *testing.T) {
	step := 10 * time.Millisecond
	var r recorder
	if s := r.snapshot(); s != (Stats{}) {
		t.Fatalf("empty recorder: %+v", s)
	}
	// 3000 ticks: only the last 1024 (1976..2999) count in the Summaries,
	// while the counters cover all of them.
	for i := range 3000 {
		lat := time.Duration(i) * time.Microsecond
		d := time.Duration(i%20) * time.Millisecond // 10 of every 20 overrun
		var skipped uint64
		if i%100 == 0 {
			skipped = 2
		}
		if i == 5 {
			lat = step // a catch-up tick
		}
		r.record(lat, d, step, skipped)
	}
	s := r.snapshot()
	want := Stats{
		Ticks:    3000,
		Skipped:  60,
		CatchUps: 1,             // tick 5
		Overruns: 3000 / 20 * 9, // d of 11..19ms
		Window:   1024,
		Lateness: Summary{
			P50: (1976 + 511) * time.Microsecond,
			P99: (1976 + 1013) * time.Microsecond,
			Max: 2999 * time.Microsecond,
		},
	}
	// Durations of ticks 1976..2999 cycle through 0..19ms from 16ms: 51
	// of 0..15ms, 52 of 16..19ms. Rank 512 falls on 10ms (0..9ms are 510).
	want.Duration = Summary{P50: 10 * time.Millisecond, P99: 19 * time.Millisecond, Max: 19 * time.Millisecond}
	if s != want {
		t.Errorf("snapshot:\n got %+v\nwant %+v", s, want)
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var r recorder
	allocs := testing.AllocsPerRun(1000, func() { r.record(time.Millisecond, 2*time.Millisecond, time.Second, 1) })
	if allocs != 0 {
		t.Errorf("record allocates %v times per call", allocs)
	}
}
