package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// fixture is a directory on a miniredis whose clock moves only when the
// test says so: TTLs and the TIME the scripts read follow it together.
type fixture struct {
	t   *testing.T
	m   *miniredis.Miniredis
	d   *Directory
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	m := miniredis.RunT(t)
	f := &fixture{t: t, m: m, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	m.SetTime(f.now)
	m.ClockTTL(true)
	d, err := Open(Options{URL: "redis://" + m.Addr() + "/0", Prefix: "test:", Expiry: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	f.d = d
	return f
}

// advance moves the clock.
func (f *fixture) advance(d time.Duration) {
	f.now = f.now.Add(d)
	f.m.SetTime(f.now)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// node announces a node serving games, hosting rooms.
func (f *fixture) node(id string, games []string, rooms ...HostedRoom) {
	f.t.Helper()
	for i := range rooms {
		rooms[i].Node = id
	}
	if err := f.d.Announce(ctx(f.t), Node{ID: id, URL: "ws://" + id + "/ws", Games: games, Load: len(rooms)}, rooms); err != nil {
		f.t.Fatal(err)
	}
}

func room(id, game string, capacity int, held ...string) HostedRoom {
	return HostedRoom{Room: Room{ID: id, Game: game, Capacity: capacity}, Held: held}
}

func (f *fixture) claim(q Query) (Seat, error) {
	if q.SeatTTL == 0 {
		q.SeatTTL = 30 * time.Second
	}
	return f.d.Claim(ctx(f.t), q)
}

func TestClaimFillsTheFullestRoomFirst(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"}, room("r1", "tag", 4, "x"), room("r2", "tag", 4, "x", "y"), room("r3", "tag", 4, "x", "y", "z", "w"), room("r4", "chess", 4, "x", "y", "z"))
	want := []string{"r2", "r2", "r1", "r1", "r1"}
	for i, w := range want {
		s, err := f.claim(Query{Game: "tag"})
		if err != nil || s.Room != w || s.Node != "a" || s.URL != "ws://a/ws" || RoomOf(s.Token) != w {
			t.Fatalf("claim %d: %+v, %v; want a seat in %s on a", i, s, err, w)
		}
		if !s.Expires.Equal(f.now.Add(30 * time.Second)) {
			t.Errorf("claim %d expires %v, want 30s from %v", i, s.Expires, f.now)
		}
	}
	if _, err := f.claim(Query{Game: "tag"}); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("claim with every room full: %v, want ErrNoRoom", err)
	}
}

func TestClaimSelection(t *testing.T) {
	f := newFixture(t)
	desert := room("desert", "tag", 4)
	desert.Metadata = map[string]string{"map": "desert", "mode": "ffa"}
	private := room("private", "tag", 2)
	private.Private = true
	locked := room("locked", "tag", 2)
	locked.Locked = true
	f.node("a", []string{"tag"}, desert, private, locked, room("full", "tag", 1, "x"))
	f.node("b", []string{"tag"}, room("onb", "tag", 3, "x", "y"))
	f.node("c", []string{"tag"}, room("open", "tag", 0))
	tests := []struct {
		name string
		q    Query
		room string
		err  error
	}{
		{"fullest first", Query{Game: "tag"}, "onb", nil},
		{"filter", Query{Game: "tag", Filters: map[string]string{"map": "desert"}}, "desert", nil},
		{"two filters", Query{Game: "tag", Filters: map[string]string{"map": "desert", "mode": "ffa"}}, "desert", nil},
		{"filter nobody matches", Query{Game: "tag", Filters: map[string]string{"map": "moon"}}, "", ErrNoRoom},
		{"only node a", Query{Game: "tag", Node: "a", Filters: map[string]string{"map": "desert"}}, "desert", nil},
		{"no limit", Query{Game: "tag", Node: "c"}, "open", nil},
		{"by id, private", Query{Game: "tag", Room: "private"}, "private", nil},
		{"by id, any game", Query{Room: "private"}, "private", nil},
		{"by id, other game", Query{Game: "chess", Room: "private"}, "", ErrRoomNotFound},
		{"by id, locked", Query{Game: "tag", Room: "locked"}, "", ErrRoomLocked},
		{"by id, full", Query{Game: "tag", Room: "full"}, "", ErrRoomFull},
		{"by id, unknown", Query{Game: "tag", Room: "nope"}, "", ErrRoomNotFound},
		{"unknown game", Query{Game: "chess"}, "", ErrNoRoom},
	}
	for _, tt := range tests {
		s, err := f.claim(tt.q)
		if !errors.Is(err, tt.err) || s.Room != tt.room {
			t.Errorf("%s: %q, %v; want %q, %v", tt.name, s.Room, err, tt.room, tt.err)
		}
	}
	var ee *ElsewhereError
	if _, err := f.claim(Query{Room: "onb", Node: "a"}); !errors.As(err, &ee) || ee.Node != "b" || ee.URL != "ws://b/ws" {
		t.Errorf("claim on a of a room on b: %v, want an ElsewhereError naming b", err)
	}
}

// TestClaimRaceForTheLastSeat races many claims for one free seat: exactly
// one wins, in one room and in join-or-create.
func TestClaimRaceForTheLastSeat(t *testing.T) {
	for _, q := range []Query{{Game: "tag", Room: "r"}, {Game: "tag"}} {
		f := newFixture(t)
		f.node("a", []string{"tag"}, room("r", "tag", 4, "x", "y", "z"))
		const n = 64
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.claim(q)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, ErrRoomFull), errors.Is(err, ErrNoRoom):
			default:
				t.Fatalf("claim: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("query %+v: %d claims won the last seat, want exactly 1", q, won)
		}
	}
}

func TestTakeOnceBeforeExpiryOnItsNode(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"}, room("r", "tag", 2))
	f.node("b", []string{"tag"})
	s, err := f.claim(Query{Game: "tag", SeatTTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var ee *ElsewhereError
	if err := f.d.Take(ctx(t), s.Token, "b"); !errors.As(err, &ee) || ee.Node != "a" {
		t.Fatalf("take on b: %v, want an ElsewhereError naming a", err)
	}
	for _, bad := range []string{"", "nodot", "r.forged", "other.x"} {
		if err := f.d.Take(ctx(t), bad, "a"); !errors.Is(err, ErrSeatUnknown) {
			t.Errorf("take %q: %v, want ErrSeatUnknown", bad, err)
		}
	}
	// Many takes of one token: exactly one succeeds.
	const n = 32
	var wg sync.WaitGroup
	results := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); results <- f.d.Take(ctx(t), s.Token, "a") }()
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		if err == nil {
			won++
		} else if !errors.Is(err, ErrSeatUnknown) {
			t.Fatal(err)
		}
	}
	if won != 1 {
		t.Fatalf("%d takes of one seat succeeded, want 1", won)
	}
	// A reserved seat that expires is not taken, and frees its place.
	s2, err := f.claim(Query{Game: "tag", SeatTTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.claim(Query{Game: "tag"}); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("claim in a full room: %v", err)
	}
	for range 10 { // heartbeats keep the room, not the reservation
		f.advance(time.Second)
		f.node("a", []string{"tag"}, room("r", "tag", 2))
	}
	if err := f.d.Take(ctx(t), s2.Token, "a"); !errors.Is(err, ErrSeatUnknown) {
		t.Fatalf("take of an expired seat: %v, want ErrSeatUnknown", err)
	}
	if _, err := f.claim(Query{Game: "tag"}); err != nil {
		t.Fatalf("claim after the reservation expired: %v", err)
	}
	// Releasing frees held and reserved seats alike.
	rooms, _ := f.d.Rooms(ctx(t))
	if len(rooms) != 1 || rooms[0].Seats != 2 {
		t.Fatalf("rooms %+v, want r with 2 seats taken", rooms)
	}
	if err := f.d.Release(ctx(t), "r", s.Token, s.Token); err != nil {
		t.Fatal(err)
	}
	if rooms, _ = f.d.Rooms(ctx(t)); rooms[0].Seats != 1 {
		t.Fatalf("after a release: %d seats taken, want 1", rooms[0].Seats)
	}
}

func TestNodeExpiresWithItsRooms(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"}, room("ra", "tag", 4))
	f.node("b", []string{"tag"}, room("rb", "tag", 4, "x"))
	for range 3 { // a keeps beating, b stops
		f.m.FastForward(time.Second)
		f.node("a", []string{"tag"}, room("ra", "tag", 4))
	}
	rooms, err := f.d.Rooms(ctx(t))
	if err != nil || len(rooms) != 1 || rooms[0].ID != "ra" {
		t.Fatalf("rooms after b stopped: %+v, %v; want only ra", rooms, err)
	}
	nodes, _ := f.d.Nodes(ctx(t))
	if len(nodes) != 1 || nodes[0].ID != "a" || nodes[0].Games[0] != "tag" {
		t.Fatalf("nodes %+v, want only a", nodes)
	}
	if s, err := f.claim(Query{Game: "tag"}); err != nil || s.Node != "a" {
		t.Fatalf("claim: %+v, %v; want a seat on a", s, err)
	}
	if n, _, err := f.d.PickNode(ctx(t), "tag", "c", false, time.Minute); err != nil || n.ID != "a" {
		t.Fatalf("pick: %+v, %v; want a", n, err)
	}
}

// TestNodeAliveRoomsExpireFirst: a room whose node has expired is never
// offered, even before the room's own entry expires.
func TestRoomOfDeadNodeIsNeverOffered(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"}, room("ra", "tag", 4))
	f.m.Del("test:node:a")
	if _, err := f.claim(Query{Game: "tag"}); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("claim in a dead node's room: %v, want ErrNoRoom", err)
	}
	if rooms, _ := f.d.Rooms(ctx(t)); len(rooms) != 0 {
		t.Fatalf("rooms %+v, want none", rooms)
	}
}

func TestRemoveNodeIsImmediate(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"}, room("r1", "tag", 4), room("r2", "tag", 4))
	if err := f.d.RemoveNode(ctx(t), "a", []string{"r1", "r2"}); err != nil {
		t.Fatal(err)
	}
	rooms, _ := f.d.Rooms(ctx(t))
	nodes, _ := f.d.Nodes(ctx(t))
	if len(rooms)+len(nodes) != 0 {
		t.Fatalf("after RemoveNode: rooms %+v nodes %+v", rooms, nodes)
	}
	if keys := f.m.Keys(); len(keys) != 0 {
		t.Fatalf("keys left: %v", keys)
	}
}

// TestAnnounceRecreatesALostRoom: a room the directory lost (Redis
// restarted empty) comes back with its held seats at the next heartbeat;
// a room it still has keeps the seats it has, whatever the node says.
func TestAnnounceRecreatesALostRoom(t *testing.T) {
	f := newFixture(t)
	meta := room("r", "tag", 4, "r.1", "r.2")
	meta.Metadata = map[string]string{"map": "desert"}
	f.node("a", []string{"tag"}, meta)
	if _, err := f.claim(Query{Game: "tag"}); err != nil {
		t.Fatal(err)
	}
	f.node("a", []string{"tag"}, room("r", "tag", 4)) // a heartbeat listing no seats
	rooms, _ := f.d.Rooms(ctx(t))
	if len(rooms) != 1 || rooms[0].Seats != 3 {
		t.Fatalf("rooms %+v, want r with 3 seats", rooms)
	}
	f.m.FlushAll()
	f.node("a", []string{"tag"}, meta)
	rooms, _ = f.d.Rooms(ctx(t))
	if len(rooms) != 1 || rooms[0].Seats != 2 || rooms[0].Metadata["map"] != "desert" || rooms[0].Capacity != 4 {
		t.Fatalf("rooms after a flush and a heartbeat: %+v, want r back with 2 held seats", rooms)
	}
}

func TestPickNode(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"}, room("r1", "tag", 4), room("r2", "tag", 4))
	f.node("b", []string{"tag", "chess"}, room("r3", "tag", 4))
	f.node("c", []string{"tag"}, room("r4", "tag", 4))
	f.node("d", []string{"chess"})
	tests := []struct {
		name, game, self string
		serves           bool
		exclude          []string
		want             string
		err              error
	}{
		{"lowest load, lowest id", "tag", "x", false, nil, "b", nil},
		{"counts the last pick", "tag", "x", false, nil, "c", nil},
		{"self wins a tie", "tag", "a", true, nil, "a", nil},
		{"self not serving", "tag", "x", false, []string{"a"}, "b", nil},
		{"game served by few", "chess", "x", false, []string{"d"}, "b", nil},
		{"nobody", "go", "x", false, nil, "", ErrNoNode},
		{"all excluded", "chess", "x", false, []string{"b", "d"}, "", ErrNoNode},
	}
	for _, tt := range tests {
		n, placement, err := f.d.PickNode(ctx(t), tt.game, tt.self, tt.serves, time.Minute, tt.exclude...)
		if n.ID != tt.want || !errors.Is(err, tt.err) || (placement == "") != (tt.want == "") {
			t.Errorf("%s: %+v, placement %q, %v; want %q, %v", tt.name, n, placement, err, tt.want, tt.err)
		}
	}
}

// loads returns the nodes' loads as Nodes reports them.
func (f *fixture) loads() map[string]int {
	f.t.Helper()
	nodes, err := f.d.Nodes(ctx(f.t))
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]int{}
	for _, n := range nodes {
		m[n.ID] = n.Load
	}
	return m
}

// TestPlacementsOutliveStaleHeartbeats: a heartbeat whose snapshot was
// taken before a room was placed on its node lands after the placement;
// the placement must still count, until a heartbeat lists the room.
func TestPlacementsOutliveStaleHeartbeats(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"})
	f.node("b", []string{"tag"})
	n, placement, err := f.d.PickNode(ctx(t), "tag", "a", true, 10*time.Second)
	if err != nil || n.ID != "a" {
		t.Fatalf("first pick: %+v, %v; want a (self wins the tie)", n, err)
	}
	f.node("a", []string{"tag"}) // the stale heartbeat: no room, load 0
	if l := f.loads(); l["a"] != 1 || l["b"] != 0 {
		t.Fatalf("loads after a stale heartbeat: %v, want a 1 (the placement) and b 0", l)
	}
	if n, _, err := f.d.PickNode(ctx(t), "tag", "a", true, 10*time.Second); err != nil || n.ID != "b" {
		t.Fatalf("second pick: %+v, %v; want b, the less loaded", n, err)
	}
	// a hosts the room and lists it: the placement retires, counted once.
	r := room("r1", "tag", 2)
	r.Placement = placement
	f.node("a", []string{"tag"}, r)
	if l := f.loads(); l["a"] != 1 || l["b"] != 1 {
		t.Fatalf("loads once a listed its room: %v, want 1 each", l)
	}
	// b never creates its room: the placement stops counting after its ttl.
	f.advance(11 * time.Second)
	f.node("a", []string{"tag"}, room("r1", "tag", 2))
	f.node("b", []string{"tag"})
	if l := f.loads(); l["a"] != 1 || l["b"] != 0 {
		t.Fatalf("loads after b's placement expired: %v, want a 1 and b 0", l)
	}
	if n, _, err := f.d.PickNode(ctx(t), "tag", "a", true, 10*time.Second); err != nil || n.ID != "b" {
		t.Fatalf("pick after the expiry: %+v, %v; want b", n, err)
	}
	if err := f.d.RemoveNode(ctx(t), "b", nil); err != nil {
		t.Fatal(err)
	}
	if f.m.Exists("test:placed:b") {
		t.Error("RemoveNode left b's placements behind")
	}
}

func TestCreationLock(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"})
	q := Query{Game: "tag", Lock: "me", LockTTL: 5 * time.Second, Filters: map[string]string{"map": "x"}}
	if _, err := f.claim(q); !errors.Is(err, ErrCreate) {
		t.Fatalf("first claim: %v, want ErrCreate", err)
	}
	other := q
	other.Lock = "other"
	if _, err := f.claim(other); !errors.Is(err, ErrBusy) {
		t.Fatalf("second claim: %v, want ErrBusy", err)
	}
	if _, err := f.claim(Query{Game: "tag", Lock: "third", LockTTL: time.Second}); !errors.Is(err, ErrCreate) {
		t.Fatalf("claim with other filters: %v, want ErrCreate", err)
	}
	f.d.Unlock(ctx(t), other) // not the holder: no effect
	if _, err := f.claim(other); !errors.Is(err, ErrBusy) {
		t.Fatalf("after a stranger's unlock: %v, want ErrBusy", err)
	}
	f.d.Unlock(ctx(t), q)
	if _, err := f.claim(other); !errors.Is(err, ErrCreate) {
		t.Fatalf("after unlock: %v, want ErrCreate", err)
	}
	f.advance(5 * time.Second) // a lock whose holder vanished expires
	if _, err := f.claim(q); !errors.Is(err, ErrCreate) {
		t.Fatalf("after the lock expired: %v, want ErrCreate", err)
	}
}

func TestRequestRoom(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"})
	f.node("b", []string{"tag"})
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan struct{})
	go func() {
		defer close(served)
		f.d.ServeRequests(sctx, "b", 10*time.Millisecond, func(req CreateRequest) {
			if req.Game != "tag" {
				f.d.Answer(sctx, req, Seat{}, fmt.Errorf("no game %q", req.Game))
				return
			}
			r := room("new", req.Game, 4)
			r.Node, r.Metadata, r.Private = "b", req.Metadata, req.Private
			s, err := f.d.AddRoom(sctx, r, req.SeatTTL)
			f.d.Answer(sctx, req, s, err)
		}, func(err error) { t.Errorf("serving requests: %v", err) })
	}()
	// Wait for the subscription.
	for n := 0; n == 0; {
		m, _ := f.d.rdb.PubSubNumSub(ctx(t), "test:create:b").Result()
		n = int(m["test:create:b"])
		time.Sleep(time.Millisecond)
	}
	rctx, cancel := context.WithTimeout(ctx(t), 5*time.Second)
	defer cancel()
	s, err := f.d.RequestRoom(rctx, "b", CreateRequest{Game: "tag", Metadata: map[string]string{"map": "moon"}, SeatTTL: 20 * time.Second})
	if err != nil || s.Room != "new" || s.Node != "b" || !s.Expires.Equal(f.now.Add(20*time.Second)) {
		t.Fatalf("RequestRoom: %+v, %v", s, err)
	}
	if err := f.d.Take(ctx(t), s.Token, "b"); err != nil {
		t.Fatalf("taking the seat from the creation: %v", err)
	}
	if _, err := f.d.RequestRoom(rctx, "b", CreateRequest{Game: "chess"}); err == nil || !strings.Contains(err.Error(), `no game "chess"`) {
		t.Fatalf("RequestRoom of an unknown game: %v, want the node's error", err)
	}
	if _, err := f.d.RequestRoom(rctx, "a", CreateRequest{Game: "tag"}); err == nil {
		t.Fatal("RequestRoom to a node that is not listening succeeded")
	}
	stop()
	<-served
}

// TestUnavailable: with Redis down every call fails with an
// UnavailableError naming the server, and works again once it is back.
func TestUnavailable(t *testing.T) {
	f := newFixture(t)
	f.node("a", []string{"tag"}, room("r", "tag", 4))
	addr := f.m.Addr()
	f.m.Close()
	var ue *UnavailableError
	if _, err := f.claim(Query{Game: "tag"}); !errors.As(err, &ue) || ue.Addr != addr {
		t.Fatalf("claim with Redis down: %v, want an UnavailableError", err)
	}
	if err := f.d.Announce(ctx(t), Node{ID: "a"}, nil); !errors.As(err, &ue) {
		t.Fatalf("announce with Redis down: %v", err)
	}
	if err := f.m.Restart(); err != nil {
		t.Fatal(err)
	}
	f.node("a", []string{"tag"}, room("r", "tag", 4))
	if _, err := f.claim(Query{Game: "tag"}); err != nil {
		t.Fatalf("claim after Redis came back: %v", err)
	}
}

func TestEmbedded(t *testing.T) {
	d, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Addr() != "embedded" {
		t.Fatalf("Addr %q", d.Addr())
	}
	if err := d.Announce(ctx(t), Node{ID: "a", Games: []string{"tag"}}, []HostedRoom{{Room: Room{ID: "r", Game: "tag", Node: "a", Capacity: 2}}}); err != nil {
		t.Fatal(err)
	}
	s, err := d.Claim(ctx(t), Query{Game: "tag", Self: "a", SeatTTL: time.Second})
	if err != nil || s.Room != "r" {
		t.Fatalf("claim: %+v %v", s, err)
	}
	if err := d.Take(ctx(t), s.Token, "a"); err != nil {
		t.Fatal(err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"redis://127.0.0.1:6379/0", true},
		{"rediss://user:secret@host:6380/2", true},
		{"unix:///run/redis.sock", true},
		{"http://host", false},
		{"redis://host/notanumber", false},
	} {
		err := CheckURL(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
	if err := CheckURL("redis://u:secret@host/x"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("CheckURL error %v should hide the password", err)
	}
}

// TestEmbeddedTakesLargeRequests sends the embedded directory a heartbeat
// of a busy node, many rooms of twenty seats held, in one pipelined
// request of tens of kilobytes: it must go through like any other.
func TestEmbeddedTakesLargeRequests(t *testing.T) {
	d, err := Open(Options{Prefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if d.Addr() != "embedded" {
		t.Fatalf("Addr = %q, want embedded", d.Addr())
	}
	var rooms []HostedRoom
	for i := range 40 {
		var held []string
		for j := range 20 {
			held = append(held, fmt.Sprintf("seat-%02d-%02d-%s", i, j, strings.Repeat("x", 40)))
		}
		rooms = append(rooms, HostedRoom{Room: Room{ID: fmt.Sprintf("room-%02d", i), Game: "g", Node: "n1", Capacity: 20, Players: 20}, Held: held})
	}
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Announce(c, Node{ID: "n1", URL: "ws://n1/ws", Games: []string{"g"}, Load: len(rooms)}, rooms); err != nil {
		t.Fatalf("announcing a node with %d full rooms: %v", len(rooms), err)
	}
	var buf strings.Builder
	for range 20 {
		buf.WriteString(strings.Repeat("v", 220))
	}
	if _, err := d.rdb.Pipelined(c, func(p redis.Pipeliner) error {
		for i := range 20 {
			p.Set(c, fmt.Sprintf("test:big:%d", i), buf.String(), time.Minute)
		}
		return nil
	}); err != nil {
		t.Fatalf("a pipeline of 20 large SETs: %v", err)
	}
}
