package rooms

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/tickwire/tickwire/tick"
)

// discardConn is a Conn that drops what the room writes.
type discardConn struct{ closed chan struct{} }

func (c discardConn) ReadMessage(dst []byte) (netws.MessageType, []byte, error) {
	<-c.closed
	return 0, nil, netws.ErrClosed
}
func (c discardConn) WriteMessage(typ netws.MessageType, p []byte) error { return nil }
func (c discardConn) WritePreparedPrefixed(prefix []byte, pm *netws.PreparedMessage) error {
	return nil
}
func (c discardConn) Close(code netws.StatusCode, reason string) error { return nil }
func (c discardConn) CloseNow() error                                  { return nil }
func (c discardConn) RTT() netws.RTTStats                              { return netws.RTTStats{} }

// mover is an entity of arenaGame.
type mover struct {
	x, y, vx, vy float64
	hp           int
	name         string
}

// moverState is how arenaGame sends a mover as a plain snapshot: msgpack
// arrays of float64s, the compact form a game would write by hand.
type moverState struct {
	_msgpack struct{} `msgpack:",as_array"`
	ID       int
	X, Y     float64
	Angle    float64
	HP       int
	Name     string
}

const arenaSide = 2000

// arenaGame moves entities at constant speed in a square world, bouncing
// off its walls; the first of them are the players' ships. mode picks
// the snapshot: "plain" (a slice of structs), "table" (the whole table)
// or "view" (the part of the table around the player's ship).
type arenaGame struct {
	mode    string
	room    *Room
	movers  []mover
	ships   map[*Player]int
	table   snap.Table
	plain   []moverState
	viewLen float64
}

func newArenaGame(mode string, n int) *arenaGame {
	rng := rand.New(rand.NewPCG(1, 2))
	g := &arenaGame{mode: mode, ships: map[*Player]int{}, viewLen: 600}
	g.table.CellSize = g.viewLen
	for i := range n {
		a := rng.Float64() * 2 * math.Pi
		g.movers = append(g.movers, mover{
			x: rng.Float64() * arenaSide, y: rng.Float64() * arenaSide,
			vx: math.Cos(a) * 5, vy: math.Sin(a) * 5, hp: 100, name: fmt.Sprint("ship-", i),
		})
	}
	return g
}

func (g *arenaGame) Init(r *Room) error                       { g.room = r; return nil }
func (g *arenaGame) Join(p *Player, opts []byte) error        { g.ships[p] = len(g.ships); return nil }
func (g *arenaGame) Leave(p *Player, reason LeaveReason)      {}
func (g *arenaGame) Input(p *Player, seq uint32, data []byte) {}

func (g *arenaGame) Tick(t tick.Tick) {
	for i := range g.movers {
		m := &g.movers[i]
		m.x, m.y = m.x+m.vx, m.y+m.vy
		if m.x < 0 || m.x > arenaSide {
			m.vx = -m.vx
		}
		if m.y < 0 || m.y > arenaSide {
			m.vy = -m.vy
		}
		if t.N%50 == uint64(i%50) {
			m.hp-- // now and then
		}
	}
	if g.mode == "plain" {
		g.plain = g.plain[:0]
		for i, m := range g.movers {
			g.plain = append(g.plain, moverState{ID: i + 1, X: m.x, Y: m.y, Angle: math.Atan2(m.vy, m.vx), HP: m.hp, Name: m.name})
		}
		return
	}
	g.table.Reset()
	for i, m := range g.movers {
		g.table.Add(snap.ID(i+1)).At(m.x, m.y).
			Fixed(m.x, 0.1).Fixed(m.y, 0.1).Angle(math.Atan2(m.vy, m.vx), 8).Uint(uint64(m.hp)).String(m.name)
	}
}

func (g *arenaGame) Snapshot(p *Player) any {
	switch g.mode {
	case "plain":
		return &g.plain
	case "view":
		m := g.movers[g.ships[p]]
		return g.table.View(snap.Centered(m.x, m.y, g.viewLen, g.viewLen))
	}
	return &g.table
}

// BenchmarkSnapshots compares, for 20 players and 100 moving entities,
// the bytes a room queues per tick and the room goroutine's time per tick
// (game update, snapshot build, encoding and queueing), for:
//
//   - plain: Snapshot returns a slice of structs (float64s), encoded once
//     for all: what a game does without package snap.
//   - full: a snap.Table, quantized, to clients that never acknowledge.
//   - delta: the same table to clients that acknowledge every batch 1 to
//     4 ticks late (RTTs of 17 to 67 ms at 60 Hz).
//   - delta+interest: the same, each player seeing a 600x600 square
//     around its ship in the 2000x2000 world.
//
// Run it with: go test -run '^$' -bench Snapshots ./rooms/
func BenchmarkSnapshots(b *testing.B) {
	for _, bc := range []struct {
		name, mode string
		ack        bool
	}{
		{"plain", "plain", false},
		{"full", "table", false},
		{"delta", "table", true},
		{"delta+interest", "view", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const players = 20
			g := newArenaGame(bc.mode, 100)
			// Fake time runs ahead of the writers: never drop a player as slow.
			r, err := NewRoom("bench", g, RoomOptions{TickRate: 60, EmptyTimeout: -1, SlowTimeout: 24 * time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			r.game.Init(r)
			conn := discardConn{closed: make(chan struct{})}
			defer close(conn.closed)
			start := time.Unix(1_000_000, 0)
			for range players {
				if _, err := r.join(conn, JoinRequest{}, start); err != nil {
					b.Fatal(err)
				}
			}
			n := uint64(0)
			run := func() {
				n++
				r.tick(tick.Tick{N: n, Start: start.Add(time.Duration(n) * r.loop.Step())})
				if bc.ack {
					for i, p := range r.players {
						if lag := uint64(1 + i%4); n > lag {
							p.sent.ack(n - lag)
						}
					}
				}
			}
			for range 100 { // warm up: histories full, buffers grown
				run()
			}
			st0 := r.Info().Snapshots
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				run()
			}
			b.StopTimer()
			st := r.Info().Snapshots
			if st.Batches-st0.Batches != uint64(b.N*players) {
				b.Fatalf("%d batches in %d ticks, want %d a tick", st.Batches-st0.Batches, b.N, players)
			}
			ticks := float64(b.N)
			b.ReportMetric(float64(st.Bytes-st0.Bytes)/ticks, "bytes/tick")
			b.ReportMetric(float64(st.EncodingsTotal-st0.EncodingsTotal)/ticks, "encodings/tick")
			for _, p := range r.players {
				p.out.close()
			}
		})
	}
}
