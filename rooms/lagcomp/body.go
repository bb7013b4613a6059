package lagcomp

import "math"

// Vec is a point or a direction. Two-dimensional games leave Z at zero.
type Vec struct{ X, Y, Z float64 }

// Add returns v+w.
func (v Vec) Add(w Vec) Vec { return Vec{v.X + w.X, v.Y + w.Y, v.Z + w.Z} }

// Sub returns v-w.
func (v Vec) Sub(w Vec) Vec { return Vec{v.X - w.X, v.Y - w.Y, v.Z - w.Z} }

// Scale returns v*k.
func (v Vec) Scale(k float64) Vec { return Vec{v.X * k, v.Y * k, v.Z * k} }

// Dot returns the dot product of v and w.
func (v Vec) Dot(w Vec) float64 { return v.X*w.X + v.Y*w.Y + v.Z*w.Z }

// Len returns the length of v.
func (v Vec) Len() float64 { return math.Sqrt(v.Dot(v)) }

// Body is an entity's hit volume at one instant: a sphere of Radius around
// Pos, a circle in two-dimensional games. An entity with a more detailed
// shape records one Body per part (head, torso), each with its own ID.
type Body struct {
	// ID identifies the entity across ticks; it must be unique within a
	// tick. The game chooses it, for example a counter it increments
	// whenever an entity or player appears.
	ID     uint64
	Pos    Vec
	Radius float64
}

// lerp returns the body a fraction f of the way from a to b.
func lerp(a, b Body, f float64) Body {
	return Body{
		ID:     a.ID,
		Pos:    a.Pos.Add(b.Pos.Sub(a.Pos).Scale(f)),
		Radius: a.Radius + (b.Radius-a.Radius)*f,
	}
}

// Hit is where a traced segment first meets a body.
type Hit struct {
	Body  Body    // the body hit, as it was at the view's instant
	Point Vec     // where the segment enters it
	Dist  float64 // the distance from the segment's start to Point
}

// segmentSphere returns the fraction t in [0, 1] along the segment from
// to from+d at which it first meets the sphere of radius r around c. A
// segment starting inside the sphere meets it at t = 0. A negative or NaN
// radius, or NaN coordinates, meet nothing.
func segmentSphere(from, d, c Vec, r float64) (float64, bool) {
	if !(r >= 0) {
		return 0, false
	}
	m := from.Sub(c)
	cc := m.Dot(m) - r*r
	if cc <= 0 {
		return 0, true
	}
	a := d.Dot(d)
	b := m.Dot(d)
	if a == 0 || b >= 0 {
		return 0, false // a point outside, or heading away from the centre
	}
	disc := b*b - a*cc
	if disc < 0 {
		return 0, false
	}
	t := (-b - math.Sqrt(disc)) / a
	if !(t >= 0 && t <= 1) {
		return 0, false
	}
	return t, true
}
