package main

import (
	"math"
	"math/rand/v2"
	"time"
)

// Bot steers a ship on the server, so that a lone visitor meets someone.
// It sees what every client sees and answers with the same Input a
// browser sends; it never touches the world directly.
type Bot struct {
	Ship *Ship
	rng  *rand.Rand

	strafe     float64       // +1 or -1: which way it circles its target
	nextTurn   time.Duration // when it reconsiders strafe and wander
	wander     Vec           // where it heads when nobody is around
	sinceThink time.Duration
}

// NewBot returns a bot for s; seed makes its choices reproducible.
func NewBot(s *Ship, seed uint64) *Bot {
	return &Bot{Ship: s, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), strafe: 1}
}

// Think returns the bot's input for the next dt.
func (b *Bot) Think(w *World, dt time.Duration) Input {
	s, cfg := b.Ship, w.Config()
	b.sinceThink += dt
	if b.sinceThink >= b.nextTurn {
		b.sinceThink = 0
		b.nextTurn = time.Duration(1+b.rng.Float64()*2) * time.Second
		if b.rng.IntN(2) == 0 {
			b.strafe = -b.strafe
		}
		b.wander = Vec{cfg.ShipRadius + b.rng.Float64()*(cfg.Width-2*cfg.ShipRadius), cfg.ShipRadius + b.rng.Float64()*(cfg.Height-2*cfg.ShipRadius)}
	}
	in := Input{DT: float64(dt) / float64(time.Millisecond), Aim: s.Aim}
	target := b.target(w)
	if target == nil {
		in.MX, in.MY = unit(b.wander.X-s.Pos.X, b.wander.Y-s.Pos.Y)
		if dist(s.Pos, b.wander) > cfg.ShipRadius {
			in.Aim = math.Atan2(in.MY, in.MX)
		}
		return in
	}
	dx, dy := target.Pos.X-s.Pos.X, target.Pos.Y-s.Pos.Y
	d := math.Sqrt(dx*dx + dy*dy)
	// Aim at the target, a little off: bots are beatable.
	in.Aim = math.Atan2(dy, dx) + (b.rng.Float64()-0.5)*0.25
	ux, uy := unit(dx, dy)
	switch {
	case d > 380: // close in
		in.MX, in.MY = ux, uy
	case d < 200: // back off while circling
		in.MX, in.MY = unit(-ux-uy*b.strafe, -uy+ux*b.strafe)
	default: // circle
		in.MX, in.MY = -uy*b.strafe, ux*b.strafe
	}
	in.Fire = d < 650 && clearShot(w, s.Pos, target.Pos)
	return in
}

// target returns the nearest living ship that is not b's, or nil.
func (b *Bot) target(w *World) *Ship {
	var best *Ship
	bestD := math.Inf(1)
	for _, o := range w.Ships() {
		if o == b.Ship || !o.Alive {
			continue
		}
		if d := dist(o.Pos, b.Ship.Pos); d < bestD {
			best, bestD = o, d
		}
	}
	return best
}

// clearShot reports whether no wall stands between a and b.
func clearShot(w *World, a, b Vec) bool {
	for _, wall := range w.Config().Walls {
		if _, hit := segmentRect(a, b, wall); hit {
			return false
		}
	}
	return true
}

// unit returns (x, y) scaled to length 1, or (0, 0).
func unit(x, y float64) (float64, float64) {
	l := math.Sqrt(x*x + y*y)
	if l == 0 {
		return 0, 0
	}
	return x / l, y / l
}
