// Package tick provides fixed-rate simulation clocks: a Loop calls a
// function at a fixed rate on an absolute schedule, so no drift
// accumulates, and measures how late each tick started and how long it ran.
//
// It uses the standard library only and knows nothing about games or
// networking. Package rooms drives each room from a Loop: every tick it
// drains the room's inputs, advances the game by Tick.Step and broadcasts a
// snapshot.
//
//	loop, err := tick.NewLoop(tick.Options{Rate: 30, Scheduler: sched})
//	if err != nil {
//		return err
//	}
//	return loop.Run(ctx, func(t tick.Tick) {
//		room.step(t) // on this goroutine; ticks never overlap
//	})
//
// # Schedule
//
// Tick N of a loop is due at start + N*Step, where Step is time.Second
// divided by the rate. Each Tick says when it was due, when it started and
// the difference, its lateness. However late one tick is, the next is still
// due on the schedule, so a loop that has run for a day is as aligned with
// the clock as one that has run for a second.
//
// # Overruns
//
// When a tick starts a whole step or more late, because the callback ran
// long or the process stalled, the loop runs overdue ticks back to back to
// catch up, at most Options.MaxCatchUp (default 3) in a row. If it is still
// behind, it skips every overdue tick but the latest and runs that. Skipped
// ticks are counted, never delivered, and N jumps over them: N*Step stays
// the simulated time matching the wall clock, so tick numbers that clients,
// replays and game timers rely on keep meaning the same moment. Had N
// stayed contiguous, game time would fall further behind the wall clock
// with every stall and never recover, the drift the absolute schedule is
// there to prevent. A game that must simulate every step, such as a
// lockstep one, sees the gap in N and can make it up.
//
// # Many loops
//
// Without a Scheduler each loop keeps its own timer, which is cheapest for
// a single loop. Loops sharing a Scheduler are woken from its one timer
// goroutine, loops of a rate together, up to 64 at an instant; each still
// runs its callback on its own goroutine, so a slow loop delays only
// itself. On a two-core machine, 100 idle loops at 60 Hz cost about 40% less
// CPU on a Scheduler than with timers of their own, and 1000 about 15%
// less, at the same lateness (BenchmarkIdle). Share one Scheduler among all
// the loops of a process.
//
// # Statistics
//
// Loop.Stats reports, from any goroutine while the loop runs, the ticks run,
// skipped, caught up and overrun (callbacks longer than a step), and the
// median, 99th percentile and maximum lateness and callback duration over
// the last 1024 ticks. Recording a tick does not allocate.
//
// # Testing
//
// Loops and Schedulers read time through a Clock. Package ticktest has a
// fake one that moves only when a test says, so tests of code driven by
// ticks are deterministic.
package tick
