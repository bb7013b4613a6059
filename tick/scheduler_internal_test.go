package tick

import (
	"sync"
	"testing"
	"time"
)

// stillClock is a Clock whose time moves only when a test sets it, and
// whose timers never fire. The Scheduler's goroutine reads it while the
// test sets it, hence the lock.
type stillClock struct {
	mu  sync.Mutex
	now time.Time
}

func newStillClock(now time.Time) *stillClock { return &stillClock{now: now} }

func (c *stillClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stillClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

func (c *stillClock) NewTimer(d time.Duration) Timer { return stillTimer{} }

type stillTimer struct{}

func (stillTimer) C() <-chan time.Time        { return nil }
func (stillTimer) Reset(d time.Duration) bool { return true }
func (stillTimer) Stop() bool                 { return true }

// TestPhaseFor checks where the Scheduler places loops: the start of each
// loop it is given, as an offset from the Scheduler's first use.
func TestPhaseFor(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	const hz60 = time.Second / 60
	tests := []struct {
		name        string
		slots, pack int
		rate        int
		n           int
		want        map[time.Duration]int // loops starting at each offset
	}{
		{"one loop", 0, 0, 60, 1, map[time.Duration]int{0: 1}},
		{"64 loops share an instant", 0, 0, 60, 64, map[time.Duration]int{0: 64}},
		{"then the next phase opens", 0, 0, 60, 200, map[time.Duration]int{
			0: 64, hz60 / 16: 64, 2 * hz60 / 16: 64, 3 * hz60 / 16: 8,
		}},
		{"phases fill evenly when all are full", 0, 0, 60, 64*16 + 20, map[time.Duration]int{
			0: 66, 1 * hz60 / 16: 66, 2 * hz60 / 16: 66, 3 * hz60 / 16: 66,
			4 * hz60 / 16: 65, 5 * hz60 / 16: 65, 6 * hz60 / 16: 65, 7 * hz60 / 16: 65,
			8 * hz60 / 16: 65, 9 * hz60 / 16: 65, 10 * hz60 / 16: 65, 11 * hz60 / 16: 65,
			12 * hz60 / 16: 65, 13 * hz60 / 16: 65, 14 * hz60 / 16: 65, 15 * hz60 / 16: 65,
		}},
		{"phases at least 1ms apart", 0, 1, 200, 7, map[time.Duration]int{
			0: 2, time.Millisecond: 2, 2 * time.Millisecond: 1, 3 * time.Millisecond: 1, 4 * time.Millisecond: 1,
		}},
		{"1000 Hz has one phase", 0, 0, 1000, 100, map[time.Duration]int{0: 100}},
		{"aligned", 1, 0, 60, 200, map[time.Duration]int{0: 200}},
		{"spread", 0, 1, 10, 20, map[time.Duration]int{
			0: 2, 6250 * time.Microsecond: 2, 12500 * time.Microsecond: 2, 18750 * time.Microsecond: 2,
			25 * time.Millisecond: 1, 31250 * time.Microsecond: 1, 37500 * time.Microsecond: 1, 43750 * time.Microsecond: 1,
			50 * time.Millisecond: 1, 56250 * time.Microsecond: 1, 62500 * time.Microsecond: 1, 68750 * time.Microsecond: 1,
			75 * time.Millisecond: 1, 81250 * time.Microsecond: 1, 87500 * time.Microsecond: 1, 93750 * time.Microsecond: 1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newStillClock(t0)
			s := NewScheduler(clock)
			s.slots, s.pack = tt.slots, tt.pack
			got := map[time.Duration]int{}
			var loops []*Loop
			for range tt.n {
				l, err := NewLoop(Options{Rate: tt.rate, Scheduler: s})
				if err != nil {
					t.Fatal(err)
				}
				got[s.add(l).Sub(t0)]++
				loops = append(loops, l)
			}
			if len(got) != len(tt.want) {
				t.Errorf("starts %v, want %v", got, tt.want)
			}
			for off, n := range tt.want {
				if got[off] != n {
					t.Errorf("%d loops start at +%v, want %d", got[off], off, n)
				}
			}
			for _, l := range loops {
				s.remove(l)
			}
			if len(s.buckets) != 0 || len(s.queue) != 0 {
				t.Errorf("after removing every loop: %d buckets, %d queued", len(s.buckets), len(s.queue))
			}
		})
	}
}

// TestPhaseForLater checks loops placed after others have come and gone,
// and after time has passed.
func TestPhaseForLater(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	const step = time.Second / 60
	clock := newStillClock(t0)
	s := NewScheduler(clock)
	add := func() (*Loop, time.Duration) {
		l, err := NewLoop(Options{Scheduler: s})
		if err != nil {
			t.Fatal(err)
		}
		return l, s.add(l).Sub(t0)
	}
	var first []*Loop
	for range 70 { // 64 at +0, 6 at phase 1
		l, _ := add()
		first = append(first, l)
	}
	// Ten of phase 0 leave; their places are taken first.
	for _, l := range first[:10] {
		s.remove(l)
	}
	clock.set(t0.Add(5 * time.Millisecond))
	for i := range 12 {
		_, start := add()
		want := step // the next instant of phase 0
		if i >= 10 {
			want = step + step/16 // of phase 1
		}
		if start != want {
			t.Errorf("loop %d starts at +%v, want +%v", i, start, want)
		}
	}
	// A loop of another rate starts on its own grid, from the same epoch.
	l, err := NewLoop(Options{Rate: 20, Scheduler: s})
	if err != nil {
		t.Fatal(err)
	}
	if start := s.add(l).Sub(t0); start != 50*time.Millisecond {
		t.Errorf("20 Hz loop starts at +%v, want +50ms", start)
	}
}
