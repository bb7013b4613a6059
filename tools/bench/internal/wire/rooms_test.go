package wire

import (
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

func TestRoomsStamp(t *testing.T) {
	payload := make([]byte, 4096)
	now := time.Now()
	PutStamp(payload, now)
	for _, tick := range []uint64{1, 200, 70000, 1 << 40} {
		msg, err := msgpack.Marshal([]any{2, tick, now.UnixMilli(), uint32(7), payload, nil})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := RoomsStamp(msg[:64])
		if !ok || got != now.UnixNano() {
			t.Fatalf("tick %d: RoomsStamp = %d, %v; want %d", tick, got, ok, now.UnixNano())
		}
	}
	welcome, _ := msgpack.Marshal([]any{1, map[string]any{"player": "x"}})
	if _, ok := RoomsStamp(welcome); ok {
		t.Fatal("a welcome was taken for a batch")
	}
}
