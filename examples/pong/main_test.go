package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/vmihailenco/msgpack/v5"
)

// startPong runs the pong command in-process on a free loopback port and
// returns its page URL; it stops when the test ends.
func startPong(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-log-level", "warn"}, io.Discard, ready) }()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("pong did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("pong did not start within 30 s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("pong stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("pong did not stop within 20 s of its context ending")
		}
	})
	return url
}

// player is one pong player on a netws connection.
type player struct {
	t    *testing.T
	c    *netws.Conn
	room string
	id   string
}

// join matchmakes and joins as name.
func join(t *testing.T, url, name string) *player {
	t.Helper()
	resp, err := http.Post(url+"matchmake/pong", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var m engine.MatchmakeResponse
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, m.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	p := &player{t: t, c: c}
	p.send(rooms.ClientJoin, rooms.JoinRequest{Seat: m.Seat, Name: name})
	kind, f, err := p.read()
	if err != nil || kind != rooms.ServerWelcome {
		t.Fatalf("%s: answer to join: kind %d, %v", name, kind, err)
	}
	var w rooms.Welcome
	msgpack.Unmarshal(f[0], &w)
	p.room, p.id = w.Room, w.Player
	return p
}

func (p *player) send(v ...any) {
	b, _ := msgpack.Marshal(v)
	if err := p.c.WriteMessage(netws.Binary, b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *player) read() (int, []msgpack.RawMessage, error) {
	p.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, b, err := p.c.ReadMessage(nil)
	if err != nil {
		return 0, nil, err
	}
	var raw []msgpack.RawMessage
	if err := msgpack.Unmarshal(b, &raw); err != nil || len(raw) == 0 {
		p.t.Fatalf("not a msgpack array: %x", b)
	}
	var kind int
	msgpack.Unmarshal(raw[0], &kind)
	return kind, raw[1:], nil
}

// snapshot returns the snapshot of the next batch.
func (p *player) snapshot() Snapshot {
	p.t.Helper()
	for {
		kind, f, err := p.read()
		if err != nil {
			p.t.Fatalf("waiting for a batch: %v", err)
		}
		if kind == rooms.ServerBatch {
			var s Snapshot
			if err := msgpack.Unmarshal(f[3], &s); err != nil {
				p.t.Fatal(err)
			}
			return s
		}
	}
}

func TestServesPageAndSDK(t *testing.T) {
	url := startPong(t)
	for path, want := range map[string]string{"": `src="/pong.js"`, "pong.js": `"/sdk/tickwire.js"`, "sdk/tickwire.js": "export"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET /%s: %s, body without %q", path, resp.Status, want)
		}
	}
}

func TestTwoPlayersARoomAndTheEndWhenOneLeaves(t *testing.T) {
	url := startPong(t)
	ann := join(t, url, "ann")
	if s := ann.snapshot(); s.Phase != "waiting" || s.Paddles[0].ID != ann.id {
		t.Fatalf("alone: %+v, want waiting with ann on the left", s)
	}
	bob := join(t, url, "bob")
	carl := join(t, url, "carl")
	if bob.room != ann.room || carl.room == ann.room {
		t.Fatalf("rooms: ann %s, bob %s, carl %s; want ann and bob together, carl apart", ann.room, bob.room, carl.room)
	}
	// Playing: the ball leaves the centre once served, and bob's input
	// moves his paddle.
	bob.send(rooms.ClientInput, 1, Input{Dir: 1})
	var s Snapshot
	for s = bob.snapshot(); s.Phase != "playing" || s.Ball.X == Width/2 || s.Paddles[1].Y <= Height/2; s = bob.snapshot() {
	}
	if s.Paddles[1].Name != "bob" || s.Paddles[0].Name != "ann" {
		t.Fatalf("paddles %+v", s.Paddles)
	}

	// Bob leaves: ann is told, then her connection closes with 1000.
	bob.send(rooms.ClientLeave)
	told := false
	for {
		kind, f, err := ann.read()
		if err != nil {
			var ce *netws.CloseError
			if !told || !errors.As(err, &ce) || ce.Code != netws.StatusNormalClosure || !strings.Contains(ce.Reason, "opponent left") {
				t.Fatalf("ann: told %v, connection ended with %v; want the message, then close 1000 saying why", told, err)
			}
			break
		}
		if kind == rooms.ServerMessage {
			var typ string
			var data map[string]string
			msgpack.Unmarshal(f[0], &typ)
			msgpack.Unmarshal(f[1], &data)
			told = typ == "opponent-left" && data["name"] == "bob"
		}
	}
	// Carl still waits in his own room, unaffected.
	if s := carl.snapshot(); s.Phase != "waiting" {
		t.Fatalf("carl: %+v", s)
	}
}
