package rooms

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// thing is an entity of tableGame, in plain Go.
type thing struct {
	id     snap.ID
	x, y   float64
	at     bool // positioned
	hp     int
	name   string
	extras int // extra fields: their number changes now and then
}

// viewer is a tableGame player's Data: where it looks from.
type viewer struct {
	x, y  float64
	whole bool // sees the whole table
}

const viewSide = 300

// tableGame is a world of moving, spawning and dying things in a table;
// each player sees the things in a square around its position, or all of
// them. It remembers what it had at every tick and what each player was
// given, for the test to check the clients against.
type tableGame struct {
	room    *Room
	rng     *rand.Rand
	things  []*thing
	nextID  snap.ID
	table   snap.Table
	history map[uint64][]thing           // the things at each tick
	views   map[uint64]map[string]viewer // the view of each player at each tick
}

func newTableGame(seed uint64, n int) *tableGame {
	g := &tableGame{
		rng: rand.New(rand.NewPCG(seed, 1)), nextID: 1,
		history: map[uint64][]thing{}, views: map[uint64]map[string]viewer{},
	}
	for range n {
		g.spawn()
	}
	return g
}

func (g *tableGame) spawn() {
	g.things = append(g.things, &thing{
		id: g.nextID, x: g.rng.Float64() * 1000, y: g.rng.Float64() * 1000, at: g.rng.IntN(8) > 0,
		hp: 100, name: fmt.Sprint("thing ", g.nextID), extras: g.rng.IntN(2),
	})
	g.nextID++
}

func (g *tableGame) Init(r *Room) error { g.room = r; return nil }
func (g *tableGame) Join(p *Player, opts []byte) error {
	p.Data = &viewer{x: g.rng.Float64() * 1000, y: g.rng.Float64() * 1000, whole: g.rng.IntN(4) == 0}
	return nil
}
func (g *tableGame) Leave(p *Player, reason LeaveReason)      {}
func (g *tableGame) Input(p *Player, seq uint32, data []byte) {}

func (g *tableGame) Tick(t tick.Tick) {
	for _, th := range g.things {
		switch g.rng.IntN(5) {
		case 0, 1:
			th.x += g.rng.NormFloat64() * 30
			th.y += g.rng.NormFloat64() * 30
		case 2:
			th.hp = g.rng.IntN(100)
		case 3:
			if g.rng.IntN(8) == 0 {
				th.extras = g.rng.IntN(3)
			}
		}
	}
	for i := 0; i < len(g.things); i++ {
		if g.rng.IntN(25) == 0 {
			g.things = append(g.things[:i], g.things[i+1:]...)
			i--
		}
	}
	for range g.rng.IntN(3) {
		g.spawn()
	}
	for _, p := range g.room.Players() {
		v := p.Data.(*viewer)
		v.x += g.rng.NormFloat64() * 40
		v.y += g.rng.NormFloat64() * 40
		if g.rng.IntN(30) == 0 {
			v.x, v.y = g.rng.Float64()*1000, g.rng.Float64()*1000
		}
	}
	fillTable(&g.table, g.things, func(*thing) bool { return true })
	copies := make([]thing, len(g.things))
	for i, th := range g.things {
		copies[i] = *th
	}
	g.history[t.N] = copies
}

func (g *tableGame) Snapshot(p *Player) any {
	v := p.Data.(*viewer)
	n := g.room.Tick()
	if g.views[n] == nil {
		g.views[n] = map[string]viewer{}
	}
	g.views[n][p.ID()] = *v
	if v.whole {
		return &g.table
	}
	return g.table.View(snap.Centered(v.x, v.y, viewSide, viewSide))
}

func fillTable(tb *snap.Table, things []*thing, keep func(*thing) bool) {
	tb.Reset()
	for _, th := range things {
		if !keep(th) {
			continue
		}
		e := tb.Add(th.id)
		if th.at {
			e.At(th.x, th.y)
		}
		e.Fixed(th.x, 0.1).Fixed(th.y, 0.1).Uint(uint64(th.hp)).String(th.name)
		for k := range th.extras {
			e.Int(int64(k))
		}
	}
}

// expected builds, without the room's machinery, what player id should
// hold after applying the batch of tick n: the things it could see then.
func (g *tableGame) expected(t *testing.T, n uint64, id string) *snap.State {
	t.Helper()
	things, ok := g.history[n]
	v, ok2 := g.views[n][id]
	if !ok || !ok2 {
		t.Fatalf("no record of what player %s was sent at tick %d", id, n)
	}
	area := snap.Centered(v.x, v.y, viewSide, viewSide)
	ptrs := make([]*thing, len(things))
	for i := range things {
		ptrs[i] = &things[i]
	}
	var tb snap.Table
	fillTable(&tb, ptrs, func(th *thing) bool { return v.whole || !th.at || area.Contains(th.x, th.y) })
	s, err := tb.Freeze(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tableClient is a test client: it applies the table batches it gets and
// acknowledges them late, or not at all.
type tableClient struct {
	c       *memConn
	id      string
	token   string
	app     snap.Applier
	acks    []uint64 // acknowledgements not sent yet
	seq     uint32
	stalled bool
	left    bool
	newest  uint64 // the newest tick applied
}

// counts are what a run of the property test exercised.
type counts struct {
	applied, deltas, olderBases, fulls int
}

// receive applies every batch c got since the last call and checks each
// resulting state against what the game had for the player.
func (tc *tableClient) receive(t *testing.T, rng *rand.Rand, g *tableGame, n *counts) {
	t.Helper()
	for _, m := range tc.c.take(t) {
		switch m.kind {
		case ServerWelcome:
			var w Welcome
			msgpack.Unmarshal(m.fields[0], &w)
			tc.id, tc.token = w.Player, w.Reconnect
			tc.app.Reset()
			tc.acks = nil
		case ServerTableBatch:
			if len(m.fields) != 5 {
				t.Fatalf("table batch with %d fields, want 5", len(m.fields))
			}
			var tickN, base uint64
			msgpack.Unmarshal(m.fields[0], &tickN)
			var head []msgpack.RawMessage
			msgpack.Unmarshal(m.fields[3], &head)
			msgpack.Unmarshal(head[0], &base)
			newest := tc.app.Ack()
			got, err := tc.app.Apply(tickN, m.fields[3])
			if err != nil {
				t.Fatalf("player %s, tick %d: %v", tc.id, tickN, err)
			}
			if want := g.expected(t, tickN, tc.id); !snap.Equal(got, want) {
				t.Fatalf("player %s, tick %d, delta against %d:\nclient has %v\nserver had %v", tc.id, tickN, base, got, want)
			}
			n.applied++
			switch {
			case base == 0:
				n.fulls++
			case base < newest:
				n.olderBases++
				n.deltas++
			default:
				n.deltas++
			}
			if rng.IntN(5) > 0 {
				tc.acks = append(tc.acks, tickN)
			}
		case ServerError:
			t.Fatalf("player %s got an error: %s", tc.id, m.fields[1])
		case ServerBatch:
			t.Fatalf("player %s got a plain batch from a table game", tc.id)
		}
	}
}

// sendAcks sends some of the acknowledgements waiting, oldest first, in
// ack messages or riding on inputs; now and then an ack of 0, asking for a
// full snapshot.
func (tc *tableClient) sendAcks(t *testing.T, rng *rand.Rand) {
	for len(tc.acks) > 0 && rng.IntN(2) == 0 {
		ack := tc.acks[0]
		tc.acks = tc.acks[1:]
		if rng.IntN(50) == 0 {
			ack = 0
		}
		if rng.IntN(2) == 0 {
			tc.c.send(t, ClientAck, ack)
		} else {
			tc.seq++
			tc.c.send(t, ClientInput, tc.seq, nil, ack)
		}
	}
}

// TestDeltasRebuildEachPlayersStateThroughTheRoom drives a real Room with
// in-memory connections through random entity changes, joins, leaves,
// reconnects, stalled clients whose batches are superseded, and late,
// skipped or reset acknowledgements. After every batch a client applies,
// its state must be exactly what the game had for that player at that
// tick: the things in its view, field for field.
func TestDeltasRebuildEachPlayersStateThroughTheRoom(t *testing.T) {
	tests := []struct {
		tickRate, snapshotRate, history int
	}{
		{30, 0, 0},  // a batch every tick, the default history
		{60, 20, 4}, // every third tick, a short history
		{20, 0, 2},  // a history so short that late acks often fall out of it
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("tick=%d/snapshot=%d/history=%d", tt.tickRate, tt.snapshotRate, tt.history), func(t *testing.T) {
			seed := uint64(100 + i)
			rng := rand.New(rand.NewPCG(seed, 2))
			g := newTableGame(seed, 60)
			sr := startStepped(t, g, RoomOptions{
				TickRate: tt.tickRate, SnapshotRate: tt.snapshotRate, SnapshotHistory: tt.history,
			})
			every := uint64(1)
			if tt.snapshotRate > 0 {
				every = uint64(tt.tickRate / tt.snapshotRate)
			}
			var clients []*tableClient
			connect := func(req JoinRequest) *tableClient {
				c := newMemConn()
				t.Cleanup(func() { c.setStalled(false); c.CloseNow() })
				before := sr.queued()
				go sr.r.Serve(c, req)
				waitUntil(t, "the join to be queued", func() bool { return sr.queued() > before })
				return &tableClient{c: c}
			}
			var n counts
			for range 3 {
				clients = append(clients, connect(JoinRequest{}))
			}
			for range 400 {
				var active []*tableClient
				for _, tc := range clients {
					if !tc.left {
						active = append(active, tc)
					}
				}
				if len(active) < 6 && rng.IntN(10) == 0 {
					clients = append(clients, connect(JoinRequest{}))
				}
				for _, tc := range active {
					switch r := rng.IntN(100); {
					case r < 1 && tc.id != "":
						tc.c.send(t, ClientLeave)
						tc.left = true
						continue
					case r < 3 && tc.token != "":
						// The connection drops; the client reconnects with
						// its token and starts again from nothing.
						before := sr.queued()
						tc.c.setStalled(false)
						tc.c.CloseNow()
						waitUntil(t, "the disconnect to be queued", func() bool { return sr.queued() > before })
						tc.left = true
						nc := connect(JoinRequest{Reconnect: tc.token})
						clients = append(clients, nc)
						continue
					case r < 15:
						tc.stalled = !tc.stalled
						tc.c.setStalled(tc.stalled)
					}
					tc.sendAcks(t, rng)
				}
				tickN := sr.step()
				for _, tc := range clients {
					if tc.left || tc.stalled {
						continue
					}
					if tickN%every == 0 {
						tc.c.waitBatch(t, tickN)
					}
					tc.receive(t, rng, g, &n)
				}
				if st := sr.r.Info().Snapshots; tickN%every == 0 && st.Encodings > len(clients) {
					t.Fatalf("tick %d: %d encodings for at most %d players", tickN, st.Encodings, len(clients))
				}
			}
			st := sr.r.Info()
			t.Logf("applied %d batches: %d deltas (%d against an older state than the newest applied), %d full; %d superseded; room: %+v",
				n.applied, n.deltas, n.olderBases, n.fulls, st.Dropped, st.Snapshots)
			if n.deltas == 0 || n.olderBases == 0 || n.fulls == 0 || st.Dropped == 0 {
				t.Fatalf("the run did not exercise deltas, older bases, full snapshots and supersession: %+v, %d superseded", n, st.Dropped)
			}
		})
	}
}
