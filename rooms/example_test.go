package rooms_test

import (
	"fmt"
	"log"

	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// Counter is a complete game: every player's inputs add to a shared
// counter, and every player sees the total and who is playing.
type Counter struct {
	room  *rooms.Room
	total int
	state CounterState // one value for everyone: encoded once per tick
}

// CounterState is what players receive every tick.
type CounterState struct {
	Total   int      `msgpack:"total"`
	Players []string `msgpack:"players"`
}

func (g *Counter) Init(r *rooms.Room) error { g.room = r; return nil }

func (g *Counter) Join(p *rooms.Player, opts []byte) error {
	if p.Name() == "" {
		return fmt.Errorf("a name is required")
	}
	return nil
}

func (g *Counter) Leave(p *rooms.Player, reason rooms.LeaveReason) {}

func (g *Counter) Input(p *rooms.Player, seq uint32, data []byte) {
	var add int
	if err := msgpack.Unmarshal(data, &add); err == nil && add >= -10 && add <= 10 {
		g.total += add
	}
}

func (g *Counter) Tick(t tick.Tick) {
	g.state.Total = g.total
	g.state.Players = g.state.Players[:0]
	for _, p := range g.room.Players() {
		g.state.Players = append(g.state.Players, p.Name())
	}
}

func (g *Counter) Snapshot(p *rooms.Player) any { return &g.state }

// A game is a type implementing rooms.Game; a room runs one instance of
// it. (Package engine creates rooms for you: see its example.)
func ExampleNewRoom() {
	r, err := rooms.NewRoom("counter", &Counter{}, rooms.RoomOptions{TickRate: 20, MaxPlayers: 8})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.GameName(), r.TickRate(), r.Info().MaxPlayers)
	// Output: counter 20 8
}
