package tick_test

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tick/ticktest"
)

// A 20 Hz loop on a fake clock. Tick 1 stalls for 360ms, over seven steps:
// the loop catches up three ticks back to back, skips the rest of the
// backlog, and is back on its schedule from tick 8.
func Example() {
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := ticktest.NewClock(start)
	loop, err := tick.NewLoop(tick.Options{Rate: 20, Clock: clock}) // 50ms steps
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error)
	go func() {
		done <- loop.Run(context.Background(), func(t tick.Tick) {
			fmt.Printf("tick %d: due +%v, %v late\n", t.N, t.Due.Sub(start), t.Lateness)
			if t.N == 1 {
				clock.Advance(360 * time.Millisecond) // pretend tick 1 took that long
			}
		})
	}()
	// Each time the loop waits for its next tick, move time on a step.
	for range 2 {
		clock.WaitForTimers(1)
		clock.Advance(50 * time.Millisecond)
	}
	clock.WaitForTimers(1)
	loop.Stop()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	s := loop.Stats()
	fmt.Printf("ran %d, caught up %d, skipped %d, overran %d\n", s.Ticks, s.CatchUps, s.Skipped, s.Overruns)
	// Output:
	// tick 0: due +0s, 0s late
	// tick 1: due +50ms, 0s late
	// tick 2: due +100ms, 310ms late
	// tick 3: due +150ms, 260ms late
	// tick 4: due +200ms, 210ms late
	// tick 8: due +400ms, 10ms late
	// tick 9: due +450ms, 10ms late
	// ran 7, caught up 3, skipped 3, overran 1
}

// Many loops, one room each, share a Scheduler: loops of the same rate
// wake together from its one timer, and each runs on its own goroutine.
func ExampleScheduler() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	sched := tick.NewScheduler(nil)
	var wg sync.WaitGroup
	for range 3 {
		loop, err := tick.NewLoop(tick.Options{Rate: 30, Scheduler: sched})
		if err != nil {
			log.Fatal(err)
		}
		wg.Go(func() {
			loop.Run(ctx, func(t tick.Tick) {
				// Drain the room's inputs, advance its simulation by
				// t.Step, broadcast a snapshot.
			})
			s := loop.Stats()
			log.Printf("%d ticks, lateness p99 %v", s.Ticks, s.Lateness.P99)
		})
	}
	wg.Wait()
}
