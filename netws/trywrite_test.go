package netws

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestTryWritePrepared(t *testing.T) {
	small, err := NewPreparedMessage(Binary, []byte("tick"), 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		setup   func(c *Conn) (undo func())
		wantOK  bool
		wantErr bool
	}{
		{"idle connection", nil, true, false},
		{"a message is being written", func(c *Conn) func() {
			w, err := c.NextWriter(Binary)
			if err != nil {
				t.Fatal(err)
			}
			return func() { w.Close() }
		}, false, false},
		{"closed connection", func(c *Conn) func() { c.CloseNow(); return nil }, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, client := acceptPair(t, nil)
			var undo func()
			if tt.setup != nil {
				undo = tt.setup(c)
			}
			ok, err := c.TryWritePrepared(small)
			if ok != tt.wantOK || (err != nil) != tt.wantErr {
				t.Fatalf("TryWritePrepared = %v, %v; want %v, error %v", ok, err, tt.wantOK, tt.wantErr)
			}
			if undo != nil {
				undo()
			}
			if !ok {
				return
			}
			cc := newConn(client, true, ConnOptions{}, nil)
			_, got, err := cc.ReadMessage(nil)
			if err != nil || string(got) != "tick" {
				t.Fatalf("client read %q, %v", got, err)
			}
		})
	}
}

// TestTryWritePreparedFullSocket fills a socket whose peer does not read:
// every message TryWritePrepared accepted, including one the socket took
// only part of, must arrive whole and in order, and none it refused.
func TestTryWritePreparedFullSocket(t *testing.T) {
	c, client := acceptPair(t, &UpgradeOptions{ConnOptions: ConnOptions{MaxFrameSize: 16 << 10}})
	var sent [][]byte
	refused := 0
	deadline := time.Now().Add(10 * time.Second)
	for refused < 3 && time.Now().Before(deadline) {
		i := len(sent) + refused
		payload := bytes.Repeat([]byte(fmt.Sprintf("m%06d.", i)), 40<<10/8) // 40 KiB: three frames
		pm, err := NewPreparedMessage(Binary, payload, 16<<10)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := c.TryWritePrepared(pm)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if ok {
			sent = append(sent, payload)
		} else {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("the socket never filled up")
	}
	// A blocking write after the refusals waits for any write in progress
	// and goes after it.
	last := []byte("last")
	done := make(chan error, 1)
	go func() { done <- c.WriteMessage(Binary, last) }()
	sent = append(sent, last)

	cc := newConn(client, true, ConnOptions{ReadLimit: 1 << 20}, nil)
	client.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i, want := range sent {
		_, got, err := cc.ReadMessage(nil)
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, len(sent), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d: got %d bytes starting %.8q, want %d bytes starting %.8q", i, len(got), got, len(want), want)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages accepted before the socket filled", len(sent)-1)
}

func TestTryWritePreparedClientConn(t *testing.T) {
	url := testServer(t, nil, echo)
	c := dialTest(t, url, nil)
	pm, _ := NewPreparedMessage(Binary, []byte("x"), 0)
	if ok, err := c.TryWritePrepared(pm); ok || err != nil {
		t.Fatalf("client TryWritePrepared = %v, %v; want false, nil", ok, err)
	}
}

func BenchmarkTryWritePrepared(b *testing.B) {
	// Written to a connection whose peer drains it: the cost of a
	// broadcast write without a writer goroutine.
	c, client := acceptPair(b, nil)
	defer c.CloseNow()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := client.Read(buf); err != nil {
				return
			}
		}
	}()
	pm, _ := NewPreparedMessage(Binary, make([]byte, 1024), 0)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := c.TryWritePrepared(pm); err != nil {
			b.Fatal(err)
		} else if !ok {
			c.WritePrepared(pm)
		}
	}
}

func TestTryWritePreparedPrefixed(t *testing.T) {
	one, _ := NewPreparedMessage(Binary, []byte("-shared"), 0)
	three, _ := NewPreparedMessage(Binary, bytes.Repeat([]byte("x"), 2500), 1000)
	tests := []struct {
		name   string
		prefix string
		pm     *PreparedMessage
		wantOK bool
	}{
		{"one frame", "mine", one, true},
		{"empty prefix", "", one, true},
		{"several frames are left to the queue", "mine", three, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, client := acceptPair(t, nil)
			ok, err := c.TryWritePreparedPrefixed([]byte(tt.prefix), tt.pm)
			if ok != tt.wantOK || err != nil {
				t.Fatalf("TryWritePreparedPrefixed = %v, %v; want %v", ok, err, tt.wantOK)
			}
			if !ok {
				return
			}
			cc := newConn(client, true, ConnOptions{}, nil)
			typ, got, err := cc.ReadMessage(nil)
			if err != nil || typ != Binary || string(got) != tt.prefix+string(tt.pm.Payload()) {
				t.Fatalf("client read %v %q, %v", typ, got, err)
			}
			// The buffers of try-writes and of masked writes are pooled
			// apart: a masked write after a try-write still works.
			if err := cc.WriteMessage(Binary, bytes.Repeat([]byte("r"), 10000)); err != nil {
				t.Fatalf("a masked write after a try-write: %v", err)
			}
		})
	}
}

// TestTryWritePreparedPrefixedFullSocket is the full-socket test for
// prefixed messages: every accepted message arrives whole, in order.
func TestTryWritePreparedPrefixedFullSocket(t *testing.T) {
	c, client := acceptPair(t, nil)
	shared := bytes.Repeat([]byte("s"), 12<<10)
	pm, _ := NewPreparedMessage(Binary, shared, 16<<10)
	var sent []string
	refused := 0
	for i := 0; refused < 3 && i < 100000; i++ {
		prefix := fmt.Sprintf("p%06d", i)
		ok, err := c.TryWritePreparedPrefixed([]byte(prefix), pm)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			sent = append(sent, prefix)
		} else {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("the socket never filled up")
	}
	cc := newConn(client, true, ConnOptions{}, nil)
	client.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i, prefix := range sent {
		_, got, err := cc.ReadMessage(nil)
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, len(sent), err)
		}
		if string(got[:len(prefix)]) != prefix || !bytes.Equal(got[len(prefix):], shared) {
			t.Fatalf("message %d: got %d bytes starting %.8q", i, len(got), got)
		}
	}
}
