package proxy_test

// End to end: players connect to a tickwire engine through impairing
// proxies, and the engine's monitoring API must report what the proxies
// impose: the round-trip time of a delay, the jitter of a varying delay,
// the ping loss of stalls, and a keepalive drop for a connection that
// stalls for good.

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tools/impair/proxy"
	"github.com/vmihailenco/msgpack/v5"
)

// idle is a game with nothing to do: a small snapshot every tick.
type idle struct{}

func (idle) Init(*rooms.Room) error                 { return nil }
func (idle) Join(*rooms.Player, []byte) error       { return nil }
func (idle) Leave(*rooms.Player, rooms.LeaveReason) {}
func (idle) Input(*rooms.Player, uint32, []byte)    {}
func (idle) Tick(tick.Tick)                         {}
func (idle) Snapshot(*rooms.Player) any             { return map[string]int{"t": 1} }

// Timing of the server's pings: short, so the test is quick.
const (
	pingEvery = 50 * time.Millisecond
	pongWait  = 300 * time.Millisecond // a ping unanswered this long is lost
	keepAlive = 2 * time.Second        // no pong for this long: the connection is closed
)

func startEngine(t *testing.T) string {
	t.Helper()
	e, err := engine.New(engine.Config{
		Logger: hclog.NewNullLogger(),
		Conn:   netws.ConnOptions{PingInterval: pingEvery, PongTimeout: pongWait, KeepAliveTimeout: keepAlive},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Register("idle", func() rooms.Game { return idle{} }, &rooms.RoomOptions{TickRate: 20})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// joinVia matchmakes on the engine at addr and joins as name through the
// proxy p (directly when p is nil). The client keeps reading, so that its
// WebSocket library answers the server's pings. It returns the player id.
func joinVia(t *testing.T, addr string, p *proxy.Proxy, name string) string {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/matchmake/idle", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var m engine.MatchmakeResponse
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	url := m.URL
	if p != nil {
		url = strings.Replace(url, addr, p.Addr().String(), 1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	b, _ := msgpack.Marshal([]any{rooms.ClientJoin, rooms.JoinRequest{Seat: m.Seat, Name: name}})
	if err := c.WriteMessage(netws.Binary, b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err = c.ReadMessage(nil)
	if err != nil {
		t.Fatalf("%s: waiting for the welcome: %v", name, err)
	}
	c.SetReadDeadline(time.Time{})
	var welcome struct {
		_      struct{} `msgpack:",as_array"`
		Kind   int
		Fields rooms.Welcome
	}
	if err := msgpack.Unmarshal(b, &welcome); err != nil || welcome.Kind != rooms.ServerWelcome {
		t.Fatalf("%s: first message %x, want a welcome", name, b)
	}
	go func() {
		for {
			if _, _, err := c.ReadMessage(nil); err != nil {
				return
			}
		}
	}()
	return welcome.Fields.Player
}

func startProxy(t *testing.T, target string, o proxy.Options) *proxy.Proxy {
	t.Helper()
	p, err := proxy.Listen("127.0.0.1:0", target, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// players returns the engine's view of its players, by id.
func players(t *testing.T, addr string) map[string]engine.MonitorPlayer {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/players")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list engine.MonitorPlayers
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	m := make(map[string]engine.MonitorPlayer)
	for _, p := range list.Players {
		m[p.ID] = p
	}
	return m
}

// until polls the engine's view of player id until ok accepts it, and
// returns it. The time limit only guards against a hang: figures that
// settle late on a loaded machine still pass once they settle.
func until(t *testing.T, addr, id, what string, ok func(engine.MonitorPlayer) bool) engine.MonitorPlayer {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		p := players(t, addr)[id]
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: gave up waiting for %s; last report: %+v", p.Name, what, p.RTT)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEngineReportsWhatTheNetworkImposes(t *testing.T) {
	addr := startEngine(t)
	far := startProxy(t, addr, proxy.Options{Delay: 30 * time.Millisecond})
	jittery := startProxy(t, addr, proxy.Options{Delay: 30 * time.Millisecond, Jitter: 10 * time.Millisecond, Seed: 1})
	stalling := startProxy(t, addr, proxy.Options{StallEvery: time.Second, StallFor: 600 * time.Millisecond})
	stuck := startProxy(t, addr, proxy.Options{})

	nearID := joinVia(t, addr, nil, "near")
	farID := joinVia(t, addr, far, "far")
	jitteryID := joinVia(t, addr, jittery, "jittery")
	stallingID := joinVia(t, addr, stalling, "stalling")
	stuckID := joinVia(t, addr, stuck, "stuck")

	const ms = 1.0
	// 30 ms each way: a smoothed RTT near 60 ms, never below it.
	p := until(t, addr, farID, "a smoothed RTT of 60 ms", func(p engine.MonitorPlayer) bool {
		return p.RTT.PongsMatched >= 20 && p.RTT.SmoothedMs >= 55*ms && p.RTT.SmoothedMs <= 80*ms
	})
	t.Logf("30 ms each way:  %+v", p.RTT)
	if p.RTT.MinMs < 60*ms {
		t.Errorf("far: min RTT %v ms, below the 60 ms the proxy imposes", p.RTT.MinMs)
	}
	if p.RTT.PingsLost != 0 {
		t.Errorf("far: %d pings lost on a link that only delays", p.RTT.PingsLost)
	}

	// Beside it, without the proxy: near zero.
	p = until(t, addr, nearID, "a smoothed RTT near zero", func(p engine.MonitorPlayer) bool {
		return p.RTT.PongsMatched >= 20 && p.RTT.SmoothedMs < 10*ms
	})
	t.Logf("direct:          %+v", p.RTT)

	// 30 ± 10 ms each way: RTTs from 40 to 80 ms, varying from sample to
	// sample by about 9 ms on average.
	p = until(t, addr, jitteryID, "jitter of a few ms", func(p engine.MonitorPlayer) bool {
		return p.RTT.PongsMatched >= 40 && p.RTT.JitterMs >= 2*ms && p.RTT.JitterMs <= 20*ms
	})
	t.Logf("30 ± 10 ms:      %+v", p.RTT)
	if p.RTT.MinMs < 40*ms || p.RTT.SmoothedMs < 45*ms || p.RTT.SmoothedMs > 90*ms {
		t.Errorf("jittery: min %v ms, smoothed %v ms; want at least 40 ms and about 60 ms", p.RTT.MinMs, p.RTT.SmoothedMs)
	}

	// Stalls of 600 ms, longer than the 300 ms pong timeout: pings are
	// lost, and the connection survives (the keepalive allows 2 s).
	p = until(t, addr, stallingID, "ping loss", func(p engine.MonitorPlayer) bool {
		return p.RTT.PingsLost >= 3 && p.RTT.Loss > 0
	})
	t.Logf("stalls:          %+v", p.RTT)
	if !p.Connected {
		t.Error("stalling: the connection was dropped by stalls shorter than the keepalive timeout")
	}

	// A connection that stalls for good is closed by the keepalive.
	until(t, addr, stuckID, "first samples", func(p engine.MonitorPlayer) bool { return p.RTT.PongsMatched >= 3 })
	stuck.Hold()
	p = until(t, addr, stuckID, "the keepalive to drop the connection", func(p engine.MonitorPlayer) bool {
		return p.ID != "" && !p.Connected
	})
	t.Logf("stalled for good: dropped, seat kept for a reconnect")
	// The server closed it with 1001, the keepalive's code.
	want := `tickwire_connections_closed_total{by="server",code="1001"} 1`
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
