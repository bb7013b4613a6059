package snap

import (
	"encoding/binary"
	"math"
)

// Appenders for the msgpack forms the package writes itself, each in
// msgpack's shortest encoding, so building a table does not go through
// reflection.

func appendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 0x7F:
		return append(b, byte(v))
	case v <= 0xFF:
		return append(b, 0xCC, byte(v))
	case v <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, 0xCD), uint16(v))
	case v <= 0xFFFFFFFF:
		return binary.BigEndian.AppendUint32(append(b, 0xCE), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xCF), v)
}

func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendUint(b, uint64(v))
	case v >= -32:
		return append(b, byte(v)) // negative fixint
	case v >= math.MinInt8:
		return append(b, 0xD0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xD1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xD2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xD3), uint64(v))
}

func appendFloat64(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 0xCB), math.Float64bits(v))
}

func appendFloat32(b []byte, v float32) []byte {
	return binary.BigEndian.AppendUint32(append(b, 0xCA), math.Float32bits(v))
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xC3)
	}
	return append(b, 0xC2)
}

func appendString(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n <= 31:
		b = append(b, 0xA0|byte(n))
	case n <= 0xFF:
		b = append(b, 0xD9, byte(n))
	case n <= 0xFFFF:
		b = binary.BigEndian.AppendUint16(append(b, 0xDA), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xDB), uint32(n))
	}
	return append(b, s...)
}

func appendArrayLen(b []byte, n int) []byte {
	switch {
	case n <= 15:
		return append(b, 0x90|byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, 0xDC), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xDD), uint32(n))
}
