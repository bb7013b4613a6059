package snap

import (
	"math"
	"math/bits"
	"slices"
)

// grid is a uniform spatial grid over the positioned entities of a State:
// a view looks only at the cells its area overlaps.
type grid struct {
	cell    float64
	order   []int32          // entity indices, grouped by cell
	cells   map[cellKey]span // cell -> its range in order
	global  []int32          // entities without a position: in every view
	minC    cellKey          // bounds of the occupied cells
	maxC    cellKey
	indexed int // positioned entities with finite positions
}

type cellKey struct{ x, y int32 }

type span struct{ lo, hi int32 }

// newGrid indexes s's entities, with s.cell as the cell size or, if that
// is not positive, the larger side of first.
func newGrid(s *State, first Rect) *grid {
	cell := s.cell
	if !(cell > 0) || math.IsInf(cell, 0) {
		cell = max(first.MaxX-first.MinX, first.MaxY-first.MinY)
	}
	if !(cell > 0) || math.IsInf(cell, 0) {
		cell = 1
	}
	g := &grid{cell: cell, cells: make(map[cellKey]span)}
	type keyed struct {
		k cellKey
		i int32
	}
	var ks []keyed
	for i, e := range s.ents {
		switch {
		case !e.at:
			g.global = append(g.global, int32(i))
		case finite(e.x, e.y):
			ks = append(ks, keyed{g.key(e.x, e.y), int32(i)})
		}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if a.k.y != b.k.y {
			return int(a.k.y) - int(b.k.y)
		}
		return int(a.k.x) - int(b.k.x)
	})
	g.order = make([]int32, len(ks))
	g.indexed = len(ks)
	for j, k := range ks {
		g.order[j] = k.i
		sp, ok := g.cells[k.k]
		if !ok {
			sp.lo = int32(j)
		}
		sp.hi = int32(j + 1)
		g.cells[k.k] = sp
		if j == 0 {
			g.minC, g.maxC = k.k, k.k
		}
		g.minC = cellKey{min(g.minC.x, k.k.x), min(g.minC.y, k.k.y)}
		g.maxC = cellKey{max(g.maxC.x, k.k.x), max(g.maxC.y, k.k.y)}
	}
	return g
}

// coord returns the cell coordinate of v, clamped to int32.
func (g *grid) coord(v float64) int32 {
	c := math.Floor(v / g.cell)
	return int32(min(max(c, math.MinInt32), math.MaxInt32))
}

func (g *grid) key(x, y float64) cellKey { return cellKey{g.coord(x), g.coord(y)} }

// view returns the entities of s inside area and those without position.
func (g *grid) view(s *State, area Rect) *State {
	var stack [64]uint64 // up to 4096 entities without allocating
	set := stack[:0]
	if words := (len(s.ents) + 63) / 64; words <= len(stack) {
		set = stack[:words]
	} else {
		set = make([]uint64, words)
	}
	count := 0
	mark := func(i int32) {
		set[i/64] |= 1 << (i % 64)
		count++
	}
	for _, i := range g.global {
		mark(i)
	}
	if g.indexed > 0 && area.MinX <= area.MaxX && area.MinY <= area.MaxY {
		lo := g.key(area.MinX, area.MinY)
		hi := g.key(area.MaxX, area.MaxY)
		lo = cellKey{max(lo.x, g.minC.x), max(lo.y, g.minC.y)}
		hi = cellKey{min(hi.x, g.maxC.x), min(hi.y, g.maxC.y)}
		check := func(sp span) {
			for _, i := range g.order[sp.lo:sp.hi] {
				if e := &s.ents[i]; area.Contains(e.x, e.y) {
					mark(i)
				}
			}
		}
		if lo.x <= hi.x && lo.y <= hi.y {
			ncells := (int64(hi.x) - int64(lo.x) + 1) * (int64(hi.y) - int64(lo.y) + 1)
			if ncells > int64(len(g.cells)) {
				// An area wider than the occupied cells: visit those.
				for k, sp := range g.cells {
					if lo.x <= k.x && k.x <= hi.x && lo.y <= k.y && k.y <= hi.y {
						check(sp)
					}
				}
			} else {
				for y := lo.y; ; y++ {
					for x := lo.x; ; x++ {
						if sp, ok := g.cells[cellKey{x, y}]; ok {
							check(sp)
						}
						if x == hi.x {
							break
						}
					}
					if y == hi.y {
						break
					}
				}
			}
		}
	}
	return s.subset(set, count)
}

func bitsTrailingZeros(v uint64) int { return bits.TrailingZeros64(v) }
