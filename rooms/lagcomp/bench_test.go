package lagcomp_test

import (
	"testing"
	"time"

	"github.com/tickwire/tickwire/rooms/lagcomp"
)

const benchEntities = 100

// crowd returns the bodies of benchEntities entities on a 10x10 grid
// drifting along +x, at tick n.
func crowd(dst []lagcomp.Body, n int) []lagcomp.Body {
	dst = dst[:0]
	for i := range benchEntities {
		dst = append(dst, lagcomp.Body{
			ID:     uint64(i + 1),
			Pos:    lagcomp.Vec{X: float64(i%10)*5 + float64(n)*0.1, Y: float64(i/10) * 5},
			Radius: 0.5,
		})
	}
	return dst
}

// filled returns a 60 Hz history that has recorded ticks 0 to n-1 of the
// crowd.
func filled(b *testing.B, n int) *lagcomp.History {
	h, err := lagcomp.New(lagcomp.Options{TickRate: rate, Bodies: benchEntities})
	if err != nil {
		b.Fatal(err)
	}
	var bodies []lagcomp.Body
	for i := range n {
		if err := h.Record(tickTime(i), crowd(bodies, i)); err != nil {
			b.Fatal(err)
		}
	}
	return h
}

// BenchmarkRecord records one tick of 100 entities into a history that
// has filled its 500 ms window.
func BenchmarkRecord(b *testing.B) {
	h := filled(b, 2*rate)
	bodies := crowd(nil, 0)
	i := 2 * rate
	b.ReportAllocs()
	for b.Loop() {
		if err := h.Record(tickTime(i), bodies); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRewindTrace rewinds 145 ms (90 ms RTT, 100 ms interpolation),
// between two ticks, and traces a shot through a crowd of 100 entities.
func BenchmarkRewindTrace(b *testing.B) {
	h := filled(b, 2*rate)
	now := tickTime(2 * rate)
	lag := lagcomp.Lag{RTT: 90 * time.Millisecond, Interp: 100 * time.Millisecond}
	// Aim at entity 55 (row 5, column 4) as the shooter saw it: the shot
	// crosses the grid's column 4 from below and hits entity 5 first.
	v, err := h.Rewind(now, lag)
	if err != nil {
		b.Fatal(err)
	}
	seen, err := v.Body(55)
	if err != nil {
		b.Fatal(err)
	}
	from, to := lagcomp.Vec{X: seen.Pos.X, Y: -10}, lagcomp.Vec{X: seen.Pos.X, Y: 60}
	b.ReportAllocs()
	for b.Loop() {
		v, err := h.Rewind(now, lag)
		if err != nil {
			b.Fatal(err)
		}
		if hit, ok := v.Trace(from, to, 1); !ok || hit.Body.ID != 5 {
			b.Fatalf("the shot through the crowd hit %+v, %v; want entity 5", hit, ok)
		}
	}
}

// BenchmarkRewindBody rewinds and reads one entity's body.
func BenchmarkRewindBody(b *testing.B) {
	h := filled(b, 2*rate)
	now := tickTime(2 * rate)
	lag := lagcomp.Lag{RTT: 90 * time.Millisecond, Interp: 100 * time.Millisecond}
	b.ReportAllocs()
	for b.Loop() {
		v, err := h.Rewind(now, lag)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Body(50); err != nil {
			b.Fatal(err)
		}
	}
}
