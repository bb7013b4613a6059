package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/vmihailenco/msgpack/v5"
)

// syncBuffer collects the server's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startArena runs the arena command in-process on a free loopback port and
// returns its page URL; the server stops when the test ends, and the test
// fails if it did not stop cleanly.
func startArena(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), logs, ready)
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("arena did not start: %v\n%s", err, logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("arena did not start within 30 s\n%s", logs)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("arena stopped with %v\n%s", err, logs)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("arena did not stop within 20 s of its context ending")
		}
	})
	if !strings.Contains(logs.String(), url) {
		t.Errorf("the startup log does not show the URL %s:\n%s", url, logs)
	}
	return url
}

func get(t *testing.T, url string) (string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b), resp.Header
}

func TestServesPageSDKAndRules(t *testing.T) {
	url := startArena(t, "-bots", "0")
	tests := []struct {
		path, contentType, contains string
	}{
		{"", "text/html", `src="/arena.js"`},
		{"arena.js", "text/javascript", `from "/sdk/tickwire.js"`},
		{"sdk/tickwire.js", "text/javascript", "export"},
		{"sdk/msgpack.js", "text/javascript", "export function decode"},
		{"arena/rules.json", "application/json", `"shipSpeed"`},
	}
	for _, tt := range tests {
		body, h := get(t, url+tt.path)
		if !strings.HasPrefix(h.Get("Content-Type"), tt.contentType) || !strings.Contains(body, tt.contains) {
			t.Errorf("GET /%s: Content-Type %q, body without %q", tt.path, h.Get("Content-Type"), tt.contains)
		}
	}
	var rules ClientConfig
	body, _ := get(t, url+"arena/rules.json")
	if err := json.Unmarshal([]byte(body), &rules); err != nil || rules.Width != DefaultConfig().Width || len(rules.Walls) == 0 {
		t.Errorf("rules.json: %v %+v", err, rules)
	}
	resp, err := http.Get(url + "sdk/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /sdk/: %s, want 404 (no directory listing)", resp.Status)
	}
}

// wsPlayer is a player on a netws connection, speaking the rooms protocol.
type wsPlayer struct {
	t *testing.T
	c *netws.Conn
}

func (p *wsPlayer) send(v ...any) {
	p.t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.c.WriteMessage(netws.Binary, b); err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next message's kind and fields.
func (p *wsPlayer) read() (int, []msgpack.RawMessage) {
	p.t.Helper()
	p.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, b, err := p.c.ReadMessage(nil)
	if err != nil {
		p.t.Fatalf("reading: %v", err)
	}
	var raw []msgpack.RawMessage
	if err := msgpack.Unmarshal(b, &raw); err != nil || len(raw) == 0 {
		p.t.Fatalf("not a msgpack array: %x", b)
	}
	var kind int
	msgpack.Unmarshal(raw[0], &kind)
	return kind, raw[1:]
}

func TestPlayOverWebSocket(t *testing.T) {
	url := startArena(t, "-bots", "2", "-tick", "60")
	resp, err := http.Post(url+"matchmake/arena", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var m engine.MatchmakeResponse
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || m.Seat == "" {
		t.Fatalf("matchmake: %s %+v", resp.Status, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, m.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	p := &wsPlayer{t: t, c: c}
	p.send(rooms.ClientJoin, rooms.JoinRequest{Seat: m.Seat, Name: "  tester\x00 with a very long name  "})
	kind, f := p.read()
	if kind != rooms.ServerWelcome {
		t.Fatalf("answer to join: kind %d, want welcome", kind)
	}
	var w rooms.Welcome
	msgpack.Unmarshal(f[0], &w)
	if w.Game != "arena" || w.TickRate != 60 || w.Room != m.Room {
		t.Fatalf("welcome %+v", w)
	}

	// Move right until a batch acknowledges the input, then find our ship
	// moved, named, among two bots. Batches are table batches (see
	// snapshot.go), applied and acknowledged as the browser SDK does.
	tp := &tablePlayer{wsPlayer: p, welcome: w}
	var start *shipRow
	for {
		_, ack, v := tp.next()
		n, pilot, ok := v.pilot(w.Player)
		bots := 0
		for _, p := range v.pilots {
			if p.Bot {
				bots++
			}
		}
		me, seen := v.ships[n]
		if !ok || !seen || bots != 2 {
			t.Fatalf("a table without our ship or without 2 bots: %+v", v)
		}
		if pilot.Name != "tester with a ve" {
			t.Fatalf("name %q, want it cleaned and cut to %d characters", pilot.Name, maxNameLen)
		}
		if start == nil {
			start = &me
		}
		if ack >= 5 {
			if me.Pos.X <= start.Pos.X && me.Life == start.Life {
				t.Fatalf("after %d inputs moving right: x %v, started at %v", ack, me.Pos.X, start.Pos.X)
			}
			break
		}
		if tp.seq >= 100 {
			t.Fatalf("100 inputs sent, last ack %d", ack)
		}
		tp.input(Input{MX: 1, DT: 16})
	}
	// A malformed input is ignored; the connection stays.
	p.send(rooms.ClientInput, 1000, "not an input")
	p.send(rooms.ClientLeave)
	for {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, _, err := c.ReadMessage(nil); err != nil {
			if netws.CloseStatus(err) != netws.StatusNormalClosure {
				t.Fatalf("after leave: %v, want close 1000", err)
			}
			break
		}
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-tick", "5000"}, "-tick 5000: want 1 to 1000"},
		{[]string{"-tick", "-3"}, "-tick -3"},
		{[]string{"-bots", "9"}, "-bots 9: want 0 to 8"},
		{[]string{"-max-players", "0"}, "-max-players 0"},
		{[]string{"-lag-comp=maybe"}, `invalid boolean value "maybe" for -lag-comp`},
		{[]string{"-log-level", "chatty"}, "-log-level \"chatty\""},
		{[]string{"-tick-rate", "0"}, "-tick-rate \"0\""},
		{[]string{"stray"}, "unexpected arguments"},
		{[]string{"-addr", "256.0.0.1:1"}, "choose another address with -addr"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run %q: %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}
