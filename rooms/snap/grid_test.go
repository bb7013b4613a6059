package snap

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestViewMatchesAScanOfEveryEntity(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 200 {
		w := newWorld(uint64(trial), rng.IntN(300))
		var tb Table
		tb.CellSize = []float64{0, 0.5, 37, 250, 5000, math.NaN()}[trial%6]
		w.fill(&tb)
		// Some entities at unusual positions.
		tb.Add(1_000_000).At(math.NaN(), 5).Int(1)
		tb.Add(1_000_001).At(math.Inf(1), 5).Int(1)
		tb.Add(1_000_002).At(-1e12, 1e12).Int(1)
		s, err := tb.Freeze(uint64(trial + 1))
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			area := randomRect(rng)
			got, want := ids(s.View(area)), brute(s, area)
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d, cell %v, area %+v: view has %v, a scan finds %v", trial, tb.CellSize, area, got, want)
			}
		}
	}
}

func TestViewSharesFieldsWithItsState(t *testing.T) {
	var tb Table
	tb.Add(1).At(0, 0).String("near")
	tb.Add(2).At(100, 100).String("far")
	tb.Add(3).String("everywhere")
	s, _ := tb.Freeze(7)
	v := s.View(Centered(0, 0, 10, 10))
	if v.Tick() != 7 || !slices.Equal(ids(v), []ID{1, 3}) {
		t.Fatalf("view: tick %d ids %v, want tick 7 ids [1 3]", v.Tick(), ids(v))
	}
	f, _ := v.Get(3)
	var str string
	if err := f.Decode(0, &str); err != nil || str != "everywhere" {
		t.Fatalf("field of entity 3 in the view: %q, %v", str, err)
	}
}
