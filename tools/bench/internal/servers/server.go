// Package servers holds the benchmark server for each library: the same
// /echo and /room endpoints, built with gorilla/websocket, lxzan/gws,
// gobwas/ws, coder/websocket, tickwire's netws, and tickwire's rooms.
package servers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/tickwire/tickwire/tools/bench/internal/wire"
)

// Libraries lists the servers New knows, netws first.
var Libraries = []string{"netws", "gorilla", "gws", "gobwas", "coder", "tickwire-rooms"}

// Config configures the room.
type Config struct {
	Size int // bytes of the room message, at least 8 (the send-time stamp)
	Rate int // room ticks per second
}

// readLimit is the largest message the echo servers accept.
const readLimit = 1 << 20

// counters are the server-wide statistics.
type counters struct {
	conns   atomic.Int64
	ticks   atomic.Uint64
	offered atomic.Uint64
	dropped atomic.Uint64
}

// library is one library's pair of handlers. Each upgrades the request
// and serves the connection on a goroutine of its own, so the handler
// returns at once.
type library interface {
	echo(w http.ResponseWriter, r *http.Request)
	room(w http.ResponseWriter, r *http.Request)
	// run runs the room's ticks until ctx ends.
	run(ctx context.Context)
	// dropped returns room messages dropped for busy connections, for
	// libraries that do not count them in the shared counters.
	dropped() uint64
}

// Server serves one library.
type Server struct {
	name string
	lib  library
	c    *counters
	mux  *http.ServeMux
}

// New returns the server for the named library.
func New(name string, cfg Config) (*Server, error) {
	if cfg.Size < wire.StampSize {
		return nil, fmt.Errorf("room message size %d too small: want at least %d bytes", cfg.Size, wire.StampSize)
	}
	if cfg.Rate < 1 || cfg.Rate > 1000 {
		return nil, fmt.Errorf("room rate %d out of range: want 1 to 1000 Hz", cfg.Rate)
	}
	s := &Server{name: name, c: &counters{}, mux: http.NewServeMux()}
	switch name {
	case "gorilla":
		s.lib = newGorilla(cfg, s.c)
	case "gws":
		s.lib = newGWS(cfg, s.c)
	case "gobwas":
		s.lib = newGobwas(cfg, s.c)
	case "coder":
		s.lib = newCoder(cfg, s.c)
	case "netws":
		s.lib = newNetws(cfg, s.c)
	case "tickwire-rooms":
		l, err := newRooms(cfg, s.c)
		if err != nil {
			return nil, err
		}
		s.lib = l
	default:
		return nil, fmt.Errorf("unknown library %q: want one of %s", name, strings.Join(Libraries, ", "))
	}
	s.mux.HandleFunc("GET /echo", s.lib.echo)
	s.mux.HandleFunc("GET /room", s.lib.room)
	return s, nil
}

// Known reports whether name is a library New knows.
func Known(name string) bool { return slices.Contains(Libraries, name) }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Run runs the room until ctx ends.
func (s *Server) Run(ctx context.Context) { s.lib.run(ctx) }

// Stats returns the server's counters; the memory fields are left zero.
func (s *Server) Stats() wire.ServerStats {
	return wire.ServerStats{
		Conns:   s.c.conns.Load(),
		Ticks:   s.c.ticks.Load(),
		Offered: s.c.offered.Load(),
		Dropped: s.c.dropped.Load() + s.lib.dropped(),
	}
}

// track counts an open connection until the returned function is called.
func (c *counters) track() func() {
	c.conns.Add(1)
	return func() { c.conns.Add(-1) }
}
