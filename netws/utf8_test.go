package netws

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// utf8Completions are the endings tried by completable. A sequence that is
// cut short can always be finished by the smallest byte its next position
// allows (0x80, 0x90 after F0 or 0xA0 after E0) followed by 0x80s.
var utf8Completions = func() [][]byte {
	ts := [][]byte{nil}
	for _, first := range []byte{0x80, 0x90, 0xA0} {
		for n := 1; n <= 3; n++ {
			t := append([]byte{first}, bytes.Repeat([]byte{0x80}, n-1)...)
			ts = append(ts, t)
		}
	}
	return ts
}()

// completable reports whether s, the start of a single sequence, can be
// extended to valid UTF-8.
func completable(s []byte) bool {
	for _, t := range utf8Completions {
		if utf8.Valid(append(bytes.Clone(s), t...)) {
			return true
		}
	}
	return false
}

// validPrefixLen returns the length of the longest prefix of p that is the
// prefix of some valid UTF-8 string: the index of the byte at which a
// fail-fast validator must stop, or len(p) if it must not. It is built on
// package utf8 alone and is the oracle for the fail-fast tests.
func validPrefixLen(p []byte) int {
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		if r != utf8.RuneError || size > 1 {
			i += size
			continue
		}
		// p[i:] starts with a bad or cut-short sequence; at most its
		// first 3 bytes can be a valid start of one.
		k := 1
		for i+k <= len(p) && completable(p[i:i+k]) {
			k++
		}
		return i + k - 1
	}
	return len(p)
}

// utf8MixedLong is valid text with characters of every encoded length.
var utf8MixedLong = strings.Repeat("ab κόσμε 世界 🌍 ", 10)

// utf8Cases lists streams with the index of the byte that must make the
// validator fail (-1 when none does: the stream is valid or cut short) and
// whether the whole is valid.
var utf8Cases = []struct {
	name   string
	in     string
	failAt int
	valid  bool
}{
	{"empty", "", -1, true},
	{"latin", "Hello-µ@ßöäüàá-UTF-8!!", -1, true},
	{"kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", -1, true},
	{"kosme+surrogate", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 12, false},
	{"kosme+truncated", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4", -1, false},

	// Boundaries of each sequence length.
	{"U+0000", "\x00", -1, true},
	{"U+007F", "\x7f", -1, true},
	{"U+0080", "\xc2\x80", -1, true},
	{"U+07FF", "\xdf\xbf", -1, true},
	{"U+0800", "\xe0\xa0\x80", -1, true},
	{"U+D7FF", "\xed\x9f\xbf", -1, true},
	{"U+E000", "\xee\x80\x80", -1, true},
	{"U+FFFD", "\xef\xbf\xbd", -1, true},
	{"U+FFFF", "\xef\xbf\xbf", -1, true},
	{"U+10000", "\xf0\x90\x80\x80", -1, true},
	{"U+10FFFF", "\xf4\x8f\xbf\xbf", -1, true},
	{"U+110000", "\xf4\x90\x80\x80", 1, false},
	{"F4 90", "\xf4\x90", 1, false},
	{"U+13FFFF", "\xf4\xbf\xbf\xbf", 1, false},
	{"F5", "\xf5\x80\x80\x80", 0, false},
	{"F7", "\xf7\xbf\xbf\xbf", 0, false},
	{"F8 5-byte", "\xf8\x88\x80\x80\x80", 0, false},
	{"FC 6-byte", "\xfc\x84\x80\x80\x80\x80", 0, false},
	{"FE", "\xfe", 0, false},
	{"FF", "\xff", 0, false},
	{"FE FE FF FF", "\xfe\xfe\xff\xff", 0, false},

	// Overlong forms.
	{"overlong / 2", "\xc0\xaf", 0, false},
	{"overlong / C1", "\xc1\xbf", 0, false},
	{"overlong / 3", "\xe0\x80\xaf", 1, false},
	{"overlong U+07FF", "\xe0\x9f\xbf", 1, false},
	{"overlong / 4", "\xf0\x80\x80\xaf", 1, false},
	{"overlong U+FFFF", "\xf0\x8f\xbf\xbf", 1, false},
	{"overlong / 5", "\xf8\x80\x80\x80\xaf", 0, false},
	{"overlong NUL", "\xc0\x80", 0, false},

	// Surrogates.
	{"U+D800", "\xed\xa0\x80", 1, false},
	{"U+DBFF", "\xed\xaf\xbf", 1, false},
	{"U+DC00", "\xed\xb0\x80", 1, false},
	{"U+DFFF", "\xed\xbf\xbf", 1, false},
	{"surrogate pair", "\xed\xa0\x80\xed\xb0\x80", 1, false},

	// Stray continuation bytes.
	{"cont 80", "\x80", 0, false},
	{"cont BF", "\xbf", 0, false},
	{"cont after ascii", "ab\x80cd", 2, false},
	{"cont after 2-byte", "\xc2\x80\x80", 2, false},
	{"cont after 3-byte", "\xe2\x82\xac\xbf", 3, false},
	{"cont after 4-byte", "\xf0\x9f\x98\x80\x80", 4, false},

	// Truncated and interrupted sequences.
	{"truncated 2/1", "\xc2", -1, false},
	{"truncated 3/1", "\xe2", -1, false},
	{"truncated 3/2", "\xe2\x82", -1, false},
	{"truncated 4/1", "\xf0", -1, false},
	{"truncated 4/2", "\xf0\x9f", -1, false},
	{"truncated 4/3", "\xf0\x9f\x98", -1, false},
	{"interrupted 2", "\xc2A", 1, false},
	{"interrupted 3", "\xe2\x82A", 2, false},
	{"interrupted 4", "\xf0\x9f\x98A", 3, false},
	{"lead after lead", "\xe2\xe2\x82\xac", 1, false},
	{"truncated then ascii", "\xdf abc", 1, false},

	// Long runs, so that the word-at-a-time path is used around errors.
	{"ascii 40", strings.Repeat("0123456789", 4), -1, true},
	{"ascii 33 + bad", strings.Repeat("x", 33) + "\xff" + strings.Repeat("y", 20), 33, false},
	{"ascii 16 + truncated", strings.Repeat("x", 16) + "\xe2\x82", -1, false},
	{"ascii 7 + 3-byte + ascii", "abcdefg\xe2\x82\xacabcdefghijklmnop", -1, true},
	{"mixed long", utf8MixedLong, -1, true},
	{"mixed long + bad", utf8MixedLong + "\xed\xbf\xbf", len(utf8MixedLong) + 1, false},
}

// TestUTF8Cases runs the table at once and byte by byte, checking where
// the validator fails, that failure sticks, and that reset recovers.
func TestUTF8Cases(t *testing.T) {
	for _, tt := range utf8Cases {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			failAt := tt.failAt
			if failAt < 0 {
				failAt = len(in)
			}
			// Check the table against package utf8 and the oracle.
			if got := utf8.Valid(in); got != tt.valid {
				t.Fatalf("bad table entry: utf8.Valid = %v", got)
			}
			if got := validPrefixLen(in); got != failAt {
				t.Fatalf("bad table entry: validPrefixLen = %d, table says %d", got, failAt)
			}

			if got := validUTF8(in); got != tt.valid {
				t.Errorf("validUTF8 = %v, want %v", got, tt.valid)
			}

			var v utf8Validator
			if got, want := v.write(in), tt.failAt < 0; got != want {
				t.Errorf("write(all) = %v, want %v", got, want)
			}
			if got := v.complete(); got != tt.valid {
				t.Errorf("complete after write(all) = %v, want %v", got, tt.valid)
			}

			// One byte at a time, it must fail at exactly failAt.
			v.reset()
			failed := len(in)
			for i := range in {
				if !v.write(in[i : i+1]) {
					failed = i
					break
				}
			}
			if failed != failAt {
				t.Errorf("byte by byte: failed at %d, want %d", failed, failAt)
			}
			if got := v.complete(); got != tt.valid {
				t.Errorf("complete after byte by byte = %v, want %v", got, tt.valid)
			}

			if tt.failAt >= 0 {
				// Failure sticks until reset, whatever follows.
				if v.write([]byte("a")) || v.write(nil) || v.complete() {
					t.Errorf("validator recovered from failure")
				}
				v.reset()
				if !v.write([]byte("ok \xc3\xa9")) || !v.complete() {
					t.Errorf("validator not usable after reset")
				}
			}
		})
	}
}

// TestUTF8ZeroValue checks that the zero utf8Validator is ready to use.
func TestUTF8ZeroValue(t *testing.T) {
	var v utf8Validator
	if !v.complete() {
		t.Error("zero utf8Validator is not complete")
	}
	if !v.write(nil) || !v.write([]byte{}) || !v.complete() {
		t.Error("empty writes changed the zero utf8Validator")
	}
}

// utf8Interesting are the byte values at the edges of the UTF-8 ranges.
var utf8Interesting = []byte{
	0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
	0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5,
	0xF7, 0xF8, 0xFE, 0xFF,
}

// randUTF8Stream returns a short stream for the split tests: random bytes
// biased to the interesting values, random valid text, or valid text with
// one byte changed.
func randUTF8Stream(r *rand.Rand) []byte {
	n := r.IntN(24)
	switch r.IntN(4) {
	case 0:
		b := make([]byte, n)
		for i := range b {
			if r.IntN(2) == 0 {
				b[i] = utf8Interesting[r.IntN(len(utf8Interesting))]
			} else {
				b[i] = byte(r.Uint32())
			}
		}
		return b
	default:
		b := randValidUTF8(r, n)
		if r.IntN(3) == 0 && len(b) > 0 {
			b[r.IntN(len(b))] = utf8Interesting[r.IntN(len(utf8Interesting))]
		}
		return b
	}
}

// randValidUTF8 returns about n bytes of valid UTF-8 made of random runes of
// every encoded length.
func randValidUTF8(r *rand.Rand, n int) []byte {
	var b []byte
	for len(b) < n {
		var c rune
		switch r.IntN(5) {
		case 0:
			c = rune(r.IntN(0x80))
		case 1:
			c = 0x80 + rune(r.IntN(0x800-0x80))
		case 2:
			c = 0x800 + rune(r.IntN(0x10000-0x800))
		case 3:
			c = 0x10000 + rune(r.IntN(utf8.MaxRune+1-0x10000))
		default:
			c = []rune{0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, utf8.MaxRune}[r.IntN(11)]
		}
		b = utf8.AppendRune(b, c) // surrogates come out as U+FFFD
	}
	return b
}

// checkSplit feeds chunks to a fresh validator and checks the results
// against utf8.Valid and the fail-fast oracle.
func checkSplit(t *testing.T, whole []byte, chunks [][]byte) {
	t.Helper()
	failAt := validPrefixLen(whole)
	var v utf8Validator
	off := 0
	failedIn := -1 // chunk whose write first returned false
	for i, c := range chunks {
		ok := v.write(c)
		if failedIn >= 0 {
			if ok {
				t.Fatalf("%x split %d: write(chunk %d) = true after failure", whole, chunkLens(chunks), i)
			}
			continue
		}
		// The write must fail exactly when this chunk holds byte failAt.
		want := !(off <= failAt && failAt < off+len(c))
		if ok != want {
			t.Fatalf("%x split %d: write(chunk %d) = %v, want %v (longest valid prefix %d)", whole, chunkLens(chunks), i, ok, want, failAt)
		}
		if !ok {
			failedIn = i
		}
		off += len(c)
	}
	if got, want := v.complete(), utf8.Valid(whole); got != want {
		t.Fatalf("%x split %d: complete() = %v, utf8.Valid = %v", whole, chunkLens(chunks), got, want)
	}
}

// chunkLens returns the lengths of chunks, for messages.
func chunkLens(chunks [][]byte) []int {
	ns := make([]int, len(chunks))
	for i, c := range chunks {
		ns[i] = len(c)
	}
	return ns
}

// TestUTF8Splits checks every split into up to 4 chunks of the table
// entries and of random short streams against utf8.Valid and the
// fail-fast oracle.
func TestUTF8Splits(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	streams := make([][]byte, 0, 2000)
	for _, tt := range utf8Cases {
		if len(tt.in) <= 32 {
			streams = append(streams, []byte(tt.in))
		}
	}
	for len(streams) < cap(streams) {
		streams = append(streams, randUTF8Stream(r))
	}
	if testing.Short() {
		streams = streams[:300]
	}
	for _, s := range streams {
		// Every split into 1 to 4 chunks, empty chunks included.
		n := len(s)
		for a := 0; a <= n; a++ {
			for b := a; b <= n; b++ {
				for c := b; c <= n; c++ {
					checkSplit(t, s, [][]byte{s[:a], s[a:b], s[b:c], s[c:]})
				}
			}
		}
	}
}

// TestUTF8LongStreams checks longer streams, split at random points.
func TestUTF8LongStreams(t *testing.T) {
	// Long streams exercise the word-at-a-time path; split them at random.
	r := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		var s []byte
		for range 1 + r.IntN(4) {
			if r.IntN(2) == 0 {
				s = append(s, strings.Repeat("ascii text ", r.IntN(8))...)
			}
			s = append(s, randValidUTF8(r, r.IntN(40))...)
		}
		if r.IntN(2) == 0 && len(s) > 0 {
			s[r.IntN(len(s))] = utf8Interesting[r.IntN(len(utf8Interesting))]
		}
		var chunks [][]byte
		for rest := s; ; {
			k := r.IntN(len(rest) + 1)
			chunks = append(chunks, rest[:k])
			rest = rest[k:]
			if len(rest) == 0 {
				break
			}
		}
		checkSplit(t, s, chunks)
	}
}

// TestUTF8Allocs checks that validation does not allocate.
func TestUTF8Allocs(t *testing.T) {
	text := []byte(strings.Repeat("ab κόσμε 世界 🌍 ", 20))
	var v utf8Validator
	n := testing.AllocsPerRun(100, func() {
		v.reset()
		v.write(text[:7])
		v.write(text[7:])
		v.complete()
		validUTF8(text)
	})
	if n != 0 {
		t.Errorf("utf8Validator allocates %v times, want 0", n)
	}
}

// FuzzUTF8Validator checks write and complete against utf8.Valid and the
// fail-fast oracle, with the input split in two at a chosen point.
func FuzzUTF8Validator(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		if split < 0 {
			split = -(split + 1)
		}
		split %= len(data) + 1
		checkSplit(t, data, [][]byte{data[:split], data[split:]})
		if got, want := validUTF8(data), utf8.Valid(data); got != want {
			t.Fatalf("validUTF8(%x) = %v, want %v", data, got, want)
		}
	})
}

// utf8Sink keeps benchmark results alive.
var utf8Sink bool

// benchText returns n bytes of ASCII or of mixed text: ASCII with Latin,
// Greek, Cyrillic, CJK and emoji, the kind of chat text a game carries.
func benchText(kind string, n int) []byte {
	unit := `{"type":"chat","from":"player42","text":"gg wp, nice round!"} `
	if kind == "mixed" {
		unit = `{"from":"Jörg","text":"κόσμε, привет мир! 你好世界 🎮🔥 ça va?"} `
	}
	b := []byte(strings.Repeat(unit, n/len(unit)+1))
	// Trim to n bytes on a character boundary.
	b = b[:n]
	for !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return b
}

// BenchmarkUTF8 measures utf8Validator, with utf8.Valid for comparison,
// on ASCII and on mixed text.
func BenchmarkUTF8(b *testing.B) {
	for _, kind := range []string{"ascii", "mixed"} {
		for _, n := range []int{1 << 10, 16 << 10} {
			text := benchText(kind, n)
			name := fmt.Sprintf("%s/%dKiB", kind, n>>10)
			b.Run(name+"/netws", func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				var v utf8Validator
				for b.Loop() {
					v.reset()
					utf8Sink = v.write(text) && v.complete()
				}
			})
			b.Run(name+"/stdlib", func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				for b.Loop() {
					utf8Sink = utf8.Valid(text)
				}
			})
		}
	}
}
