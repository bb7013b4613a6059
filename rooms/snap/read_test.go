package snap

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

func TestReaderSkipsEveryKindOfValue(t *testing.T) {
	values := []any{
		nil, true, false, 0, 127, 128, 255, 256, 65535, 65536, uint64(math.MaxUint64),
		-1, -32, -33, -128, -129, -32768, -32769, int64(math.MinInt64),
		float32(1.5), 2.5, "", "short", strings.Repeat("s", 40), strings.Repeat("m", 300), strings.Repeat("l", 70000),
		[]byte{}, []byte{1, 2, 3}, bytes.Repeat([]byte{7}, 300), bytes.Repeat([]byte{7}, 70000),
		[]any{}, []any{1, "a", []any{nil, 2.5}}, make([]int, 20), make([]int, 70000),
		map[string]any{}, map[string]any{"a": 1, "b": []any{map[string]int{"c": 3}}},
		func() map[int]int {
			m := map[int]int{}
			for i := range 20 {
				m[i] = i
			}
			return m
		}(),
		time.Unix(1700000000, 5), // an ext type
	}
	for _, v := range values {
		enc, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		r := &reader{b: append(append([]byte(nil), enc...), 0xC3)}
		got, err := r.raw()
		if err != nil || !bytes.Equal(got, enc) {
			t.Errorf("%T: raw read %d bytes (%v), want the %d of its encoding", v, len(got), err, len(enc))
		}
	}
	for _, ext := range [][]byte{
		{0xD4, 1, 0}, {0xD5, 1, 0, 0}, {0xD6, 1, 0, 0, 0, 0}, {0xD7, 1, 0, 0, 0, 0, 0, 0, 0, 0},
		append([]byte{0xD8, 1}, make([]byte, 16)...), {0xC7, 2, 1, 0, 0}, {0xC8, 0, 2, 1, 0, 0}, {0xC9, 0, 0, 0, 1, 1, 0},
	} {
		r := &reader{b: ext}
		if got, err := r.raw(); err != nil || len(got) != len(ext) {
			t.Errorf("ext % x: read %d bytes, %v", ext, len(got), err)
		}
	}
	bad := [][]byte{
		{}, {0xC1}, {0xA5, 'a'}, {0xDB, 0xFF, 0xFF, 0xFF, 0xFF}, {0xDD, 0xFF, 0xFF, 0xFF, 0xFF},
		{0x92, 1}, {0xCB, 0, 0}, bytes.Repeat([]byte{0x91}, maxDepth+5),
	}
	for _, b := range bad {
		r := &reader{b: b}
		if _, err := r.raw(); err == nil {
			t.Errorf("% x: no error", b[:min(len(b), 8)])
		}
	}
}
