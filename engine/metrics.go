package engine

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tickwire/tickwire/rooms"
)

// rttSampleEvery is how often each player's latest RTT sample is observed
// into the RTT histogram.
const rttSampleEvery = time.Second

// metrics are an Engine's Prometheus metrics, on a registry of its own.
type metrics struct {
	reg *prometheus.Registry

	rtt          *prometheus.HistogramVec // game
	tickDuration *prometheus.HistogramVec // game
	tickLateness *prometheus.HistogramVec // game
	drops        *prometheus.CounterVec   // game

	connections    prometheus.Gauge
	accepted       prometheus.Counter
	closed         *prometheus.CounterVec // code, by
	protocolErrors *prometheus.CounterVec // code
	messagesIn     prometheus.Counter
	messagesOut    prometheus.Counter
	bytesIn        prometheus.Counter
	bytesOut       prometheus.Counter
}

func newMetrics(e *Engine) *metrics {
	const ns = "tickwire"
	games := []string{"game"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		rtt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "player_rtt_seconds",
			Help:    "Players' round-trip times measured with WebSocket pings: each connected player's latest sample, once a second.",
			Buckets: []float64{.002, .005, .01, .02, .03, .05, .075, .1, .15, .2, .3, .5, 1, 2},
		}, games),
		tickDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "tick_duration_seconds",
			Help:    "How long rooms took to run a tick: inputs, the game's Tick, snapshots and broadcast.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1},
		}, games),
		tickLateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "tick_lateness_seconds",
			Help:    "How late rooms' ticks started after they were due.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, games),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "send_queue_drops_total",
			Help: "Messages dropped from players' send queues: batches superseded before they were sent, messages refused by a full queue.",
		}, games),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "connections",
			Help: "Player WebSocket connections open now, joined or not.",
		}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "connections_accepted_total",
			Help: "Player WebSocket connections accepted.",
		}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "connections_closed_total",
			Help: "Player WebSocket connections ended, by close code and by the side that ended them (client or server).",
		}, []string{"code", "by"}),
		protocolErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "protocol_errors_total",
			Help: "Player connections the server closed because the client broke the WebSocket protocol, by close code (1002 protocol error, 1003 unsupported data, 1007 invalid payload, 1009 too big).",
		}, []string{"code"}),
		messagesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "messages_received_total", Help: "WebSocket messages received from players.",
		}),
		messagesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "messages_sent_total", Help: "WebSocket messages sent to players.",
		}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "received_bytes_total", Help: "Message payload bytes received from players, without frame headers.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "sent_bytes_total", Help: "Message payload bytes sent to players, without frame headers.",
		}),
	}
	m.reg.MustRegister(
		m.rtt, m.tickDuration, m.tickLateness, m.drops,
		m.connections, m.accepted, m.closed, m.protocolErrors,
		m.messagesIn, m.messagesOut, m.bytesIn, m.bytesOut,
		roomCollector{e},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// handler serves the metrics in the Prometheus exposition formats.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// observeTicks returns the OnTick hook of a game's rooms: it feeds the
// tick histograms and the drop counter, then calls next, if any.
func (m *metrics) observeTicks(game string, next func(rooms.TickReport)) func(rooms.TickReport) {
	dur := m.tickDuration.WithLabelValues(game)
	late := m.tickLateness.WithLabelValues(game)
	drops := m.drops.WithLabelValues(game)
	return func(r rooms.TickReport) {
		dur.Observe(r.Duration.Seconds())
		late.Observe(r.Tick.Lateness.Seconds())
		if r.Dropped > 0 {
			drops.Add(float64(r.Dropped))
		}
		if next != nil {
			next(r)
		}
	}
}

// sampleRTT observes each connected player's latest RTT sample, when it
// is new, every rttSampleEvery until ctx ends.
func (m *metrics) sampleRTT(ctx context.Context, e *Engine) {
	t := time.NewTicker(rttSampleEvery)
	defer t.Stop()
	seen := make(map[string]uint64) // player id -> samples observed
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := make(map[string]uint64, len(seen))
		for _, r := range e.monitoredRooms() {
			h := m.rtt.WithLabelValues(r.GameName())
			for _, p := range r.Roster() {
				n := p.RTT.PongsMatched
				if n == 0 {
					continue
				}
				if n != seen[p.ID] {
					h.Observe(p.RTT.Last.Seconds())
				}
				next[p.ID] = n
			}
		}
		seen = next
	}
}

// roomCollector reports the rooms and seated players of each game at
// scrape time.
type roomCollector struct{ e *Engine }

var (
	roomsDesc   = prometheus.NewDesc("tickwire_rooms", "Rooms running, by game.", []string{"game"}, nil)
	playersDesc = prometheus.NewDesc("tickwire_players", "Players seated in rooms (connected or within their reconnect grace), by game.", []string{"game"}, nil)
)

func (c roomCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- roomsDesc
	ch <- playersDesc
}

func (c roomCollector) Collect(ch chan<- prometheus.Metric) {
	type count struct{ rooms, players int }
	byGame := make(map[string]*count)
	c.e.mu.Lock()
	for name := range c.e.games {
		byGame[name] = &count{}
	}
	c.e.mu.Unlock()
	for _, r := range c.e.monitoredRooms() {
		n := byGame[r.GameName()]
		if n == nil {
			n = &count{}
			byGame[r.GameName()] = n
		}
		n.rooms++
		n.players += r.Info().Players
	}
	for game, n := range byGame {
		ch <- prometheus.MustNewConstMetric(roomsDesc, prometheus.GaugeValue, float64(n.rooms), game)
		ch <- prometheus.MustNewConstMetric(playersDesc, prometheus.GaugeValue, float64(n.players), game)
	}
}
