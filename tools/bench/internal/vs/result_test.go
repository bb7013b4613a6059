package vs

import (
	"testing"
	"time"
)

func TestWireSize(t *testing.T) {
	tests := []struct {
		n, frame int
		masked   bool
		want     int
	}{
		{0, 16384, false, 2},
		{125, 16384, false, 127},
		{126, 16384, false, 130},
		{65535, 1 << 20, false, 65539},
		{65536, 1 << 20, false, 65546},
		{10, 16384, true, 16},
		{200, 16384, true, 208},
		// Split into frames of 100, 100 and 50 bytes, each with a 2-byte header.
		{250, 100, false, 256},
		{250, 100, true, 268},
		// 16 KiB + 1: one frame with a 4-byte header, one with a 2-byte one.
		{16385, 16384, false, 16385 + 4 + 2},
	}
	for _, tt := range tests {
		if got := wireSize(tt.n, tt.frame, tt.masked); got != tt.want {
			t.Errorf("wireSize(%d, %d, %v) = %d, want %d", tt.n, tt.frame, tt.masked, got, tt.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var v []time.Duration
	for i := 1; i <= 100; i++ {
		v = append(v, time.Duration(i))
	}
	tests := []struct {
		vals []time.Duration
		q    float64
		want time.Duration
	}{
		{nil, 0.5, 0},
		{v, 0.5, 50},
		{v, 0.99, 99},
		{v, 1, 100},
		{v, 0, 1},
		{v[:1], 0.99, 1},
	}
	for _, tt := range tests {
		if got := percentile(tt.vals, tt.q); got != tt.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.vals), tt.q, got, tt.want)
		}
	}
}
