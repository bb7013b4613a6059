package main

import (
	"math"
	"testing"
	"time"
)

// openConfig is an arena with no walls, for tests about one rule at a time.
func openConfig() Config {
	c := DefaultConfig()
	c.Walls = nil
	return c
}

func near(a, b Vec) bool { return math.Abs(a.X-b.X) < 1e-9 && math.Abs(a.Y-b.Y) < 1e-9 }

func TestMove(t *testing.T) {
	cfg := openConfig()
	cfg.Walls = []Rect{{X: 500, Y: 400, W: 100, H: 100}}
	r := cfg.ShipRadius
	sec := time.Second
	tests := []struct {
		name   string
		from   Vec
		mx, my float64
		dt     time.Duration
		want   Vec
	}{
		{"right for a second", Vec{100, 100}, 1, 0, sec, Vec{100 + cfg.ShipSpeed, 100}},
		{"diagonal is no faster", Vec{100, 600}, 1, 1, sec, Vec{100 + cfg.ShipSpeed/math.Sqrt2, 600 + cfg.ShipSpeed/math.Sqrt2}},
		{"direction clamped to 1", Vec{100, 100}, 50, 0, sec, Vec{100 + cfg.ShipSpeed, 100}},
		{"standing still", Vec{100, 100}, 0, 0, sec, Vec{100, 100}},
		{"stops at the left edge", Vec{30, 100}, -1, 0, sec, Vec{r, 100}},
		{"stops at the bottom edge", Vec{100, 880}, 0, 1, sec, Vec{100, cfg.Height - r}},
		{"stops at a wall's side", Vec{470, 450}, 1, 0, 100 * time.Millisecond, Vec{500 - r, 450}},
		{"slides along a wall", Vec{470, 450}, 1, 0.5, 100 * time.Millisecond, Vec{500 - r, 450 + cfg.ShipSpeed*0.1*0.5/math.Hypot(1, 0.5)}},
		{"pushed out of a corner diagonally", Vec{490, 390}, 0, 0, 0, Vec{500 - r/math.Sqrt2, 400 - r/math.Sqrt2}},
		{"centre inside: out by the nearest side", Vec{510, 450}, 0, 0, 0, Vec{500 - r, 450}},
	}
	for _, tt := range tests {
		got := Move(cfg, tt.from, tt.mx, tt.my, tt.dt)
		if math.Abs(got.X-tt.want.X) > 1e-6 || math.Abs(got.Y-tt.want.Y) > 1e-6 {
			t.Errorf("%s: Move(%v, %v, %v, %v) = %v, want %v", tt.name, tt.from, tt.mx, tt.my, tt.dt, got, tt.want)
		}
	}
}

func TestApplyInputMovementBudget(t *testing.T) {
	w := NewWorld(openConfig())
	s := w.AddShip("a", "a", false)
	start := s.Pos
	speed := w.cfg.ShipSpeed
	// A fresh ship may claim MaxInputDT (100 ms) of movement at once...
	w.ApplyInput(s, Input{MX: 1, DT: 1000})
	if want := start.X + speed*0.1; math.Abs(s.Pos.X-want) > 1e-9 {
		t.Fatalf("after a 1000 ms input: x %v, want %v (capped at 100 ms)", s.Pos.X, want)
	}
	// ...and nothing more until time passes: flooding inputs gains nothing.
	for range 50 {
		w.ApplyInput(s, Input{MX: 1, DT: 16})
	}
	if want := start.X + speed*0.1; math.Abs(s.Pos.X-want) > 1e-9 {
		t.Fatalf("after 50 more inputs in no time: x %v, want %v", s.Pos.X, want)
	}
	// A step banks its length of movement.
	w.Step(33 * time.Millisecond)
	w.ApplyInput(s, Input{MX: 1, DT: 1000})
	if want := start.X + speed*0.133; math.Abs(s.Pos.X-want) > 1e-9 {
		t.Fatalf("after a step: x %v, want %v", s.Pos.X, want)
	}
}

func TestApplyInputIgnoresNonFiniteNumbers(t *testing.T) {
	w := NewWorld(openConfig())
	s := w.AddShip("a", "a", false)
	before := *s
	for _, in := range []Input{
		{MX: math.NaN(), DT: 16},
		{MX: 1, DT: math.Inf(1)},
		{Aim: math.NaN()},
		{MY: math.Inf(-1), DT: 16},
	} {
		w.ApplyInput(s, in)
	}
	if !near(s.Pos, before.Pos) || s.Aim != before.Aim {
		t.Fatalf("ship changed by non-finite inputs: %+v, was %+v", s, before)
	}
	w.ApplyInput(s, Input{MX: 1, DT: -50}) // negative time moves nothing
	if !near(s.Pos, before.Pos) {
		t.Fatalf("negative DT moved the ship to %v", s.Pos)
	}
}

// duel puts a shooter left of a target, facing it, at the given distance.
func duel(cfg Config, distance float64) (*World, *Ship, *Ship) {
	w := NewWorld(cfg)
	a := w.AddShip("a", "a", false)
	b := w.AddShip("b", "b", false)
	a.Pos, b.Pos = Vec{200, 450}, Vec{200 + distance, 450}
	return w, a, b
}

func TestShootingHitsKillsAndRespawns(t *testing.T) {
	cfg := openConfig()
	w, a, b := duel(cfg, 300)
	step := 33 * time.Millisecond
	w.ApplyInput(a, Input{Aim: 0, Fire: true})
	var kills, hits int
	var killEvent Event
	for i := 0; i < 200 && b.Alive; i++ {
		for _, ev := range w.Step(step) {
			switch ev.Kind {
			case "hit":
				hits++
			case "kill":
				kills++
				killEvent = ev
			}
		}
	}
	shots := cfg.MaxHP / cfg.Damage
	if b.Alive || hits != shots-1 || kills != 1 {
		t.Fatalf("alive %v, %d hits and %d kills, want dead after %d hits then a kill", b.Alive, hits, kills, shots-1)
	}
	if killEvent.Attacker != "a" || killEvent.Victim != "b" || a.Score != 1 || b.Deaths != 1 || b.HP != 0 {
		t.Fatalf("kill %+v, a.Score %d, b.Deaths %d, b.HP %d", killEvent, a.Score, b.Deaths, b.HP)
	}
	// Dead ships do not move, and respawn after RespawnDelay at full health.
	pos := b.Pos
	w.ApplyInput(b, Input{MX: 1, DT: 16})
	if !near(b.Pos, pos) {
		t.Fatal("a dead ship moved")
	}
	if got := w.RespawnIn(b); got != cfg.RespawnDelay {
		t.Fatalf("RespawnIn %v, want %v", got, cfg.RespawnDelay)
	}
	w.ApplyInput(a, Input{Aim: math.Pi, Fire: false}) // stop shooting
	life := b.Life
	for w.RespawnIn(b) > 0 {
		w.Step(step)
	}
	w.Step(step)
	if !b.Alive || b.HP != cfg.MaxHP || b.Life != life+1 {
		t.Fatalf("after the delay: alive %v hp %d life %d, want alive, %d, %d", b.Alive, b.HP, b.Life, cfg.MaxHP, life+1)
	}
}

func TestBullets(t *testing.T) {
	step := 33 * time.Millisecond
	tests := []struct {
		name     string
		cfg      func() Config
		distance float64
		aim      float64
		wantHit  bool
	}{
		{"in range", openConfig, 400, 0, true},
		{"fast bullets do not pass through", func() Config { c := openConfig(); c.BulletSpeed = 5000; return c }, 300, 0, true},
		{"out of range", openConfig, 1000, 0, false},
		{"aimed away", openConfig, 200, math.Pi / 2, false},
		{"a wall in between", func() Config { c := openConfig(); c.Walls = []Rect{{X: 300, Y: 300, W: 40, H: 300}}; return c }, 400, 0, false},
	}
	for _, tt := range tests {
		w, a, b := duel(tt.cfg(), tt.distance)
		w.ApplyInput(a, Input{Aim: tt.aim, Fire: true})
		w.Step(step) // fires
		w.ApplyInput(a, Input{Aim: tt.aim, Fire: false})
		hit := false
		for range 100 {
			for _, ev := range w.Step(step) {
				hit = hit || ev.Victim == b.ID
			}
		}
		if hit != tt.wantHit {
			t.Errorf("%s: hit %v, want %v", tt.name, hit, tt.wantHit)
		}
		if n := len(w.Bullets()); n != 0 {
			t.Errorf("%s: %d bullets still flying after 3 s", tt.name, n)
		}
	}
}

func TestFireInterval(t *testing.T) {
	w, a, _ := duel(openConfig(), 1000)
	w.ApplyInput(a, Input{Aim: math.Pi / 2, Fire: true}) // at the wall, not at b
	step := 10 * time.Millisecond
	for range 100 { // one second
		w.Step(step)
	}
	if want := int(time.Second / w.cfg.FireInterval); int(w.nextID) != want {
		t.Fatalf("%d shots in a second, want %d", w.nextID, want)
	}
}

func TestSpawnFarthestFromTheLiving(t *testing.T) {
	w := NewWorld(openConfig())
	a := w.AddShip("a", "a", false)
	b := w.AddShip("b", "b", false)
	if a.Pos != w.cfg.Spawns[0] {
		t.Fatalf("first ship at %v, want the first spawn point %v", a.Pos, w.cfg.Spawns[0])
	}
	if dist(a.Pos, b.Pos) < 1000 {
		t.Fatalf("second ship at %v, only %.0f from the first", b.Pos, dist(a.Pos, b.Pos))
	}
	w.RemoveShip("a")
	if w.Ship("a") != nil || len(w.Ships()) != 1 {
		t.Fatal("RemoveShip left the ship")
	}
}

func TestBotsFightAndScore(t *testing.T) {
	// Two bots in the default arena: within two simulated minutes one of
	// them scores. Bots are seeded, so this is reproducible.
	w := NewWorld(DefaultConfig())
	bots := []*Bot{NewBot(w.AddShip("b1", "b1", true), 1), NewBot(w.AddShip("b2", "b2", true), 2)}
	step := time.Second / 30
	for i := 0; i < 30*120; i++ {
		for _, b := range bots {
			w.ApplyInput(b.Ship, b.Think(w, step))
		}
		w.Step(step)
	}
	if bots[0].Ship.Score+bots[1].Ship.Score == 0 {
		t.Fatal("bots scored nothing in two minutes")
	}
	for _, b := range bots {
		p, r := b.Ship.Pos, w.cfg.ShipRadius
		if p.X < r || p.Y < r || p.X > w.cfg.Width-r || p.Y > w.cfg.Height-r {
			t.Fatalf("bot %s left the arena: %v", b.Ship.ID, p)
		}
	}
}

func TestSegmentHelpers(t *testing.T) {
	if tt, ok := segmentRect(Vec{0, 5}, Vec{10, 5}, Rect{X: 4, Y: 0, W: 2, H: 10}); !ok || math.Abs(tt-0.4) > 1e-9 {
		t.Errorf("segmentRect through: %v %v, want 0.4 true", tt, ok)
	}
	if _, ok := segmentRect(Vec{0, 20}, Vec{10, 20}, Rect{X: 4, Y: 0, W: 2, H: 10}); ok {
		t.Error("segmentRect past the rectangle hit it")
	}
	if _, ok := segmentRect(Vec{5, -5}, Vec{5, 20}, Rect{X: 4, Y: 0, W: 2, H: 10}); !ok {
		t.Error("vertical segmentRect through missed")
	}
	if tt, ok := segmentCircle(Vec{0, 0}, Vec{10, 0}, Vec{5, 0}, 1); !ok || math.Abs(tt-0.4) > 1e-9 {
		t.Errorf("segmentCircle: %v %v, want 0.4 true", tt, ok)
	}
	if _, ok := segmentCircle(Vec{0, 0}, Vec{10, 0}, Vec{5, 3}, 1); ok {
		t.Error("segmentCircle missed by 2 hit")
	}
	if _, ok := segmentCircle(Vec{0, 0}, Vec{0, 0}, Vec{5, 0}, 1); ok {
		t.Error("a zero-length segment far away hit")
	}
}
