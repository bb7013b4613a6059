package ticktest_test

import (
	"testing"
	"time"

	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tick/ticktest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var _ tick.Clock = (*ticktest.Clock)(nil)

// fired reports whether tm has a value to receive, and takes it.
func fired(tm tick.Timer) (time.Time, bool) {
	select {
	case at := <-tm.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestClock(t *testing.T) {
	c := ticktest.NewClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %v", c.Now())
	}
	a := c.NewTimer(100 * time.Millisecond)
	b := c.NewTimer(250 * time.Millisecond)
	if c.Timers() != 2 {
		t.Fatalf("Timers = %d, want 2", c.Timers())
	}
	c.Advance(99 * time.Millisecond)
	if _, ok := fired(a); ok {
		t.Fatal("a fired early")
	}
	c.Advance(time.Millisecond)
	if at, ok := fired(a); !ok || !at.Equal(t0.Add(100*time.Millisecond)) {
		t.Fatalf("a: fired %v at %v", ok, at)
	}
	if c.Timers() != 1 {
		t.Fatalf("Timers = %d, want 1", c.Timers())
	}
	// Jumping past b fires it once, with the new time.
	c.Advance(time.Second)
	if at, ok := fired(b); !ok || !at.Equal(t0.Add(1100*time.Millisecond)) {
		t.Fatalf("b: fired %v at %v", ok, at)
	}
	if _, ok := fired(b); ok {
		t.Fatal("b fired twice")
	}
	c.Advance(0)
	if c.Timers() != 0 {
		t.Fatalf("Timers = %d, want 0", c.Timers())
	}
}

func TestTimerResetStop(t *testing.T) {
	c := ticktest.NewClock(t0)
	tm := c.NewTimer(time.Second)
	if !tm.Stop() {
		t.Error("Stop of an armed timer = false")
	}
	if tm.Stop() {
		t.Error("Stop of a stopped timer = true")
	}
	c.Advance(2 * time.Second)
	if _, ok := fired(tm); ok {
		t.Fatal("a stopped timer fired")
	}
	if tm.Reset(time.Second) {
		t.Error("Reset of a stopped timer = true")
	}
	if !tm.Reset(3 * time.Second) {
		t.Error("Reset of an armed timer = false")
	}
	c.Advance(time.Second)
	if _, ok := fired(tm); ok {
		t.Fatal("timer fired at its old time after Reset")
	}
	c.Advance(2 * time.Second)
	if _, ok := fired(tm); !ok {
		t.Fatal("timer did not fire at its new time")
	}
	// A value not received is dropped by Reset and Stop, as by *time.Timer.
	tm.Reset(time.Second)
	c.Advance(time.Second)
	tm.Reset(time.Second)
	if _, ok := fired(tm); ok {
		t.Fatal("value from before Reset received")
	}
	c.Advance(time.Second)
	tm.Stop()
	if _, ok := fired(tm); ok {
		t.Fatal("value from before Stop received")
	}
	// A timer for now or the past fires at once.
	for _, d := range []time.Duration{0, -time.Second} {
		if _, ok := fired(c.NewTimer(d)); !ok {
			t.Errorf("NewTimer(%v) did not fire at once", d)
		}
		tm.Reset(d)
		if _, ok := fired(tm); !ok {
			t.Errorf("Reset(%v) did not fire at once", d)
		}
	}
	if c.Timers() != 0 {
		t.Errorf("Timers = %d, want 0", c.Timers())
	}
}

func TestWaitForTimers(t *testing.T) {
	c := ticktest.NewClock(t0)
	got := make(chan time.Time)
	go func() {
		tm := c.NewTimer(time.Second)
		got <- <-tm.C()
	}()
	c.WaitForTimers(1)
	c.Advance(time.Second)
	if at := <-got; !at.Equal(t0.Add(time.Second)) {
		t.Errorf("fired at %v", at)
	}
	c.WaitForTimers(0) // returns at once
}

func TestAdvanceNegative(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Advance(-1) did not panic")
		}
	}()
	ticktest.NewClock(t0).Advance(-1)
}
