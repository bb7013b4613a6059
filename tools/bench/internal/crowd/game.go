package crowd

import (
	"sync/atomic"

	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// Defaults of Options.
const (
	DefaultEntities = 100
	DefaultSize     = 1000
)

// Precision is the precision of positions on the wire: 0.01 units, each
// within 0.005 units of the simulation's.
const Precision = snap.Precision(0.01)

// Options configures the rooms of a crowd game. The zero value is the
// comparison's workload with every player seeing the whole room.
type Options struct {
	// Entities is how many entities a room moves; 0 means
	// DefaultEntities.
	Entities int

	// Size is the side of the square world in units; 0 means
	// DefaultSize.
	Size float64

	// View is the side of the square area, centred on the entity of the
	// player's seat, that the player sees (interest management); 0 means
	// the whole room.
	View float64

	// Stats, if set, counts the work of every room that shares it.
	Stats *Stats
}

// Stats counts the work of crowd rooms. Its fields are safe to read from
// any goroutine.
type Stats struct {
	Ticks     atomic.Uint64 // simulation ticks
	Snapshots atomic.Uint64 // tables built: one per room per snapshot tick
	Inputs    atomic.Uint64 // inputs applied
	Players   atomic.Int64  // players seated now
}

// Input is what a client sends as an input's data: {"t": turn}.
type Input struct {
	Turn float64 `msgpack:"t"`
}

// Game is one crowd room: a World, stepped every tick and sent as a
// snap.Table on snapshot ticks.
type Game struct {
	o     Options
	world *World
	table snap.Table
	dirty bool // the world moved since the table was built
	slots map[*rooms.Player]int
	stats *Stats
}

// New returns a crowd game, for engine.Register or rooms.NewRoom.
func New(o Options) *Game {
	if o.Entities <= 0 {
		o.Entities = DefaultEntities
	}
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	st := o.Stats
	if st == nil {
		st = new(Stats)
	}
	return &Game{o: o, stats: st, slots: make(map[*rooms.Player]int)}
}

// Init creates the room's world.
func (g *Game) Init(r *rooms.Room) error {
	g.world = NewWorld(g.o.Entities, g.o.Size)
	g.table.CellSize = g.o.View
	g.dirty = true
	return nil
}

// Join seats p in the lowest free seat; its entity is the seat's.
func (g *Game) Join(p *rooms.Player, opts []byte) error {
	used := make(map[int]bool, len(g.slots))
	for _, s := range g.slots {
		used[s] = true
	}
	s := 0
	for used[s] {
		s++
	}
	g.slots[p] = s
	g.stats.Players.Add(1)
	return nil
}

// Leave frees p's seat.
func (g *Game) Leave(p *rooms.Player, reason rooms.LeaveReason) {
	if _, ok := g.slots[p]; ok {
		delete(g.slots, p)
		g.stats.Players.Add(-1)
	}
}

// Input steers the entity of p's seat. Inputs that are not an Input are
// ignored.
func (g *Game) Input(p *rooms.Player, seq uint32, data []byte) {
	var in Input
	if msgpack.Unmarshal(data, &in) != nil {
		return
	}
	if s, ok := g.slots[p]; ok {
		g.world.Steer(s, in.Turn)
		g.stats.Inputs.Add(1)
	}
}

// Tick moves the world one step.
func (g *Game) Tick(t tick.Tick) {
	g.world.Step(t.Step.Seconds())
	g.dirty = true
	g.stats.Ticks.Add(1)
}

// Snapshot returns the table (rebuilt once per snapshot tick, on the first
// call), or the player's view of it.
func (g *Game) Snapshot(p *rooms.Player) any {
	w := g.world
	if g.dirty {
		g.dirty = false
		g.table.Reset()
		for i := range w.X {
			g.table.Add(snap.ID(i+1)).At(w.X[i], w.Y[i]).Fixed(w.X[i], Precision).Fixed(w.Y[i], Precision)
		}
		g.stats.Snapshots.Add(1)
	}
	if g.o.View <= 0 {
		return &g.table
	}
	i := g.slots[p] % len(w.X)
	return g.table.View(snap.Centered(w.X[i], w.Y[i], g.o.View, g.o.View))
}
