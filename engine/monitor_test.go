package engine

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/vmihailenco/msgpack/v5"
)

// fastPings makes the server measure RTT every 20 ms, so tests need not
// wait. The pong and keepalive limits stay generous: left at their
// defaults (3 and 5 pings' time) a loaded machine that pauses a reader for
// 100 ms would count pings lost and close the players' connections.
var fastPings = netws.ConnOptions{
	PingInterval:     20 * time.Millisecond,
	PongTimeout:      10 * time.Second,
	KeepAliveTimeout: time.Minute,
}

// eventually polls cond until it holds; the limit only guards against a hang.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seatPlayer matchmakes into the tag game and joins as name. The player keeps
// reading (so its pongs answer the server's pings) until the test ends.
func seatPlayer(t *testing.T, addr, name string) (rooms.Welcome, *player) {
	t.Helper()
	m, code := matchmake(t, addr, "tag")
	if code != http.StatusOK {
		t.Fatalf("matchmake: %d", code)
	}
	p, f, kind := join(t, m.URL, rooms.JoinRequest{Seat: m.Seat, Name: name})
	if kind != rooms.ServerWelcome {
		t.Fatalf("join: kind %d, want a welcome", kind)
	}
	var w rooms.Welcome
	msgpack.Unmarshal(f[0], &w)
	go func() {
		for {
			if _, _, err := p.c.ReadMessage(nil); err != nil {
				return
			}
		}
	}()
	return w, p
}

// getJSON GETs url with the optional bearer token and decodes the answer
// into v; it returns the status code.
func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil && resp.StatusCode == http.StatusOK {
			t.Fatalf("GET %s: decoding: %v", url, err)
		}
	}
	return resp.StatusCode
}

func TestPlayersAPIReportsRTTAndTraffic(t *testing.T) {
	_, addr := startEngine(t, Config{Conn: fastPings})
	wa, pa := seatPlayer(t, addr, "ana")
	wb, _ := seatPlayer(t, addr, "bo")
	if wa.Room != wb.Room {
		t.Fatalf("two players matchmade into rooms %s and %s, want one", wa.Room, wb.Room)
	}
	b, _ := msgpack.Marshal([]any{rooms.ClientInput, 1, "left"})
	if err := pa.c.WriteMessage(netws.Binary, b); err != nil {
		t.Fatal(err)
	}

	byID := func(list []MonitorPlayer) map[string]MonitorPlayer {
		m := make(map[string]MonitorPlayer)
		for _, p := range list {
			m[p.ID] = p
		}
		return m
	}
	var got MonitorPlayers
	eventually(t, "RTT samples and the input in /api/players", func() bool {
		getJSON(t, "http://"+addr+"/api/players", "", &got)
		m := byID(got.Players)
		return len(m) == 2 && m[wa.Player].RTT.PongsMatched >= 3 && m[wb.Player].RTT.PongsMatched >= 3 && m[wa.Player].MessagesIn == 1
	})
	ana := byID(got.Players)[wa.Player]
	if ana.Name != "ana" || ana.Room != wa.Room || ana.Game != "tag" || ana.Node == "" || ana.Node != got.Node || !ana.Connected {
		t.Errorf("ana: %+v", ana)
	}
	if ana.BytesIn != uint64(len(b)) || ana.MessagesOut < 2 || ana.BytesOut == 0 || ana.ConnectedSeconds <= 0 {
		t.Errorf("ana's traffic: in %d bytes (want %d), out %d messages %d bytes, connected %v s", ana.BytesIn, len(b), ana.MessagesOut, ana.BytesOut, ana.ConnectedSeconds)
	}
	r := ana.RTT
	if r.SmoothedMs <= 0 || r.MinMs <= 0 || r.MinMs > r.P50Ms || r.P50Ms > r.P95Ms || r.P95Ms > r.P99Ms || r.Window < 3 || r.PingsSent < r.PongsMatched {
		t.Errorf("ana's RTT figures are inconsistent: %+v", r)
	}

	var inRoom MonitorPlayers
	if code := getJSON(t, "http://"+addr+"/api/rooms/"+wa.Room+"/players", "", &inRoom); code != http.StatusOK || len(inRoom.Players) != 2 {
		t.Errorf("/api/rooms/{id}/players: %d, %d players, want 200 and 2", code, len(inRoom.Players))
	}
	var e404 map[string]string
	if code := getJSON(t, "http://"+addr+"/api/rooms/nope/players", "", &e404); code != http.StatusNotFound || !strings.Contains(e404["error"], "nope") {
		t.Errorf("/api/rooms/nope/players: %d %v, want 404 naming the room", code, e404)
	}
	var none MonitorPlayers
	getJSON(t, "http://"+addr+"/api/players?game=chess", "", &none)
	if len(none.Players) != 0 {
		t.Errorf("/api/players?game=chess listed %d players", len(none.Players))
	}

	var snap MonitorSnapshot
	getJSON(t, "http://"+addr+"/api/monitor?room="+wa.Room, "", &snap)
	if len(snap.Rooms) != 1 || snap.Rooms[0].Ticks.Ticks == 0 || snap.Rooms[0].TickRate != 50 || len(snap.Rooms[0].PlayerList) != 2 {
		t.Errorf("/api/monitor?room=: %+v, want the room with its ticks and 2 players", snap)
	}
	var detail RoomDetail
	getJSON(t, "http://"+addr+"/api/rooms/"+wa.Room, "", &detail)
	if detail.Ticks.Ticks == 0 || detail.Ticks.Window == 0 {
		t.Errorf("/api/rooms/{id}: tick stats %+v, want ticks counted", detail.Ticks)
	}
}

func TestMonitorStreamPushesSnapshots(t *testing.T) {
	_, addr := startEngine(t, Config{Conn: fastPings})
	w, _ := seatPlayer(t, addr, "ana")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, "ws://"+addr+"/api/monitor/ws?interval=100ms&room="+w.Room, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var last time.Time
	for i := range 3 {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, b, err := c.ReadMessage(nil)
		if err != nil {
			t.Fatal(err)
		}
		var s MonitorSnapshot
		if typ != netws.Text || json.Unmarshal(b, &s) != nil {
			t.Fatalf("message %d: %v %q, want a JSON snapshot", i, typ, b)
		}
		if len(s.Rooms) != 1 || len(s.Rooms[0].PlayerList) != 1 || s.Rooms[0].PlayerList[0].ID != w.Player {
			t.Fatalf("message %d: %+v, want the room with ana", i, s)
		}
		if !s.Time.After(last) {
			t.Fatalf("message %d at %v, after one at %v", i, s.Time, last)
		}
		last = s.Time
	}
	c.Close(netws.StatusNormalClosure, "")

	for _, tt := range []struct {
		query string
		code  int
	}{
		{"?interval=5ms", http.StatusBadRequest},
		{"?interval=soon", http.StatusBadRequest},
		{"?room=nope", http.StatusNotFound},
	} {
		_, err := netws.Dial(ctx, "ws://"+addr+"/api/monitor/ws"+tt.query, nil)
		var he *netws.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != tt.code {
			t.Errorf("stream%s: %v, want a refusal with status %d", tt.query, err, tt.code)
		}
	}
}

func TestMonitorStreamsAreBounded(t *testing.T) {
	_, addr := startEngine(t, Config{Monitor: MonitorConfig{MaxStreams: 1}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, "ws://"+addr+"/api/monitor/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = netws.Dial(ctx, "ws://"+addr+"/api/monitor/ws", nil)
	var he *netws.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second stream: %v, want 503", err)
	}
	c.Close(netws.StatusNormalClosure, "")
	eventually(t, "the closed stream's slot to free", func() bool {
		c2, err := netws.Dial(ctx, "ws://"+addr+"/api/monitor/ws", nil)
		if err == nil {
			c2.CloseNow()
		}
		return err == nil
	})
}

// monitoringRoutes are the routes MonitorConfig governs.
var monitoringRoutes = []string{"/api/players", "/api/monitor", "/monitor", "/metrics"}

func TestMonitorToken(t *testing.T) {
	_, addr := startEngine(t, Config{Monitor: MonitorConfig{Token: "s3cret"}})
	for _, route := range monitoringRoutes {
		url := "http://" + addr + route
		var body map[string]string
		if code := getJSON(t, url, "", &body); code != http.StatusUnauthorized || !strings.Contains(body["error"], "token") {
			t.Errorf("%s without the token: %d %v, want 401 saying a token is needed", route, code, body)
		}
		if code := getJSON(t, url, "wrong", nil); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d, want 401", route, code)
		}
		if code := getJSON(t, url, "s3cret", nil); code != http.StatusOK {
			t.Errorf("%s with the token as a bearer: %d, want 200", route, code)
		}
		if code := getJSON(t, url+"?token=s3cret", "", nil); code != http.StatusOK {
			t.Errorf("%s with ?token=: %d, want 200", route, code)
		}
	}
	// The page's script and styles hold no data and load without it.
	if code := getJSON(t, "http://"+addr+"/monitor/monitor.js", "", nil); code != http.StatusOK {
		t.Errorf("monitor.js: %d, want 200", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := netws.Dial(ctx, "ws://"+addr+"/api/monitor/ws?token=wrong", nil)
	var he *netws.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
		t.Errorf("stream with a wrong token: %v, want 401", err)
	}
	c, err := netws.Dial(ctx, "ws://"+addr+"/api/monitor/ws", &netws.DialOptions{Header: http.Header{"Authorization": {"Bearer s3cret"}}})
	if err != nil {
		t.Errorf("stream with the token: %v", err)
	} else {
		c.CloseNow()
	}
	// Game traffic and the public API need no token.
	if code := getJSON(t, "http://"+addr+"/api/rooms", "", nil); code != http.StatusOK {
		t.Errorf("/api/rooms: %d, want 200 without a token", code)
	}
}

func TestMonitorDisabled(t *testing.T) {
	_, addr := startEngine(t, Config{Monitor: MonitorConfig{Disabled: true}})
	for _, route := range append(monitoringRoutes, "/monitor/monitor.js") {
		if code := getJSON(t, "http://"+addr+route, "", nil); code != http.StatusNotFound {
			t.Errorf("%s with monitoring off: %d, want 404", route, code)
		}
	}
	if code := getJSON(t, "http://"+addr+"/healthz", "", nil); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestMonitorOnAdminAddress(t *testing.T) {
	admin := freeAddr(t)
	e, addr := startEngine(t, Config{Monitor: MonitorConfig{Addr: admin}}) // Serve starts it
	eventually(t, "the admin address to answer", func() bool {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	for _, route := range monitoringRoutes {
		if code := getJSON(t, "http://"+addr+route, "", nil); code != http.StatusNotFound {
			t.Errorf("public %s: %d, want 404 when monitoring has an admin address", route, code)
		}
		if code := getJSON(t, "http://"+admin+route, "", nil); code != http.StatusOK {
			t.Errorf("admin %s: %d, want 200", route, code)
		}
	}
	if e.AdminHandler() == nil {
		t.Error("AdminHandler is nil with an admin address")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.Shutdown(ctx)
	if _, err := http.Get("http://" + admin + "/healthz"); err == nil {
		t.Error("the admin address still answers after Shutdown")
	}

	// ServeAdmin on a listener of one's own.
	own, err := New(Config{Logger: e.log, Monitor: MonitorConfig{Addr: "unused:0"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- own.ServeAdmin(ln) }()
	eventually(t, "ServeAdmin to answer", func() bool {
		return getJSON(t, "http://"+ln.Addr().String()+"/api/monitor", "", nil) == http.StatusOK
	})
	own.Shutdown(ctx)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("ServeAdmin after Shutdown: %v, want http.ErrServerClosed", err)
	}

	plain, _ := New(Config{Logger: e.log})
	defer plain.Shutdown(ctx)
	if plain.AdminHandler() != nil {
		t.Error("AdminHandler is not nil without an admin address")
	}
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := plain.ServeAdmin(ln2); err == nil || !strings.Contains(err.Error(), "MonitorConfig.Addr") {
		t.Errorf("ServeAdmin without an admin address: %v", err)
	}
}

func TestMonitorAdminAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	e, err := New(Config{Logger: hclog.NewNullLogger(), Monitor: MonitorConfig{Addr: busy.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := e.Serve(ln); err == nil || !strings.Contains(err.Error(), "monitoring address") {
		t.Errorf("Serve with the admin address taken: %v, want an error about the monitoring address", err)
	}
}

func TestMonitorPageIsSelfContained(t *testing.T) {
	_, addr := startEngine(t, Config{})
	for _, f := range []struct{ path, ctype, want string }{
		{"/monitor", "text/html", `<canvas id="chart"`},
		{"/monitor/monitor.js", "text/javascript", "api/monitor/ws"},
		{"/monitor/monitor.css", "text/css", "tr.hot"},
	} {
		resp, err := http.Get("http://" + addr + f.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), f.ctype) || !strings.Contains(string(b), f.want) {
			t.Errorf("%s: %s %q, want %s containing %q", f.path, resp.Status, resp.Header.Get("Content-Type"), f.ctype, f.want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q, want it to keep the page to its server", f.path, csp)
		}
		// Nothing is fetched from elsewhere.
		if s := string(b); strings.Contains(s, "http://") || strings.Contains(s, "https://") || strings.Contains(s, "//cdn") {
			t.Errorf("%s refers to another site", f.path)
		}
	}
	for _, bad := range []string{"/monitor/nope.js", "/monitor/..%2fmonitor.go", "/monitor/monitor.txt"} {
		if code := getJSON(t, "http://"+addr+bad, "", nil); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, code)
		}
	}
}

func TestMonitorFlags(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want MonitorConfig
		err  string
	}{
		{nil, nil, MonitorConfig{Interval: time.Second}, ""},
		{[]string{"-monitor=false"}, nil, MonitorConfig{Disabled: true, Interval: time.Second}, ""},
		{nil, map[string]string{"TICKWIRE_MONITOR": "false", "TICKWIRE_MONITOR_TOKEN": "t0k", "TICKWIRE_MONITOR_ADDR": "127.0.0.1:9090"},
			MonitorConfig{Disabled: true, Token: "t0k", Addr: "127.0.0.1:9090", Interval: time.Second}, ""},
		{[]string{"-monitor-interval", "250ms", "-monitor-token", "x"}, nil, MonitorConfig{Token: "x", Interval: 250 * time.Millisecond}, ""},
		{[]string{"-monitor", "maybe"}, nil, MonitorConfig{}, `-monitor "maybe": want true or false`},
		{[]string{"-monitor-interval", "10ms"}, nil, MonitorConfig{}, `-monitor-interval "10ms"`},
		{nil, map[string]string{"TICKWIRE_MONITOR_INTERVAL": "often"}, MonitorConfig{}, `-monitor-interval "often"`},
		{[]string{"-monitor-token", "two words"}, nil, MonitorConfig{}, "white space"},
	}
	for _, tt := range tests {
		var cfg Config
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		apply := cfg.Flags(fs, func(k string) string { return tt.env[k] })
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := apply()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v %v: %v, want an error containing %q", tt.args, tt.env, err, tt.err)
			}
			continue
		}
		if err != nil || cfg.Monitor != tt.want {
			t.Errorf("%v %v: %+v, %v; want %+v", tt.args, tt.env, cfg.Monitor, err, tt.want)
		}
	}
	if _, err := New(Config{Monitor: MonitorConfig{MaxStreams: -1}}); err == nil || !strings.Contains(err.Error(), "max streams") {
		t.Errorf("New with MaxStreams -1: %v", err)
	}
}
