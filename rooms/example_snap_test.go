package rooms_test

import (
	"fmt"
	"log"
	"math"

	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// Arena keeps its state in plain Go and describes it as a snap.Table once
// a tick. Each player sees the ships near its own, and receives only what
// changed since the batch it last acknowledged.
type Arena struct {
	room  *rooms.Room
	ships map[*rooms.Player]*Ship
	world snap.Table
}

// Ship is a player's ship.
type Ship struct {
	ID               snap.ID
	X, Y, VX, VY, Hd float64
	Name             string
}

func (g *Arena) Init(r *rooms.Room) error {
	g.room, g.ships = r, map[*rooms.Player]*Ship{}
	g.world.CellSize = 800 // about the side of a view
	return nil
}

func (g *Arena) Join(p *rooms.Player, opts []byte) error {
	g.ships[p] = &Ship{ID: snap.ID(len(g.ships) + 1), X: 500, Y: 500, Name: p.Name()}
	return nil
}

func (g *Arena) Leave(p *rooms.Player, reason rooms.LeaveReason) { delete(g.ships, p) }

func (g *Arena) Input(p *rooms.Player, seq uint32, data []byte) {
	var turn float64
	if msgpack.Unmarshal(data, &turn) == nil {
		s := g.ships[p]
		s.Hd += max(-0.1, min(0.1, turn))
		s.VX, s.VY = 100*math.Cos(s.Hd), 100*math.Sin(s.Hd)
	}
}

func (g *Arena) Tick(t tick.Tick) {
	dt := t.Step.Seconds()
	g.world.Reset()
	for _, s := range g.ships {
		s.X, s.Y = s.X+s.VX*dt, s.Y+s.VY*dt
		// Positions to 0.01 world units (error at most 0.005), the heading
		// in 256 steps (error at most 0.7 degrees).
		g.world.Add(s.ID).At(s.X, s.Y).
			Fixed(s.X, 0.01).Fixed(s.Y, 0.01).Angle(s.Hd, 8).String(s.Name)
	}
}

func (g *Arena) Snapshot(p *rooms.Player) any {
	s := g.ships[p]
	return g.world.View(snap.Centered(s.X, s.Y, 800, 600))
}

// A game that returns a snap.Table, or a View of one, from Snapshot gets
// delta snapshots and interest management; SnapshotRate sends them on
// every third tick of a 60 Hz simulation.
func ExampleNewRoom_tables() {
	r, err := rooms.NewRoom("arena", &Arena{}, rooms.RoomOptions{TickRate: 60, SnapshotRate: 20})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Info().Snapshots.Rate, "batches a second")
	// Output: 20 batches a second
}
