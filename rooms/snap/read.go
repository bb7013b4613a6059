package snap

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// reader walks a msgpack encoding without copying: the Applier reads
// deltas with it and keeps each field as a slice of the input.
type reader struct {
	b   []byte
	pos int
}

var errShort = errors.New("unexpected end of input")

// maxDepth bounds the nesting of field values, so a hostile delta cannot
// exhaust the stack.
const maxDepth = 100

func (r *reader) left() int { return len(r.b) - r.pos }

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errShort
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// next returns the next n bytes.
func (r *reader) next(n int) ([]byte, error) {
	if n < 0 || n > r.left() {
		return nil, errShort
	}
	p := r.b[r.pos : r.pos+n]
	r.pos += n
	return p, nil
}

// uintN reads a big-endian unsigned integer of size bytes.
func (r *reader) uintN(size int) (uint64, error) {
	p, err := r.next(size)
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return uint64(p[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(p)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(p)), nil
	}
	return binary.BigEndian.Uint64(p), nil
}

// unsigned reads a non-negative integer in any of msgpack's integer forms.
func (r *reader) unsigned() (uint64, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c <= 0x7F:
		return uint64(c), nil
	case c >= 0xCC && c <= 0xCF:
		return r.uintN(1 << (c - 0xCC))
	case c >= 0xD0 && c <= 0xD3:
		size := 1 << (c - 0xD0)
		v, err := r.uintN(size)
		if err != nil {
			return 0, err
		}
		if v>>(uint(size)*8-1)&1 == 1 {
			return 0, errors.New("negative integer")
		}
		return v, nil
	case c >= 0xE0:
		return 0, errors.New("negative integer")
	}
	return 0, fmt.Errorf("want an integer, got msgpack code %#x", c)
}

// arrayLen reads an array header, refusing lengths the rest of the input
// cannot hold (every element takes at least a byte).
func (r *reader) arrayLen() (int, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	var n uint64
	switch {
	case c >= 0x90 && c <= 0x9F:
		n = uint64(c & 0x0F)
	case c == 0xDC:
		n, err = r.uintN(2)
	case c == 0xDD:
		n, err = r.uintN(4)
	default:
		return 0, fmt.Errorf("want an array, got msgpack code %#x", c)
	}
	if err != nil {
		return 0, err
	}
	if n > uint64(r.left()) {
		return 0, fmt.Errorf("array of %d elements in %d bytes", n, r.left())
	}
	return int(n), nil
}

// raw returns the encoding of the next value, whatever it is.
func (r *reader) raw() ([]byte, error) {
	start := r.pos
	if err := r.skip(0); err != nil {
		return nil, err
	}
	return r.b[start:r.pos], nil
}

// skip moves past one value.
func (r *reader) skip(depth int) error {
	if depth > maxDepth {
		return errors.New("values nested too deep")
	}
	c, err := r.byte()
	if err != nil {
		return err
	}
	var size uint64  // bytes of payload to skip
	var items uint64 // values to skip after that
	switch {
	case c <= 0x7F, c >= 0xE0, c == 0xC0, c == 0xC2, c == 0xC3:
	case c >= 0x80 && c <= 0x8F:
		items = 2 * uint64(c&0x0F)
	case c >= 0x90 && c <= 0x9F:
		items = uint64(c & 0x0F)
	case c >= 0xA0 && c <= 0xBF:
		size = uint64(c & 0x1F)
	case c >= 0xC4 && c <= 0xC6: // bin 8/16/32
		size, err = r.uintN(1 << (c - 0xC4))
	case c >= 0xC7 && c <= 0xC9: // ext 8/16/32: length, type, data
		size, err = r.uintN(1 << (c - 0xC7))
		size++
	case c == 0xCA:
		size = 4
	case c == 0xCB:
		size = 8
	case c >= 0xCC && c <= 0xCF:
		size = 1 << (c - 0xCC)
	case c >= 0xD0 && c <= 0xD3:
		size = 1 << (c - 0xD0)
	case c >= 0xD4 && c <= 0xD8: // fixext 1/2/4/8/16: type, data
		size = 1 + 1<<(c-0xD4)
	case c >= 0xD9 && c <= 0xDB: // str 8/16/32
		size, err = r.uintN(1 << (c - 0xD9))
	case c == 0xDC || c == 0xDD:
		items, err = r.uintN(2 << (c - 0xDC))
	case c == 0xDE || c == 0xDF:
		items, err = r.uintN(2 << (c - 0xDE))
		items *= 2
	default: // 0xC1, never used
		return fmt.Errorf("invalid msgpack code %#x", c)
	}
	if err != nil {
		return err
	}
	if size > uint64(r.left()) || items > uint64(r.left()) {
		return errShort
	}
	r.pos += int(size)
	for range items {
		if err := r.skip(depth + 1); err != nil {
			return err
		}
	}
	return nil
}
