package crowd

import "math"

// World is a room's entities: positions in units and velocities in units
// a second, in a square world Size units wide. Entity i has the id i+1.
type World struct {
	Size         float64
	X, Y, VX, VY []float64
}

// NewWorld returns a world of n entities at the positions and velocities
// that colyseus/crowd.mjs gives them: xorshift32 from a fixed seed, speeds
// from 30 to 90 units a second in every direction.
func NewWorld(n int, size float64) *World {
	w := &World{Size: size, X: make([]float64, n), Y: make([]float64, n), VX: make([]float64, n), VY: make([]float64, n)}
	rnd := generator(0x9e3779b9)
	for i := range n {
		w.X[i] = rnd() * size
		w.Y[i] = rnd() * size
		heading := rnd() * 2 * math.Pi
		speed := 30 + rnd()*60
		w.VX[i] = speed * math.Cos(heading)
		w.VY[i] = speed * math.Sin(heading)
	}
	return w
}

// Step moves every entity by dt seconds, bouncing off the walls.
func (w *World) Step(dt float64) {
	for i := range w.X {
		w.X[i], w.VX[i] = bounce(w.X[i]+w.VX[i]*dt, w.VX[i], w.Size)
		w.Y[i], w.VY[i] = bounce(w.Y[i]+w.VY[i]*dt, w.VY[i], w.Size)
	}
}

func bounce(p, v, size float64) (float64, float64) {
	switch {
	case p < 0:
		return -p, -v
	case p > size:
		return 2*size - p, -v
	}
	return p, v
}

// Steer turns the entity of seat slot (modulo the entity count) by turn
// radians, at most half a radian either way. Non-finite turns are ignored.
func (w *World) Steer(slot int, turn float64) {
	if math.IsNaN(turn) || math.IsInf(turn, 0) || len(w.X) == 0 || slot < 0 {
		return
	}
	i := slot % len(w.X)
	a := max(-0.5, min(0.5, turn))
	c, s := math.Cos(a), math.Sin(a)
	vx, vy := w.VX[i], w.VY[i]
	w.VX[i], w.VY[i] = vx*c-vy*s, vx*s+vy*c
}

// Turn is the steering a client sends in its input number seq.
func Turn(seq uint32) float64 {
	if seq%2 == 1 {
		return 0.1
	}
	return -0.1
}

// generator returns a xorshift32 generator of numbers in [0, 1).
func generator(seed uint32) func() float64 {
	s := seed
	return func() float64 {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		return float64(s) / (1 << 32)
	}
}
