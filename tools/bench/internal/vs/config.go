package vs

import (
	"fmt"
	"io"
	"time"
)

// The workload's fixed rates, the same on both servers.
const (
	TickRate     = 60 // simulation ticks a second
	SnapshotRate = 20 // snapshots (patches) a second: every 50 ms
)

// Defaults of Config.
const (
	DefaultClients  = 200
	DefaultRoomSize = 20
	DefaultEntities = 100
	DefaultRate     = 10 // inputs a second per client
	DefaultView     = 400
	DefaultWarmup   = 3 * time.Second
	DefaultDuration = 10 * time.Second
)

// Config is one comparison run. Zero fields take the defaults above
// (ServerCPU and LoadCPU excepted: see them).
type Config struct {
	Clients   int     // clients on each server
	RoomSize  int     // clients a room seats
	Entities  int     // entities in each room
	InputRate float64 // inputs a second per client

	// View is the side of the square each tickwire player sees in the
	// interest row; negative leaves that row out.
	View float64

	Warmup   time.Duration // play after the joins, before the window
	Duration time.Duration // the measured window

	// ServerCPU and LoadCPU are the CPUs the servers and the loads are
	// pinned to (taskset); -1 for both means no pinning.
	ServerCPU, LoadCPU int

	// Directory is where the tickwire server keeps its room directory:
	// "redis" (a redis-server of the run's own, on a Unix socket, pinned
	// with the server and its CPU counted with the server's), "embedded"
	// (the engine's in-process one), or "" to use redis-server when it is
	// on PATH and the embedded directory otherwise.
	Directory string

	// ProfileDir, if set, receives a CPU profile (pprof) of each
	// tickwire server over its window.
	ProfileDir string

	Node        string // the node program; "" means "node" on PATH
	ColyseusDir string // holds server.mjs, load.mjs and node_modules
	Self        string // this program, run with -role server or -role load

	Out      io.Writer // the table
	Progress io.Writer // progress lines; nil means none
	Command  string    // the command line, for the report
}

func (c *Config) withDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Clients, DefaultClients)
	def(&c.RoomSize, DefaultRoomSize)
	def(&c.Entities, DefaultEntities)
	if c.InputRate == 0 {
		c.InputRate = DefaultRate
	}
	if c.View == 0 {
		c.View = DefaultView
	}
	if c.Warmup == 0 {
		c.Warmup = DefaultWarmup
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Node == "" {
		c.Node = "node"
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

func (c *Config) validate() error {
	switch {
	case c.Clients < 1 || c.Clients > MaxClients:
		return fmt.Errorf("--clients %d: want 1 to %d", c.Clients, MaxClients)
	case c.RoomSize < 1 || c.RoomSize > c.Clients:
		return fmt.Errorf("--room-size %d: want 1 to the number of clients (%d)", c.RoomSize, c.Clients)
	case c.Entities < 1 || c.Entities > 10000:
		return fmt.Errorf("--entities %d: want 1 to 10000", c.Entities)
	case c.InputRate < 0 || c.InputRate > MaxRate:
		return fmt.Errorf("--rate %v: want 0 to %d inputs a second", c.InputRate, MaxRate)
	case c.Warmup < 0 || c.Warmup > time.Minute:
		return fmt.Errorf("--warmup %v: want 0 to 1m", c.Warmup)
	case c.Duration <= 0 || c.Duration > MaxDuration:
		return fmt.Errorf("--duration %v: want more than 0 and at most %v", c.Duration, MaxDuration)
	case c.ColyseusDir == "":
		return fmt.Errorf("no Colyseus directory: want tools/bench/colyseus")
	case c.Self == "":
		return fmt.Errorf("no program to run the tickwire server and load with")
	case c.Directory != "" && c.Directory != "redis" && c.Directory != "embedded":
		return fmt.Errorf("--directory %q: want redis or embedded (or nothing: redis-server if installed)", c.Directory)
	}
	return nil
}
