package tick

import (
	"context"
	"errors"
	"fmt"
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

	// Scheduler, if not nil, wakes the loop from the timer it shares
	// with its other loops; share one among all the loops of a process.
	// If nil, the loop keeps a timer of its own, which costs less for a
	// lone loop and more for many.
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

	started atomic.Bool
	stopped atomic.Bool // by Stop
	quit    atomic.Bool // by Stop or the end of Run's context

	// wake is signalled when a tick may be due, by the Scheduler, and
	// when quit is set. It holds one signal, so none is lost and none
	// waits; the loop checks what is due and quit itself.
	wake  chan struct{}
	slot  int           // index in its Scheduler bucket's loops; under sched.mu
	phase time.Duration // of its Scheduler grid; under sched.mu

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
		wake:     make(chan struct{}, 1),
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
// it is due at the next instant of the loop's grid (see Scheduler), at
// most one step later.
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
	if l.quit.Load() || ctx.Err() != nil {
		return l.exitErr(ctx)
	}
	stopCtx := context.AfterFunc(ctx, l.abort)
	defer stopCtx()

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

	// Times are kept as offsets from start, which makes each tick a
	// few integer operations.
	var (
		next    uint64           // the next tick to run
		nextOff time.Duration    // when it is due: next*step
		streak  int              // catch-up ticks run in a row
		now     = l.clock.Now()  // the time, read last
		nowOff  = now.Sub(start) // and as an offset
	)
	for !l.quit.Load() {
		if nowOff < nextOff {
			if l.sched != nil {
				<-l.wake
			} else {
				if timer == nil {
					timer = l.clock.NewTimer(nextOff - nowOff)
				} else {
					timer.Reset(nextOff - nowOff)
				}
				// As in Scheduler.run: a timer counts from when it is
				// armed, so if the clock moved since it was read, look
				// again rather than wake late.
				if l.clock.Now().Sub(now) > armSlack {
					now = l.clock.Now()
					nowOff = now.Sub(start)
					continue
				}
				select {
				case <-timer.C():
				case <-l.wake:
				}
			}
			now = l.clock.Now()
			nowOff = now.Sub(start)
			continue
		}

		// Tick next is due. If the one after it is due too, the loop is
		// behind: catch up, or skip to the latest due tick.
		var skipped uint64
		if nowOff-nextOff >= l.step {
			if streak < l.maxCatch {
				streak++
			} else {
				latest := uint64(nowOff / l.step)
				skipped = latest - next
				next = latest
				nextOff = time.Duration(next) * l.step
				streak = 0
			}
		} else {
			streak = 0
		}
		// A signal already here is for this tick or an earlier one, or
		// for quit, which is checked before the loop waits again: drop
		// it rather than wake for nothing later.
		select {
		case <-l.wake:
		default:
		}

		t := Tick{N: next, Step: l.step, Due: start.Add(nextOff), Start: now, Lateness: nowOff - nextOff}
		fn(t)
		now = l.clock.Now()
		end := now.Sub(start)
		l.rec.record(t.Lateness, end-nowOff, l.step, skipped)
		nowOff = end
		next++
		nextOff += l.step
	}
	return l.exitErr(ctx)
}

// abort makes Run return: it is called by Stop and when Run's context
// ends.
func (l *Loop) abort() {
	l.quit.Store(true)
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// exitErr is what Run returns when it stops.
func (l *Loop) exitErr(ctx context.Context) error {
	if l.stopped.Load() {
		return nil
	}
	return ctx.Err()
}

// Stop makes Run return nil once the tick in progress, if any, is done.
// It does not wait for that. Stop may be called more than once, from any
// goroutine, fn included; after Stop, Run returns at once.
func (l *Loop) Stop() {
	l.stopped.Store(true)
	l.abort()
}

// Stats returns the loop's measurements so far. It is safe to call while
// the loop runs, from any goroutine, and after it has stopped.
func (l *Loop) Stats() Stats { return l.rec.snapshot() }
