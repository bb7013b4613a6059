package netws

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// maskNaive is the byte-at-a-time definition of masking from RFC 6455,
// section 5.3. It is the oracle for maskBytes.
func maskNaive(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// maskReference is a benchmark baseline in the style of the fastest popular
// pure-Go WebSocket libraries: the key widened to a uint64, an unrolled loop
// XORing eight 8-byte words per iteration while re-slicing b, then single
// words, then a byte-at-a-time tail.
func maskReference(key [4]byte, pos int, b []byte) int {
	end := (pos + len(b)) & 3
	pos &= 3
	k32 := uint32(key[pos]) | uint32(key[(pos+1)&3])<<8 |
		uint32(key[(pos+2)&3])<<16 | uint32(key[(pos+3)&3])<<24
	k := uint64(k32)<<32 | uint64(k32)
	for len(b) >= 64 {
		v := binary.LittleEndian.Uint64(b)
		binary.LittleEndian.PutUint64(b, v^k)
		v = binary.LittleEndian.Uint64(b[8:16])
		binary.LittleEndian.PutUint64(b[8:16], v^k)
		v = binary.LittleEndian.Uint64(b[16:24])
		binary.LittleEndian.PutUint64(b[16:24], v^k)
		v = binary.LittleEndian.Uint64(b[24:32])
		binary.LittleEndian.PutUint64(b[24:32], v^k)
		v = binary.LittleEndian.Uint64(b[32:40])
		binary.LittleEndian.PutUint64(b[32:40], v^k)
		v = binary.LittleEndian.Uint64(b[40:48])
		binary.LittleEndian.PutUint64(b[40:48], v^k)
		v = binary.LittleEndian.Uint64(b[48:56])
		binary.LittleEndian.PutUint64(b[48:56], v^k)
		v = binary.LittleEndian.Uint64(b[56:64])
		binary.LittleEndian.PutUint64(b[56:64], v^k)
		b = b[64:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b[:8], binary.LittleEndian.Uint64(b[:8])^k)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return end
}

// randBytes returns n pseudo-random bytes.
func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// randKey returns a pseudo-random masking key.
func randKey(r *rand.Rand) [4]byte {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], r.Uint32())
	return k
}

// maskLengths lists every length up to 300 and a few large ones.
func maskLengths() []int {
	var ns []int
	for n := 0; n <= 300; n++ {
		ns = append(ns, n)
	}
	return append(ns, 1023, 1024, 1025, 4093, 4096, 65536+7)
}

// TestMaskBytes compares maskBytes, and the benchmark reference, with
// maskNaive for every key position, every length up to 300 and some large
// ones, checking that nothing outside b is written and that masking twice
// restores the input.
func TestMaskBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := [][4]byte{{}, {0xff, 0xff, 0xff, 0xff}, {1, 2, 3, 4}, randKey(r), randKey(r)}
	impls := []struct {
		name string
		fn   func([4]byte, int, []byte) int
	}{
		{"netws", maskBytes},
		{"reference", maskReference},
	}
	for _, impl := range impls {
		for _, key := range keys {
			for pos := range 4 {
				for _, n := range maskLengths() {
					// Surround the payload with canaries to catch
					// writes outside b.
					buf := randBytes(r, n+16)
					orig := bytes.Clone(buf)
					want := bytes.Clone(buf[8 : 8+n])
					wantPos := maskNaive(key, pos, want)

					got := buf[8 : 8+n : 8+n]
					gotPos := impl.fn(key, pos, got)
					if gotPos != wantPos {
						t.Fatalf("%s(key=%x, pos=%d, len=%d) = %d, want %d", impl.name, key, pos, n, gotPos, wantPos)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("%s(key=%x, pos=%d, len=%d): wrong bytes", impl.name, key, pos, n)
					}
					if !bytes.Equal(buf[:8], orig[:8]) || !bytes.Equal(buf[8+n:], orig[8+n:]) {
						t.Fatalf("%s(key=%x, pos=%d, len=%d): wrote outside the slice", impl.name, key, pos, n)
					}
					// Masking is an involution.
					impl.fn(key, pos, got)
					if !bytes.Equal(buf, orig) {
						t.Fatalf("%s(key=%x, pos=%d, len=%d): masking twice is not the identity", impl.name, key, pos, n)
					}
				}
			}
		}
	}
}

// TestMaskBytesPosRange checks that positions past 3 wrap around.
func TestMaskBytesPosRange(t *testing.T) {
	// Positions outside 0..3 are taken modulo 4, like the naive loop.
	key := [4]byte{0x11, 0x22, 0x33, 0x44}
	for pos := range 12 {
		for _, n := range []int{0, 1, 3, 5, 9, 70} {
			got := make([]byte, n)
			want := make([]byte, n)
			if p, q := maskBytes(key, pos, got), maskNaive(key, pos, want); p != q || !bytes.Equal(got, want) {
				t.Errorf("maskBytes(pos=%d, len=%d) = %d %x, want %d %x", pos, n, p, got, q, want)
			}
		}
	}
}

// TestMaskBytesChunked checks that masking a payload in random chunks,
// carrying the key position, equals masking it at once.
func TestMaskBytesChunked(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for iter := range 2000 {
		n := r.IntN(600)
		if iter%100 == 0 {
			n = 20000 + r.IntN(100)
		}
		key := randKey(r)
		pos0 := r.IntN(4)
		payload := randBytes(r, n)

		want := bytes.Clone(payload)
		wantPos := maskNaive(key, pos0, want)

		got := bytes.Clone(payload)
		pos := pos0
		for rest := got; ; {
			m := 0
			if len(rest) > 0 {
				m = r.IntN(len(rest) + 1)
			}
			pos = maskBytes(key, pos, rest[:m])
			rest = rest[m:]
			if len(rest) == 0 {
				break
			}
		}
		if pos != wantPos || !bytes.Equal(got, want) {
			t.Fatalf("chunked masking of %d bytes (key=%x, pos=%d) differs from one-shot", n, key, pos0)
		}
	}
}

// TestMaskBytesAllocs checks that maskBytes does not allocate.
func TestMaskBytesAllocs(t *testing.T) {
	b := make([]byte, 1000)
	key := [4]byte{1, 2, 3, 4}
	if n := testing.AllocsPerRun(100, func() { maskBytes(key, 1, b) }); n != 0 {
		t.Errorf("maskBytes allocates %v times, want 0", n)
	}
}

// maskSink keeps the benchmark results alive.
var maskSink int

// BenchmarkMask compares maskBytes with maskReference across frame sizes.
func BenchmarkMask(b *testing.B) {
	impls := []struct {
		name string
		fn   func([4]byte, int, []byte) int
	}{
		{"netws", maskBytes},
		{"reference", maskReference},
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			for _, n := range []int{16, 64, 256, 1024, 4096, 16384} {
				b.Run(fmt.Sprint(n), func(b *testing.B) {
					buf := make([]byte, n)
					b.SetBytes(int64(n))
					b.ReportAllocs()
					pos := 0
					for b.Loop() {
						pos = impl.fn(key, pos, buf)
					}
					maskSink = pos
				})
			}
		})
	}
}
