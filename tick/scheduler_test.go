package tick_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tick/ticktest"
)

// schedLoop is a loop run on a Scheduler by a test, and what it saw.
type schedLoop struct {
	id       int
	loop     *tick.Loop
	ticks    []tick.Tick // the loop's until Run returns
	inFlight atomic.Int32
	err      error
}

// start runs l.loop on a goroutine, reporting each tick's loop id on
// events and noting any overlap of callbacks.
func (l *schedLoop) start(ctx context.Context, wg *sync.WaitGroup, events chan<- int, fn func(tick.Tick)) {
	wg.Go(func() {
		l.err = l.loop.Run(ctx, func(tk tick.Tick) {
			if l.inFlight.Add(1) != 1 {
				panic(fmt.Sprintf("loop %d: callbacks overlap", l.id))
			}
			l.ticks = append(l.ticks, tk)
			if fn != nil {
				fn(tk)
			}
			l.inFlight.Add(-1)
			events <- l.id
		})
	})
}

// collect receives n events, failing the test if they do not all come
// within a generous time: a lost wake-up must fail, not hang.
func collect(t *testing.T, events <-chan int, n int) {
	t.Helper()
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	for i := range n {
		select {
		case <-events:
		case <-timeout.C:
			t.Fatalf("got %d of %d tick events in 20s", i, n)
		}
	}
}

// TestSchedulerManyLoops runs loops of several rates on one Scheduler and
// moves the fake clock in small increments: every loop must run every tick,
// on its own schedule, at the first instant the clock reaches it.
func TestSchedulerManyLoops(t *testing.T) {
	const (
		nLoops  = 60
		quantum = 5 * time.Millisecond
		rounds  = 250 // 1.25 s of fake time
	)
	rates := []int{60, 30, 20, 50, 144}
	clock := ticktest.NewClock(t0)
	sched := tick.NewScheduler(clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan int, nLoops*4)
	var wg sync.WaitGroup
	loops := make([]*schedLoop, nLoops)
	for i := range loops {
		loop, err := tick.NewLoop(tick.Options{Rate: rates[i%len(rates)], Scheduler: sched})
		if err != nil {
			t.Fatal(err)
		}
		loops[i] = &schedLoop{id: i, loop: loop}
		loops[i].start(ctx, &wg, events, nil)
	}
	// The clock has not moved, so every loop starts at t0, on every grid,
	// and runs tick 0 at once.
	collect(t, events, nLoops)

	due := func(l *schedLoop, at time.Time) int { // ticks due by at
		return int(at.Sub(t0)/l.loop.Step()) + 1
	}
	for r := 1; r <= rounds; r++ {
		clock.WaitForTimers(1)
		prev := clock.Now()
		clock.Advance(quantum)
		now := clock.Now()
		n := 0
		for _, l := range loops {
			n += due(l, now) - due(l, prev)
		}
		collect(t, events, n)
	}
	cancel()
	wg.Wait()
	select {
	case id := <-events:
		t.Fatalf("loop %d ran a tick too many", id)
	default:
	}

	end := clock.Now()
	for _, l := range loops {
		if l.err != context.Canceled {
			t.Errorf("loop %d: Run = %v", l.id, l.err)
		}
		step := l.loop.Step()
		if len(l.ticks) != due(l, end) {
			t.Errorf("loop %d at %v: ran %d ticks, want %d", l.id, step, len(l.ticks), due(l, end))
		}
		for i, tk := range l.ticks {
			d := t0.Add(time.Duration(i) * step)
			// The first round's end at or after d.
			start := t0.Add((d.Sub(t0) + quantum - 1) / quantum * quantum)
			want := tick.Tick{N: uint64(i), Step: step, Due: d, Start: start, Lateness: start.Sub(d)}
			if tk != want {
				t.Errorf("loop %d, tick %d = %+v\nwant %+v", l.id, i, tk, want)
				break
			}
		}
		if s := l.loop.Stats(); s.Ticks != uint64(len(l.ticks)) || s.Skipped != 0 || s.CatchUps != 0 {
			t.Errorf("loop %d: Stats = %+v", l.id, s)
		}
	}
}

// TestSchedulerSlowLoop blocks one loop's callback for many steps: the
// others must keep their schedule, and the slow one catch up and skip
// when it is released.
func TestSchedulerSlowLoop(t *testing.T) {
	const others = 4
	clock := ticktest.NewClock(t0)
	sched := tick.NewScheduler(clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan int, 64)
	var wg sync.WaitGroup
	release := make(chan struct{})
	entered := make(chan struct{}) // the slow loop has started tick 1
	newLoop := func(id int) *schedLoop {
		loop, err := tick.NewLoop(tick.Options{Rate: 10, Scheduler: sched})
		if err != nil {
			t.Fatal(err)
		}
		return &schedLoop{id: id, loop: loop}
	}
	slow := newLoop(others)
	slow.start(ctx, &wg, events, func(tk tick.Tick) {
		if tk.N == 1 {
			close(entered)
			<-release
		}
	})
	loops := []*schedLoop{}
	for i := range others {
		l := newLoop(i)
		l.start(ctx, &wg, events, nil)
		loops = append(loops, l)
	}
	collect(t, events, others+1) // tick 0 of all

	const step = 100 * time.Millisecond
	clock.WaitForTimers(1)
	clock.Advance(step)
	collect(t, events, others) // tick 1: the slow loop is stuck in it
	// Wait for the slow loop to be in tick 1 before time moves on: were it
	// descheduled until a later step, it would start tick 1 late, as a
	// catch-up, and catch up one tick fewer at the end.
	<-entered
	for range 9 { // ticks 2 to 10
		clock.WaitForTimers(1)
		clock.Advance(step)
		collect(t, events, others)
	}
	close(release)
	// At 10 steps, slow ends tick 1, catches up 2, 3 and 4, skips 5 to 9
	// and runs 10.
	collect(t, events, 1+4)
	clock.WaitForTimers(1)
	clock.Advance(step)
	collect(t, events, others+1) // tick 11 of all
	cancel()
	wg.Wait()

	for _, l := range loops {
		if len(l.ticks) != 12 {
			t.Fatalf("loop %d ran %d ticks, want 12", l.id, len(l.ticks))
		}
		for i, tk := range l.ticks {
			if tk.N != uint64(i) || tk.Lateness != 0 {
				t.Errorf("loop %d: tick %d = %+v, want N %d on time", l.id, i, tk, i)
			}
		}
	}
	var gotN []uint64
	var gotLate []time.Duration
	for _, tk := range slow.ticks {
		gotN = append(gotN, tk.N)
		gotLate = append(gotLate, tk.Lateness)
	}
	wantN := []uint64{0, 1, 2, 3, 4, 10, 11}
	wantLate := []time.Duration{0, 0, 8 * step, 7 * step, 6 * step, 0, 0}
	if !slices.Equal(gotN, wantN) || !slices.Equal(gotLate, wantLate) {
		t.Errorf("slow loop ran N %v, late %v\nwant N %v, late %v", gotN, gotLate, wantN, wantLate)
	}
	s := slow.loop.Stats()
	if s.Ticks != 7 || s.Skipped != 5 || s.CatchUps != 3 || s.Overruns != 1 || s.Duration.Max != 9*step {
		t.Errorf("slow loop Stats = %+v", s)
	}
}

// TestSchedulerJoin starts loops after others: each starts at the next
// instant of its rate's grid, and the Scheduler's goroutine stops when no
// loop is left and starts again for the next.
func TestSchedulerJoin(t *testing.T) {
	const step = 100 * time.Millisecond
	clock := ticktest.NewClock(t0)
	sched := tick.NewScheduler(clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan int, 16)
	var wg sync.WaitGroup
	newLoop := func(id, rate int) *schedLoop {
		loop, err := tick.NewLoop(tick.Options{Rate: rate, Scheduler: sched})
		if err != nil {
			t.Fatal(err)
		}
		l := &schedLoop{id: id, loop: loop}
		l.start(ctx, &wg, events, nil)
		return l
	}
	a := newLoop(0, 10)
	collect(t, events, 1) // a: tick 0 at t0

	// b joins between instants, at t0+30ms: its tick 0 is due at t0+100ms.
	clock.WaitForTimers(1)
	clock.Advance(30 * time.Millisecond)
	b := newLoop(1, 10)
	clock.WaitForTimers(1)
	clock.Advance(70 * time.Millisecond)
	collect(t, events, 2) // a: tick 1, b: tick 0

	// c joins at an instant the Scheduler has just signalled: its tick 0
	// is due at once. d, at 20 Hz, shares the instant.
	clock.WaitForTimers(1)
	clock.Advance(step)
	collect(t, events, 2) // a: tick 2, b: tick 1
	c := newLoop(2, 10)
	d := newLoop(3, 20)
	collect(t, events, 2) // c: tick 0, d: tick 0
	clock.WaitForTimers(1)
	clock.Advance(step / 2)
	collect(t, events, 1) // d: tick 1
	clock.WaitForTimers(1)
	clock.Advance(step / 2)
	collect(t, events, 4) // a: 3, b: 2, c: 1, d: 2

	cancel()
	wg.Wait()
	check := func(l *schedLoop, start time.Time, n int) {
		t.Helper()
		if len(l.ticks) != n {
			t.Fatalf("loop %d ran %d ticks, want %d", l.id, len(l.ticks), n)
		}
		for i, tk := range l.ticks {
			due := start.Add(time.Duration(i) * l.loop.Step())
			if tk.N != uint64(i) || !tk.Due.Equal(due) || tk.Lateness != 0 {
				t.Errorf("loop %d: tick %d = %+v, want due %v on time", l.id, i, tk, due)
			}
		}
	}
	check(a, t0, 4)
	check(b, t0.Add(step), 3)
	check(c, t0.Add(2*step), 2)
	check(d, t0.Add(2*step), 3)

	// With every loop gone, the Scheduler's goroutine stops its timer and
	// exits. It does so on its own time; wait for it.
	for clock.Timers() != 0 {
		time.Sleep(time.Millisecond)
	}
	// A new loop starts it again, on the same grid.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	clock.Advance(step / 4)
	loop, err := tick.NewLoop(tick.Options{Rate: 10, Scheduler: sched})
	if err != nil {
		t.Fatal(err)
	}
	e := &schedLoop{id: 4, loop: loop}
	e.start(ctx2, &wg, events, nil)
	clock.WaitForTimers(1)
	clock.Advance(step * 3 / 4)
	collect(t, events, 1)
	cancel2()
	wg.Wait()
	check(e, t0.Add(4*step), 1)
}

// TestSchedulerPhases runs more loops of one rate than share an instant:
// 64 start at t0, the next 64 on the step's second phase, the rest on its
// third. Each batch is started at its phase's instant, so that every loop
// of it runs tick 0 at once, and then the clock moves a millisecond at a
// time: every loop must run every tick, at the first millisecond at or
// after it is due.
func TestSchedulerPhases(t *testing.T) {
	const (
		quantum = time.Millisecond
		rounds  = 100
	)
	clock := ticktest.NewClock(t0)
	sched := tick.NewScheduler(clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan int, 256)
	var wg sync.WaitGroup
	var loops []*schedLoop
	starts := map[*schedLoop]time.Time{}
	step := time.Second / 60
	for k, n := range []int{64, 64, 20} {
		phase := time.Duration(k) * step / 16
		clock.Advance(t0.Add(phase).Sub(clock.Now()))
		for range n {
			loop, err := tick.NewLoop(tick.Options{Rate: 60, Scheduler: sched})
			if err != nil {
				t.Fatal(err)
			}
			l := &schedLoop{id: len(loops), loop: loop}
			l.start(ctx, &wg, events, nil)
			loops = append(loops, l)
			starts[l] = t0.Add(phase)
		}
		collect(t, events, n)
	}

	due := func(l *schedLoop, at time.Time) int { // ticks due by at
		if at.Before(starts[l]) {
			return 0
		}
		return int(at.Sub(starts[l])/step) + 1
	}
	round := func(at time.Time) time.Time { // the first round at or after at
		return t0.Add((at.Sub(t0) + quantum - 1) / quantum * quantum)
	}
	for r := 0; r < rounds; r++ {
		clock.WaitForTimers(1)
		prev := clock.Now()
		clock.Advance(round(prev.Add(1)).Sub(prev))
		now := clock.Now()
		n := 0
		for _, l := range loops {
			n += due(l, now) - due(l, prev)
		}
		collect(t, events, n)
	}
	cancel()
	wg.Wait()
	select {
	case id := <-events:
		t.Fatalf("loop %d ran a tick too many", id)
	default:
	}

	end := clock.Now()
	for _, l := range loops {
		if len(l.ticks) != due(l, end) {
			t.Errorf("loop %d: ran %d ticks, want %d", l.id, len(l.ticks), due(l, end))
		}
		for i, tk := range l.ticks {
			d := starts[l].Add(time.Duration(i) * step)
			start := d
			if i > 0 {
				start = round(d)
			}
			want := tick.Tick{N: uint64(i), Step: step, Due: d, Start: start, Lateness: start.Sub(d)}
			if tk != want {
				t.Errorf("loop %d, tick %d = %+v\nwant %+v", l.id, i, tk, want)
				break
			}
		}
	}
}
