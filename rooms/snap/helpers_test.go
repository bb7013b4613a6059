package snap

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// thing is a test entity in plain Go, as a game would keep it.
type thing struct {
	id     ID
	x, y   float64
	at     bool
	kind   int
	name   string
	hp     int
	fields int // extra fields, to exercise field counts and wide entities
}

// world is a test game's plain state, with random changes.
type world struct {
	rng    *rand.Rand
	things []*thing
	nextID ID
}

func newWorld(seed uint64, n int) *world {
	w := &world{rng: rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15)), nextID: 1}
	for range n {
		w.spawn()
	}
	return w
}

func (w *world) spawn() {
	t := &thing{
		id: w.nextID, x: w.rng.Float64() * 1000, y: w.rng.Float64() * 1000,
		at: w.rng.IntN(10) > 0, kind: w.rng.IntN(3), name: fmt.Sprint("t", w.nextID),
		hp: 100, fields: w.rng.IntN(3),
	}
	if w.rng.IntN(20) == 0 {
		t.fields = 40 // wider than a mask
	}
	w.nextID += ID(1 + w.rng.IntN(3))
	w.things = append(w.things, t)
}

// step changes the world at random: moves, field changes, spawns, deaths,
// field count changes.
func (w *world) step() {
	for _, t := range w.things {
		switch w.rng.IntN(6) {
		case 0, 1:
			t.x += w.rng.NormFloat64() * 20
			t.y += w.rng.NormFloat64() * 20
		case 2:
			t.hp = w.rng.IntN(100)
		case 3:
			if w.rng.IntN(10) == 0 {
				t.fields = w.rng.IntN(3)
			}
		}
	}
	for i := 0; i < len(w.things); i++ {
		if w.rng.IntN(15) == 0 {
			w.things = slices.Delete(w.things, i, i+1)
			i--
		}
	}
	for range w.rng.IntN(4) {
		w.spawn()
	}
	w.rng.Shuffle(len(w.things), func(i, j int) { w.things[i], w.things[j] = w.things[j], w.things[i] })
}

// fill rebuilds the table from the world, as a game's Tick does.
func (w *world) fill(tb *Table) {
	tb.Reset()
	for _, t := range w.things {
		e := tb.Add(t.id)
		if t.at {
			e.At(t.x, t.y)
		}
		e.Fixed(t.x, 0.1).Fixed(t.y, 0.1).Int(int64(t.kind)).String(t.name).Uint(uint64(t.hp))
		for k := range t.fields {
			e.Int(int64(k * t.hp))
		}
	}
}

// brute returns the ids visible in area, by checking every entity.
func brute(s *State, area Rect) []ID {
	var ids []ID
	for _, e := range s.ents {
		if !e.at || (finite(e.x, e.y) && area.Contains(e.x, e.y)) {
			ids = append(ids, e.id)
		}
	}
	return ids
}

func ids(s *State) []ID {
	var out []ID
	for id := range s.All() {
		out = append(out, id)
	}
	return out
}

func randomRect(rng *rand.Rand) Rect {
	switch rng.IntN(8) {
	case 0:
		return Rect{MinX: math.Inf(-1), MinY: math.Inf(-1), MaxX: math.Inf(1), MaxY: math.Inf(1)}
	case 1:
		return Rect{MinX: 10, MinY: 10, MaxX: 0, MaxY: 0} // empty
	case 2:
		x, y := rng.Float64()*1000, rng.Float64()*1000
		return Rect{MinX: x, MinY: y, MaxX: x, MaxY: y} // a point
	}
	return Centered(rng.Float64()*1200-100, rng.Float64()*1200-100, rng.Float64()*500, rng.Float64()*500)
}
