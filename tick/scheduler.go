package tick

import (
	"container/heap"
	"sync"
	"time"
)

// The loops of one step share an instant until maxPack of them do; then
// the next phase of the step opens, up to maxSlots phases at least minSlot
// apart. Go's timers, on Linux, wake a sleeping process with millisecond
// resolution: phases closer than that would not wake apart.
const (
	maxPack  = 64
	maxSlots = 16
	minSlot  = time.Millisecond
	armSlack = 100 * time.Microsecond // see Scheduler.run
)

// A Scheduler wakes many Loops from one timer goroutine. It places each
// loop on a grid of instants, epoch + phase + k*step, where the epoch is
// the Scheduler's first use; the loops of a grid share its wake-ups. The
// loops of one rate share one phase until 64 of them do, then fill the
// rate's next phase, and so on, up to 16 phases spread over the step at
// least a millisecond apart; when all are full, loops go to the phase with
// fewest. So a hundred 60 Hz loops cost two timer wake-ups per step
// instead of a hundred, and no instant starts more than 64 ticks at once
// while there are at most 1024 loops, which keeps ticks prompt when the
// loops have work to do. Give a Scheduler to loops in Options.Scheduler.
//
// At each instant the Scheduler signals every loop due then, without
// waiting for any: each loop runs its ticks on its own goroutine, the one
// that called Run, so a slow loop delays only itself. A loop still busy
// when signalled sees how late it is when it gets back, and catches up or
// skips as usual.
//
// The Scheduler's goroutine runs only while loops are running. The zero
// Scheduler uses the system clock; NewScheduler takes any Clock. A
// Scheduler is safe for concurrent use.
type Scheduler struct {
	mu      sync.Mutex
	clock   Clock
	epoch   time.Time             // the origin of every grid, once started
	started bool                  // epoch is set
	slots   int                   // most phases per step; 0 means maxSlots
	pack    int                   // loops per phase before the next; 0 means maxPack
	buckets map[bucketKey]*bucket // the loops of each step and phase
	queue   bucketHeap            // buckets by next instant
	running bool                  // the timer goroutine is running
	kick    chan struct{}         // makes the timer goroutine look again
}

// A bucketKey names a grid: the instants epoch + phase + k*step.
type bucketKey struct {
	step  time.Duration
	phase time.Duration
}

// A bucket is the loops of one grid: they share its instants.
type bucket struct {
	bucketKey
	next  time.Time // the next instant to signal them
	loops []*Loop
	index int // in the heap
}

// NewScheduler returns a Scheduler on clock; nil means the system clock.
func NewScheduler(clock Clock) *Scheduler {
	s := &Scheduler{clock: clock}
	s.init()
	return s
}

// init sets defaults on first use; s.mu must be held, or s unshared.
func (s *Scheduler) init() {
	if s.clock == nil {
		s.clock = systemClock{}
	}
	if s.buckets == nil {
		s.buckets = make(map[bucketKey]*bucket)
		s.kick = make(chan struct{}, 1)
	}
}

func (s *Scheduler) getClock() Clock {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.clock
}

// add registers l and returns when its tick 0 is due: the first instant of
// its grid at or after now.
func (s *Scheduler) add(l *Loop) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	now := s.clock.Now()
	if !s.started {
		s.epoch, s.started = now, true
	}
	key := s.phaseFor(l.step)
	off := now.Sub(s.epoch) - key.phase // > -step
	start := s.epoch.Add(key.phase + (off+l.step-1)/l.step*l.step)
	b := s.buckets[key]
	switch {
	case b == nil:
		b = &bucket{bucketKey: key, next: start}
		s.buckets[key] = b
		heap.Push(&s.queue, b)
	case start.Before(b.next):
		// The timer goroutine signalled this grid's instant now a moment
		// ago, before l was here to see it.
		b.next = start
		heap.Fix(&s.queue, b.index)
	}
	l.phase = key.phase
	l.slot = len(b.loops)
	b.loops = append(b.loops, l)
	if !s.running {
		s.running = true
		go s.run()
	} else if s.queue[0] == b {
		s.poke()
	}
	return start
}

// remove unregisters l.
func (s *Scheduler) remove(l *Loop) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := bucketKey{l.step, l.phase}
	b := s.buckets[key]
	last := len(b.loops) - 1
	b.loops[l.slot] = b.loops[last]
	b.loops[l.slot].slot = l.slot
	b.loops[last] = nil
	b.loops = b.loops[:last]
	if len(b.loops) == 0 {
		heap.Remove(&s.queue, b.index)
		delete(s.buckets, key)
		if len(s.queue) == 0 {
			s.poke() // let the timer goroutine exit
		}
	}
}

// phaseFor returns the grid for a new loop of step. The step's phases are
// spread evenly over it, at least minSlot apart; the loop gets the first
// with fewer than pack loops, or if none, the one with fewest.
func (s *Scheduler) phaseFor(step time.Duration) bucketKey {
	slots, pack := s.slots, s.pack
	if slots == 0 {
		slots = maxSlots
	}
	if pack == 0 {
		pack = maxPack
	}
	n := max(1, min(slots, int(step/minSlot)))
	best := bucketKey{step: step}
	fewest := -1
	for i := range n {
		key := bucketKey{step, time.Duration(i) * step / time.Duration(n)}
		count := 0
		if b := s.buckets[key]; b != nil {
			count = len(b.loops)
		}
		if count < pack {
			return key
		}
		if fewest < 0 || count < fewest {
			best, fewest = key, count
		}
	}
	return best
}

// poke makes the timer goroutine recompute its deadline.
func (s *Scheduler) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run is the timer goroutine. It sleeps until the earliest instant of any
// grid, signals the loops due then, and exits when no loop is left.
func (s *Scheduler) run() {
	var timer Timer
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.running = false
			s.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return
		}
		now := s.clock.Now()
		for b := s.queue[0]; !b.next.After(now); b = s.queue[0] {
			for _, l := range b.loops {
				select {
				case l.wake <- struct{}{}:
				default: // busy, or already signalled
				}
			}
			// The next instant strictly after now: instants missed while
			// this goroutine was late are covered by this signal.
			b.next = s.epoch.Add(b.phase + ((now.Sub(s.epoch)-b.phase)/b.step+1)*b.step)
			heap.Fix(&s.queue, 0)
		}
		d := s.queue[0].next.Sub(now)
		s.mu.Unlock()

		if timer == nil {
			timer = s.clock.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		// The timer counts d from when it is armed, not from now: if the
		// clock moved on meanwhile, its deadline is late by that much.
		// Look again rather than sleep past an instant; a few
		// microseconds of drift are far below timer resolution.
		if s.clock.Now().Sub(now) > armSlack {
			continue
		}
		select {
		case <-timer.C():
		case <-s.kick:
		}
	}
}

// bucketHeap is a min-heap of buckets by next instant.
type bucketHeap []*bucket

func (h bucketHeap) Len() int           { return len(h) }
func (h bucketHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h bucketHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *bucketHeap) Push(x any) {
	b := x.(*bucket)
	b.index = len(*h)
	*h = append(*h, b)
}
func (h *bucketHeap) Pop() any {
	old := *h
	b := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return b
}
