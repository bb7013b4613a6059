// Command benchrun runs tickwire's WebSocket benchmark: for each library
// it starts benchserver pinned to one CPU and benchload pinned to another,
// measures, stops both by PID, and prints one table. Run it from
// tools/bench:
//
//	go run ./cmd/benchrun            # the full suite, about 6 minutes
//	go run ./cmd/benchrun --quick    # a smoke run, under a minute
//
// See --help for the flags.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/driver"
	"github.com/tickwire/tickwire/tools/bench/internal/proc"
	"github.com/tickwire/tickwire/tools/bench/internal/servers"
)

const usage = `benchrun measures tickwire's netws beside the well-known Go WebSocket
libraries, in one run on one machine, and prints one table.

For each library it starts benchserver pinned to --server-cpu and benchload
pinned to --load-cpu (taskset), and measures:

  echo  messages/s and round-trip p50/p99 for each --sizes payload, with
        --conns connections each keeping one message in flight;
  room  server CPU-seconds per 1M delivered messages (utime+stime from
        /proc/PID/stat over the window) and delivery latency, for
        --room-conns clients receiving a --room-size message at --room-rate Hz;
  idle  server RSS growth per connection (VmRSS from /proc/PID/status after
        a GC, before and after opening --idle-conns idle connections).

In the table, [x] after a library's figure compares netws with it, oriented
so that x > 1 means netws is better: netws/peer for messages/s, peer/netws
for latency, CPU and memory. Targets are checked against the best peer.

Usage (from tools/bench):

  go run ./cmd/benchrun [flags]

Flags:
`

func main() {
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	libs := flag.String("libs", strings.Join(servers.Libraries, ","), "libraries to run, comma-separated")
	only := flag.String("only", "echo,room,idle", "measurements to run, comma-separated: echo, room, idle")
	duration := flag.Duration("duration", 10*time.Second, "measured window of each echo size and of the room")
	warmup := flag.Duration("warmup", 2*time.Second, "traffic before each window")
	repeat := flag.Int("repeat", 1, "run every measurement this many times and report the median (for noisy machines)")
	conns := flag.Int("conns", 256, "echo connections")
	sizes := flag.String("sizes", "64,1024,16384", "echo payload sizes in bytes, comma-separated")
	roomConns := flag.Int("room-conns", 1000, "room clients")
	roomSize := flag.Int("room-size", 4096, "room message size in bytes")
	roomRate := flag.Int("room-rate", 60, "room ticks per second")
	idleConns := flag.Int("idle-conns", 10000, "idle connections (lowered to what RLIMIT_NOFILE allows)")
	quick := flag.Bool("quick", false, "smoke run: 1s windows, 300ms warm-up, 20 echo conns, 50 room clients, 200 idle conns (flags given explicitly win)")
	serverCPU := flag.Int("server-cpu", 1, "CPU to pin the server to")
	loadCPU := flag.Int("load-cpu", 0, "CPU to pin the load generator to")
	noPin := flag.Bool("no-pin", false, "do not pin the processes")
	bin := flag.String("bin", "", "directory with prebuilt benchserver and benchload (default: build them now)")
	profile := flag.String("profile", "", "directory to save CPU profiles of the servers' windows into (pprof format)")
	jsonOut := flag.String("json", "", "also write the raw results as JSON to this file")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q; see --help", flag.Args()))
	}

	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		quickDefault := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		quickDefault("duration", func() { *duration = time.Second })
		quickDefault("warmup", func() { *warmup = 300 * time.Millisecond })
		quickDefault("conns", func() { *conns = 20 })
		quickDefault("room-conns", func() { *roomConns = 50 })
		quickDefault("idle-conns", func() { *idleConns = 200 })
	}

	cfg := driver.Config{
		Duration: *duration, Warmup: *warmup, Repeat: *repeat,
		EchoConns: *conns, RoomConns: *roomConns, RoomSize: *roomSize, RoomRate: *roomRate,
		IdleConns: *idleConns, ServerCPU: *serverCPU, LoadCPU: *loadCPU,
		ProfileDir: *profile,
		Out:        os.Stdout, Progress: os.Stderr,
		Command: strings.Join(os.Args, " "),
	}
	if *noPin {
		cfg.ServerCPU, cfg.LoadCPU = -1, -1
	}
	for _, l := range splitList(*libs) {
		if !servers.Known(l) {
			fail(fmt.Errorf("--libs: unknown library %q; want some of %s", l, strings.Join(servers.Libraries, ",")))
		}
		if !slices.Contains(cfg.Libs, l) {
			cfg.Libs = append(cfg.Libs, l)
		}
	}
	// netws first: it is the reference of the ratios.
	slices.SortStableFunc(cfg.Libs, func(a, b string) int {
		return boolInt(b == "netws") - boolInt(a == "netws")
	})
	for _, m := range splitList(*only) {
		switch m {
		case "echo":
			cfg.Echo = true
		case "room":
			cfg.Room = true
		case "idle":
			cfg.Idle = true
		default:
			fail(fmt.Errorf("--only: unknown measurement %q; want echo, room and/or idle", m))
		}
	}
	for _, s := range splitList(*sizes) {
		n, err := strconv.Atoi(s)
		if err != nil {
			fail(fmt.Errorf("--sizes: %q is not a number of bytes", s))
		}
		cfg.EchoSizes = append(cfg.EchoSizes, n)
	}

	if *bin == "" {
		fmt.Fprintln(os.Stderr, "building benchserver and benchload...")
		dir, err := driver.Build()
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(dir)
		cfg.BinDir = dir
	} else {
		cfg.BinDir = *bin
	}

	// On Ctrl-C the children are stopped by their PIDs (and, should
	// benchrun die first, by the kernel: they have a parent-death signal).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "\ninterrupted: stopping the benchmark processes")
		proc.StopAll()
		if cfg.BinDir != *bin {
			os.RemoveAll(cfg.BinDir)
		}
		os.Exit(130)
	}()

	rep, err := driver.Run(cfg)
	if err != nil {
		fail(err)
	}
	if *jsonOut != "" {
		f, err := os.Create(*jsonOut)
		if err != nil {
			fail(err)
		}
		if err := rep.WriteJSON(f); err != nil {
			fail(err)
		}
		f.Close()
	}
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchrun:", err)
	os.Exit(2)
}
