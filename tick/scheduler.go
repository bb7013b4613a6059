package tick

import (
	"container/heap"
	"sync"
	"time"
)

// A Scheduler wakes many Loops from one timer. Loops of the same rate share
// a grid of instants, the Scheduler's first use plus whole steps, so a
// thousand 60 Hz loops cost one timer wake-up every 16.7ms instead of a
// thousand at scattered instants. Give it to loops in Options.Scheduler.
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
	epoch   time.Time                 // the origin of every rate's grid
	byStep  map[time.Duration]*bucket // the loops of each step
	queue   bucketHeap                // buckets by next instant
	running bool                      // the timer goroutine is running
	kick    chan struct{}             // makes the timer goroutine look again
}

// A bucket is the loops of one step: they share the instants of one grid.
type bucket struct {
	step  time.Duration
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
	if s.byStep == nil {
		s.byStep = make(map[time.Duration]*bucket)
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
	if s.epoch.IsZero() {
		s.epoch = now
	}
	k := (now.Sub(s.epoch) + l.step - 1) / l.step
	start := s.epoch.Add(k * l.step)
	b := s.byStep[l.step]
	switch {
	case b == nil:
		b = &bucket{step: l.step, next: start}
		s.byStep[l.step] = b
		heap.Push(&s.queue, b)
	case start.Before(b.next):
		// The timer goroutine signalled this grid's instant now a moment
		// ago, before l was here to see it.
		b.next = start
		heap.Fix(&s.queue, b.index)
	}
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
	b := s.byStep[l.step]
	last := len(b.loops) - 1
	b.loops[l.slot] = b.loops[last]
	b.loops[l.slot].slot = l.slot
	b.loops[last] = nil
	b.loops = b.loops[:last]
	if len(b.loops) == 0 {
		heap.Remove(&s.queue, b.index)
		delete(s.byStep, l.step)
		if len(s.queue) == 0 {
			s.poke() // let the timer goroutine exit
		}
	}
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
			b.next = s.epoch.Add((now.Sub(s.epoch)/b.step + 1) * b.step)
			heap.Fix(&s.queue, 0)
		}
		d := s.queue[0].next.Sub(now)
		s.mu.Unlock()

		if timer == nil {
			timer = s.clock.NewTimer(d)
		} else {
			timer.Reset(d)
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
