package crowd

import (
	"math"
	"testing"
)

// TestWorldMatchesColyseus pins a world's state after 120 steps with one
// steering input to the figures colyseus/crowd.mjs computes for the same
// calls, so that both servers simulate the same crowd:
//
//	node -e 'import("./crowd.mjs").then(({World}) => { const w = new World(3, 1000);
//	  for (let k = 0; k < 120; k++) { if (k == 7) w.steer(1, 0.1); w.step(1/60); }
//	  console.log(JSON.stringify([w.x, w.y, w.vx, w.vy].map(a => Array.from(a)))) })'
//
// run in tools/bench/colyseus.
func TestWorldMatchesColyseus(t *testing.T) {
	w := NewWorld(3, 1000)
	for k := range 120 {
		if k == 7 {
			w.Steer(1, 0.1)
		}
		w.Step(1.0 / 60)
	}
	want := [][]float64{
		{256.2176074340209, 890.3838621958274, 799.8564642663359},
		{882.0654732528283, 796.4408553016359, 815.5588375783327},
		{-30.187963090314614, -3.9007942985825643, 70.2931418221083},
		{3.1792440628209393, -89.20790331503395, 53.57465326817423},
	}
	for i, got := range [][]float64{w.X, w.Y, w.VX, w.VY} {
		name := []string{"x", "y", "vx", "vy"}[i]
		for j := range got {
			if math.Abs(got[j]-want[i][j]) > 1e-9 {
				t.Errorf("%s[%d] = %v, crowd.mjs has %v", name, j, got[j], want[i][j])
			}
		}
	}
}

func TestWorldStaysInside(t *testing.T) {
	w := NewWorld(200, 100)
	for range 10000 {
		w.Step(1.0 / 60)
	}
	for i := range w.X {
		if w.X[i] < 0 || w.X[i] > 100 || w.Y[i] < 0 || w.Y[i] > 100 {
			t.Fatalf("entity %d left the world: (%v, %v)", i, w.X[i], w.Y[i])
		}
	}
}

func TestSteer(t *testing.T) {
	tests := []struct {
		name   string
		slot   int
		turn   float64
		entity int     // the entity that turns; -1 for none
		angle  float64 // how much it turns
	}{
		{"small turn", 0, 0.1, 0, 0.1},
		{"clamped", 1, 3, 1, 0.5},
		{"clamped negative", 1, -3, 1, -0.5},
		{"slot wraps around", 5, 0.2, 1, 0.2},
		{"NaN ignored", 0, math.NaN(), -1, 0},
		{"Inf ignored", 0, math.Inf(1), -1, 0},
		{"negative slot ignored", -1, 0.2, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWorld(4, 1000)
			before := NewWorld(4, 1000)
			w.Steer(tt.slot, tt.turn)
			for i := range w.VX {
				turned := math.Atan2(w.VY[i], w.VX[i]) - math.Atan2(before.VY[i], before.VX[i])
				turned = math.Remainder(turned, 2*math.Pi)
				want := 0.0
				if i == tt.entity {
					want = tt.angle
				}
				if math.Abs(turned-want) > 1e-12 {
					t.Errorf("entity %d turned %v, want %v", i, turned, want)
				}
				if s0, s1 := math.Hypot(before.VX[i], before.VY[i]), math.Hypot(w.VX[i], w.VY[i]); math.Abs(s0-s1) > 1e-9 {
					t.Errorf("entity %d changed speed: %v to %v", i, s0, s1)
				}
			}
		})
	}
}

func TestTurnAlternates(t *testing.T) {
	if Turn(1) != 0.1 || Turn(2) != -0.1 || Turn(3) != 0.1 {
		t.Errorf("Turn(1..3) = %v %v %v, want 0.1 -0.1 0.1 as crowd.mjs", Turn(1), Turn(2), Turn(3))
	}
}
