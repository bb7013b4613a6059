package snap

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestQuantizeErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range []Precision{1, 0.5, 0.1, 0.01, 0.001, 1.0 / 3, 1e-6, 7.25} {
		for range 20000 {
			// Magnitudes across many scales, up to 2^50 steps.
			v := (rng.Float64()*2 - 1) * math.Pow(2, rng.Float64()*50) * float64(p)
			q := p.Quantize(v)
			got := p.Dequantize(q)
			bound := float64(p)/2 + math.Abs(v)*0x1p-52
			if err := math.Abs(got - v); err > bound {
				t.Fatalf("Precision(%v): %v -> %d -> %v: error %g over the bound %g", p, v, q, got, err, bound)
			}
		}
	}
}

func TestQuantizeEdges(t *testing.T) {
	tests := []struct {
		p    Precision
		v    float64
		want int64
	}{
		{0.1, 0, 0},
		{0.1, 0.05, 1}, // halves round away from zero
		{1, -2.5, -3},
		{1, 2.4999, 2},
		{1, math.NaN(), 0},
		{1, math.Inf(1), maxQuantum},
		{1, math.Inf(-1), -maxQuantum},
		{1, 1e300, maxQuantum},
		{0, 5, 0},
		{-1, 5, 0},
		{Precision(math.Inf(1)), 5, 0},
	}
	for _, tt := range tests {
		if got := tt.p.Quantize(tt.v); got != tt.want {
			t.Errorf("Precision(%v).Quantize(%v) = %d, want %d", tt.p, tt.v, got, tt.want)
		}
	}
}

// angleDist is the distance between two angles on the circle.
func angleDist(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 2*math.Pi)
	return min(d, 2*math.Pi-d)
}

func TestQuantizeAngleErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bits := range []int{1, 4, 8, 10, 16, 24, 32} {
		steps := uint64(1) << bits
		for range 20000 {
			rad := (rng.Float64()*2 - 1) * 100
			q := QuantizeAngle(rad, bits)
			if uint64(q) >= steps {
				t.Fatalf("QuantizeAngle(%v, %d) = %d, not below 2^%d", rad, bits, q, bits)
			}
			got := DequantizeAngle(q, bits)
			if got < 0 || got >= 2*math.Pi {
				t.Fatalf("DequantizeAngle(%d, %d) = %v, not in [0, 2π)", q, bits, got)
			}
			bound := math.Pi/float64(steps) + math.Abs(rad)*0x1p-50
			if d := angleDist(got, rad); d > bound {
				t.Fatalf("%d bits: %v -> %d -> %v: error %g over %g", bits, rad, q, got, d, bound)
			}
		}
	}
	for _, rad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if q := QuantizeAngle(rad, 8); q != 0 {
			t.Errorf("QuantizeAngle(%v, 8) = %d, want 0", rad, q)
		}
	}
	if q := QuantizeAngle(2*math.Pi-1e-9, 8); q != 0 {
		t.Errorf("an angle just under a full turn quantized to %d, want 0 (wrapped)", q)
	}
	if q, want := QuantizeAngle(math.Pi, 0), uint32(1); q != want {
		t.Errorf("bits below 1 are clamped: QuantizeAngle(π, 0) = %d, want %d", q, want)
	}
}
