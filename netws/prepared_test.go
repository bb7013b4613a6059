package netws

import (
	"bytes"
	"testing"
)

func TestWritePreparedPrefixed(t *testing.T) {
	tests := []struct {
		name      string
		typ       MessageType
		prefix    string
		size      int
		frameSize int
	}{
		{"one frame", Binary, "hdr", 100, 0},
		{"fragmented", Binary, "per-player", 5000, 1000},
		{"empty prefix", Binary, "", 10, 0},
		{"empty payload", Binary, "only prefix", 0, 0},
		{"text", Text, "é", 3000, 1000},
		{"long prefix", Binary, string(bytes.Repeat([]byte{'p'}, 3000)), 70000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := bytes.Repeat([]byte("ab"), tt.size/2+1)[:tt.size]
			pm, err := NewPreparedMessage(tt.typ, data, tt.frameSize)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte(tt.prefix), data...)
			for _, client := range []bool{false, true} {
				got := make(chan []byte, 1)
				url := testServer(t, nil, func(c *Conn) {
					if client {
						typ, msg, err := c.ReadMessage(nil)
						if err != nil || typ != tt.typ {
							t.Errorf("server read: %v %v", typ, err)
						}
						got <- msg
						return
					}
					if err := c.WritePreparedPrefixed([]byte(tt.prefix), pm); err != nil {
						t.Errorf("WritePreparedPrefixed: %v", err)
					}
					c.ReadMessage(nil) // wait for the client to finish
				})
				c := dialTest(t, url, nil)
				if client {
					if err := c.WritePreparedPrefixed([]byte(tt.prefix), pm); err != nil {
						t.Fatal(err)
					}
					if msg := <-got; !bytes.Equal(msg, want) {
						t.Fatalf("client->server: got %d bytes, want %d", len(msg), len(want))
					}
					continue
				}
				typ, msg, err := c.ReadMessage(nil)
				if err != nil || typ != tt.typ || !bytes.Equal(msg, want) {
					t.Fatalf("server->client: got %v %d bytes %v, want %v %d bytes", typ, len(msg), err, tt.typ, len(want))
				}
			}
		})
	}
}

func TestWritePreparedPrefixedRejectsHugePrefix(t *testing.T) {
	url := testServer(t, nil, func(c *Conn) {
		pm, _ := NewPreparedMessage(Binary, []byte("x"), 0)
		if err := c.WritePreparedPrefixed(make([]byte, DefaultMaxFrameSize+1), pm); err == nil {
			t.Error("a prefix larger than MaxFrameSize was accepted")
		}
	})
	c := dialTest(t, url, nil)
	c.ReadMessage(nil)
}
