// Command impair is a TCP proxy that adds delay, jitter and stalls to the
// connections it forwards, to see how a tickwire server and its latency
// monitoring behave on a poor network without kernel traffic shaping.
//
//	go run ./tools/impair -listen 127.0.0.1:9000 -target 127.0.0.1:8080 -delay 30ms -jitter 10ms
//
// Clients connect to the -listen address instead of the server's. Delay and
// jitter apply to each direction; -stall-every and -stall-for hold each
// connection's traffic periodically, as in a brief outage. It runs until
// interrupted. The proxy itself is package
// github.com/tickwire/tickwire/tools/impair/proxy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/tools/impair/proxy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "impair:", err)
		}
		os.Exit(2)
	}
}

// run proxies until ctx ends. It sends the listening address to ready, if
// not nil, once it is listening.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("impair", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9000", "address to accept connections on")
	target := fs.String("target", "", "address to forward them to, host:port (required)")
	var o proxy.Options
	fs.DurationVar(&o.Delay, "delay", 0, "delay added to each direction, e.g. 30ms")
	fs.DurationVar(&o.Jitter, "jitter", 0, "each chunk's delay varies within delay ± jitter")
	fs.DurationVar(&o.StallEvery, "stall-every", 0, "stall each connection this often, e.g. 5s")
	fs.DurationVar(&o.StallFor, "stall-for", 0, "hold its traffic this long at each stall, e.g. 2s")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of the jitter, for runs that repeat; 0: random")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every setting is a flag", fs.Args())
	}
	if *target == "" {
		return errors.New("-target is required: the host:port to forward to, e.g. -target 127.0.0.1:8080")
	}
	p, err := proxy.Listen(*listen, *target, o)
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Fprintf(stderr, "impair: %s -> %s, delay %v ± %v each way", p.Addr(), *target, o.Delay, o.Jitter)
	if o.StallEvery > 0 {
		fmt.Fprintf(stderr, ", stalls of %v every %v", o.StallFor, o.StallEvery)
	}
	fmt.Fprintln(stderr)
	if ready != nil {
		ready <- p.Addr().String()
	}
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	var last proxy.Stats
	for {
		select {
		case <-ctx.Done():
			s := p.Stats()
			fmt.Fprintf(stderr, "impair: done: %d connections, %d bytes up, %d bytes down\n", s.Connections, s.BytesUp, s.BytesDown)
			return nil
		case <-t.C:
			if s := p.Stats(); s != last {
				fmt.Fprintf(stderr, "impair: %d open of %d connections, %d bytes up, %d bytes down\n", s.Active, s.Connections, s.BytesUp, s.BytesDown)
				last = s
			}
		}
	}
}
