package tick

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Limits and defaults of Options.
const (
	DefaultRate       = 60   // ticks per second when Options.Rate is 0
	MaxRate           = 1000 // the highest Options.Rate accepted
	DefaultMaxCatchUp = 3    // Options.MaxCatchUp when it is 0
)

// A Tick is one firing of a Loop, passed to its callback.
type Tick struct {
	// N is the tick's place on the schedule, counting from 0 at the
	// loop's start: tick N is due at start + N*Step. Ticks skipped by the
	// overrun policy are never delivered, so N can jump; N*Step is always
	// the simulated time that matches Due.
	N        uint64
	Step     time.Duration // the fixed simulation step: the loop's period
	Due      time.Time     // when the tick was scheduled to start
	Start    time.Time     // when it started
	Lateness time.Duration // Start - Due; never negative
}

// Options configures a Loop. The zero value is a 60 Hz loop with its own
// timer on the system clock that catches up at most 3 ticks.
type Options struct {
	// Rate is how many ticks a second the loop runs, 1 to MaxRate; 0
	// means DefaultRate. The step is time.Second/Rate rounded down to the
	// nanosecond (16.666666ms at 60 Hz).
	Rate int

	// MaxCatchUp is the most ticks the loop runs back to back to catch up
	// after it falls a whole step or more behind; then it skips the
	// overdue ticks but the latest. 0 means DefaultMaxCatchUp; a negative
	// value means never catch up: always skip to the latest due tick.
	MaxCatchUp int

	// Clock is the loop's clock; nil means the Scheduler's clock if there
	// is a Scheduler, else the system clock. With a Scheduler it must be
	// nil or the Scheduler's clock.
	Clock Clock

	// Scheduler, if not nil, wakes the loop, sharing one timer with all
	// its other loops. Use one for many loops. If nil, the loop keeps a
	// timer of its own.
	Scheduler *Scheduler
}

// A Loop calls a function at a fixed rate on an absolute schedule: tick N
// is due at start + N*Step, however long the loop has run and however late
// earlier ticks were, so no drift accumulates.
//
// A Loop runs once. Its methods are safe for concurrent use.
type Loop struct {
	step     time.Duration
	maxCatch int
	clock    Clock
	sched    *Scheduler

	started  atomic.Bool
	stop     chan struct{}
	stopOnce sync.Once

	wake chan struct{} // the Scheduler's signal that a tick may be due
	slot int           // index in the Scheduler's list of loops; under sched.mu

	rec recorder
}

// NewLoop returns a Loop configured by opts, ready to Run.
func NewLoop(opts Options) (*Loop, error) {
	rate := opts.Rate
	if rate == 0 {
		rate = DefaultRate
	}
	if rate < 1 || rate > MaxRate {
		return nil, fmt.Errorf("tick: Options.Rate is %d; want 1 to %d ticks per second, or 0 for %d", opts.Rate, MaxRate, DefaultRate)
	}
	l := &Loop{
		step:     time.Second / time.Duration(rate),
		maxCatch: opts.MaxCatchUp,
		clock:    opts.Clock,
		sched:    opts.Scheduler,
		stop:     make(chan struct{}),
	}
	switch {
	case l.maxCatch == 0:
		l.maxCatch = DefaultMaxCatchUp
	case l.maxCatch < 0:
		l.maxCatch = 0
	}
	if l.sched != nil {
		sc := l.sched.getClock()
		if l.clock != nil && !sameClock(l.clock, sc) {
			return nil, errors.New("tick: Options.Clock differs from the Scheduler's clock; leave it nil to use the Scheduler's")
		}
		l.clock = sc
		l.wake = make(chan struct{}, 1)
	}
	if l.clock == nil {
		l.clock = systemClock{}
	}
	return l, nil
}

// sameClock reports whether a and b are the same clock, treating clocks
// of incomparable types as different.
func sameClock(a, b Clock) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// Step returns the loop's period, the Step of its ticks.
func (l *Loop) Step() time.Duration { return l.step }

// Run calls fn for every tick, on the calling goroutine, until ctx is done
// or Stop is called; it then returns ctx.Err() or nil. A tick in progress
// is not interrupted: Run returns after fn does. Calls of fn never overlap.
//
// Without a Scheduler the first tick is due when Run is called. With one,
// it is due at the Scheduler's next instant for the loop's rate, at most
// one step later, so that loops of the same rate share wake-ups.
//
// When a tick starts a whole step or more late, because fn ran long or the
// process stalled, the loop runs overdue ticks back to back to catch up,
// at most Options.MaxCatchUp of them in a row. If it is still behind after
// that, it skips every overdue tick but the latest, which it runs next.
// Skipped ticks are counted in Stats and never delivered, so N jumps past
// them: game time N*Step stays aligned with the wall clock instead of
// falling further behind after every stall. A game that must simulate
// every step can see the gap in N and make it up itself.
//
// A Loop runs once: Run returns an error if called again.
func (l *Loop) Run(ctx context.Context, fn func(Tick)) error {
	if fn == nil {
		return errors.New("tick: Loop.Run called with a nil func")
	}
	if l.started.Swap(true) {
		return errors.New("tick: Loop.Run called twice; a Loop runs once")
	}
	done := ctx.Done()
	select {
	case <-done:
		return ctx.Err()
	case <-l.stop:
		return nil
	default:
	}

	var start time.Time
	var timer Timer
	if l.sched != nil {
		start = l.sched.add(l)
		defer l.sched.remove(l)
	} else {
		start = l.clock.Now()
		defer func() {
			if timer != nil {
				timer.Stop()
			}
		}()
	}

	var (
		next   uint64 // the next tick to run
		streak int    // catch-up ticks run in a row
		now    = l.clock.Now()
	)
	for {
		select {
		case <-done:
			return ctx.Err()
		case <-l.stop:
			return nil
		default:
		}
		due := start.Add(time.Duration(next) * l.step)
		if now.Before(due) {
			var wake <-chan struct{}
			var fired <-chan time.Time
			if l.sched != nil {
				wake = l.wake
			} else {
				if timer == nil {
					timer = l.clock.NewTimer(due.Sub(now))
				} else {
					timer.Reset(due.Sub(now))
				}
				fired = timer.C()
			}
			select {
			case <-wake:
			case <-fired:
			case <-done:
				return ctx.Err()
			case <-l.stop:
				return nil
			}
			now = l.clock.Now()
			continue
		}

		// Tick next is due. If the one after it is due too, the loop is
		// behind: catch up, or skip to the latest due tick.
		var skipped uint64
		if latest := uint64(now.Sub(start) / l.step); latest > next {
			if streak < l.maxCatch {
				streak++
			} else {
				skipped = latest - next
				next = latest
				due = start.Add(time.Duration(next) * l.step)
				streak = 0
			}
		} else {
			streak = 0
		}
		if l.sched != nil {
			// A signal already here is for this tick or an earlier one;
			// drop it rather than wake for nothing later.
			select {
			case <-l.wake:
			default:
			}
		}

		t := Tick{N: next, Step: l.step, Due: due, Start: now, Lateness: now.Sub(due)}
		fn(t)
		now = l.clock.Now()
		l.rec.record(t.Lateness, now.Sub(t.Start), l.step, skipped)
		next++
	}
}

// Stop makes Run return nil once the tick in progress, if any, is done.
// It does not wait for that. Stop may be called more than once, from any
// goroutine, fn included; after Stop, Run returns at once.
func (l *Loop) Stop() {
	l.stopOnce.Do(func() { close(l.stop) })
}

// Stats returns the loop's measurements so far. It is safe to call while
// the loop runs, from any goroutine, and after it has stopped.
func (l *Loop) Stats() Stats { return l.rec.snapshot() }
