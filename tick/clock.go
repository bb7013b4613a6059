package tick

import "time"

// A Clock tells the time and makes timers. Loops and Schedulers read it
// for every tick; nil in Options or NewScheduler means the system clock.
// Package ticktest has a fake Clock that tests move by hand.
//
// A Clock must be safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a Timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
}

// A Timer sends the time on its channel once, when it fires. It behaves
// like *time.Timer since Go 1.23: after Stop or Reset returns, no value
// from before the call is received.
type Timer interface {
	// C returns the channel the timer fires on.
	C() <-chan time.Time
	// Reset makes the timer fire d from now. It reports whether the timer
	// was still armed.
	Reset(d time.Duration) bool
	// Stop disarms the timer. It reports whether the timer was armed.
	Stop() bool
}

// systemClock is the Clock used when none is given.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (s systemTimer) C() <-chan time.Time        { return s.t.C }
func (s systemTimer) Reset(d time.Duration) bool { return s.t.Reset(d) }
func (s systemTimer) Stop() bool                 { return s.t.Stop() }
