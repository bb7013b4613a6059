package engine

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
)

// MonitorSnapshot is what the monitoring API and stream report: the rooms
// of this node with their players. Durations are in milliseconds.
type MonitorSnapshot struct {
	Time  time.Time     `json:"time"`
	Node  string        `json:"node"`
	Rooms []MonitorRoom `json:"rooms"`
}

// MonitorRoom describes a room and its players.
type MonitorRoom struct {
	ID         string          `json:"id"`
	Game       string          `json:"game"`
	Players    int             `json:"players"`
	MaxPlayers int             `json:"maxPlayers"` // 0: no limit
	TickRate   int             `json:"tickRate"`
	Dropped    uint64          `json:"dropped"` // messages dropped from the players' send queues, over the room's life
	Ticks      MonitorTicks    `json:"ticks"`
	PlayerList []MonitorPlayer `json:"playerList"`
}

// MonitorTicks describes how a room's tick loop keeps its schedule (see
// tick.Stats): counters over the room's life, percentiles over its last
// Window ticks.
type MonitorTicks struct {
	Ticks         uint64  `json:"ticks"`
	Skipped       uint64  `json:"skipped"`  // skipped by the overrun policy
	CatchUps      uint64  `json:"catchUps"` // run a whole step or more late
	Overruns      uint64  `json:"overruns"` // ran longer than a step
	Window        int     `json:"window"`
	LatenessP50Ms float64 `json:"latenessP50Ms"`
	LatenessP99Ms float64 `json:"latenessP99Ms"`
	LatenessMaxMs float64 `json:"latenessMaxMs"`
	DurationP50Ms float64 `json:"durationP50Ms"`
	DurationP99Ms float64 `json:"durationP99Ms"`
	DurationMaxMs float64 `json:"durationMaxMs"`
}

// MonitorPlayer describes a seated player: its connection's round-trip
// times and traffic. Traffic counts cover all the player's connections;
// bytes are message payload bytes, without WebSocket frame headers.
type MonitorPlayer struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	Room             string     `json:"room"`
	Game             string     `json:"game"`
	Node             string     `json:"node"`
	Connected        bool       `json:"connected"`
	ConnectedSeconds float64    `json:"connectedSeconds"` // how long the current connection has been up; 0 while disconnected
	LastInput        uint32     `json:"lastInput"`
	RTT              MonitorRTT `json:"rtt"`
	BytesIn          uint64     `json:"bytesIn"`
	MessagesIn       uint64     `json:"messagesIn"`
	BytesOut         uint64     `json:"bytesOut"`
	MessagesOut      uint64     `json:"messagesOut"`
	Dropped          uint64     `json:"dropped"` // batches superseded before they were sent, messages refused by a full send queue
}

// MonitorRTT is a player's round-trip time, measured by the server with
// WebSocket pings (see netws.RTTStats). All are zero before the first
// sample and while the player is disconnected.
type MonitorRTT struct {
	LastMs          float64 `json:"lastMs"`
	MinMs           float64 `json:"minMs"`
	SmoothedMs      float64 `json:"smoothedMs"`  // RFC 6298 SRTT
	VariationMs     float64 `json:"variationMs"` // RFC 6298 RTTVAR
	JitterMs        float64 `json:"jitterMs"`    // RFC 3550 jitter of consecutive samples
	P50Ms           float64 `json:"p50Ms"`
	P95Ms           float64 `json:"p95Ms"`
	P99Ms           float64 `json:"p99Ms"`
	Window          int     `json:"window"` // samples the percentiles cover
	PingsSent       uint64  `json:"pingsSent"`
	PongsMatched    uint64  `json:"pongsMatched"`
	PingsLost       uint64  `json:"pingsLost"`
	Loss            float64 `json:"loss"`            // lost / (matched + lost), 0 to 1
	SinceLastPongMs float64 `json:"sinceLastPongMs"` // grows while the connection is stalled
}

// MonitorPlayers is the answer to GET /api/players and
// GET /api/rooms/{id}/players.
type MonitorPlayers struct {
	Time    time.Time       `json:"time"`
	Node    string          `json:"node"`
	Players []MonitorPlayer `json:"players"`
}

// monitor holds an Engine's monitoring state: its metrics, its streams and
// its admin server.
type monitor struct {
	cfg     MonitorConfig
	node    string // this node's id in the room directory
	metrics *metrics
	admin   *http.ServeMux // the routes of the admin address; nil without one
	streams atomic.Int32   // open monitoring streams
	// Guarded by Engine.mu:
	srv       *http.Server // the admin server, once serving
	listening bool         // Serve has started the admin server
}

// newMonitor sets up e's metrics and monitoring routes and starts
// sampling RTTs for the metrics, until e shuts down.
func newMonitor(e *Engine) *monitor {
	m := &monitor{cfg: e.cfg.Monitor.withDefaults(), node: e.node.id, metrics: newMetrics(e)}
	if !m.cfg.Disabled {
		mux := e.mux
		if m.cfg.Addr != "" {
			m.admin = http.NewServeMux()
			m.admin.HandleFunc("GET /healthz", e.serveHealth)
			mux = m.admin
		}
		mux.Handle("GET /api/players", m.guard(e.servePlayers))
		mux.Handle("GET /api/rooms/{id}/players", m.guard(e.serveRoomPlayers))
		mux.Handle("GET /api/monitor", m.guard(e.serveMonitor))
		mux.Handle("GET /api/monitor/ws", m.guard(e.serveMonitorStream))
		mux.Handle("GET /monitor", m.guard(serveMonitorPage))
		mux.Handle("GET /monitor/{file}", http.HandlerFunc(serveMonitorAsset))
		mux.Handle("GET /metrics", m.guard(m.metrics.handler().ServeHTTP))
	}
	go m.metrics.sampleRTT(e.ctx, e)
	return m
}

// guard refuses requests without the monitoring token, when one is set.
func (m *monitor) guard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.cfg.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tickwire monitoring"`)
			httpError(w, http.StatusUnauthorized, "monitoring needs the monitoring token: send the header Authorization: Bearer <token>, or add ?token=<token> to the URL")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r)
	})
}

// Metrics returns the engine's Prometheus registry, served at /metrics;
// register a game's own metrics on it.
func (e *Engine) Metrics() *prometheus.Registry { return e.mon.metrics.reg }

// monitoredRooms returns the rooms running on this node, sorted by game
// and id.
func (e *Engine) monitoredRooms() []*rooms.Room {
	e.mu.Lock()
	list := make([]*rooms.Room, 0, len(e.rooms))
	for _, r := range e.rooms {
		list = append(list, r)
	}
	e.mu.Unlock()
	slices.SortFunc(list, func(a, b *rooms.Room) int {
		return cmp.Or(cmp.Compare(a.GameName(), b.GameName()), cmp.Compare(a.ID(), b.ID()))
	})
	return list
}

// monitorSnapshot describes the rooms (just room, if not empty) and their
// players. It reports false when room is not running here.
func (e *Engine) monitorSnapshot(room string) (MonitorSnapshot, bool) {
	now := time.Now()
	s := MonitorSnapshot{Time: now, Node: e.mon.node, Rooms: []MonitorRoom{}}
	for _, r := range e.monitoredRooms() {
		if room != "" && r.ID() != room {
			continue
		}
		s.Rooms = append(s.Rooms, monitorRoom(r, e.mon.node, now))
	}
	return s, room == "" || len(s.Rooms) == 1
}

func monitorRoom(r *rooms.Room, node string, now time.Time) MonitorRoom {
	info := r.Info()
	mr := MonitorRoom{
		ID: info.ID, Game: info.Game, Players: info.Players, MaxPlayers: info.MaxPlayers,
		TickRate: info.TickRate, Dropped: info.Dropped, Ticks: monitorTicks(info.Ticks),
	}
	roster := r.Roster()
	mr.PlayerList = make([]MonitorPlayer, 0, len(roster))
	for _, p := range roster {
		mr.PlayerList = append(mr.PlayerList, monitorPlayer(p, info, node, now))
	}
	return mr
}

func monitorTicks(s tick.Stats) MonitorTicks {
	return MonitorTicks{
		Ticks: s.Ticks, Skipped: s.Skipped, CatchUps: s.CatchUps, Overruns: s.Overruns, Window: s.Window,
		LatenessP50Ms: ms(s.Lateness.P50), LatenessP99Ms: ms(s.Lateness.P99), LatenessMaxMs: ms(s.Lateness.Max),
		DurationP50Ms: ms(s.Duration.P50), DurationP99Ms: ms(s.Duration.P99), DurationMaxMs: ms(s.Duration.Max),
	}
}

func monitorPlayer(p rooms.PlayerInfo, room rooms.RoomInfo, node string, now time.Time) MonitorPlayer {
	mp := MonitorPlayer{
		ID: p.ID, Name: p.Name, Room: room.ID, Game: room.Game, Node: node,
		Connected: p.Connected, LastInput: p.LastInput, RTT: monitorRTT(p.RTT, now),
		BytesIn: p.BytesIn, MessagesIn: p.MessagesIn, BytesOut: p.BytesOut, MessagesOut: p.MessagesOut,
		Dropped: p.Dropped,
	}
	if p.Connected && !p.ConnectedAt.IsZero() {
		mp.ConnectedSeconds = round3(now.Sub(p.ConnectedAt).Seconds())
	}
	return mp
}

func monitorRTT(s netws.RTTStats, now time.Time) MonitorRTT {
	m := MonitorRTT{
		LastMs: ms(s.Last), MinMs: ms(s.Min), SmoothedMs: ms(s.Smoothed), VariationMs: ms(s.Variation),
		JitterMs: ms(s.Jitter), P50Ms: ms(s.P50), P95Ms: ms(s.P95), P99Ms: ms(s.P99), Window: s.Window,
		PingsSent: s.PingsSent, PongsMatched: s.PongsMatched, PingsLost: s.PingsLost,
		Loss: round3(s.Loss()),
	}
	if !s.LastPong.IsZero() {
		m.SinceLastPongMs = ms(now.Sub(s.LastPong))
	}
	return m
}

// ms converts d to milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return round3(float64(d) / 1e6) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// servePlayers answers GET /api/players: every player of this node,
// optionally of one game (?game=).
func (e *Engine) servePlayers(w http.ResponseWriter, r *http.Request) {
	s, _ := e.monitorSnapshot("")
	writeJSON(w, http.StatusOK, flatten(s, r.URL.Query().Get("game")))
}

// serveRoomPlayers answers GET /api/rooms/{id}/players.
func (e *Engine) serveRoomPlayers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s, ok := e.monitorSnapshot(id)
	if !ok {
		httpError(w, http.StatusNotFound, "no room "+strconv.Quote(id)+" on this node")
		return
	}
	writeJSON(w, http.StatusOK, flatten(s, ""))
}

// serveMonitor answers GET /api/monitor: the snapshot the stream sends,
// optionally of one room (?room=).
func (e *Engine) serveMonitor(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("room")
	s, ok := e.monitorSnapshot(id)
	if !ok {
		httpError(w, http.StatusNotFound, "no room "+strconv.Quote(id)+" on this node")
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// flatten lists the players of s, of game if not empty.
func flatten(s MonitorSnapshot, game string) MonitorPlayers {
	out := MonitorPlayers{Time: s.Time, Node: s.Node, Players: []MonitorPlayer{}}
	for _, r := range s.Rooms {
		if game == "" || r.Game == game {
			out.Players = append(out.Players, r.PlayerList...)
		}
	}
	return out
}
