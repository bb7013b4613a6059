package driver

import (
	"github.com/tickwire/tickwire/tools/bench/internal/wire"
)

// EchoResult is one echo measurement.
type EchoResult struct {
	Size      int         `json:"size"`
	Load      wire.Result `json:"load"`
	ServerCPU float64     `json:"server_cpu"` // fraction of one CPU over the window
	LoadCPU   float64     `json:"load_cpu"`
	OtherCPU  float64     `json:"other_cpu"` // other processes on the machine, fraction of one CPU
	Err       string      `json:"error,omitempty"`
	// Runs holds msgs/s of every run, sorted, when measured more than once.
	Runs []float64 `json:"runs,omitempty"`
}

func (e *EchoResult) setRuns(k []float64) { e.Runs = k }

// ServerCPUPerMsg returns the server's CPU microseconds per echoed message.
func (e *EchoResult) ServerCPUPerMsg() float64 {
	if e.Load.Rate <= 0 {
		return 0
	}
	return e.ServerCPU / e.Load.Rate * 1e6
}

// RoomResult is the room measurement.
type RoomResult struct {
	Load           wire.Result      `json:"load"`
	ServerCPUSec   float64          `json:"server_cpu_s"`
	CPUPerMillion  float64          `json:"cpu_s_per_1m"` // server CPU-seconds per 1M delivered messages
	Delivered      float64          `json:"delivered"`    // fraction of conns x rate x window received
	ServerCPU      float64          `json:"server_cpu"`   // fraction of one CPU
	LoadCPU        float64          `json:"load_cpu"`
	OtherCPU       float64          `json:"other_cpu"`
	Server         wire.ServerStats `json:"server"` // counters at the end of the run
	Err            string           `json:"error,omitempty"`
	ConnsRequested int              `json:"conns_requested"`
	// Runs holds CPU-seconds per 1M of every run, sorted, when repeated.
	Runs []float64 `json:"runs,omitempty"`
}

func (r *RoomResult) setRuns(k []float64) { r.Runs = k }

// IdleResult is the idle memory measurement.
type IdleResult struct {
	Conns           int              `json:"conns"`
	RSSBefore       uint64           `json:"rss_before"`
	RSSAfter        uint64           `json:"rss_after"`
	RSSPerConn      float64          `json:"rss_per_conn"`        // bytes
	HeapStackPerCon float64          `json:"heap_stack_per_conn"` // bytes: Go heap in use plus stacks
	Before, After   wire.ServerStats `json:"-"`
	Err             string           `json:"error,omitempty"`
	// Runs holds RSS per connection of every run, sorted, when repeated.
	Runs []float64 `json:"runs,omitempty"`
}

func (r *IdleResult) setRuns(k []float64) { r.Runs = k }

// LibResult holds everything measured for one library.
type LibResult struct {
	Lib  string       `json:"lib"`
	Echo []EchoResult `json:"echo,omitempty"`
	Room *RoomResult  `json:"room,omitempty"`
	Idle *IdleResult  `json:"idle,omitempty"`
}

// Report is the whole run.
type Report struct {
	Command   string            `json:"command"`
	Started   string            `json:"started"`
	GoVersion string            `json:"go"`
	CPU       string            `json:"cpu"`
	Kernel    string            `json:"kernel"`
	Versions  map[string]string `json:"versions"`
	Tickwire  string            `json:"tickwire,omitempty"` // the commit measured
	Pinned    bool              `json:"pinned"`
	Notes     []string          `json:"notes,omitempty"`
	Config    struct {
		Duration  string `json:"duration"`
		Warmup    string `json:"warmup"`
		Repeat    int    `json:"repeat"`
		EchoConns int    `json:"echo_conns"`
		EchoSizes []int  `json:"echo_sizes"`
		RoomConns int    `json:"room_conns"`
		RoomSize  int    `json:"room_size"`
		RoomRate  int    `json:"room_rate"`
		IdleConns int    `json:"idle_conns"`
	} `json:"config"`
	Libs []*LibResult `json:"libs"`
}
