package lagcomp_test

import (
	"log"
	"math"
	"time"

	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/rooms/lagcomp"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// Arena is the server side of a small shooter: players walk and fire
// hitscan shots, which are judged against the world as the shooter saw it.
type Arena struct {
	room   *rooms.Room
	hist   *lagcomp.History
	nextID uint64
	bodies []lagcomp.Body // reused every tick
	shots  []arenaShot    // fired since the last tick
}

// soldier is a player's state, kept in rooms.Player.Data.
type soldier struct {
	id       uint64 // the player's body in the history
	pos, vel lagcomp.Vec
	score    int
}

// arenaInput is a client's input: {"move": [dx, dy], "fire": [x, y],
// "interp": 100}. interp is the client's interpolation delay in whole
// milliseconds (ClockSync.interpDelay in the browser SDK).
type arenaInput struct {
	Move   [2]float64  `msgpack:"move"`
	Fire   *[2]float64 `msgpack:"fire"` // where the player aimed, if firing
	Interp uint16      `msgpack:"interp"`
}

type arenaShot struct {
	p      *rooms.Player
	aim    lagcomp.Vec
	interp time.Duration
}

const (
	arenaSpeed  = 5.0  // units a second
	arenaRange  = 50.0 // how far a shot reaches
	arenaRadius = 0.5
)

func (g *Arena) Init(r *rooms.Room) error {
	h, err := lagcomp.New(lagcomp.Options{TickRate: r.TickRate()})
	if err != nil {
		return err
	}
	g.room, g.hist = r, h
	return nil
}

func (g *Arena) Join(p *rooms.Player, opts []byte) error {
	g.nextID++
	p.Data = &soldier{id: g.nextID}
	return nil
}

func (g *Arena) Leave(p *rooms.Player, reason rooms.LeaveReason) {}

func (g *Arena) Input(p *rooms.Player, seq uint32, data []byte) {
	var in arenaInput
	if err := msgpack.Unmarshal(data, &in); err != nil {
		return // not an input of this game: ignore it
	}
	s := p.Data.(*soldier)
	s.vel = lagcomp.Vec{X: clamp1(in.Move[0]), Y: clamp1(in.Move[1])}.Scale(arenaSpeed)
	if in.Fire != nil {
		aim := lagcomp.Vec{X: in.Fire[0], Y: in.Fire[1]}
		g.shots = append(g.shots, arenaShot{p: p, aim: aim, interp: time.Duration(in.Interp) * time.Millisecond})
	}
}

func (g *Arena) Tick(t tick.Tick) {
	// Judge the shots against the world their shooters saw...
	for _, sh := range g.shots {
		me := sh.p.Data.(*soldier)
		v, err := g.hist.Rewind(t.Start, lagcomp.Lag{RTT: sh.p.RTT().Smoothed, Interp: sh.interp})
		if err != nil {
			continue // nothing recorded yet
		}
		dir := sh.aim.Sub(me.pos)
		if dir.Len() == 0 {
			continue
		}
		to := me.pos.Add(dir.Scale(arenaRange / dir.Len()))
		if hit, ok := v.Trace(me.pos, to, me.id); ok {
			me.score++
			g.room.Broadcast(map[string]any{"hit": hit.Body.ID, "by": me.id, "rewound_ms": v.By.Milliseconds()})
		}
	}
	g.shots = g.shots[:0]

	// ...then move everyone and record where they are now.
	g.bodies = g.bodies[:0]
	for _, p := range g.room.Players() {
		s := p.Data.(*soldier)
		s.pos = s.pos.Add(s.vel.Scale(t.Step.Seconds()))
		g.bodies = append(g.bodies, lagcomp.Body{ID: s.id, Pos: s.pos, Radius: arenaRadius})
	}
	if err := g.hist.Record(t.Start, g.bodies); err != nil {
		log.Print(err) // a tick time that went backwards: a bug worth seeing
	}
}

func (g *Arena) Snapshot(p *rooms.Player) any { return g.bodies }

// clamp1 bounds a client's move to [-1, 1]; NaN is no move.
func clamp1(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return max(-1, min(1, v))
}

// A game uses a History in three places: it creates one in Init, judges
// actions with Rewind in Tick before moving anything, and records every
// body with Record at the end of Tick.
func Example_game() {
	var _ rooms.Game = &Arena{}
}
