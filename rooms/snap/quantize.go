package snap

import "math"

// Precision is the step of a quantized number: a value v travels as the
// integer nearest to v/p, which msgpack writes in 1 to 5 bytes for most
// game coordinates instead of the 9 of a float64. A client gets the value
// back as q*p.
//
// The error is bounded: for every finite v with |v/p| <= 2^53,
//
//	|p.Dequantize(p.Quantize(v)) - v| <= p/2 + |v|*2^-52
//
// that is half a step, plus float64 rounding of v itself. For example
// Precision(0.01) keeps positions to the nearest 0.005 world units.
// TestQuantizeErrorBound checks the bound on random values.
type Precision float64

// maxQuantum is the largest quantized magnitude: beyond it a float64 no
// longer holds every integer.
const maxQuantum = 1 << 53

// Quantize returns the integer nearest to v/p, halves rounded away from
// zero. Values beyond ±2^53 steps are clamped to ±2^53; NaN gives 0. A
// Precision that is not positive and finite quantizes every v to 0.
func (p Precision) Quantize(v float64) int64 {
	if !(p > 0) || math.IsInf(float64(p), 0) || math.IsNaN(v) {
		return 0
	}
	q := math.Round(v / float64(p))
	switch {
	case q > maxQuantum:
		return maxQuantum
	case q < -maxQuantum:
		return -maxQuantum
	}
	return int64(q)
}

// Dequantize returns the value that q stands for: q*p.
func (p Precision) Dequantize(q int64) float64 { return float64(q) * float64(p) }

// MaxAngleBits is the most bits QuantizeAngle uses.
const MaxAngleBits = 32

// QuantizeAngle maps an angle in radians, any real value, to an integer in
// [0, 2^bits) (bits is clamped to 1..MaxAngleBits): one turn in 2^bits
// equal steps, to the nearest step. Eight bits (one msgpack byte for
// values up to 127, two above) are plenty for a sprite's heading.
//
// For finite rad the error is at most half a step,
//
//	|DequantizeAngle(QuantizeAngle(rad, bits), bits) - rad| <= π/2^bits
//
// measured as the shortest distance between the two angles on the
// circle (and a float64 rounding of rad beyond that). NaN and ±Inf give 0.
func QuantizeAngle(rad float64, bits int) uint32 {
	bits = clampBits(bits)
	if math.IsNaN(rad) || math.IsInf(rad, 0) {
		return 0
	}
	steps := float64(uint64(1) << bits)
	turns := rad / (2 * math.Pi)
	turns -= math.Floor(turns) // [0, 1)
	q := uint64(math.Round(turns * steps))
	return uint32(q % uint64(steps))
}

// DequantizeAngle returns the angle in radians, in [0, 2π), that
// QuantizeAngle's q stands for.
func DequantizeAngle(q uint32, bits int) float64 {
	bits = clampBits(bits)
	return float64(q) * 2 * math.Pi / float64(uint64(1)<<bits)
}

func clampBits(bits int) int { return min(max(bits, 1), MaxAngleBits) }
