package netws

import (
	"encoding/binary"
	"fmt"
)

// opcode is the 4-bit frame opcode of RFC 6455 section 5.2.
type opcode byte

const (
	opContinuation opcode = 0x0
	opText         opcode = 0x1
	opBinary       opcode = 0x2
	opClose        opcode = 0x8
	opPing         opcode = 0x9
	opPong         opcode = 0xA
)

// isControl reports whether o is a control opcode (close, ping, pong or a
// reserved control opcode).
func (o opcode) isControl() bool { return o&0x8 != 0 }

// isReserved reports whether o is one of the opcodes RFC 6455 reserves for
// future use (0x3-0x7 and 0xB-0xF).
func (o opcode) isReserved() bool {
	return (o >= 0x3 && o <= 0x7) || o >= 0xB
}

func (o opcode) String() string {
	switch o {
	case opContinuation:
		return "continuation"
	case opText:
		return "text"
	case opBinary:
		return "binary"
	case opClose:
		return "close"
	case opPing:
		return "ping"
	case opPong:
		return "pong"
	}
	return fmt.Sprintf("reserved opcode 0x%X", byte(o))
}

const (
	// maxHeaderSize is the largest frame header: 2 bytes, an 8-byte
	// extended length and a 4-byte masking key.
	maxHeaderSize = 14

	// maxControlPayload is the largest payload a control frame may carry.
	maxControlPayload = 125

	finBit  = 0x80
	rsvBits = 0x70
	maskBit = 0x80
)

// frameHeader is a decoded frame header.
type frameHeader struct {
	fin    bool
	rsv    byte // the three RSV bits, in place (mask 0x70)
	op     opcode
	masked bool
	length int64
	key    [4]byte
}

// headerSize returns how many bytes the header starting with b0, b1 occupies.
func headerSize(b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// parseHeader decodes a complete header from b, which must hold at least
// headerSize(b[1]) bytes. It rejects what no valid frame can carry,
// independent of the connection's state: the 64-bit length with its most
// significant bit set, and lengths not encoded in the minimal form
// (RFC 6455 section 5.2: "the minimal number of bytes MUST be used").
func parseHeader(b []byte) (frameHeader, error) {
	var h frameHeader
	b0, b1 := b[0], b[1]
	h.fin = b0&finBit != 0
	h.rsv = b0 & rsvBits
	h.op = opcode(b0 & 0x0F)
	h.masked = b1&maskBit != 0
	i := 2
	switch l := b1 & 0x7F; l {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(b[2:]))
		i += 2
		if h.length < 126 {
			return h, fmt.Errorf("16-bit length %d is not minimally encoded", h.length)
		}
	case 127:
		u := binary.BigEndian.Uint64(b[2:])
		i += 8
		if u>>63 != 0 {
			return h, fmt.Errorf("64-bit length has its most significant bit set")
		}
		if u <= 0xFFFF {
			return h, fmt.Errorf("64-bit length %d is not minimally encoded", u)
		}
		h.length = int64(u)
	default:
		h.length = int64(l)
	}
	if h.masked {
		copy(h.key[:], b[i:i+4])
	}
	return h, nil
}

// putHeader encodes a frame header into b, which must have room for
// maxHeaderSize bytes, and returns the number of bytes written.
func putHeader(b []byte, fin bool, op opcode, length int, masked bool, key [4]byte) int {
	b0 := byte(op)
	if fin {
		b0 |= finBit
	}
	b[0] = b0
	var m byte
	if masked {
		m = maskBit
	}
	n := 2
	switch {
	case length <= 125:
		b[1] = m | byte(length)
	case length <= 0xFFFF:
		b[1] = m | 126
		binary.BigEndian.PutUint16(b[2:], uint16(length))
		n = 4
	default:
		b[1] = m | 127
		binary.BigEndian.PutUint64(b[2:], uint64(length))
		n = 10
	}
	if masked {
		copy(b[n:], key[:])
		n += 4
	}
	return n
}
