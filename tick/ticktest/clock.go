// Package ticktest provides a fake tick.Clock for deterministic tests of
// code driven by package tick.
//
// The fake clock stands still until the test moves it. A test typically
// runs a tick.Loop on a goroutine, waits until the loop is idle with
// WaitForTimers, and moves time on with Advance to fire its next tick; or
// has the loop's callback call Advance to pretend the tick took that long.
//
//	clock := ticktest.NewClock(time.Unix(0, 0))
//	loop, _ := tick.NewLoop(tick.Options{Rate: 10, Clock: clock})
//	go loop.Run(ctx, fn)       // tick 0 runs at once
//	clock.WaitForTimers(1)     // the loop is waiting for tick 1
//	clock.Advance(loop.Step()) // tick 1 runs
//
// Loops that share a tick.Scheduler wait on its one timer instead of their
// own, so there WaitForTimers(1) says the Scheduler is waiting; whether
// each loop has finished its tick is for the test's callbacks to report.
// Up to 64 loops of a rate started on a new Scheduler before the clock
// moves all run tick 0 at once, and their later ticks together.
package ticktest

import (
	"slices"
	"sync"
	"time"

	"github.com/tickwire/tickwire/tick"
)

// Clock is a fake tick.Clock. Its time moves only by Advance, and its
// timers fire only then, or when armed for a time not after the present.
// It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	armed  sync.Cond // broadcast when the set of armed timers changes
	now    time.Time
	timers []*timer // the armed timers
}

// NewClock returns a Clock whose time is start.
func NewClock(start time.Time) *Clock {
	c := &Clock{now: start}
	c.armed.L = &c.mu
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock reaches d from now;
// at once if d <= 0.
func (c *Clock) NewTimer(d time.Duration) tick.Timer {
	t := &timer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.arm(d)
	return t
}

// Advance moves the clock forward by d, which must not be negative, and
// fires every timer armed for the new time or before. Timers fire once
// each, with the new time, however far the clock jumped.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		panic("ticktest: Advance with a negative duration")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.when.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.fire()
	}
	clear(c.timers[len(kept):])
	if len(kept) != len(c.timers) {
		c.timers = kept
		c.armed.Broadcast()
	}
}

// WaitForTimers blocks until at least n timers are armed: until the code
// under test is waiting for time to pass.
func (c *Clock) WaitForTimers(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) < n {
		c.armed.Wait()
	}
}

// Timers returns how many timers are armed.
func (c *Clock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// timer is a Clock's tick.Timer. Its fields are guarded by c.mu.
type timer struct {
	c     *Clock
	ch    chan time.Time // buffered: the clock never waits for a receiver
	when  time.Time
	armed bool
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.disarm()
	t.arm(d)
	return was
}

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	return t.disarm()
}

// arm sets t to fire d from now, firing it at once if d <= 0.
func (t *timer) arm(d time.Duration) {
	t.when = t.c.now.Add(d)
	if d <= 0 {
		t.fire()
		return
	}
	t.armed = true
	t.c.timers = append(t.c.timers, t)
	t.c.armed.Broadcast()
}

// fire sends the time; the caller takes t off the clock's list.
func (t *timer) fire() {
	t.armed = false
	select {
	case t.ch <- t.c.now:
	default:
	}
}

// disarm stops t and drops a value it sent that nobody received, as
// *time.Timer does, and reports whether t was armed.
func (t *timer) disarm() bool {
	select {
	case <-t.ch:
	default:
	}
	if !t.armed {
		return false
	}
	t.armed = false
	for i, u := range t.c.timers {
		if u == t {
			t.c.timers = slices.Delete(t.c.timers, i, i+1)
			break
		}
	}
	t.c.armed.Broadcast()
	return true
}
