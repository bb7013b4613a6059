package main

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// Game is the arena as a rooms.Game: it turns players and bots into ships
// of a World, feeds it inputs, steps it once a tick and publishes the
// world as an entity table, of which each player receives the part near
// its ship (snapshot.go).
type Game struct {
	cfg     Config
	sight   Sight
	botN    int
	room    *rooms.Room
	world   *World
	bots    []*Bot
	players map[string]*rooms.Player // ship id -> player, for their RTT
	table   snap.Table
	nums    map[string]uint32 // ship id -> its number in entity ids
	lastNum uint32
}

// maxNameLen bounds display names, in characters.
const maxNameLen = 16

// NewGame returns an arena with cfg's rules and bots server-side bots.
func NewGame(cfg Config, bots int) *Game {
	return &Game{cfg: cfg, sight: DefaultSight(), botN: bots, players: make(map[string]*rooms.Player), nums: make(map[string]uint32)}
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
		delete(g.nums, s.ID)
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

// Tick lets the bots act, steps the world and publishes the table.
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
