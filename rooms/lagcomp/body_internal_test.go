package lagcomp

import (
	"math"
	"testing"
)

func TestSegmentSphere(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name     string
		from, to Vec
		c        Vec
		r        float64
		wantT    float64
		wantHit  bool
	}{
		{"through the centre", Vec{X: -10}, Vec{X: 10}, Vec{}, 1, 0.45, true},
		{"3D, along z", Vec{Z: -4}, Vec{Z: 4}, Vec{Z: 1}, 1, 0.5, true},
		{"grazing the edge", Vec{X: -10, Y: 1}, Vec{X: 10, Y: 1}, Vec{}, 1, 0.5, true},
		{"passing just outside", Vec{X: -10, Y: 1.0001}, Vec{X: 10, Y: 1.0001}, Vec{}, 1, 0, false},
		{"stopping short", Vec{X: -10}, Vec{X: -1.5}, Vec{}, 1, 0, false},
		{"ending on the surface", Vec{X: -10}, Vec{X: -1}, Vec{}, 1, 1, true},
		{"pointing away", Vec{X: 2}, Vec{X: 10}, Vec{}, 1, 0, false},
		{"starting inside", Vec{X: 0.5}, Vec{X: 10}, Vec{}, 1, 0, true},
		{"a point outside", Vec{X: 5}, Vec{X: 5}, Vec{}, 1, 0, false},
		{"a point inside", Vec{X: 0.5}, Vec{X: 0.5}, Vec{}, 1, 0, true},
		{"zero radius, hit exactly", Vec{X: -1}, Vec{X: 1}, Vec{}, 0, 0.5, true},
		{"negative radius", Vec{X: -10}, Vec{X: 10}, Vec{}, -1, 0, false},
		{"NaN radius", Vec{X: -10}, Vec{X: 10}, Vec{}, nan, 0, false},
		{"NaN centre", Vec{X: -10}, Vec{X: 10}, Vec{X: nan}, 1, 0, false},
		{"NaN start", Vec{X: nan}, Vec{X: 10}, Vec{}, 1, 0, false},
		{"infinite end", Vec{X: -10}, Vec{X: math.Inf(1)}, Vec{}, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := segmentSphere(tt.from, tt.to.Sub(tt.from), tt.c, tt.r)
			if ok != tt.wantHit || ok && math.Abs(got-tt.wantT) > 1e-12 {
				t.Errorf("segmentSphere = %v, %v; want %v, %v", got, ok, tt.wantT, tt.wantHit)
			}
		})
	}
}
