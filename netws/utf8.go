package netws

import (
	"encoding/binary"
	"unicode/utf8"
)

// utf8Validator checks UTF-8 incrementally, across any split of the input.
// The zero value is ready to use.
//
// Validity is that of [utf8.Valid]: overlong encodings, surrogate halves,
// code points above U+10FFFF, stray continuation bytes and truncated
// sequences are all rejected. The validator fails fast (RFC 6455, section
// 8.1): write reports the error in the call that delivers the first byte
// that cannot continue a valid stream, without waiting for the rest of the
// sequence or of the message.
type utf8Validator struct {
	need   uint8 // continuation bytes still expected in the current sequence
	lo, hi uint8 // inclusive range for the next byte while need > 0
	failed bool  // the stream cannot be valid UTF-8
}

// Bounds of a continuation byte.
const (
	contLo = 0x80
	contHi = 0xBF
)

// hiBits has the high bit of each byte of a word set; a word of ASCII
// bytes has none of them.
const hiBits = 0x8080808080808080

// acceptRange is the inclusive range of values allowed for the byte that
// follows the first byte of a sequence.
type acceptRange struct{ lo, hi uint8 }

// utf8Ranges is indexed by the high nibble of a utf8Lead entry. The byte
// after most first bytes may be any continuation byte; a few first bytes
// narrow it to rule out overlong forms, surrogates and code points above
// U+10FFFF. The array has 16 entries so that a nibble needs no bounds check.
var utf8Ranges = [16]acceptRange{
	0: {contLo, contHi},
	1: {0xA0, contHi}, // after E0: no overlong 3-byte forms
	2: {contLo, 0x9F}, // after ED: no surrogates U+D800..U+DFFF
	3: {0x90, contHi}, // after F0: no overlong 4-byte forms
	4: {contLo, 0x8F}, // after F4: nothing above U+10FFFF
}

// utf8Lead describes each byte value as the first byte of a sequence. The
// low nibble is the length of the sequence, 0 for a byte that cannot start
// one (a continuation byte, C0, C1, F5..FF); the high nibble is the
// utf8Ranges index for the byte that follows.
var utf8Lead = func() (t [256]uint8) {
	for c := 0x00; c <= 0x7F; c++ {
		t[c] = 1
	}
	for c := 0xC2; c <= 0xDF; c++ {
		t[c] = 2
	}
	for c := 0xE0; c <= 0xEF; c++ {
		t[c] = 3
	}
	for c := 0xF0; c <= 0xF4; c++ {
		t[c] = 4
	}
	t[0xE0] |= 1 << 4
	t[0xED] |= 2 << 4
	t[0xF0] |= 3 << 4
	t[0xF4] |= 4 << 4
	return t
}()

// write validates the next chunk of the stream. It returns false as soon
// as the stream seen so far cannot be the prefix of valid UTF-8; once it has
// returned false it keeps returning false until reset.
func (v *utf8Validator) write(p []byte) bool {
	if v.failed {
		return false
	}

	// Finish the sequence that the previous chunk left open.
	for v.need > 0 {
		if len(p) == 0 {
			return true
		}
		if c := p[0]; c < v.lo || v.hi < c {
			return v.fail()
		}
		p = p[1:]
		v.need--
		v.lo, v.hi = contLo, contHi
	}

	// Full slicing spares the compiler from tracking the capacity, and the
	// strict "len(p) > n" tests on the ASCII path keep p from pointing past
	// the end of its array, which would cost extra instructions.
	p = p[:len(p):len(p)]
	for len(p) > 0 {
		c := p[0]
		if c < utf8.RuneSelf {
			p = p[1:]
			// Text that has one ASCII byte usually has more: skip
			// what follows 8, then 32, then 8 bytes at a time.
			if len(p) > 8 && binary.LittleEndian.Uint64(p)&hiBits == 0 {
				p = p[8:]
				for len(p) > 32 && ascii32(p) {
					p = p[32:]
				}
				for len(p) > 8 && binary.LittleEndian.Uint64(p)&hiBits == 0 {
					p = p[8:]
				}
			}
			continue
		}

		x := utf8Lead[c]
		switch x & 7 {
		case 2:
			// C2..DF: the next byte may be any continuation byte.
			if len(p) < 2 {
				return v.open(nil, 1, acceptRange{contLo, contHi})
			}
			if p[1]&0xC0 != 0x80 {
				return v.fail()
			}
			p = p[2:]
		case 3:
			r := utf8Ranges[x>>4]
			if len(p) < 3 {
				return v.open(p[1:], 2, r)
			}
			if c1, c2 := p[1], p[2]; c1 < r.lo || r.hi < c1 || c2&0xC0 != 0x80 {
				return v.fail()
			}
			p = p[3:]
		case 4:
			r := utf8Ranges[x>>4]
			if len(p) < 4 {
				return v.open(p[1:], 3, r)
			}
			if c1, c2, c3 := p[1], p[2], p[3]; c1 < r.lo || r.hi < c1 || c2&0xC0 != 0x80 || c3&0xC0 != 0x80 {
				return v.fail()
			}
			p = p[4:]
		default:
			// A continuation byte, C0, C1 or F5..FF.
			return v.fail()
		}
	}
	return true
}

// open checks a sequence that the chunk cuts short and records what the
// next chunk must supply. The sequence takes need more bytes after its
// first; rest holds the fewer than need of them that the chunk has, and r
// is the range for the first of them. It reports whether rest is valid.
func (v *utf8Validator) open(rest []byte, need int, r acceptRange) bool {
	lo, hi := r.lo, r.hi
	for _, c := range rest {
		if c < lo || hi < c {
			return v.fail()
		}
		lo, hi = contLo, contHi
		need--
	}
	v.need, v.lo, v.hi = uint8(need), lo, hi
	return true
}

// fail marks the stream as invalid and returns false.
func (v *utf8Validator) fail() bool {
	v.failed = true
	return false
}

// complete reports whether the stream seen so far is valid and ends on a
// character boundary (no partial sequence pending). Call at the end of a message.
func (v *utf8Validator) complete() bool {
	return !v.failed && v.need == 0
}

// reset prepares v for a new message.
func (v *utf8Validator) reset() {
	*v = utf8Validator{}
}

// ascii32 reports whether the first 32 bytes of p are all ASCII.
func ascii32(p []byte) bool {
	_ = p[31] // bounds check hint
	w := binary.LittleEndian.Uint64(p[0:8]) | binary.LittleEndian.Uint64(p[8:16]) |
		binary.LittleEndian.Uint64(p[16:24]) | binary.LittleEndian.Uint64(p[24:32])
	return w&hiBits == 0
}

// validUTF8 reports whether p is complete valid UTF-8 (used for close reasons).
// It accepts exactly what utf8Validator accepts.
func validUTF8(p []byte) bool {
	return utf8.Valid(p)
}
