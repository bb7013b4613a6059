package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/engine/internal/directory"
	"github.com/tickwire/tickwire/rooms"
)

// lockedBuffer collects logs written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// clusterNode serves an engine as node id of the cluster whose directory
// is on m, with tagGame as "tag" (2 seats). stop shuts it down (once).
func clusterNode(t *testing.T, m *miniredis.Miniredis, id string, logs *lockedBuffer) (e *Engine, addr string, stop func()) {
	t.Helper()
	cfg := Config{
		Redis:     "redis://" + m.Addr() + "/0",
		Directory: DirectoryOptions{NodeID: id, KeyPrefix: "t:", Heartbeat: 50 * time.Millisecond, Expiry: time.Second},
		Logger:    hclog.NewNullLogger(),
	}
	if logs != nil {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug})
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Register("tag", func() rooms.Game { return &tagGame{} }, &rooms.RoomOptions{MaxPlayers: 2, TickRate: 20}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.Serve(ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			e.Shutdown(ctx)
			<-served
		})
	}
	t.Cleanup(stop)
	return e, ln.Addr().String(), stop
}

// openDirectory reads the cluster's directory on m, as tests check it.
func openDirectory(t *testing.T, m *miniredis.Miniredis) *directory.Directory {
	t.Helper()
	d, err := directory.Open(directory.Options{URL: "redis://" + m.Addr() + "/0", Prefix: "t:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// roomsByNode lists the directory's rooms per node.
func roomsByNode(t *testing.T, d *directory.Directory) map[string][]directory.Room {
	t.Helper()
	list, err := d.Rooms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]directory.Room{}
	for _, r := range list {
		by[r.Node] = append(by[r.Node], r)
	}
	return by
}

// waitForNodes waits until the directory lists exactly these nodes, each
// with a URL.
func waitForNodes(t *testing.T, d *directory.Directory, ids ...string) {
	t.Helper()
	waitUntil(t, "nodes "+strings.Join(ids, ", "), func() bool {
		nodes, _ := d.Nodes(context.Background())
		if len(nodes) != len(ids) {
			return false
		}
		for i, n := range nodes {
			if n.ID != ids[i] || n.URL == "" {
				return false
			}
		}
		return true
	})
}

func TestClusterCreatesRoomsOnTheLeastLoadedNode(t *testing.T) {
	m := miniredis.RunT(t)
	m.ClockTTL(true)
	_, addrA, _ := clusterNode(t, m, "a", nil)
	_, addrB, _ := clusterNode(t, m, "b", nil)
	waitForNodes(t, openDirectory(t, m), "a", "b")
	var got []MatchmakeResponse
	for i := range 4 {
		mm, code, msg := postMatchmake(t, addrA, "tag", "")
		if code != http.StatusOK {
			t.Fatalf("matchmake %d: %d %s", i, code, msg)
		}
		got = append(got, mm)
	}
	// a and b start level: a (the matchmaker) wins the tie; then b has
	// the fewer rooms.
	wantNode := []string{"a", "a", "b", "b"}
	wantURL := map[string]string{"a": "ws://" + addrA + "/ws", "b": "ws://" + addrB + "/ws"}
	for i, mm := range got {
		if mm.Node != wantNode[i] || mm.URL != wantURL[mm.Node] {
			t.Fatalf("matchmake %d: %+v, want node %s", i, mm, wantNode[i])
		}
	}
	if got[0].Room != got[1].Room || got[2].Room != got[3].Room {
		t.Fatalf("rooms %s %s %s %s: want two rooms of two", got[0].Room, got[1].Room, got[2].Room, got[3].Room)
	}
	// A seat is honoured only by the node of its room.
	code, msg := joinError(t, "ws://"+addrA+"/ws", rooms.JoinRequest{Seat: got[2].Seat})
	if code != rooms.ErrBadSeat || !strings.Contains(msg, wantURL["b"]) {
		t.Fatalf("seat of b presented to a: code %d %q, want bad seat naming b's URL", code, msg)
	}
	for _, mm := range got {
		seat(t, mm)
	}
	// Matchmaking on b sees the same directory.
	mm, _, _ := postMatchmake(t, addrB, "tag", "")
	if mm.Room == got[0].Room || mm.Room == got[2].Room {
		t.Fatalf("matchmaking on b chose the full room %s", mm.Room)
	}
}

func TestNodeThatStopsHeartbeatingDisappears(t *testing.T) {
	m := miniredis.RunT(t) // TTLs move only with FastForward
	a, addrA, _ := clusterNode(t, m, "a", nil)
	b, addrB, _ := clusterNode(t, m, "b", nil)
	d := openDirectory(t, m)
	waitForNodes(t, d, "a", "b")
	for _, addr := range []string{addrA, addrB} {
		if _, code, msg := postMatchmake(t, addr, "tag", `{"create": true}`); code != http.StatusOK {
			t.Fatalf("create: %d %s", code, msg)
		}
	}
	if by := roomsByNode(t, d); len(by["a"]) != 1 || len(by["b"]) != 1 {
		t.Fatalf("rooms by node %v, want one each", by)
	}
	b.node.cancel() // b freezes: no more heartbeats, no goodbye
	m.FastForward(a.node.opts.Expiry)
	waitUntil(t, "a's entries to come back and b's to stay gone", func() bool {
		by := roomsByNode(t, d)
		nodes, _ := d.Nodes(context.Background())
		return len(by["a"]) == 1 && len(by["b"]) == 0 && len(nodes) == 1
	})
	for i := range 6 {
		mm, code, msg := postMatchmake(t, addrA, "tag", "")
		if code != http.StatusOK || mm.Node != "a" {
			t.Fatalf("matchmake %d after b stopped: %d %s %+v, want a seat on a", i, code, msg, mm)
		}
	}
}

func TestGracefulShutdownLeavesTheDirectoryAtOnce(t *testing.T) {
	m := miniredis.RunT(t)
	_, _, _ = clusterNode(t, m, "a", nil)
	_, addrB, stopB := clusterNode(t, m, "b", nil)
	d := openDirectory(t, m)
	waitForNodes(t, d, "a", "b")
	if _, code, _ := postMatchmake(t, addrB, "tag", `{"create": true}`); code != http.StatusOK {
		t.Fatal(code)
	}
	stopB()
	// No FastForward: the entries are gone, not expired.
	nodes, _ := d.Nodes(context.Background())
	if by := roomsByNode(t, d); len(by["b"]) != 0 || len(nodes) != 1 {
		t.Fatalf("after b's shutdown: rooms %v, nodes %v; want b gone", by, nodes)
	}
}

// TestRedisOutage: with Redis down, matchmaking answers 503 saying why,
// running rooms keep running, and everything recovers when Redis comes
// back, even empty.
func TestRedisOutage(t *testing.T) {
	m := miniredis.RunT(t)
	m.ClockTTL(true)
	logs := &lockedBuffer{}
	_, addr, _ := clusterNode(t, m, "a", logs)
	mm, code, _ := postMatchmake(t, addr, "tag", "")
	if code != http.StatusOK {
		t.Fatal(code)
	}
	p := seat(t, mm)

	redisAddr := m.Addr()
	m.Close()
	_, code, msg := postMatchmake(t, addr, "tag", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(msg, "unavailable") || !strings.Contains(msg, redisAddr) {
		t.Fatalf("matchmake with Redis down: %d %q, want 503 naming the directory", code, msg)
	}
	for i := range 5 {
		if kind, _, err := p.read(); err != nil || kind != rooms.ServerBatch {
			t.Fatalf("message %d to a seated player with Redis down: kind %d, %v; want batches", i, kind, err)
		}
	}
	health := func() string {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h struct{ Node, Directory string }
		json.NewDecoder(resp.Body).Decode(&h)
		return h.Node + " " + h.Directory
	}
	waitUntil(t, "healthz to report the directory down", func() bool { return health() == "a unavailable" })
	if !strings.Contains(logs.String(), "room directory unavailable") {
		t.Fatalf("no log line says the directory is unavailable:\n%s", logs)
	}

	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	m.FlushAll() // a Redis that lost everything
	waitUntil(t, "matchmaking to recover", func() bool {
		mm2, code, _ := postMatchmake(t, addr, "tag", "")
		if code == http.StatusOK && mm2.Room != mm.Room {
			t.Fatalf("after recovery: room %s, want %s, whose seat the node re-announced", mm2.Room, mm.Room)
		}
		return code == http.StatusOK
	})
	waitUntil(t, "healthz to report the directory back", func() bool { return health() == "a ok" })
	if !strings.Contains(logs.String(), "room directory reachable again") {
		t.Fatalf("no log line says the directory is back:\n%s", logs)
	}
}

func TestDirectoryConfig(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string // "" means valid
	}{
		{[]string{"-redis", "http://host"}, nil, "redis URL"},
		{nil, map[string]string{"TICKWIRE_REDIS": "redis://host/notanumber"}, "redis URL"},
		{[]string{"-redis", "redis://:secret@host:6379/1"}, nil, ""},
		{nil, map[string]string{"TICKWIRE_REDIS": "redis://127.0.0.1:6379/0", "TICKWIRE_NODE_ID": "eu1"}, ""},
		{[]string{"-redis", "redis://127.0.0.1:6379/0", "-node-id", "eu1"}, nil, ""},
	}
	for _, tt := range tests {
		var cfg Config
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		apply := cfg.Flags(fs, func(k string) string { return tt.env[k] })
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := apply()
		if tt.want == "" {
			wantID := tt.env["TICKWIRE_NODE_ID"]
			if len(tt.args) > 2 {
				wantID = tt.args[3]
			}
			if err != nil || cfg.Redis == "" || cfg.Directory.NodeID != wantID {
				t.Errorf("%v %v: %v, Redis %q, node %q", tt.args, tt.env, err, cfg.Redis, cfg.Directory.NodeID)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%v %v: %v, want an error with %q", tt.args, tt.env, err, tt.want)
		}
	}
	_, err := New(Config{Directory: DirectoryOptions{Heartbeat: time.Second, Expiry: time.Second}, Logger: hclog.NewNullLogger()})
	if err == nil || !strings.Contains(err.Error(), "longer than the heartbeat") {
		t.Errorf("expiry equal to the heartbeat: %v", err)
	}
}

// TestMatchmakingPassesOverANodeThatDoesNotAnswer: a node in the
// directory that takes no creation requests is skipped, and the room is
// created elsewhere.
func TestMatchmakingPassesOverANodeThatDoesNotAnswer(t *testing.T) {
	m := miniredis.RunT(t)
	m.ClockTTL(true)
	logs := &lockedBuffer{}
	_, addr, _ := clusterNode(t, m, "a", logs)
	d := openDirectory(t, m)
	waitForNodes(t, d, "a")
	if _, code, _ := postMatchmake(t, addr, "tag", `{"create": true}`); code != http.StatusOK {
		t.Fatal(code)
	}
	// A ghost with fewer rooms than a: it is the first choice.
	ghost := directory.Node{ID: "ghost", URL: "ws://127.0.0.1:1/ws", Games: []string{"tag"}}
	if err := d.Announce(context.Background(), ghost, nil); err != nil {
		t.Fatal(err)
	}
	mm, code, msg := postMatchmake(t, addr, "tag", `{"create": true}`)
	if code != http.StatusOK || mm.Node != "a" {
		t.Fatalf("create with a silent node first in line: %d %s %+v, want a room on a", code, msg, mm)
	}
	if !strings.Contains(logs.String(), "node=ghost") {
		t.Errorf("no log line names the node passed over:\n%s", logs)
	}
}
