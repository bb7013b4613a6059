package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/hist"
	"github.com/tickwire/tickwire/tools/bench/internal/wire"
)

// Options configures a load run.
type Options struct {
	Mode     string        // echo, room or idle
	URL      string        // ws://host:port/path
	Conns    int           // connections
	Size     int           // echo payload bytes
	Format   string        // room: raw (stamp at offset 0) or rooms (tickwire rooms batches)
	Warmup   time.Duration // traffic before the measured window
	Duration time.Duration // the measured window
	Timeout  time.Duration // hard bound on the whole run
	Dialers  int           // connections dialed at once

	// Control, when set, makes the run wait for wire.Go on In before its
	// window and print wire.Ready and wire.End on Out (see package wire).
	Control bool
	In      io.Reader
	Out     io.Writer
	Log     io.Writer
}

// Phases of a run, read by every connection's goroutine.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// Run runs the load and returns what it measured in the window.
func Run(o Options) (wire.Result, error) {
	if o.Conns < 1 {
		return wire.Result{}, fmt.Errorf("-conns %d: want at least 1", o.Conns)
	}
	if o.Dialers <= 0 {
		o.Dialers = 32
	}
	if o.Timeout <= 0 {
		o.Timeout = o.Warmup + o.Duration + 2*time.Minute
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()

	var w worker
	switch o.Mode {
	case "echo":
		if o.Size < 1 {
			return wire.Result{}, fmt.Errorf("-size %d: want at least 1", o.Size)
		}
		w = &echoWorker{size: o.Size}
	case "room":
		switch o.Format {
		case "raw", "":
		case "rooms":
		default:
			return wire.Result{}, fmt.Errorf("-format %q: want raw or rooms", o.Format)
		}
		w = &roomWorker{rooms: o.Format == "rooms"}
	case "idle":
		w = idleWorker{}
	default:
		return wire.Result{}, fmt.Errorf("-mode %q: want echo, room or idle", o.Mode)
	}

	conns, err := dialAll(ctx, o, w.readBuf())
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	if err != nil {
		return wire.Result{}, err
	}

	var phase atomic.Int32
	stats := make([]connStats, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(c, &phase, &stats[i])
		}()
	}
	// Close every connection if the hard deadline passes, so that blocked
	// reads return.
	stopOnTimeout := context.AfterFunc(ctx, func() {
		phase.Store(phaseStop)
		for _, c := range conns {
			c.close()
		}
	})
	defer stopOnTimeout()

	sleep(ctx, o.Warmup)
	if o.Control {
		fmt.Fprintln(o.Out, wire.Ready)
		if err := waitGo(ctx, o.In); err != nil {
			return wire.Result{}, err
		}
	}
	res := wire.Result{Mode: o.Mode, Conns: len(conns)}
	if o.Mode == "echo" {
		res.Size = o.Size
	}
	if o.Mode == "idle" {
		// Go means the measurement is done: close and report.
		phase.Store(phaseStop)
		return res, ctx.Err()
	}
	start := time.Now()
	phase.Store(phaseMeasure)
	sleep(ctx, o.Duration)
	phase.Store(phaseStop)
	res.Seconds = time.Since(start).Seconds()
	if o.Control {
		fmt.Fprintln(o.Out, wire.End)
	}
	// Wake goroutines blocked in reads and collect.
	for _, c := range conns {
		c.close()
	}
	wg.Wait()
	var h hist.Histogram
	for i := range stats {
		s := &stats[i]
		h.Merge(&s.h)
		res.Messages += s.h.Count()
		res.Errors += s.errors
		res.Skipped += s.skipped
		if res.FirstError == "" && s.firstErr != "" {
			res.FirstError = s.firstErr
		}
	}
	res.Fill(&h)
	if res.Seconds > 0 {
		res.Rate = float64(res.Messages) / res.Seconds
	}
	return res, ctx.Err()
}

// connStats is what one connection's goroutine measured.
type connStats struct {
	h        hist.Histogram
	errors   uint64
	skipped  uint64
	firstErr string
}

// fail records an error met while measuring; errors after the window
// (connections closed to end the run) do not count.
func (s *connStats) fail(phase *atomic.Int32, err error) {
	if phase.Load() != phaseMeasure {
		return
	}
	s.errors++
	if s.firstErr == "" {
		s.firstErr = err.Error()
	}
}

// worker is a mode's per-connection loop.
type worker interface {
	readBuf() int
	run(c *client, phase *atomic.Int32, s *connStats)
}

// dialAll opens o.Conns connections, o.Dialers at a time.
func dialAll(ctx context.Context, o Options, readBuf int) ([]*client, error) {
	conns := make([]*client, o.Conns)
	errs := make(chan error, o.Conns)
	sem := make(chan struct{}, o.Dialers)
	var wg sync.WaitGroup
	for i := range conns {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(ctx, o.URL, readBuf, uint64(i)*0x9E3779B97F4A7C15+uint64(time.Now().UnixNano()))
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
		}()
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	close(errs)
	var ok []*client
	for _, c := range conns {
		if c != nil {
			ok = append(ok, c)
		}
	}
	if err := <-errs; err != nil {
		return ok, fmt.Errorf("dialed %d of %d connections: %w", len(ok), o.Conns, err)
	}
	return ok, nil
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// waitGo waits for the wire.Go line on in.
func waitGo(ctx context.Context, in io.Reader) error {
	got := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == wire.Go {
				got <- nil
				return
			}
		}
		got <- fmt.Errorf("control input ended before %q", wire.Go)
	}()
	select {
	case err := <-got:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no %q before the -timeout", wire.Go)
	}
}
