//go:build unix

package tick_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tick/ticktest"
)

// BenchmarkIdle runs n loops at 60 Hz with empty callbacks, each with its
// own timer or all on one Scheduler, and reports the process's CPU time
// per second of wall time (user and system, from getrusage) and the
// lateness of the ticks run while measuring, over all loops. Loops start
// spread over one period, as rooms created at arbitrary moments would.
//
// Every iteration sleeps 10ms; the figures are over the whole run, so ns/op
// means nothing here.
func BenchmarkIdle(b *testing.B) {
	for _, mode := range benchModes {
		for _, n := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/N=%d", mode, n), func(b *testing.B) { benchLoops(b, n, mode, 0) })
		}
	}
}

// BenchmarkBusy is BenchmarkIdle with 1000 loops whose callbacks each
// keep the CPU busy for 10µs, 30% of two cores in all: how late ticks
// start when the loops have work to do.
func BenchmarkBusy(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(fmt.Sprintf("%s/N=1000", mode), func(b *testing.B) { benchLoops(b, 1000, mode, 10*time.Microsecond) })
	}
}

// The ways to run loops: each with its own timer; on a Scheduler as it
// comes; on one with every loop of a rate on one phase; and on one with
// the loops spread evenly over all the phases it has.
var benchModes = []string{"timer", "scheduler", "aligned", "spread"}

func benchLoops(b *testing.B, n int, mode string, work time.Duration) {
	const rate = 60
	period := time.Second / rate
	var sched *tick.Scheduler
	switch mode {
	case "scheduler":
		sched = tick.NewScheduler(nil)
	case "aligned":
		sched = tick.NewScheduler(nil)
		tick.SetSchedulerPolicy(sched, 1, 0)
	case "spread":
		sched = tick.NewScheduler(nil)
		tick.SetSchedulerPolicy(sched, 0, 1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var measuring atomic.Bool
	late := make([][]time.Duration, n) // loop i's, until its Run returns
	var wg sync.WaitGroup
	for i := range n {
		loop, err := tick.NewLoop(tick.Options{Rate: rate, Scheduler: sched})
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			mine := make([]time.Duration, 0, 4096) // not late[i]: no false sharing
			defer func() { late[i] = mine }()
			time.Sleep(time.Duration(i) * period / time.Duration(n))
			loop.Run(ctx, func(t tick.Tick) {
				if measuring.Load() && len(mine) < cap(mine) {
					mine = append(mine, t.Lateness)
				}
				if work > 0 {
					for start := time.Now(); time.Since(start) < work; {
					}
				}
			})
		})
	}
	time.Sleep(300 * time.Millisecond) // every loop started and settled

	measuring.Store(true)
	cpu0 := cpuTime(b)
	wall0 := time.Now()
	for b.Loop() {
		time.Sleep(10 * time.Millisecond)
	}
	wall := time.Since(wall0)
	cpu := cpuTime(b) - cpu0
	measuring.Store(false)
	cancel()
	wg.Wait()

	var all []time.Duration
	for _, l := range late {
		all = append(all, l...)
	}
	slices.Sort(all)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/wall.Seconds(), "cpu-ms/s")
	b.ReportMetric(float64(len(all))/wall.Seconds(), "ticks/s")
	if len(all) > 0 {
		b.ReportMetric(us(all[(len(all)-1)*50/100]), "late-p50-µs")
		b.ReportMetric(us(all[(len(all)-1)*99/100]), "late-p99-µs")
		b.ReportMetric(us(all[len(all)-1]), "late-max-µs")
	}
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTickOverhead is the cost of one tick of an empty callback,
// without waiting: the fake clock is moved a step by each callback.
func BenchmarkTickOverhead(b *testing.B) {
	clock := ticktest.NewClock(t0)
	loop, err := tick.NewLoop(tick.Options{Rate: 60, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	n := uint64(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	loop.Run(context.Background(), func(t tick.Tick) {
		if t.N+1 >= n {
			loop.Stop()
		}
		clock.Advance(t.Step)
	})
}
