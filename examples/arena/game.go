package main

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// Game is the arena as a rooms.Game: it turns players and bots into ships
// of a World, feeds it inputs, steps it once a tick and publishes one
// snapshot a tick that every player shares.
type Game struct {
	cfg     Config
	botN    int
	room    *rooms.Room
	world   *World
	bots    []*Bot
	players map[string]*rooms.Player // ship id -> player, for their RTT
	snap    *Snapshot
}

// Snapshot is what every player sees each tick. The local player finds
// its own ship by the player id of its welcome.
type Snapshot struct {
	Ships   []ShipView   `msgpack:"ships"`
	Bullets []BulletView `msgpack:"bullets"`
}

// ShipView is a ship as clients see it.
type ShipView struct {
	ID      string  `msgpack:"id"`
	Name    string  `msgpack:"name"`
	Bot     bool    `msgpack:"bot"`
	X       float64 `msgpack:"x"`
	Y       float64 `msgpack:"y"`
	Aim     float64 `msgpack:"aim"`
	HP      int     `msgpack:"hp"`
	Alive   bool    `msgpack:"alive"`
	Score   int     `msgpack:"score"`
	Deaths  int     `msgpack:"deaths"`
	Life    int     `msgpack:"life"`
	Respawn int     `msgpack:"respawn"` // ms until the respawn, while dead
	Ping    float64 `msgpack:"ping"`    // the server's smoothed RTT of the player, ms to 0.1 (bots: 0)
}

// BulletView is a bullet as clients see it.
type BulletView struct {
	ID uint32  `msgpack:"id"`
	X  float64 `msgpack:"x"`
	Y  float64 `msgpack:"y"`
}

// maxNameLen bounds display names, in characters.
const maxNameLen = 16

// NewGame returns an arena with cfg's rules and bots server-side bots.
func NewGame(cfg Config, bots int) *Game {
	return &Game{cfg: cfg, botN: bots, players: make(map[string]*rooms.Player)}
}

// Init creates the world and its bots.
func (g *Game) Init(r *rooms.Room) error {
	g.room = r
	g.world = NewWorld(g.cfg)
	for i := range g.botN {
		s := g.world.AddShip(fmt.Sprintf("bot-%d", i+1), botNames[i%len(botNames)], true)
		g.bots = append(g.bots, NewBot(s, uint64(i+1)))
	}
	g.publish()
	return nil
}

var botNames = []string{"Ada", "Brick", "Cosmo", "Dash", "Echo", "Fizz", "Gizmo", "Halo"}

// Join gives the player a ship named after its display name.
func (g *Game) Join(p *rooms.Player, opts []byte) error {
	s := g.world.AddShip(p.ID(), cleanName(p.Name()), false)
	p.Data = s
	g.players[s.ID] = p
	return nil
}

// cleanName makes a display name safe to draw: printable, trimmed, short,
// and never empty.
func cleanName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > maxNameLen {
		name = string(r[:maxNameLen])
	}
	if name == "" {
		return "pilot"
	}
	return name
}

// Leave removes the player's ship.
func (g *Game) Leave(p *rooms.Player, reason rooms.LeaveReason) {
	if s, ok := p.Data.(*Ship); ok {
		g.world.RemoveShip(s.ID)
		delete(g.players, s.ID)
	}
}

// Input applies one input, with the interpolation delay the client
// reports in it; a malformed one is ignored (the client is then simply
// not moving).
func (g *Game) Input(p *rooms.Player, seq uint32, data []byte) {
	s, ok := p.Data.(*Ship)
	if !ok {
		return
	}
	var in Input
	if err := msgpack.Unmarshal(data, &in); err != nil {
		return
	}
	g.world.ApplyInput(s, in)
}

// Tick lets the bots act, steps the world and publishes the snapshot.
// Players' ships take their smoothed RTT as part of their lag, for lag
// compensation; the step is stamped with the tick's start, the time of
// the batch that carries its snapshot.
func (g *Game) Tick(t tick.Tick) {
	for _, b := range g.bots {
		g.world.ApplyInput(b.Ship, b.Think(g.world, t.Step))
	}
	for _, p := range g.players {
		if s, ok := p.Data.(*Ship); ok {
			s.Lag.RTT = p.RTT().Smoothed
		}
	}
	for _, ev := range g.world.StepAt(t.Start, t.Step) {
		g.room.Broadcast(ev)
	}
	g.publish()
}

// publish builds this tick's snapshot.
func (g *Game) publish() {
	snap := &Snapshot{
		Ships:   make([]ShipView, 0, len(g.world.Ships())),
		Bullets: make([]BulletView, 0, len(g.world.Bullets())),
	}
	for _, s := range g.world.Ships() {
		v := ShipView{
			ID: s.ID, Name: s.Name, Bot: s.Bot, X: s.Pos.X, Y: s.Pos.Y, Aim: s.Aim,
			HP: s.HP, Alive: s.Alive, Score: s.Score, Deaths: s.Deaths, Life: s.Life,
			Respawn: int(g.world.RespawnIn(s) / time.Millisecond),
		}
		if p := g.players[s.ID]; p != nil {
			v.Ping = math.Round(float64(p.RTT().Smoothed)/float64(time.Millisecond)*10) / 10
		}
		snap.Ships = append(snap.Ships, v)
	}
	for _, b := range g.world.Bullets() {
		snap.Bullets = append(snap.Bullets, BulletView{ID: b.ID, X: b.Pos.X, Y: b.Pos.Y})
	}
	g.snap = snap
}

// Snapshot returns the tick's snapshot: the same pointer for everyone, so
// the room encodes it once.
func (g *Game) Snapshot(p *rooms.Player) any { return g.snap }
