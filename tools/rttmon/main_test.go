package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tools/loadbot/load"
)

type quiet struct{}

func (quiet) Init(*rooms.Room) error                 { return nil }
func (quiet) Join(*rooms.Player, []byte) error       { return nil }
func (quiet) Leave(*rooms.Player, rooms.LeaveReason) {}
func (quiet) Input(*rooms.Player, uint32, []byte)    {}
func (quiet) Tick(tick.Tick)                         {}
func (quiet) Snapshot(*rooms.Player) any             { return 0 }

// serve starts an engine and returns its URL and a function that shuts
// it down.
func serve(t *testing.T, cfg engine.Config) (string, func()) {
	t.Helper()
	cfg.Logger = hclog.NewNullLogger()
	cfg.Conn.PingInterval = 20 * time.Millisecond
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Register("quiet", func() rooms.Game { return quiet{} }, &rooms.RoomOptions{TickRate: 20})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.Serve(ln)
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	}
	t.Cleanup(shutdown)
	return "http://" + ln.Addr().String(), shutdown
}

// withPlayers puts n bots on the server at url until the test ends, and
// waits until they have RTT samples.
func withPlayers(t *testing.T, url string, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		load.Run(ctx, load.Options{URL: url, Game: "quiet", Bots: n, Duration: time.Minute}, nil)
	}()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(15 * time.Second)
	for {
		var out bytes.Buffer
		err := run(context.Background(), []string{"-url", url, "-once", "-json"}, &out, &out, noEnv, false)
		var ps engine.MonitorPlayers
		json.Unmarshal(out.Bytes(), &ps)
		ready := err == nil && len(ps.Players) == n
		for _, p := range ps.Players {
			ready = ready && p.RTT.PongsMatched > 0
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bots did not show up with RTT samples: %v %s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func noEnv(string) string { return "" }

func TestOnceShowsTheTable(t *testing.T) {
	url, _ := serve(t, engine.Config{})
	withPlayers(t, url, 3)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-url", url, "-once"}, &out, &out, noEnv, false); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "3 players in 1 room") || strings.Count(s, "bot-") != 3 || strings.Contains(s, "\x1b") {
		t.Errorf("-once output:\n%s", s)
	}
}

func TestJSONLinesFollowTheStream(t *testing.T) {
	url, _ := serve(t, engine.Config{})
	withPlayers(t, url, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := newLines()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-url", url, "-json", "-interval", "100ms"}, w, w, noEnv, false) }()
	var last time.Time
	for i := range 3 {
		var ps engine.MonitorPlayers
		line := <-r
		if err := json.Unmarshal([]byte(line), &ps); err != nil || len(ps.Players) != 2 {
			t.Fatalf("line %d: %q (%v), want 2 players", i, line, err)
		}
		if !ps.Time.After(last) {
			t.Fatalf("line %d is not newer than the one before", i)
		}
		last = ps.Time
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after its context ended: %v", err)
	}
}

func TestRoomAndAboveFilters(t *testing.T) {
	url, _ := serve(t, engine.Config{})
	withPlayers(t, url, 2)
	var out bytes.Buffer
	err := run(context.Background(), []string{"-url", url, "-once", "-json", "-above", "10s"}, &out, &out, noEnv, false)
	var ps engine.MonitorPlayers
	if json.Unmarshal(out.Bytes(), &ps); err != nil || len(ps.Players) != 0 {
		t.Errorf("-above 10s: %v, %d players, want none on loopback", err, len(ps.Players))
	}
	out.Reset()
	err = run(context.Background(), []string{"-url", url, "-once", "-room", "no-such-room"}, &out, &out, noEnv, false)
	if err == nil || !strings.Contains(err.Error(), `no room on`) || !strings.Contains(err.Error(), `"no-such-room"`) {
		t.Errorf("-room no-such-room: %v", err)
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	secured, _ := serve(t, engine.Config{Monitor: engine.MonitorConfig{Token: "s3cret"}})
	off, _ := serve(t, engine.Config{Monitor: engine.MonitorConfig{Disabled: true}})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unreachable", []string{"-url", dead}, nil, "cannot reach " + dead},
		{"no token", []string{"-url", secured}, nil, "needs a monitoring token: pass it with -token"},
		{"wrong token", []string{"-url", secured, "-token", "guess"}, nil, "refused the monitoring token (401"},
		{"wrong token from the environment", []string{"-url", secured}, map[string]string{"TICKWIRE_MONITOR_TOKEN": "guess"}, "refused the monitoring token"},
		{"monitoring off", []string{"-url", off}, nil, "no monitoring stream (404)"},
		{"bad scheme", []string{"-url", "ftp://x"}, nil, "http:// or https://"},
		{"bad interval", []string{"-interval", "1ms"}, nil, "-interval 1ms"},
		{"negative above", []string{"-above", "-1s"}, nil, "-above"},
		{"stray argument", []string{"x"}, nil, "unexpected arguments"},
		{"bad flag", []string{"-colour"}, nil, "-colour"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), tt.args, &out, &out, func(k string) string { return tt.env[k] }, false)
		if err == nil || !strings.Contains(err.Error()+out.String(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-url", secured, "-once"}, &out, &out, func(string) string { return "s3cret" }, false); err != nil {
		t.Errorf("with the token from TICKWIRE_MONITOR_TOKEN: %v", err)
	}
	var ue usageError
	if err := run(context.Background(), []string{"-top", "-2"}, &out, &out, noEnv, false); !errors.As(err, &ue) {
		t.Errorf("-top -2: %v, want a usage error", err)
	}
}

func TestServerShutdownEndsTheStream(t *testing.T) {
	url, shutdown := serve(t, engine.Config{})
	r, w := newLines()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"-url", url, "-json", "-interval", "100ms"}, w, w, noEnv, false)
	}()
	<-r
	shutdown()
	select {
	case err := <-done:
		var ce *netws.CloseError
		if err == nil || !strings.Contains(err.Error(), "server shutting down (1001)") || errors.As(err, &ce) {
			t.Errorf("after shutdown: %v, want a message saying the server is shutting down", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("rttmon did not notice the shutdown")
	}
}

func TestTerminalRedrawsInPlace(t *testing.T) {
	url, _ := serve(t, engine.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	r, w := newLines()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-url", url, "-interval", "100ms"}, w, w, noEnv, true) }()
	var first string
	for first == "" || !strings.Contains(first, ansiHome) {
		first += <-r
	}
	cancel()
	<-done
	if !strings.Contains(first, ansiHide+ansiClear) {
		t.Errorf("the first frame does not clear the screen: %q", first)
	}
}

// lines is an io.Writer that sends each line written to a channel.
type lines struct {
	ch  chan string
	buf []byte
}

func newLines() (<-chan string, *lines) {
	l := &lines{ch: make(chan string, 1000)}
	return l.ch, l
}

func (l *lines) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case l.ch <- string(l.buf[:i]):
		default:
		}
		l.buf = l.buf[i+1:]
	}
}
