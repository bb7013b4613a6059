package main

import (
	"math"
	"time"

	"github.com/tickwire/tickwire/rooms/lagcomp"
)

// Vec is a point or a direction in arena units (pixels at scale 1).
type Vec struct{ X, Y float64 }

// Rect is an axis-aligned rectangle: a wall.
type Rect struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// Config holds the arena's rules. The browser client gets the part it
// needs to predict movement and draw the map (see ClientConfig), so the
// two always agree.
type Config struct {
	Width, Height float64
	Walls         []Rect
	Spawns        []Vec

	ShipRadius float64       // collision radius of a ship
	ShipSpeed  float64       // units a second
	MaxInputDT time.Duration // the most movement time one input may claim
	MaxBudget  time.Duration // the most unclaimed movement time a ship may bank

	BulletSpeed  float64 // units a second
	BulletRadius float64
	BulletRange  float64       // units a bullet flies before it fades
	FireInterval time.Duration // between two shots of one ship
	MaxHP        int
	Damage       int // per hit
	RespawnDelay time.Duration

	// LagComp is the longest rewind of lag compensation: a bullet meets
	// the ships where its shooter saw them, up to this long before the
	// present (see Ship.Lag). At most lagcomp.MaxWindow; 0 turns lag
	// compensation off: bullets meet ships where they are now.
	LagComp time.Duration
}

// DefaultConfig returns the arena the example serves: 1600 by 900 with a
// few walls, symmetric so that no spawn point is better than another.
func DefaultConfig() Config {
	return Config{
		Width: 1600, Height: 900,
		Walls: []Rect{
			{X: 350, Y: 180, W: 40, H: 220},
			{X: 1210, Y: 500, W: 40, H: 220},
			{X: 700, Y: 420, W: 200, H: 60},
			{X: 350, Y: 660, W: 260, H: 40},
			{X: 990, Y: 200, W: 260, H: 40},
		},
		Spawns: []Vec{
			{100, 100}, {1500, 800}, {1500, 100}, {100, 800},
			{800, 120}, {800, 780}, {120, 450}, {1480, 450},
		},
		ShipRadius: 18, ShipSpeed: 260,
		MaxInputDT: 100 * time.Millisecond, MaxBudget: 250 * time.Millisecond,
		BulletSpeed: 720, BulletRadius: 4, BulletRange: 900,
		FireInterval: 250 * time.Millisecond,
		MaxHP:        100, Damage: 25, RespawnDelay: 2 * time.Second,
		LagComp: lagcomp.DefaultWindow,
	}
}

// ClientConfig is what the browser client is told about the arena.
type ClientConfig struct {
	Width        float64 `json:"width"`
	Height       float64 `json:"height"`
	Walls        []Rect  `json:"walls"`
	ShipRadius   float64 `json:"shipRadius"`
	ShipSpeed    float64 `json:"shipSpeed"`
	MaxInputDT   float64 `json:"maxInputDt"` // ms
	BulletRadius float64 `json:"bulletRadius"`
	MaxHP        int     `json:"maxHp"`
	LagComp      bool    `json:"lagComp"` // hits are judged as the shooter saw them
}

// Client returns the part of c the browser needs.
func (c Config) Client() ClientConfig {
	return ClientConfig{
		Width: c.Width, Height: c.Height, Walls: c.Walls,
		ShipRadius: c.ShipRadius, ShipSpeed: c.ShipSpeed,
		MaxInputDT:   float64(c.MaxInputDT) / float64(time.Millisecond),
		BulletRadius: c.BulletRadius, MaxHP: c.MaxHP,
		LagComp: c.LagComp > 0,
	}
}

// Input is one input of a ship: a movement direction held for DT
// milliseconds, where it aims, whether the trigger is held, and how far
// behind the server's clock the world the player saw was.
type Input struct {
	MX   float64 `msgpack:"mx"`   // -1 to 1
	MY   float64 `msgpack:"my"`   // -1 to 1
	Aim  float64 `msgpack:"aim"`  // radians
	Fire bool    `msgpack:"fire"` // trigger held
	DT   float64 `msgpack:"dt"`   // ms of movement this input stands for

	// Interp is the client's interpolation delay, ms: how far behind its
	// estimate of the server's clock it drew the other ships when it made
	// the input (docs/protocol.md; the browser SDK adds it to every
	// input). Lag compensation rewinds by it and half the RTT.
	Interp float64 `msgpack:"interp"`
}

// valid reports whether every number in the input is finite.
func (in Input) valid() bool {
	for _, f := range []float64{in.MX, in.MY, in.Aim, in.DT, in.Interp} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// interp returns Interp as a duration: negative counts as 0, and anything
// beyond lagcomp.MaxWindow, which no rewind reaches, as that.
func (in Input) interp() time.Duration {
	ms := max(0, min(in.Interp, float64(lagcomp.MaxWindow/time.Millisecond)))
	return time.Duration(ms * float64(time.Millisecond))
}

// Ship is a player's or a bot's ship.
type Ship struct {
	ID     string
	Name   string
	Bot    bool
	Pos    Vec
	Aim    float64
	HP     int
	Alive  bool
	Score  int // kills
	Deaths int
	Life   int // counts spawns, so clients do not blend across a respawn

	// Lag is how late the ship's pilot sees the other ships: the player's
	// smoothed RTT, which the game sets every tick, and the interpolation
	// delay of its latest input. Its bullets meet ships where they were
	// that long ago (RTT/2 + Interp, at most Config.LagComp). Bots see
	// the present: zero.
	Lag lagcomp.Lag

	body      uint64 // the ship's ID in the history; new at every spawn
	firing    bool
	nextFire  time.Duration // world time of the next allowed shot
	respawnAt time.Duration // world time of the respawn, while dead
	budget    time.Duration // movement time the ship may still claim
}

// Bullet is a shot in flight.
type Bullet struct {
	ID    uint32
	Owner string
	Pos   Vec
	Vel   Vec
	Flown float64     // distance travelled
	Lag   lagcomp.Lag // its shooter's, when it fired
}

// Event is something that happened in a step, for the kill feed.
type Event struct {
	Kind     string  `msgpack:"kind"` // "hit" or "kill"
	Attacker string  `msgpack:"by"`
	Victim   string  `msgpack:"victim"`
	X        float64 `msgpack:"x"`
	Y        float64 `msgpack:"y"`
	Rewind   float64 `msgpack:"rewind"` // how far back the hit was judged, ms to 0.1 (lag compensation)
}

// World is the arena's state. It is pure: no clocks, no randomness, no
// I/O; the room calls it from one goroutine.
type World struct {
	cfg     Config
	now     time.Duration // world time: the sum of the steps
	at      time.Time     // the latest step's time, for the history
	ships   []*Ship
	bullets []*Bullet
	nextID  uint32
	bodyN   uint64

	past   *lagcomp.History // where the ships were; nil without lag compensation
	bodies []lagcomp.Body   // scratch: the frame to record, the ships of a view
}

// NewWorld returns an empty arena. A Config.LagComp over
// lagcomp.MaxWindow counts as lagcomp.MaxWindow.
func NewWorld(cfg Config) *World {
	w := &World{cfg: cfg}
	if cfg.LagComp > 0 {
		// The window is in range, so New cannot fail.
		w.past, _ = lagcomp.New(lagcomp.Options{Window: min(cfg.LagComp, lagcomp.MaxWindow)})
	}
	return w
}

// Config returns the arena's rules.
func (w *World) Config() Config { return w.cfg }

// Ships returns the ships in the order they joined. The slice is the
// world's own.
func (w *World) Ships() []*Ship { return w.ships }

// Bullets returns the bullets in flight. The slice is the world's own.
func (w *World) Bullets() []*Bullet { return w.bullets }

// Ship returns the ship with the given id, or nil.
func (w *World) Ship(id string) *Ship {
	for _, s := range w.ships {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// AddShip adds a ship and spawns it.
func (w *World) AddShip(id, name string, bot bool) *Ship {
	s := &Ship{ID: id, Name: name, Bot: bot}
	w.ships = append(w.ships, s)
	w.spawn(s)
	return s
}

// RemoveShip removes a ship; its bullets fly on.
func (w *World) RemoveShip(id string) {
	for i, s := range w.ships {
		if s.ID == id {
			w.ships = append(w.ships[:i], w.ships[i+1:]...)
			return
		}
	}
}

// spawn places s at the spawn point farthest from every living ship.
func (w *World) spawn(s *Ship) {
	best, bestDist := w.cfg.Spawns[0], -1.0
	for _, p := range w.cfg.Spawns {
		d := math.Inf(1)
		for _, o := range w.ships {
			if o != s && o.Alive {
				d = min(d, dist(p, o.Pos))
			}
		}
		if d > bestDist {
			best, bestDist = p, d
		}
	}
	s.Pos = best
	s.HP = w.cfg.MaxHP
	s.Alive = true
	s.Life++
	w.bodyN++
	s.body = w.bodyN // a new body: rewinds never blend across a respawn
	s.budget = w.cfg.MaxInputDT
	s.nextFire = w.now
	// Face the middle of the arena.
	s.Aim = math.Atan2(w.cfg.Height/2-best.Y, w.cfg.Width/2-best.X)
}

// ApplyInput applies one input: the ship aims, holds or releases the
// trigger, takes the input's interpolation delay as its pilot's, and
// moves for the input's DT, as far as its movement budget allows (so
// sending more inputs never makes a ship faster). An input with a number
// that is not finite is ignored.
func (w *World) ApplyInput(s *Ship, in Input) {
	if !in.valid() {
		return
	}
	s.Aim = math.Mod(in.Aim, 2*math.Pi)
	s.firing = in.Fire
	s.Lag.Interp = in.interp()
	if !s.Alive {
		return
	}
	dt := min(time.Duration(in.DT*float64(time.Millisecond)), w.cfg.MaxInputDT, s.budget)
	if dt <= 0 {
		return
	}
	s.budget -= dt
	s.Pos = Move(w.cfg, s.Pos, in.MX, in.MY, dt)
}

// Move returns where a ship at p ends up after moving in direction
// (mx, my) for dt: the direction is clamped to length 1, then the ship
// slides along walls and stays inside the arena. The browser client runs
// the same function (arena.js, move) to predict its own ship.
func Move(cfg Config, p Vec, mx, my float64, dt time.Duration) Vec {
	mx, my = max(-1, min(1, mx)), max(-1, min(1, my))
	if l := math.Sqrt(mx*mx + my*my); l > 1 {
		mx, my = mx/l, my/l
	}
	step := cfg.ShipSpeed * dt.Seconds()
	p = Vec{p.X + mx*step, p.Y + my*step}
	r := cfg.ShipRadius
	for _, wall := range cfg.Walls {
		p = pushOut(p, r, wall)
	}
	p.X = max(r, min(cfg.Width-r, p.X))
	p.Y = max(r, min(cfg.Height-r, p.Y))
	return p
}

// pushOut moves a circle at p of radius r out of wall, by the shortest way.
func pushOut(p Vec, r float64, wall Rect) Vec {
	cx := max(wall.X, min(wall.X+wall.W, p.X))
	cy := max(wall.Y, min(wall.Y+wall.H, p.Y))
	dx, dy := p.X-cx, p.Y-cy
	d2 := dx*dx + dy*dy
	if d2 >= r*r {
		return p
	}
	if d2 > 0 {
		d := math.Sqrt(d2)
		return Vec{cx + dx/d*r, cy + dy/d*r}
	}
	// The centre is inside the wall: leave by the nearest side.
	left, right := p.X-wall.X, wall.X+wall.W-p.X
	top, bottom := p.Y-wall.Y, wall.Y+wall.H-p.Y
	switch min(left, right, top, bottom) {
	case left:
		p.X = wall.X - r
	case right:
		p.X = wall.X + wall.W + r
	case top:
		p.Y = wall.Y - r
	default:
		p.Y = wall.Y + wall.H + r
	}
	return p
}

// Step advances the world by dt: dead ships respawn when their time
// comes, ships bank movement time, triggers fire, bullets fly and hit
// walls and ships. It returns the hits and kills of the step.
func (w *World) Step(dt time.Duration) []Event { return w.StepAt(w.at.Add(dt), dt) }

// StepAt is Step for a step that starts at the given time: the time
// stamped on the batch that carries its snapshot (tick.Tick.Start). With
// lag compensation, the ships' positions are recorded under it after
// they respawn, and every bullet meets the ships where they were its
// shooter's lag before it, so the rewind lines up with what clients draw.
// A time not after the previous step's records nothing.
func (w *World) StepAt(at time.Time, dt time.Duration) []Event {
	w.now += dt
	var events []Event
	for _, s := range w.ships {
		if !s.Alive && w.now >= s.respawnAt {
			w.spawn(s)
		}
		s.budget = min(s.budget+dt, w.cfg.MaxBudget)
		if s.Alive && s.firing && w.now >= s.nextFire {
			w.fire(s)
		}
	}
	if at.After(w.at) {
		w.at = at
		w.record()
	}
	kept := w.bullets[:0]
	for _, b := range w.bullets {
		if ev, done := w.fly(b, dt); done {
			events = append(events, ev...)
			continue
		}
		kept = append(kept, b)
	}
	clear(w.bullets[len(kept):])
	w.bullets = kept
	return events
}

// fire launches a bullet from the tip of s's gun.
func (w *World) fire(s *Ship) {
	dir := Vec{math.Cos(s.Aim), math.Sin(s.Aim)}
	off := w.cfg.ShipRadius + w.cfg.BulletRadius + 1
	w.nextID++
	w.bullets = append(w.bullets, &Bullet{
		ID:    w.nextID,
		Owner: s.ID,
		Pos:   Vec{s.Pos.X + dir.X*off, s.Pos.Y + dir.Y*off},
		Vel:   Vec{dir.X * w.cfg.BulletSpeed, dir.Y * w.cfg.BulletSpeed},
		Lag:   s.Lag,
	})
	s.nextFire = w.now + w.cfg.FireInterval
}

// record adds the living ships' positions to the history, under the
// latest step's time.
func (w *World) record() {
	if w.past == nil {
		return
	}
	w.bodies = w.present(w.bodies[:0])
	// Steps are recorded in time order (StepAt checks), so Record cannot
	// refuse the frame.
	w.past.Record(w.at, w.bodies)
}

// present appends the living ships' bodies as they are now to dst.
func (w *World) present(dst []lagcomp.Body) []lagcomp.Body {
	for _, s := range w.ships {
		if s.Alive {
			dst = append(dst, lagcomp.Body{ID: s.body, Pos: lagcomp.Vec{X: s.Pos.X, Y: s.Pos.Y}, Radius: w.cfg.ShipRadius})
		}
	}
	return dst
}

// targets puts in w.bodies the ships a bullet of a shooter with the given
// lag can hit, where that shooter saw them at the latest step, and
// returns how far back that is. Without lag compensation, or before
// anything was recorded, they are the ships as they are now.
func (w *World) targets(lag lagcomp.Lag) time.Duration {
	if w.past != nil {
		if v, err := w.past.Rewind(w.at, lag); err == nil {
			w.bodies = v.Bodies(w.bodies[:0])
			return v.By
		}
	}
	w.bodies = w.present(w.bodies[:0])
	return 0
}

// fly moves b for dt. It reports whether the bullet is done (it hit
// something, left the arena or flew its range) and what it hit.
func (w *World) fly(b *Bullet, dt time.Duration) ([]Event, bool) {
	from := b.Pos
	to := Vec{from.X + b.Vel.X*dt.Seconds(), from.Y + b.Vel.Y*dt.Seconds()}
	// The nearest thing along the path is what the bullet hits.
	hitT, victim := 2.0, (*Ship)(nil)
	for _, wall := range w.cfg.Walls {
		grown := Rect{wall.X - w.cfg.BulletRadius, wall.Y - w.cfg.BulletRadius, wall.W + 2*w.cfg.BulletRadius, wall.H + 2*w.cfg.BulletRadius}
		if t, ok := segmentRect(from, to, grown); ok && t < hitT {
			hitT = t
		}
	}
	rewind := w.targets(b.Lag)
	for _, body := range w.bodies {
		// A ship is hit only if it is alive, in the life it has now.
		s := w.shipByBody(body.ID)
		if s == nil || s.ID == b.Owner {
			continue
		}
		if t, ok := segmentCircle(from, to, Vec{body.Pos.X, body.Pos.Y}, body.Radius+w.cfg.BulletRadius); ok && t < hitT {
			hitT, victim = t, s
		}
	}
	if victim != nil {
		return w.hit(b, victim, rewind), true
	}
	if hitT <= 1 {
		return nil, true
	}
	b.Pos = to
	b.Flown += dist(from, to)
	out := to.X < 0 || to.Y < 0 || to.X > w.cfg.Width || to.Y > w.cfg.Height
	return nil, out || b.Flown >= w.cfg.BulletRange
}

// shipByBody returns the living ship whose current body is id, or nil.
func (w *World) shipByBody(id uint64) *Ship {
	for _, s := range w.ships {
		if s.body == id && s.Alive {
			return s
		}
	}
	return nil
}

// hit applies b's damage to s; rewind is how far back it was judged.
func (w *World) hit(b *Bullet, s *Ship, rewind time.Duration) []Event {
	s.HP -= w.cfg.Damage
	ev := Event{Kind: "hit", Attacker: b.Owner, Victim: s.ID, X: s.Pos.X, Y: s.Pos.Y,
		Rewind: math.Round(float64(rewind)/float64(time.Millisecond)*10) / 10}
	if s.HP > 0 {
		return []Event{ev}
	}
	s.HP = 0
	s.Alive = false
	s.Deaths++
	s.firing = false
	s.respawnAt = w.now + w.cfg.RespawnDelay
	if a := w.Ship(b.Owner); a != nil {
		a.Score++
	}
	ev.Kind = "kill"
	return []Event{ev}
}

// RespawnIn returns how long until the dead ship s respawns (0 if alive).
func (w *World) RespawnIn(s *Ship) time.Duration {
	if s.Alive {
		return 0
	}
	return max(0, s.respawnAt-w.now)
}

func dist(a, b Vec) float64 {
	dx, dy := a.X-b.X, a.Y-b.Y
	return math.Sqrt(dx*dx + dy*dy)
}

// segmentCircle reports whether the segment from a to b passes within r
// of c, and the first such point as a fraction t of the way from a.
func segmentCircle(a, b, c Vec, r float64) (float64, bool) {
	dx, dy := b.X-a.X, b.Y-a.Y
	fx, fy := a.X-c.X, a.Y-c.Y
	qa := dx*dx + dy*dy
	qb := 2 * (fx*dx + fy*dy)
	qc := fx*fx + fy*fy - r*r
	if qc <= 0 {
		return 0, true // starts inside
	}
	if qa == 0 {
		return 0, false
	}
	disc := qb*qb - 4*qa*qc
	if disc < 0 {
		return 0, false
	}
	t := (-qb - math.Sqrt(disc)) / (2 * qa)
	return t, t >= 0 && t <= 1
}

// segmentRect reports whether the segment from a to b enters r, and where
// as a fraction t of the way from a (slab method).
func segmentRect(a, b Vec, r Rect) (float64, bool) {
	t0, t1 := 0.0, 1.0
	for _, ax := range [2]struct{ p, d, lo, hi float64 }{
		{a.X, b.X - a.X, r.X, r.X + r.W},
		{a.Y, b.Y - a.Y, r.Y, r.Y + r.H},
	} {
		if ax.d == 0 {
			if ax.p < ax.lo || ax.p > ax.hi {
				return 0, false
			}
			continue
		}
		ta, tb := (ax.lo-ax.p)/ax.d, (ax.hi-ax.p)/ax.d
		if ta > tb {
			ta, tb = tb, ta
		}
		t0, t1 = max(t0, ta), min(t1, tb)
		if t0 > t1 {
			return 0, false
		}
	}
	return t0, true
}
