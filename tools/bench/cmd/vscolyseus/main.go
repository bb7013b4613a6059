// Command vscolyseus runs tickwire and Colyseus side by side on the same
// workload and prints one table: server CPU, bytes and snapshots each
// client receives, and input round-trip times. Install the Colyseus side
// once, then run it from tools/bench:
//
//	npm ci --prefix tools/bench/colyseus        # from the repository root
//	cd tools/bench && go run ./cmd/vscolyseus   # about a minute
//
// The workload: 200 clients in rooms of 20, 100 entities a room all moving
// every tick, a 60 Hz simulation, 20 snapshots a second, 10 inputs a
// second per client, a 10 s window after 3 s of warm-up. Rows: Colyseus
// 0.16 (@colyseus/schema state, colyseus.js clients in node), tickwire
// with every player seeing the whole room (entity-table deltas against
// acknowledged snapshots), and tickwire with interest management (each
// player sees a square around its entity; -view -1 leaves it out).
// Servers are pinned to CPU 1 and clients to CPU 0 with taskset.
//
// The same program runs the tickwire side's processes: -role server (an
// engine serving the crowd game) and -role load (the bots); the driver
// starts them itself. See package internal/vs for what is measured and
// how.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/crowd"
	"github.com/tickwire/tickwire/tools/bench/internal/vs"
)

const usage = `vscolyseus measures tickwire beside Colyseus on the same workload and
prints one table. Run it from tools/bench, after installing the Colyseus
side with "npm ci --prefix tools/bench/colyseus" from the repository root:

  go run ./cmd/vscolyseus [flags]

In the table: server CPU is the server's CPU time (utime+stime from
/proc/PID/stat) over the window, in percent of one core; received and sent
per client count WebSocket payloads plus frame headers (control frames
excepted), per client and second; RTT is from an input to the message that
acknowledges it. The ratios compare each tickwire row with Colyseus.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "vscolyseus:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vscolyseus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	var cfg vs.Config
	fs.IntVar(&cfg.Clients, "clients", vs.DefaultClients, "clients on each server")
	fs.IntVar(&cfg.RoomSize, "room-size", vs.DefaultRoomSize, "clients a room seats")
	fs.IntVar(&cfg.Entities, "entities", vs.DefaultEntities, "entities in each room, all moving every tick")
	fs.Float64Var(&cfg.InputRate, "rate", vs.DefaultRate, "inputs a second per client")
	fs.Float64Var(&cfg.View, "view", vs.DefaultView, "side of the square each player sees in the tickwire interest row; -1 leaves the row out")
	fs.DurationVar(&cfg.Warmup, "warmup", vs.DefaultWarmup, "play after the joins, before the window")
	fs.DurationVar(&cfg.Duration, "duration", vs.DefaultDuration, "the measured window")
	fs.IntVar(&cfg.ServerCPU, "server-cpu", 1, "CPU to pin the servers to")
	fs.IntVar(&cfg.LoadCPU, "load-cpu", 0, "CPU to pin the clients to")
	noPin := fs.Bool("no-pin", false, "do not pin the processes")
	fs.StringVar(&cfg.Directory, "directory", "", "the tickwire server's room directory: redis (a redis-server of the run's own, its CPU counted with the server's) or embedded; default redis when redis-server is installed")
	fs.StringVar(&cfg.Node, "node", "node", "the Node.js program")
	fs.StringVar(&cfg.ColyseusDir, "colyseus", "colyseus", "the Colyseus side's directory (tools/bench/colyseus)")
	jsonOut := fs.String("json", "", "also write the raw results as JSON to this file")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "save a CPU profile (pprof) of each tickwire server's window into this directory")

	// The tickwire side's processes, started by the driver.
	role := fs.String("role", "", "internal: server or load, to run one tickwire process")
	url := fs.String("url", "", "internal (-role load): the server's http://host:port")
	timeout := fs.Duration("timeout", 0, "internal (-role load): bound on the whole load run")
	view := 0.0
	maxLife := fs.Duration("max-lifetime", 20*time.Minute, "internal (-role server): stop after this long")
	redis := fs.String("redis", "", "internal (-role server): the room directory's Redis URL; empty: embedded")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every setting is a flag (see -h)", fs.Args())
	}
	switch *role {
	case "server":
		if cfg.View > 0 {
			view = cfg.View
		}
		return vs.Serve(ctx, vs.ServerOptions{
			RoomSize:    cfg.RoomSize,
			Crowd:       crowd.Options{Entities: cfg.Entities, View: view},
			Redis:       *redis,
			MaxLifetime: *maxLife, In: stdin, Out: stdout, Log: stderr,
		})
	case "load":
		_, err := vs.RunLoad(ctx, vs.LoadOptions{
			URL: *url, Clients: cfg.Clients, Rate: cfg.InputRate,
			Warmup: cfg.Warmup, Duration: cfg.Duration, Timeout: *timeout,
			Control: true, In: stdin, Out: stdout,
		})
		return err
	case "":
	default:
		return fmt.Errorf("-role %q: want server or load (the driver starts them; run without -role)", *role)
	}

	if *noPin {
		cfg.ServerCPU, cfg.LoadCPU = -1, -1
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this program, to run the tickwire side with: %w", err)
	}
	cfg.Self = self
	cfg.Out, cfg.Progress = stdout, stderr
	cfg.Command = strings.Join(append([]string{"go run ./cmd/vscolyseus"}, args...), " ")
	rep, err := vs.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *jsonOut != "" {
		f, err := os.Create(*jsonOut)
		if err != nil {
			return err
		}
		if err := rep.WriteJSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	for _, r := range rep.Rows {
		if r.Err != "" {
			return errors.New("some measurements failed (see the notes)")
		}
	}
	return nil
}
