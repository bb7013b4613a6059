package vs

// Control lines between the driver and its children. A server prints
// ListeningPrefix and its address first, and answers the line StatsCmd on
// its standard input with StatsPrefix and a ServerStats in JSON. The
// tickwire server also takes ProfileCmd and a file name (it starts a CPU
// profile into the file and answers Profiling, or ProfileErrorPrefix and
// why) and StopProfileCmd (it writes the profile and answers Profiled). A load
// prints Ready when its clients have joined and warmed up, waits for Go
// when run under control, measures, prints End, then ResultPrefix and a
// LoadResult in JSON. colyseus/server.mjs and colyseus/load.mjs speak the
// same lines.
const (
	ListeningPrefix = "listening "
	StatsCmd        = "stats"
	StatsPrefix     = "stats "
	ProfileCmd      = "profile "
	StopProfileCmd  = "stopprofile"
	Profiling       = "profiling"
	Profiled        = "profiled"

	ProfileErrorPrefix = "profile error "
	Ready              = "ready"
	Go                 = "go"
	End                = "end"
	ResultPrefix       = "result "
)

// ServerStats are a server's counters since it started, over all its
// rooms.
type ServerStats struct {
	Ticks   uint64 `json:"ticks"`   // simulation ticks
	Patches uint64 `json:"patches"` // snapshots (patches) built, one per room per snapshot tick
	Inputs  uint64 `json:"inputs"`  // inputs applied
	Clients int64  `json:"clients"` // clients seated now
}

// LoadResult is what a load measured in its window. The JSON names are
// the ones colyseus/load.mjs writes.
type LoadResult struct {
	Impl    string  `json:"impl"`    // tickwire or colyseus
	Clients int     `json:"clients"` // clients asked for
	Joined  int     `json:"joined"`  // clients that joined a room
	Rooms   int     `json:"rooms"`   // distinct rooms joined
	Seconds float64 `json:"seconds"` // the window

	Messages     uint64 `json:"messages"`     // WebSocket messages received
	Snapshots    uint64 `json:"snapshots"`    // snapshot (patch) messages received
	Deltas       uint64 `json:"deltas"`       // tickwire: snapshots sent as deltas against an acknowledged state
	Full         uint64 `json:"full"`         // tickwire: snapshots sent whole
	Bytes        uint64 `json:"bytes"`        // received: payloads plus frame headers
	PayloadBytes uint64 `json:"payloadBytes"` // received: payloads only
	UpBytes      uint64 `json:"upBytes"`      // sent: payloads plus frame headers and masks
	Inputs       uint64 `json:"inputs"`       // inputs sent
	Acked        uint64 `json:"acked"`        // inputs acknowledged (RTT samples)

	RTTCount int     `json:"rttCount"`
	RTTP50Us float64 `json:"rttP50Us"`
	RTTP99Us float64 `json:"rttP99Us"`

	Errors     uint64 `json:"errors"`
	FirstError string `json:"firstError"`
}

// frameHeader returns the size of the header of one server (unmasked)
// frame carrying n payload bytes.
func frameHeader(n int) int {
	switch {
	case n < 126:
		return 2
	case n < 1<<16:
		return 4
	}
	return 10
}

// wireSize returns the bytes a message of n payload bytes takes on the
// wire as frames of at most frameSize bytes, headers included; masked
// adds the 4-byte masking key of client frames.
func wireSize(n, frameSize int, masked bool) int {
	extra := 0
	if masked {
		extra = 4
	}
	if n <= frameSize {
		return n + frameHeader(n) + extra
	}
	total := 0
	for rest := n; rest > 0; rest -= frameSize {
		f := min(rest, frameSize)
		total += f + frameHeader(f) + extra
	}
	return total
}
