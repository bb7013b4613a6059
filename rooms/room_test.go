package rooms

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// counterGame is a toy game: each player's inputs add to a shared total.
type counterGame struct {
	total     int
	snapSize  int // pad the snapshot to this many bytes
	panicAt   uint64
	refuse    string
	left      chan LeaveReason
	tickCount atomic.Int64
	room      *Room
}

type counterSnapshot struct {
	Total   int    `msgpack:"total"`
	Players int    `msgpack:"players"`
	Pad     []byte `msgpack:"pad,omitempty"`
}

func (g *counterGame) Init(r *Room) error { g.room = r; return nil }
func (g *counterGame) Join(p *Player, opts []byte) error {
	if g.refuse != "" {
		return errors.New(g.refuse)
	}
	return nil
}
func (g *counterGame) Leave(p *Player, reason LeaveReason) {
	if g.left != nil {
		g.left <- reason
	}
}
func (g *counterGame) Input(p *Player, seq uint32, data []byte) {
	var n int
	if msgpack.Unmarshal(data, &n) == nil {
		g.total += n
	}
}
func (g *counterGame) Tick(t tick.Tick) {
	g.tickCount.Add(1)
	if g.panicAt != 0 && t.N >= g.panicAt {
		panic("counterGame: boom")
	}
}
func (g *counterGame) Snapshot(p *Player) any {
	s := &counterSnapshot{Total: g.total, Players: len(g.room.Players())}
	if g.snapSize > 0 {
		s.Pad = bytes.Repeat([]byte{0xAB}, g.snapSize)
	}
	return s
}

// startRoom runs a room for g and serves it over WebSocket; the first
// message of each connection must be a join. tweak, if given, adjusts each
// server-side connection before the join.
func startRoom(t *testing.T, g Game, opts RoomOptions, tweak ...func(*netws.Conn)) (*Room, string) {
	t.Helper()
	r, err := NewRoom("counter", g, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- r.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := netws.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for _, f := range tweak {
			f(c)
		}
		_, b, err := c.ReadMessage(nil)
		if err != nil {
			return
		}
		m, err := DecodeClientMsg(b)
		if err != nil || m.Kind != ClientJoin {
			c.WriteMessage(netws.Binary, EncodeError(ErrBadMessage, "join first"))
			return
		}
		r.Serve(c, m.Join)
	}))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		select {
		case <-r.Done():
		case <-time.After(10 * time.Second):
			t.Error("room did not stop")
		}
	})
	return r, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// client is a test player.
type client struct {
	t *testing.T
	c *netws.Conn
}

func dialRoom(t *testing.T, url string, join JoinRequest) (*client, Welcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, url, &netws.DialOptions{ConnOptions: netws.ConnOptions{ReadLimit: 4 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	cl := &client{t: t, c: c}
	cl.send(ClientJoin, join)
	kind, fields := cl.next()
	if kind != ServerWelcome {
		t.Fatalf("first message: kind %d %v, want a welcome", kind, fields)
	}
	var w Welcome
	if err := msgpack.Unmarshal(fields[0], &w); err != nil {
		t.Fatal(err)
	}
	return cl, w
}

func (cl *client) send(kind int, fields ...any) {
	cl.t.Helper()
	b, err := msgpack.Marshal(append([]any{kind}, fields...))
	if err != nil {
		cl.t.Fatal(err)
	}
	if err := cl.c.WriteMessage(netws.Binary, b); err != nil {
		cl.t.Fatal(err)
	}
}

// next reads one server message: its kind and raw fields.
func (cl *client) next() (int, []msgpack.RawMessage) {
	cl.t.Helper()
	kind, fields, err := cl.read()
	if err != nil {
		cl.t.Fatalf("read: %v", err)
	}
	return kind, fields
}

func (cl *client) read() (int, []msgpack.RawMessage, error) {
	cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := cl.c.ReadMessage(nil)
	if err != nil {
		return 0, nil, err
	}
	var raw []msgpack.RawMessage
	if err := msgpack.Unmarshal(b, &raw); err != nil || len(raw) == 0 {
		return 0, nil, errors.New("message is not a msgpack array")
	}
	var kind int
	msgpack.Unmarshal(raw[0], &kind)
	return kind, raw[1:], nil
}

type batch struct {
	tick uint64
	time int64
	ack  uint32
	snap counterSnapshot
}

// nextBatch skips other messages and decodes the next batch.
func (cl *client) nextBatch() batch {
	cl.t.Helper()
	for {
		kind, f := cl.next()
		if kind != ServerBatch {
			continue
		}
		if len(f) != 5 {
			cl.t.Fatalf("batch has %d fields, want 5", len(f))
		}
		var b batch
		msgpack.Unmarshal(f[0], &b.tick)
		msgpack.Unmarshal(f[1], &b.time)
		msgpack.Unmarshal(f[2], &b.ack)
		if err := msgpack.Unmarshal(f[3], &b.snap); err != nil {
			cl.t.Fatalf("snapshot: %v", err)
		}
		return b
	}
}

func TestPlayersReceiveOneBatchPerTickWithAcks(t *testing.T) {
	g := &counterGame{}
	_, url := startRoom(t, g, RoomOptions{TickRate: 50})
	const n = 4
	clients := make([]*client, n)
	for i := range clients {
		clients[i], _ = dialRoom(t, url, JoinRequest{Name: "p"})
	}
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last batch
			var seq uint32
			for range 30 {
				b := cl.nextBatch()
				if last.tick != 0 && b.tick <= last.tick {
					t.Errorf("client %d: tick %d after %d", i, b.tick, last.tick)
				}
				if b.ack < last.ack || b.ack > seq {
					t.Errorf("client %d: ack %d, last %d, sent up to %d", i, b.ack, last.ack, seq)
				}
				last = b
				seq++
				cl.send(ClientInput, seq, 1)
			}
			// Every input is eventually acknowledged.
			for last.ack != seq {
				last = cl.nextBatch()
			}
		}()
	}
	wg.Wait()
}

func TestLargeSnapshotArrivesIntactAndFragmented(t *testing.T) {
	g := &counterGame{snapSize: 256 << 10}
	_, url := startRoom(t, g, RoomOptions{TickRate: 20, FrameSize: 16 << 10})
	cl, _ := dialRoom(t, url, JoinRequest{})
	for range 3 {
		b := cl.nextBatch()
		if len(b.snap.Pad) != 256<<10 || b.snap.Pad[0] != 0xAB || b.snap.Pad[len(b.snap.Pad)-1] != 0xAB {
			t.Fatalf("snapshot pad of %d bytes, want %d", len(b.snap.Pad), 256<<10)
		}
	}
}

func TestJoinRefusedAndRoomFull(t *testing.T) {
	g := &counterGame{}
	_, url := startRoom(t, g, RoomOptions{MaxPlayers: 1})
	dialRoom(t, url, JoinRequest{})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	cl := &client{t: t, c: c}
	cl.send(ClientJoin, JoinRequest{})
	kind, f := cl.next()
	var code int
	var msg string
	msgpack.Unmarshal(f[0], &code)
	msgpack.Unmarshal(f[1], &msg)
	if kind != ServerError || ErrorCode(code) != ErrRoomFull {
		t.Fatalf("second join: kind %d code %d %q, want room full", kind, code, msg)
	}

	g2 := &counterGame{refuse: "no seats for bots"}
	_, url2 := startRoom(t, g2, RoomOptions{})
	c2, err := netws.Dial(ctx, url2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseNow()
	cl2 := &client{t: t, c: c2}
	cl2.send(ClientJoin, JoinRequest{})
	kind, f = cl2.next()
	msgpack.Unmarshal(f[0], &code)
	msgpack.Unmarshal(f[1], &msg)
	if kind != ServerError || ErrorCode(code) != ErrJoinRefused || msg != "no seats for bots" {
		t.Fatalf("refused join: kind %d code %d %q", kind, code, msg)
	}
}

func TestBadInputGetsAnErrorNotACrash(t *testing.T) {
	g := &counterGame{}
	_, url := startRoom(t, g, RoomOptions{MaxInputSize: 16, InputRate: 5})
	cl, _ := dialRoom(t, url, JoinRequest{})
	tests := []struct {
		name string
		msg  []byte
		want ErrorCode
	}{
		{"not msgpack", []byte{0xC1}, ErrBadMessage},
		{"not an array", []byte{0x05}, ErrBadMessage},
		{"unknown kind", mustMarshal(t, []any{99}), ErrBadMessage},
		{"input missing fields", mustMarshal(t, []any{ClientInput}), ErrBadMessage},
		{"input too large", mustMarshal(t, []any{ClientInput, 1, bytes.Repeat([]byte{1}, 64)}), ErrInputTooLarge},
		{"join twice", mustMarshal(t, []any{ClientJoin, map[string]any{}}), ErrBadMessage},
	}
	for _, tt := range tests {
		if err := cl.c.WriteMessage(netws.Binary, tt.msg); err != nil {
			t.Fatal(err)
		}
		for {
			kind, f := cl.next()
			if kind != ServerError {
				continue
			}
			var code int
			var text string
			msgpack.Unmarshal(f[0], &code)
			msgpack.Unmarshal(f[1], &text)
			if ErrorCode(code) != tt.want || text == "" {
				t.Errorf("%s: error %d %q, want code %d", tt.name, code, text, tt.want)
			}
			break
		}
	}
	// A burst over the rate limit is refused, and the room still ticks.
	for i := range 20 {
		cl.send(ClientInput, uint32(100+i), 1)
	}
	sawLimit := false
	for range 60 {
		kind, f := cl.next()
		if kind == ServerError {
			var code int
			msgpack.Unmarshal(f[0], &code)
			sawLimit = sawLimit || ErrorCode(code) == ErrRateLimited
		}
	}
	if !sawLimit {
		t.Error("20 inputs at once with InputRate 5 were not rate limited")
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReconnectWithinGraceKeepsTheSeat(t *testing.T) {
	g := &counterGame{left: make(chan LeaveReason, 4)}
	r, url := startRoom(t, g, RoomOptions{TickRate: 50, ReconnectGrace: 300 * time.Millisecond})
	cl, w := dialRoom(t, url, JoinRequest{Name: "ann"})
	cl.nextBatch()
	cl.c.CloseNow()
	cl2, w2 := dialRoom(t, url, JoinRequest{Reconnect: w.Reconnect})
	if w2.Player != w.Player || !w2.Resumed {
		t.Fatalf("reconnect: player %s resumed %v, want %s resumed", w2.Player, w2.Resumed, w.Player)
	}
	if b := cl2.nextBatch(); b.snap.Players != 1 {
		t.Fatalf("after reconnect the room has %d players, want 1", b.snap.Players)
	}
	select {
	case reason := <-g.left:
		t.Fatalf("player left (%v) although it reconnected in time", reason)
	default:
	}
	// Drop again and stay away: the seat is freed after the grace period.
	cl2.c.CloseNow()
	select {
	case reason := <-g.left:
		if reason != LeaveDisconnected {
			t.Fatalf("leave reason %v, want disconnected", reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("seat not freed after the grace period")
	}
	if n := r.Info().Players; n != 0 {
		t.Fatalf("room has %d players after grace, want 0", n)
	}
	_, _, err := dialRoomErr(t, url, JoinRequest{Reconnect: w.Reconnect})
	if err == nil || !strings.Contains(err.Error(), "reconnect token") {
		t.Fatalf("reconnect after grace: %v, want a reconnect token error", err)
	}
}

// dialRoomErr joins and returns the error message if the join is refused.
func dialRoomErr(t *testing.T, url string, join JoinRequest) (*client, Welcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	cl := &client{t: t, c: c}
	cl.send(ClientJoin, join)
	kind, f := cl.next()
	if kind == ServerError {
		var code int
		var msg string
		msgpack.Unmarshal(f[0], &code)
		msgpack.Unmarshal(f[1], &msg)
		return cl, Welcome{}, &Error{Code: ErrorCode(code), Message: msg}
	}
	var w Welcome
	msgpack.Unmarshal(f[0], &w)
	return cl, w, nil
}

func TestPanicClosesOnlyThatRoom(t *testing.T) {
	bad := &counterGame{panicAt: 5}
	badRoom, badURL := startRoom(t, bad, RoomOptions{TickRate: 50})
	good := &counterGame{}
	_, goodURL := startRoom(t, good, RoomOptions{TickRate: 50, EmptyTimeout: -1})
	badClient, _ := dialRoom(t, badURL, JoinRequest{})
	goodClient, _ := dialRoom(t, goodURL, JoinRequest{})
	select {
	case <-badRoom.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the panicking room did not stop")
	}
	for {
		_, _, err := badClient.read()
		if err != nil {
			if netws.CloseStatus(err) != netws.StatusInternalError {
				t.Fatalf("player of the crashed room: %v, want close 1011", err)
			}
			break
		}
	}
	// The other room keeps ticking: batches keep coming with new ticks.
	first := goodClient.nextBatch().tick
	for b := goodClient.nextBatch(); b.tick < first+5; b = goodClient.nextBatch() {
	}
}

func TestSlowPlayerIsDroppedAndOthersKeepReceiving(t *testing.T) {
	g := &counterGame{snapSize: 64 << 10}
	r, url := startRoom(t, g, RoomOptions{TickRate: 50, SlowTimeout: 300 * time.Millisecond, ReconnectGrace: -1})
	stuck, _ := dialRoom(t, url, JoinRequest{Name: "stuck"})
	_ = stuck // never reads again
	fine, _ := dialRoom(t, url, JoinRequest{Name: "fine"})
	deadline := time.Now().Add(15 * time.Second)
	for r.Info().Players != 1 {
		fine.nextBatch()
		if time.Now().After(deadline) {
			t.Fatal("the stuck player was never dropped")
		}
	}
	// The room kept its rate: the well-behaved player still gets batches.
	for range 10 {
		fine.nextBatch()
	}
	if st := r.Info().Ticks; st.Skipped > 0 {
		t.Logf("ticks skipped: %d (lateness p99 %v)", st.Skipped, st.Lateness.P99)
	}
}
