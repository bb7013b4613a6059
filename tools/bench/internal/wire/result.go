package wire

import (
	"github.com/tickwire/tickwire/tools/bench/internal/hist"
)

// Control lines. benchload, run with -control, prints Ready on stdout when
// its connections are up and warmed up, waits for Go on stdin, measures
// for its duration, prints End, then its Result as one JSON line prefixed
// with ResultPrefix. In idle mode Go means "close the connections".
// benchserver prints its address as its first line, and on SIGUSR1 (after
// a GC) one line prefixed with StatsPrefix.
const (
	Ready        = "ready"
	Go           = "go"
	End          = "end"
	ResultPrefix = "result "
	StatsPrefix  = "stats "
)

// Result is what benchload measured in its window.
type Result struct {
	Mode     string  `json:"mode"`
	Conns    int     `json:"conns"`
	Size     int     `json:"size,omitempty"`
	Seconds  float64 `json:"seconds"`
	Messages uint64  `json:"messages"`
	Rate     float64 `json:"rate"` // messages per second
	Errors   uint64  `json:"errors"`
	P50Us    float64 `json:"p50_us"`
	P99Us    float64 `json:"p99_us"`
	P999Us   float64 `json:"p999_us"`
	MaxUs    float64 `json:"max_us"`
	MeanUs   float64 `json:"mean_us"`
	// Skipped counts room messages whose stamp could not be read.
	Skipped uint64 `json:"skipped,omitempty"`
	// FirstError is the first error met, if any.
	FirstError string `json:"first_error,omitempty"`
}

// Fill sets the latency fields from h.
func (r *Result) Fill(h *hist.Histogram) {
	us := func(q float64) float64 { return float64(h.Quantile(q).Nanoseconds()) / 1e3 }
	r.P50Us, r.P99Us, r.P999Us = us(0.5), us(0.99), us(0.999)
	r.MaxUs = float64(h.Max().Nanoseconds()) / 1e3
	r.MeanUs = float64(h.Mean().Nanoseconds()) / 1e3
}

// ServerStats is what benchserver reports on SIGUSR1, after a GC.
type ServerStats struct {
	Goroutines int    `json:"goroutines"`
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	Sys        uint64 `json:"sys"`
	Conns      int64  `json:"conns"`   // open WebSocket connections
	Ticks      uint64 `json:"ticks"`   // room ticks so far
	Offered    uint64 `json:"offered"` // room messages handed to connections
	Dropped    uint64 `json:"dropped"` // room messages superseded or skipped while a connection was busy
}
