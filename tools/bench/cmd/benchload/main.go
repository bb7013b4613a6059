// Command benchload is the benchmark's load generator.
//
//	benchload -mode echo -url ws://127.0.0.1:PORT/echo -conns 256 -size 1024 -duration 10s
//	benchload -mode room -url ws://127.0.0.1:PORT/room -conns 1000 -duration 10s
//	benchload -mode idle -url ws://127.0.0.1:PORT/echo -conns 10000 -control
//
// echo: every connection writes a message and waits for its echo, one in
// flight each, recording the round trip. room: every connection reads and
// records the delivery latency stamped in each message (-format rooms for
// tickwire rooms batches). idle: the connections are opened and held.
//
// Without -control it warms up, measures for -duration and prints one
// "result {json}" line. With -control (used by benchrun) it prints
// "ready" once warmed up, waits for "go" on stdin, measures, prints "end"
// and then the result; in idle mode "go" means close and exit.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/load"
	"github.com/tickwire/tickwire/tools/bench/internal/sysx"
	"github.com/tickwire/tickwire/tools/bench/internal/wire"
)

func main() {
	var o load.Options
	flag.StringVar(&o.Mode, "mode", "echo", "echo, room or idle")
	flag.StringVar(&o.URL, "url", "", "server URL, e.g. ws://127.0.0.1:8080/echo (required)")
	flag.IntVar(&o.Conns, "conns", 256, "connections")
	flag.IntVar(&o.Size, "size", 1024, "echo message size in bytes")
	flag.StringVar(&o.Format, "format", "raw", "room messages: raw (stamp at offset 0) or rooms (tickwire rooms batches)")
	flag.DurationVar(&o.Warmup, "warmup", 2*time.Second, "traffic before the measured window")
	flag.DurationVar(&o.Duration, "duration", 10*time.Second, "measured window")
	flag.DurationVar(&o.Timeout, "timeout", 0, "hard bound on the whole run (0: warmup + duration + 2m)")
	flag.IntVar(&o.Dialers, "dialers", 32, "connections dialed at once")
	flag.BoolVar(&o.Control, "control", false, "wait for \"go\" on stdin before measuring (see the package doc)")
	flag.Parse()
	if o.URL == "" {
		fmt.Fprintln(os.Stderr, "benchload: -url is required")
		flag.Usage()
		os.Exit(2)
	}
	o.In = os.Stdin
	if _, hard, err := sysx.RaiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "benchload: raising RLIMIT_NOFILE:", err)
	} else if uint64(o.Conns)+64 > hard {
		fmt.Fprintf(os.Stderr, "benchload: warning: -conns %d is near the hard RLIMIT_NOFILE %d\n", o.Conns, hard)
	}
	res, err := load.Run(o)
	if res.Mode != "" {
		b, _ := json.Marshal(res)
		fmt.Println(wire.ResultPrefix + string(b))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}
