package tick_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tick/ticktest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestNewLoop(t *testing.T) {
	clock := ticktest.NewClock(t0)
	sched := tick.NewScheduler(clock)
	tests := []struct {
		name     string
		opts     tick.Options
		wantStep time.Duration
		wantErr  string // substring; "" for no error
	}{
		{"zero value", tick.Options{}, 16666666, ""},
		{"60 Hz", tick.Options{Rate: 60}, 16666666, ""},
		{"30 Hz", tick.Options{Rate: 30}, 33333333, ""},
		{"1 Hz", tick.Options{Rate: 1}, time.Second, ""},
		{"1000 Hz", tick.Options{Rate: 1000}, time.Millisecond, ""},
		{"negative catch-up", tick.Options{Rate: 20, MaxCatchUp: -1}, 50 * time.Millisecond, ""},
		{"large catch-up", tick.Options{Rate: 20, MaxCatchUp: 1 << 20}, 50 * time.Millisecond, ""},
		{"fake clock", tick.Options{Clock: clock}, 16666666, ""},
		{"scheduler", tick.Options{Scheduler: sched}, 16666666, ""},
		{"scheduler and its clock", tick.Options{Scheduler: sched, Clock: clock}, 16666666, ""},
		{"zero scheduler", tick.Options{Scheduler: new(tick.Scheduler)}, 16666666, ""},
		{"negative rate", tick.Options{Rate: -1}, 0, "Options.Rate is -1; want 1 to 1000 ticks per second, or 0 for 60"},
		{"rate too high", tick.Options{Rate: 1001}, 0, "Options.Rate is 1001; want 1 to 1000"},
		{"clock not the scheduler's", tick.Options{Scheduler: sched, Clock: ticktest.NewClock(t0)}, 0, "Options.Clock differs from the Scheduler's clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := tick.NewLoop(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "tick: ") {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if l != nil {
					t.Errorf("got a Loop with the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Step() != tt.wantStep {
				t.Errorf("Step = %v, want %v", l.Step(), tt.wantStep)
			}
		})
	}
}

// jitter is how late tick n is made to start in TestAbsoluteSchedule:
// anywhere from 0 to just under a step, in no particular order.
func jitter(n int, step time.Duration) time.Duration {
	return time.Duration((n*7919)%1000) * step / 1000
}

// TestAbsoluteSchedule runs 10,000 ticks, each started late by a varying
// amount, and checks every tick is due exactly on the schedule.
func TestAbsoluteSchedule(t *testing.T) {
	for _, rate := range []int{1, 30, 60, 144, 1000} {
		t.Run(fmt.Sprint(rate, "Hz"), func(t *testing.T) {
			const n = 10000
			clock := ticktest.NewClock(t0)
			loop, err := tick.NewLoop(tick.Options{Rate: rate, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			step := loop.Step()
			var got []tick.Tick // the loop's until Run returns
			done := make(chan error)
			go func() {
				done <- loop.Run(context.Background(), func(tk tick.Tick) { got = append(got, tk) })
			}()
			for i := 1; i < n; i++ {
				clock.WaitForTimers(1) // tick i-1 is done
				clock.Advance(t0.Add(time.Duration(i)*step + jitter(i, step)).Sub(clock.Now()))
			}
			clock.WaitForTimers(1)
			loop.Stop()
			if err := <-done; err != nil {
				t.Fatalf("Run = %v", err)
			}

			if len(got) != n {
				t.Fatalf("ran %d ticks, want %d", len(got), n)
			}
			for i, tk := range got {
				due := t0.Add(time.Duration(i) * step)
				want := tick.Tick{N: uint64(i), Step: step, Due: due, Start: due.Add(jitter(i, step)), Lateness: jitter(i, step)}
				if tk != want {
					t.Fatalf("tick %d = %+v\nwant %+v", i, tk, want)
				}
			}
			s := loop.Stats()
			if s.Ticks != n || s.Skipped != 0 || s.CatchUps != 0 || s.Overruns != 0 || s.Window != 1024 {
				t.Errorf("Stats = %+v", s)
			}
		})
	}
}

// TestOverrun runs ticks whose callbacks pretend to take some number of
// steps, by moving the fake clock on, and checks which ticks run, how
// late, and what is counted.
func TestOverrun(t *testing.T) {
	const step = 100 * time.Millisecond // at 10 Hz
	tests := []struct {
		name       string
		maxCatchUp int
		work       map[uint64]float64 // steps tick N takes; others run until the next is due
		everyTick  float64            // steps every tick takes, if not 0
		stopAt     uint64
		wantN      []uint64
		wantLate   []float64 // in steps
		wantSkip   uint64
		wantCatch  uint64
		wantOver   uint64
	}{
		{
			name:     "no stall",
			stopAt:   4,
			wantN:    []uint64{0, 1, 2, 3, 4},
			wantLate: []float64{0, 0, 0, 0, 0},
		},
		{
			name:     "late by less than a step is not catch-up",
			work:     map[uint64]float64{0: 1.9},
			stopAt:   2,
			wantN:    []uint64{0, 1, 2},
			wantLate: []float64{0, 0.9, 0},
			wantOver: 1,
		},
		{
			name:      "stall of 10.5 steps, default catch-up",
			work:      map[uint64]float64{0: 10.5},
			stopAt:    11,
			wantN:     []uint64{0, 1, 2, 3, 10, 11},
			wantLate:  []float64{0, 9.5, 8.5, 7.5, 0.5, 0},
			wantSkip:  6,
			wantCatch: 3,
			wantOver:  1,
		},
		{
			name:       "stall of 10.5 steps, catch up 3",
			maxCatchUp: 3,
			work:       map[uint64]float64{0: 10.5},
			stopAt:     11,
			wantN:      []uint64{0, 1, 2, 3, 10, 11},
			wantLate:   []float64{0, 9.5, 8.5, 7.5, 0.5, 0},
			wantSkip:   6,
			wantCatch:  3,
			wantOver:   1,
		},
		{
			name:       "stall of 10.5 steps, never catch up",
			maxCatchUp: -1,
			work:       map[uint64]float64{0: 10.5},
			stopAt:     11,
			wantN:      []uint64{0, 10, 11},
			wantLate:   []float64{0, 0.5, 0},
			wantSkip:   9,
			wantOver:   1,
		},
		{
			name:       "stall of 10.5 steps, catch up all",
			maxCatchUp: 100,
			work:       map[uint64]float64{0: 10.5},
			stopAt:     11,
			wantN:      []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
			wantLate:   []float64{0, 9.5, 8.5, 7.5, 6.5, 5.5, 4.5, 3.5, 2.5, 1.5, 0.5, 0},
			wantCatch:  9,
			wantOver:   1,
		},
		{
			name:      "stall of exactly 4 steps is caught up",
			work:      map[uint64]float64{0: 4},
			stopAt:    5,
			wantN:     []uint64{0, 1, 2, 3, 4, 5},
			wantLate:  []float64{0, 3, 2, 1, 0, 0},
			wantCatch: 3,
			wantOver:  1,
		},
		{
			name:      "stall of 5 steps skips 1",
			work:      map[uint64]float64{0: 5},
			stopAt:    6,
			wantN:     []uint64{0, 1, 2, 3, 5, 6},
			wantLate:  []float64{0, 4, 3, 2, 0, 0},
			wantSkip:  1,
			wantCatch: 3,
			wantOver:  1,
		},
		{
			name:      "stall in the middle",
			work:      map[uint64]float64{3: 6.25},
			stopAt:    11,
			wantN:     []uint64{0, 1, 2, 3, 4, 5, 6, 9, 10, 11},
			wantLate:  []float64{0, 0, 0, 0, 5.25, 4.25, 3.25, 0.25, 0, 0},
			wantSkip:  2,
			wantCatch: 3,
			wantOver:  1,
		},
		{
			name:       "every tick takes 2.5 steps, catch up 1",
			maxCatchUp: 1,
			everyTick:  2.5,
			stopAt:     10,
			wantN:      []uint64{0, 1, 5, 6, 10},
			wantLate:   []float64{0, 1.5, 0, 1.5, 0},
			wantSkip:   6,
			wantCatch:  2,
			wantOver:   4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := ticktest.NewClock(t0)
			loop, err := tick.NewLoop(tick.Options{Rate: 10, Clock: clock, MaxCatchUp: tt.maxCatchUp})
			if err != nil {
				t.Fatal(err)
			}
			var gotN []uint64
			var gotLate []float64
			err = loop.Run(context.Background(), func(tk tick.Tick) {
				gotN = append(gotN, tk.N)
				gotLate = append(gotLate, float64(tk.Lateness)/float64(step))
				if tk.Due != t0.Add(time.Duration(tk.N)*step) || tk.Lateness != tk.Start.Sub(tk.Due) || !tk.Start.Equal(clock.Now()) {
					t.Errorf("tick %+v is off the schedule", tk)
				}
				if tk.N >= tt.stopAt {
					loop.Stop()
					return
				}
				switch w, ok := tt.work[tk.N]; {
				case ok:
					clock.Advance(time.Duration(w * float64(step)))
				case tt.everyTick != 0:
					clock.Advance(time.Duration(tt.everyTick * float64(step)))
				default: // until the next tick is due, so that the loop never waits
					clock.Advance(max(0, tk.Due.Add(step).Sub(clock.Now())))
				}
			})
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
			if !slices.Equal(gotN, tt.wantN) || !slices.Equal(gotLate, tt.wantLate) {
				t.Errorf("ran N %v\n  late %v\nwant N %v\n  late %v", gotN, gotLate, tt.wantN, tt.wantLate)
			}
			s := loop.Stats()
			if s.Ticks != uint64(len(tt.wantN)) || s.Skipped != tt.wantSkip || s.CatchUps != tt.wantCatch || s.Overruns != tt.wantOver {
				t.Errorf("Stats: ticks %d, skipped %d, catch-ups %d, overruns %d; want %d, %d, %d, %d",
					s.Ticks, s.Skipped, s.CatchUps, s.Overruns, len(tt.wantN), tt.wantSkip, tt.wantCatch, tt.wantOver)
			}
			// Every tick number is either run or skipped.
			if last := tt.wantN[len(tt.wantN)-1]; s.Ticks+s.Skipped != last+1 {
				t.Errorf("ticks %d + skipped %d != %d", s.Ticks, s.Skipped, last+1)
			}
		})
	}
}

// TestStats runs 100 ticks of known lateness and duration and checks the
// Summaries.
func TestStats(t *testing.T) {
	clock := ticktest.NewClock(t0)
	loop, err := tick.NewLoop(tick.Options{Rate: 1, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	// Tick i starts late(i) late and runs for work(i): permutations of
	// 0..99ms and 1..100ms.
	late := func(i int) time.Duration { return time.Duration((i*37)%100) * time.Millisecond }
	work := func(i int) time.Duration { return time.Duration((i*13)%100+1) * time.Millisecond }
	done := make(chan error)
	go func() {
		done <- loop.Run(context.Background(), func(tk tick.Tick) {
			if tk.Lateness != late(int(tk.N)) {
				t.Errorf("tick %d is %v late, want %v", tk.N, tk.Lateness, late(int(tk.N)))
			}
			clock.Advance(work(int(tk.N)))
		})
	}()
	for i := 1; i < 100; i++ {
		clock.WaitForTimers(1)
		if s := loop.Stats(); s.Ticks != uint64(i) {
			t.Fatalf("Stats.Ticks = %d while waiting for tick %d", s.Ticks, i)
		}
		clock.Advance(t0.Add(time.Duration(i)*time.Second + late(i)).Sub(clock.Now()))
	}
	clock.WaitForTimers(1)
	loop.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	want := tick.Stats{
		Ticks:    100,
		Lateness: tick.Summary{P50: 49 * ms, P99: 98 * ms, Max: 99 * ms},
		Duration: tick.Summary{P50: 50 * ms, P99: 99 * ms, Max: 100 * ms},
		Window:   100,
	}
	if s := loop.Stats(); s != want {
		t.Errorf("Stats:\n got %+v\nwant %+v", s, want)
	}
}

// TestStop checks that Run returns, and what, however it is told to.
func TestStop(t *testing.T) {
	canceled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	tests := []struct {
		name string
		// stop is called after the loop runs tick stopAt, from the callback,
		// or if wait, from the test while the loop waits for tick stopAt+1.
		stop     func(l *tick.Loop, cancel context.CancelFunc)
		stopAt   int // -1: stop before Run
		wait     bool
		ctx      func() context.Context
		wantErr  error
		maxTicks int
	}{
		{name: "Stop before Run", stop: func(l *tick.Loop, _ context.CancelFunc) { l.Stop() }, stopAt: -1},
		{name: "ctx done before Run", ctx: canceled, stopAt: -1, wantErr: context.Canceled},
		{name: "Stop in the callback", stop: func(l *tick.Loop, _ context.CancelFunc) { l.Stop() }, stopAt: 3, maxTicks: 4},
		{name: "cancel in the callback", stop: func(_ *tick.Loop, c context.CancelFunc) { c() }, stopAt: 3, wantErr: context.Canceled, maxTicks: 4},
		{name: "Stop twice", stop: func(l *tick.Loop, _ context.CancelFunc) { l.Stop(); l.Stop() }, stopAt: 0, maxTicks: 1},
		{name: "Stop while waiting", stop: func(l *tick.Loop, _ context.CancelFunc) { l.Stop() }, stopAt: 2, wait: true, maxTicks: 3},
		{name: "cancel while waiting", stop: func(_ *tick.Loop, c context.CancelFunc) { c() }, stopAt: 2, wait: true, wantErr: context.Canceled, maxTicks: 3},
	}
	for _, shared := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.name
			if shared {
				name += " with a Scheduler"
			}
			t.Run(name, func(t *testing.T) {
				clock := ticktest.NewClock(t0)
				opts := tick.Options{Rate: 10, Clock: clock}
				if shared {
					opts.Scheduler = tick.NewScheduler(clock)
				}
				loop, err := tick.NewLoop(opts)
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				if tt.ctx != nil {
					ctx = tt.ctx()
				}
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				if tt.stopAt < 0 && tt.stop != nil {
					tt.stop(loop, cancel)
				}
				var ran atomic.Int64
				reached := make(chan struct{})
				done := make(chan error)
				go func() {
					done <- loop.Run(ctx, func(tk tick.Tick) {
						ran.Add(1)
						if int(tk.N) == tt.stopAt {
							if tt.wait {
								close(reached) // and leave the clock, so the loop waits
							} else {
								tt.stop(loop, cancel)
							}
							return
						}
						clock.Advance(max(0, tk.Due.Add(tk.Step).Sub(clock.Now())))
					})
				}()
				if tt.wait {
					<-reached
					clock.WaitForTimers(1)
					tt.stop(loop, cancel)
				}
				if err := <-done; !errors.Is(err, tt.wantErr) {
					t.Errorf("Run = %v, want %v", err, tt.wantErr)
				}
				if n := int(ran.Load()); n > tt.maxTicks {
					t.Errorf("ran %d ticks, want at most %d", n, tt.maxTicks)
				}
				// Run once only.
				if err := loop.Run(context.Background(), func(tick.Tick) {}); err == nil || !strings.Contains(err.Error(), "twice") {
					t.Errorf("second Run = %v, want an error", err)
				}
			})
		}
	}
}

func TestRunMisuse(t *testing.T) {
	loop, err := tick.NewLoop(tick.Options{Clock: ticktest.NewClock(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := loop.Run(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "nil func") {
		t.Errorf("Run(nil) = %v, want an error", err)
	}
	// A second Run while the first runs fails at once.
	started := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- loop.Run(context.Background(), func(tk tick.Tick) {
			if tk.N == 0 {
				close(started)
			}
		})
	}()
	<-started
	if err := loop.Run(context.Background(), func(tick.Tick) {}); err == nil {
		t.Errorf("concurrent Run succeeded")
	}
	loop.Stop()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// TestStatsWhileRunning reads Stats from other goroutines while the loop
// runs, for the race detector.
func TestStatsWhileRunning(t *testing.T) {
	clock := ticktest.NewClock(t0)
	loop, err := tick.NewLoop(tick.Options{Rate: 1000, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	readers := make(chan uint64)
	for range 2 {
		go func() {
			var last uint64
			for {
				select {
				case <-stop:
					readers <- last
					return
				default:
				}
				s := loop.Stats()
				if s.Ticks < last {
					t.Errorf("Ticks went back from %d to %d", last, s.Ticks)
				}
				last = s.Ticks
			}
		}()
	}
	err = loop.Run(context.Background(), func(tk tick.Tick) {
		if tk.N == 20000 {
			loop.Stop()
		}
		clock.Advance(tk.Step)
	})
	close(stop)
	<-readers
	<-readers
	if err != nil {
		t.Fatal(err)
	}
	if s := loop.Stats(); s.Ticks != 20001 {
		t.Errorf("Ticks = %d, want 20001", s.Ticks)
	}
}

// armMovesClock is a fake clock that moves one step each time a timer is
// armed, just before arming it: the worst moment, after the loop has read
// the time it computes the timer's duration from.
type armMovesClock struct {
	*ticktest.Clock
	step time.Duration
}

func (c armMovesClock) NewTimer(d time.Duration) tick.Timer {
	c.Advance(c.step)
	return armMovesTimer{c.Clock.NewTimer(d), c}
}

type armMovesTimer struct {
	tick.Timer
	c armMovesClock
}

func (t armMovesTimer) Reset(d time.Duration) bool {
	t.c.Advance(t.c.step)
	return t.Timer.Reset(d)
}

// TestLoopClockMovesWhileArming checks that a loop whose clock moves
// between reading the time and arming its timer runs the tick that became
// due, instead of sleeping a step past it.
func TestLoopClockMovesWhileArming(t *testing.T) {
	const step = 10 * time.Millisecond
	clock := armMovesClock{ticktest.NewClock(t0), step}
	loop, err := tick.NewLoop(tick.Options{Rate: 100, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ticks := make(chan tick.Tick, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go loop.Run(ctx, func(tk tick.Tick) { ticks <- tk })
	for want := range uint64(50) {
		select {
		case tk := <-ticks:
			if tk.N != want || tk.Lateness != 0 {
				t.Fatalf("got tick %d, %v late; want tick %d on time", tk.N, tk.Lateness, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("tick %d never ran", want)
		}
	}
}
