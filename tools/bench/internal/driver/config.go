// Package driver runs the benchmark: for each library it starts
// benchserver pinned to one CPU and benchload pinned to another, measures
// echo throughput and latency, room fan-out cost and latency, and idle
// memory, stops both by PID, and prints one table.
package driver

import (
	"fmt"
	"io"
	"time"
)

// Config is one benchmark run.
type Config struct {
	Libs []string // libraries, netws first for the ratios
	Echo bool     // run the echo measurements
	Room bool     // run the room measurements
	Idle bool     // run the idle memory measurements

	Duration time.Duration // measured window of each echo size and of the room
	Warmup   time.Duration // traffic before each window
	Repeat   int           // runs of each measurement; the median is reported

	EchoConns int
	EchoSizes []int

	RoomConns int
	RoomSize  int
	RoomRate  int

	IdleConns int

	ServerCPU int // CPU the server is pinned to; -1: no pinning
	LoadCPU   int // CPU the load is pinned to; -1: no pinning

	BinDir     string // holds benchserver and benchload
	ProfileDir string // if set, CPU profiles of each server's windows go here

	Out      io.Writer // the table
	Progress io.Writer // progress lines
	Command  string    // the command line, for the report
}

func (c *Config) validate() error {
	switch {
	case len(c.Libs) == 0:
		return fmt.Errorf("no library selected")
	case !c.Echo && !c.Room && !c.Idle:
		return fmt.Errorf("nothing to measure: --only wants echo, room and/or idle")
	case c.Duration <= 0 || c.Duration > 5*time.Minute:
		return fmt.Errorf("--duration %v: want more than 0 and at most 5m", c.Duration)
	case c.Repeat < 1 || c.Repeat > 9:
		return fmt.Errorf("--repeat %d: want 1 to 9", c.Repeat)
	case c.Warmup < 0 || c.Warmup > time.Minute:
		return fmt.Errorf("--warmup %v: want 0 to 1m", c.Warmup)
	case c.Echo && (c.EchoConns < 1 || c.EchoConns > 10000):
		return fmt.Errorf("--conns %d: want 1 to 10000", c.EchoConns)
	case c.Echo && len(c.EchoSizes) == 0:
		return fmt.Errorf("--sizes: want at least one size")
	case c.Room && (c.RoomConns < 1 || c.RoomConns > 20000):
		return fmt.Errorf("--room-conns %d: want 1 to 20000", c.RoomConns)
	case c.Room && (c.RoomSize < 8 || c.RoomSize > 1<<20):
		return fmt.Errorf("--room-size %d: want 8 to 1 MiB", c.RoomSize)
	case c.Room && (c.RoomRate < 1 || c.RoomRate > 1000):
		return fmt.Errorf("--room-rate %d: want 1 to 1000", c.RoomRate)
	case c.Idle && (c.IdleConns < 1 || c.IdleConns > 100000):
		return fmt.Errorf("--idle-conns %d: want 1 to 100000", c.IdleConns)
	}
	for _, s := range c.EchoSizes {
		if s < 1 || s > 1<<20 {
			return fmt.Errorf("--sizes: %d out of range, want 1 to 1 MiB", s)
		}
	}
	return nil
}
