package main

import (
	"errors"

	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// Game is pong as a rooms.Game: two seats, a court that waits for the
// second player, and an end when either player leaves.
type Game struct {
	room  *rooms.Room
	court *Court
	seats [2]*rooms.Player
	snap  *Snapshot
}

// Snapshot is what both players see each tick.
type Snapshot struct {
	// Phase is "waiting" until the second player arrives, then "playing".
	Phase   string        `msgpack:"phase"`
	Paddles [2]PaddleView `msgpack:"paddles"`
	Ball    Ball          `msgpack:"ball"`
}

// PaddleView is a paddle and its player; an empty seat has no ID.
type PaddleView struct {
	ID        string  `msgpack:"id"`
	Name      string  `msgpack:"name"`
	Y         float64 `msgpack:"y"`
	Score     int     `msgpack:"score"`
	Connected bool    `msgpack:"connected"`
}

// Input is what a player sends: which way its paddle moves.
type Input struct {
	Dir int `msgpack:"dir"` // -1 up, 0 still, 1 down
}

// Init sets up the court.
func (g *Game) Init(r *rooms.Room) error {
	g.room = r
	g.court = NewCourt()
	g.publish()
	return nil
}

// Join takes the free seat; the room's MaxPlayers (2) keeps a third out.
func (g *Game) Join(p *rooms.Player, opts []byte) error {
	for i, s := range g.seats {
		if s == nil {
			g.seats[i] = p
			p.Data = i
			if g.full() {
				// Both are here: start from a fresh court.
				g.court = NewCourt()
			}
			return nil
		}
	}
	return errors.New("both seats are taken")
}

func (g *Game) full() bool { return g.seats[0] != nil && g.seats[1] != nil }

// Leave ends the match: the opponent is told, then the room closes (its
// connection ends with close code 1000 and the same reason).
func (g *Game) Leave(p *rooms.Player, reason rooms.LeaveReason) {
	side, ok := p.Data.(int)
	if !ok || g.seats[side] != p {
		return
	}
	g.seats[side] = nil
	if reason == rooms.LeaveRoomClosed {
		return
	}
	if o := g.seats[1-side]; o != nil {
		g.room.Send(o, "opponent-left", map[string]string{"name": p.Name(), "reason": reason.String()})
	}
	g.room.Close("your opponent left")
}

// Input sets the player's paddle direction; anything else is ignored.
func (g *Game) Input(p *rooms.Player, seq uint32, data []byte) {
	side, ok := p.Data.(int)
	if !ok {
		return
	}
	var in Input
	if err := msgpack.Unmarshal(data, &in); err != nil {
		return
	}
	g.court.Paddles[side].Dir = float64(max(-1, min(1, in.Dir)))
}

// Tick plays a step once both players are here.
func (g *Game) Tick(t tick.Tick) {
	if g.full() {
		if scorer := g.court.Step(t.Step); scorer >= 0 {
			g.room.Broadcast(map[string]any{"scored": scorer})
		}
	}
	g.publish()
}

func (g *Game) publish() {
	s := &Snapshot{Phase: "waiting", Ball: g.court.Ball}
	if g.full() {
		s.Phase = "playing"
	}
	for i, p := range g.seats {
		s.Paddles[i] = PaddleView{Y: g.court.Paddles[i].Y, Score: g.court.Paddles[i].Score}
		if p != nil {
			s.Paddles[i].ID, s.Paddles[i].Name, s.Paddles[i].Connected = p.ID(), p.Name(), p.Connected()
		}
	}
	g.snap = s
}

// Snapshot returns the tick's snapshot, shared by both players.
func (g *Game) Snapshot(p *rooms.Player) any { return g.snap }
