// Command loadbot puts headless bots on a tickwire server: each matchmakes
// into a room of a game, joins, sends inputs at a steady rate and reads
// every batch, measuring RTT (input to acknowledging batch), batch
// delivery delay and inter-arrival jitter, and bytes a second.
//
//	go run ./tools/loadbot -url http://127.0.0.1:8080 -game arena -bots 50 -rate 20 -duration 30s -ramp 5s
//
// It prints a progress line every second on standard error and a summary
// with percentiles at the end (-json for a JSON object). A run is bounded:
// at most 10000 bots for at most an hour, and bots connect only to -url's
// host and to hosts listed in -allow. The bots themselves are package
// github.com/tickwire/tickwire/tools/loadbot/load.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/tools/loadbot/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := os.Stderr.Stat()
	tty := err == nil && st.Mode()&os.ModeCharDevice != 0
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, tty); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadbot:", err)
		}
		os.Exit(1)
	}
}

// run parses args, runs the bots and writes the summary to stdout and the
// progress to stderr (redrawn in place when it is a terminal).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) error {
	var o load.Options
	fs := flag.NewFlagSet("loadbot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "the server's HTTP address")
	fs.StringVar(&o.Game, "game", "", "the game to matchmake into (required)")
	fs.IntVar(&o.Bots, "bots", 10, fmt.Sprintf("how many bots, 1 to %d", load.MaxBots))
	fs.Float64Var(&o.Rate, "rate", 20, fmt.Sprintf("inputs a second per bot, 0 to %d", load.MaxRate))
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long the run lasts, ramp included, at most 1h")
	fs.DurationVar(&o.Ramp, "ramp", 0, "spread the bots' arrivals over this long")
	fs.StringVar(&o.Name, "name", "bot", "bots' display names start with this")
	allow := fs.String("allow", "", "other hosts (host:port, comma separated) matchmaking may send bots to")
	asJSON := fs.Bool("json", false, "write the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every setting is a flag", fs.Args())
	}
	if o.Game == "" {
		return errors.New("-game is required: the name of a game the server registered")
	}
	if o.Bots == 0 {
		return fmt.Errorf("-bots 0: want 1 to %d", load.MaxBots)
	}
	if *allow != "" {
		o.AllowHosts = strings.Split(*allow, ",")
	}
	o.URL = strings.TrimSuffix(o.URL, "/")

	fmt.Fprintf(stderr, "loadbot: %d bots on %q at %s for %v (ramp %v), %g inputs/s each\n", o.Bots, o.Game, o.URL, o.Duration, o.Ramp, o.Rate)
	var last load.Progress
	rep, err := load.Run(ctx, o, func(p load.Progress) {
		line := progressLine(p, last)
		last = p
		if tty {
			fmt.Fprint(stderr, "\r\x1b[K"+line)
		} else {
			fmt.Fprintln(stderr, line)
		}
	})
	if tty && last.Elapsed > 0 {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	writeSummary(stdout, rep)
	if rep.Joined == 0 {
		return errors.New("no bot could join; see the errors above")
	}
	return nil
}

// progressLine describes the last second.
func progressLine(p, last load.Progress) string {
	secs := (p.Elapsed - last.Elapsed).Seconds()
	if secs <= 0 {
		secs = 1
	}
	return fmt.Sprintf("%5.1fs  bots %d connected, %d failed  batches %.0f/s  in %s/s  out %s/s  rtt p50 %s p99 %s",
		p.Elapsed.Seconds(), p.Connected, p.Failed,
		float64(p.Batches-last.Batches)/secs,
		fmtBytes(float64(p.BytesIn-last.BytesIn)/secs), fmtBytes(float64(p.BytesOut-last.BytesOut)/secs),
		msStr(p.RTT.P50Ms), msStr(p.RTT.P99Ms))
}

func writeSummary(w io.Writer, r *load.Report) {
	rooms := "rooms"
	if r.Rooms == 1 {
		rooms = "room"
	}
	fmt.Fprintf(w, "bots      %d joined of %d, %d failed, in %d %s, %.1f s\n", r.Joined, r.Bots, r.Failed, r.Rooms, rooms, r.Seconds)
	fmt.Fprintf(w, "inputs    %d sent, %d acknowledged\n", r.Inputs, r.Acked)
	fmt.Fprintf(w, "batches   %d received, %d ticks skipped\n", r.Batches, r.Skipped)
	fmt.Fprintf(w, "traffic   in %s/s, out %s/s (message payloads)\n", fmtBytes(r.InPerSecond), fmtBytes(r.OutPerSecond))
	fmt.Fprintf(w, "\n%-26s %8s %9s %9s %9s %9s %9s\n", "", "count", "mean", "p50", "p90", "p99", "max")
	for _, row := range []struct {
		name string
		s    load.Summary
	}{
		{"rtt (input to ack)", r.RTT},
		{"delivery delay", r.Delivery},
		{"batch inter-arrival", r.Interarrival},
		{"inter-arrival jitter", r.Jitter},
	} {
		s := row.s
		fmt.Fprintf(w, "%-26s %8d %9s %9s %9s %9s %9s\n", row.name, s.Count, msStr(s.MeanMs), msStr(s.P50Ms), msStr(s.P90Ms), msStr(s.P99Ms), msStr(s.MaxMs))
	}
	if errs := r.ErrorList(); len(errs) > 0 {
		fmt.Fprintln(w, "\nerrors:")
		for _, e := range errs {
			fmt.Fprintln(w, "  "+e)
		}
	}
}

func msStr(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

func fmtBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
