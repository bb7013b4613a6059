package snap

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// movers returns two consecutive states of n entities that all moved,
// with fields as a typical action game sends them.
func movers(n int) (prev, cur *State, tb *Table) {
	rng := rand.New(rand.NewPCG(1, 2))
	type m struct{ x, y, vx, vy float64 }
	ms := make([]m, n)
	for i := range ms {
		ms[i] = m{rng.Float64() * 2000, rng.Float64() * 2000, rng.NormFloat64() * 5, rng.NormFloat64() * 5}
	}
	tb = &Table{CellSize: 600}
	fill := func() {
		tb.Reset()
		for i, m := range ms {
			tb.Add(ID(i+1)).At(m.x, m.y).Fixed(m.x, 0.1).Fixed(m.y, 0.1).Angle(m.vx, 8).Uint(100).String(fmt.Sprint("ship-", i))
		}
	}
	fill()
	prev, _ = tb.Freeze(1)
	for i := range ms {
		ms[i].x += ms[i].vx
		ms[i].y += ms[i].vy
	}
	fill()
	cur, _ = tb.Freeze(2)
	return prev, cur, tb
}

func BenchmarkFreeze(b *testing.B) {
	_, _, tb := movers(100)
	b.ReportAllocs()
	for range b.N {
		tb.Freeze(3)
	}
}

func BenchmarkAppendDelta(b *testing.B) {
	prev, cur, _ := movers(100)
	for _, bc := range []struct {
		name string
		base *State
	}{{"full", nil}, {"delta", prev}} {
		b.Run(bc.name, func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			for range b.N {
				buf = AppendDelta(buf[:0], bc.base, cur)
			}
			b.ReportMetric(float64(len(buf)), "bytes")
		})
	}
}

func BenchmarkView(b *testing.B) {
	_, cur, _ := movers(100)
	cur.View(Centered(1000, 1000, 600, 600)) // build the grid
	b.ReportAllocs()
	for i := range b.N {
		cur.View(Centered(float64(i%2000), 1000, 600, 600))
	}
}

// BenchmarkApply applies a full snapshot of 100 entities, then a delta
// in which they all moved.
func BenchmarkApply(b *testing.B) {
	prev, cur, _ := movers(100)
	delta := AppendDelta(nil, prev, cur)
	full := AppendDelta(nil, nil, prev)
	var a Applier
	b.ReportAllocs()
	for range b.N {
		a.Reset()
		if _, err := a.Apply(1, full); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Apply(2, delta); err != nil {
			b.Fatal(err)
		}
	}
}
