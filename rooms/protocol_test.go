package rooms

import (
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestDecodeClientAcks(t *testing.T) {
	enc := func(v ...any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		msg     []byte
		ack     uint64
		hasAck  bool
		wantErr bool
	}{
		{"ack message", enc(ClientAck, 42), 42, true, false},
		{"ack of a large tick", enc(ClientAck, uint64(1)<<40), 1 << 40, true, false},
		{"ack 0", enc(ClientAck, 0), 0, true, false},
		{"ack in a signed form", []byte{0x92, ClientAck, 0xD3, 0, 0, 0, 0, 0, 0, 0, 9}, 9, true, false},
		{"input without ack", enc(ClientInput, 1, "x"), 0, false, false},
		{"input with ack", enc(ClientInput, 1, "x", 7), 7, true, false},
		{"negative ack", enc(ClientAck, -1), 0, false, true},
		{"string ack", enc(ClientAck, "7"), 0, false, true},
		{"nil ack", enc(ClientAck, nil), 0, false, true},
		{"ack without tick", enc(ClientAck), 0, false, true},
		{"ack with two ticks", enc(ClientAck, 1, 2), 0, false, true},
		{"input with a bad ack", enc(ClientInput, 1, "x", -3), 0, false, true},
		{"input with five elements", enc(ClientInput, 1, "x", 7, 8), 0, false, true},
	}
	for _, tt := range tests {
		m, err := DecodeClientMsg(tt.msg)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v, want error %v", tt.name, err, tt.wantErr)
			continue
		}
		if err == nil && (m.Ack != tt.ack || m.HasAck != tt.hasAck) {
			t.Errorf("%s: ack %d (has %v), want %d (has %v)", tt.name, m.Ack, m.HasAck, tt.ack, tt.hasAck)
		}
	}
}

func TestBatchPrefixKinds(t *testing.T) {
	for _, kind := range []byte{ServerBatch, ServerTableBatch} {
		b := appendBatchPrefix(nil, kind, 1<<33, 1700000000000, 5)
		// The prefix plus an encoded snapshot and events is one message.
		b = append(b, 0xC0, 0x90)
		var f []any
		if err := msgpack.Unmarshal(b, &f); err != nil || len(f) != 6 {
			t.Fatalf("kind %d: %v %v", kind, f, err)
		}
		if k, _ := f[0].(int8); byte(k) != kind {
			t.Errorf("kind %v, want %d", f[0], kind)
		}
	}
}
