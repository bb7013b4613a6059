package main

import (
	"time"

	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/rooms/snap"
)

// The arena's snapshot is an entity table (package rooms/snap): the room
// sends each player only what changed since the state it acknowledged,
// and only what is near its ship. The low two bits of an entity's id say
// what it is, the rest which one (arena.js decodes the same layout):
//
//	ship   n<<2 | 0  at the ship:  x, y, aim, hp, alive, life, respawn
//	pilot  n<<2 | 1  no position:  id, name, bot, score, deaths, ping
//	bullet b<<2 | 2  at the bullet: x, y
//
// n numbers a ship for as long as it is in the room; b is the bullet's
// own id. A pilot is a ship's scoreboard row: it has no position, so
// every player receives every pilot (the scoreboard and the kill feed
// name everyone), while ships and bullets reach only the players whose
// sight they are in.
//
// The numbers are quantized: x and y to posPrecision (0.1 units: within
// 0.05 of the server's value, a twentieth of a pixel at scale 1, in 3
// bytes instead of 9), aim to aimBits (256 steps, within 0.7 degrees),
// respawn to respawnStep (the time left while dead, to 0.1 s) and ping to
// pingPrecision (ms, to 0.1).
const (
	entShip   = 0
	entPilot  = 1
	entBullet = 2

	posPrecision  snap.Precision = 0.1
	aimBits                      = 8
	respawnStep                  = 100 * time.Millisecond
	pingPrecision snap.Precision = 0.1
)

// Sight is how much of the arena a player receives: the entities inside
// the Width by Height area centred on its ship (interest management).
// The page shows at most Width-2*Margin by Height-2*Margin of it, so that
// what comes into view has arrived before it reaches the screen's edge,
// although the page draws other ships in the past and its own ship ahead
// of the server (Margin covers 200 ms of a bullet's flight).
type Sight struct {
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Margin float64 `json:"margin"`
}

// DefaultSight is the arena's sight: 1440 by 1000 units received, at
// most 1040 by 600 shown, of the 1600 by 900 arena.
func DefaultSight() Sight { return Sight{Width: 1440, Height: 1000, Margin: 200} }

// Area returns the part of the arena a player whose ship is at p receives.
func (s Sight) Area(p Vec) snap.Rect { return snap.Centered(p.X, p.Y, s.Width, s.Height) }

// number returns the number of the ship with the given id, giving it
// the next one if it has none yet.
func (g *Game) number(id string) uint32 {
	n, ok := g.nums[id]
	if !ok {
		g.lastNum++
		n = g.lastNum
		g.nums[id] = n
	}
	return n
}

// publish rebuilds the entity table from the world.
func (g *Game) publish() {
	t := &g.table
	t.CellSize = g.sight.Width
	t.Reset()
	for _, s := range g.world.Ships() {
		n := g.number(s.ID)
		var ping time.Duration
		if p := g.players[s.ID]; p != nil {
			ping = p.RTT().Smoothed
		}
		t.Add(snap.ID(n<<2|entShip)).At(s.Pos.X, s.Pos.Y).
			Fixed(s.Pos.X, posPrecision).Fixed(s.Pos.Y, posPrecision).Angle(s.Aim, aimBits).
			Int(int64(s.HP)).Bool(s.Alive).Int(int64(s.Life)).
			Int(int64((g.world.RespawnIn(s) + respawnStep - 1) / respawnStep))
		t.Add(snap.ID(n<<2|entPilot)).
			String(s.ID).String(s.Name).Bool(s.Bot).Int(int64(s.Score)).Int(int64(s.Deaths)).
			Fixed(float64(ping)/float64(time.Millisecond), pingPrecision)
	}
	for _, b := range g.world.Bullets() {
		t.Add(snap.ID(b.ID<<2|entBullet)).At(b.Pos.X, b.Pos.Y).
			Fixed(b.Pos.X, posPrecision).Fixed(b.Pos.Y, posPrecision)
	}
}

// Snapshot returns what p receives this tick: the part of the table in
// the sight of its ship. The room freezes the table once a tick, and
// players whose sights hold the same entities share one encoding.
func (g *Game) Snapshot(p *rooms.Player) any {
	s, ok := p.Data.(*Ship)
	if !ok {
		return &g.table
	}
	return g.table.View(g.sight.Area(s.Pos))
}
