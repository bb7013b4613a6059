package netws

import (
	"encoding/binary"
	"math/bits"
)

// maskBytes XORs b in place with the 4-byte masking key, starting at byte
// pos of the key (0..3), and returns the key position for the byte after b,
// so a payload can be unmasked in several chunks: pos = maskBytes(key, pos, chunk).
//
// Masking is its own inverse: applying it twice with the same key and
// starting position restores the original bytes (RFC 6455, section 5.3).
// A pos outside 0..3 is taken modulo 4.
func maskBytes(key [4]byte, pos int, b []byte) int {
	end := (pos + len(b)) & 3

	// k is the key as a little-endian word, rotated so that its low byte
	// is key[pos]. Each group of 4 bytes starts at the same key position,
	// so k stays in step with the data after any multiple of 4 bytes.
	k := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))

	if len(b) >= 8 {
		k64 := uint64(k) | uint64(k)<<32

		// The main loop takes 128 bytes while more than 128 remain: as
		// b never becomes empty there, advancing it is a single add,
		// where b = b[n:] that may empty b costs a few more dependent
		// instructions to keep the pointer inside the array.
		for len(b) > 128 {
			_ = b[127] // bounds check hint
			binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k64)
			binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^k64)
			binary.LittleEndian.PutUint64(b[16:24], binary.LittleEndian.Uint64(b[16:24])^k64)
			binary.LittleEndian.PutUint64(b[24:32], binary.LittleEndian.Uint64(b[24:32])^k64)
			binary.LittleEndian.PutUint64(b[32:40], binary.LittleEndian.Uint64(b[32:40])^k64)
			binary.LittleEndian.PutUint64(b[40:48], binary.LittleEndian.Uint64(b[40:48])^k64)
			binary.LittleEndian.PutUint64(b[48:56], binary.LittleEndian.Uint64(b[48:56])^k64)
			binary.LittleEndian.PutUint64(b[56:64], binary.LittleEndian.Uint64(b[56:64])^k64)
			binary.LittleEndian.PutUint64(b[64:72], binary.LittleEndian.Uint64(b[64:72])^k64)
			binary.LittleEndian.PutUint64(b[72:80], binary.LittleEndian.Uint64(b[72:80])^k64)
			binary.LittleEndian.PutUint64(b[80:88], binary.LittleEndian.Uint64(b[80:88])^k64)
			binary.LittleEndian.PutUint64(b[88:96], binary.LittleEndian.Uint64(b[88:96])^k64)
			binary.LittleEndian.PutUint64(b[96:104], binary.LittleEndian.Uint64(b[96:104])^k64)
			binary.LittleEndian.PutUint64(b[104:112], binary.LittleEndian.Uint64(b[104:112])^k64)
			binary.LittleEndian.PutUint64(b[112:120], binary.LittleEndian.Uint64(b[112:120])^k64)
			binary.LittleEndian.PutUint64(b[120:128], binary.LittleEndian.Uint64(b[120:128])^k64)
			b = b[128:]
		}
		// At most 128 bytes are left: at most two steps of 64, then at
		// most one each of 32, 16 and 8.
		for len(b) >= 64 {
			_ = b[63] // bounds check hint
			binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k64)
			binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^k64)
			binary.LittleEndian.PutUint64(b[16:24], binary.LittleEndian.Uint64(b[16:24])^k64)
			binary.LittleEndian.PutUint64(b[24:32], binary.LittleEndian.Uint64(b[24:32])^k64)
			binary.LittleEndian.PutUint64(b[32:40], binary.LittleEndian.Uint64(b[32:40])^k64)
			binary.LittleEndian.PutUint64(b[40:48], binary.LittleEndian.Uint64(b[40:48])^k64)
			binary.LittleEndian.PutUint64(b[48:56], binary.LittleEndian.Uint64(b[48:56])^k64)
			binary.LittleEndian.PutUint64(b[56:64], binary.LittleEndian.Uint64(b[56:64])^k64)
			b = b[64:]
		}
		if len(b) >= 32 {
			_ = b[31] // bounds check hint
			binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k64)
			binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^k64)
			binary.LittleEndian.PutUint64(b[16:24], binary.LittleEndian.Uint64(b[16:24])^k64)
			binary.LittleEndian.PutUint64(b[24:32], binary.LittleEndian.Uint64(b[24:32])^k64)
			b = b[32:]
		}
		if len(b) >= 16 {
			_ = b[15] // bounds check hint
			binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k64)
			binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^k64)
			b = b[16:]
		}
		if len(b) >= 8 {
			binary.LittleEndian.PutUint64(b[:8], binary.LittleEndian.Uint64(b[:8])^k64)
			b = b[8:]
		}
	}
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b[:4], binary.LittleEndian.Uint32(b[:4])^k)
		b = b[4:]
	}
	for i := range b {
		b[i] ^= byte(k)
		k >>= 8
	}
	return end
}
