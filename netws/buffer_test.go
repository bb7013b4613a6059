package netws

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"
)

// acceptPair returns a server Conn over loopback TCP and the raw client
// socket, after a handshake written by hand.
func acceptPair(t testing.TB, opts *UpgradeOptions) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	client.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := AcceptConn(nc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp := make([]byte, 4096)
	n, _ := client.Read(resp)
	if !bytes.HasPrefix(resp[:n], []byte("HTTP/1.1 101")) {
		t.Fatalf("handshake answer %q", resp[:n])
	}
	return c, client
}

// maskedFrame encodes a final client frame.
func maskedFrame(op opcode, payload []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	hdr := make([]byte, maxHeaderSize)
	n := putHeader(hdr, true, op, len(payload), true, key)
	p := append([]byte(nil), payload...)
	maskBytes(key, 0, p)
	return append(hdr[:n], p...)
}

func TestIdleConnectionHoldsNoReadBuffer(t *testing.T) {
	c, client := acceptPair(t, nil)
	if c.raw == nil {
		t.Fatal("a TCP connection did not get buffer-less reads")
	}
	tests := []struct {
		name     string
		messages [][]byte
	}{
		{"one small message", [][]byte{[]byte("hi")}},
		{"a large message read directly", [][]byte{bytes.Repeat([]byte{7}, 100000)}},
		{"two messages in one write", [][]byte{[]byte("one"), []byte("two")}},
	}
	for _, tt := range tests {
		var wire []byte
		for _, m := range tt.messages {
			wire = append(wire, maskedFrame(opBinary, m)...)
		}
		go client.Write(wire)
		for i, want := range tt.messages {
			_, got, err := c.ReadMessage(nil)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: message %d: %d bytes, %v", tt.name, i, len(got), err)
			}
			last := i == len(tt.messages)-1
			// Between messages the buffer is kept only while it holds
			// bytes of the next one.
			if last && c.rbuf != nil {
				t.Fatalf("%s: the read buffer is still held after the last message", tt.name)
			}
			if !last && c.rbuf == nil && c.w == c.r {
				t.Logf("%s: message %d arrived in a separate read", tt.name, i)
			}
		}
	}
}

func TestBufferLessReadsKeepZeroAllocations(t *testing.T) {
	c, client := acceptPair(t, nil)
	frame := maskedFrame(opBinary, bytes.Repeat([]byte{1}, 1024))
	buf := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(200, func() {
		client.Write(frame)
		var err error
		_, buf, err = c.ReadMessage(buf[:0])
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per 1 KiB message read, want 0", allocs)
	}
}

// TestIdleReadKeepsErrors checks that an error met while waiting for a
// message between messages reaches the caller as any read error does: a
// peer that goes away mid-wait is an abnormal closure, a deadline that
// passes is a timeout.
func TestIdleReadKeepsErrors(t *testing.T) {
	tests := []struct {
		name string
		act  func(c *Conn, client net.Conn)
		want func(err error) bool
	}{
		{"peer closes the socket", func(c *Conn, client net.Conn) { client.Close() },
			func(err error) bool { return CloseStatus(err) == StatusAbnormalClosure }},
		{"read deadline passes", func(c *Conn, client net.Conn) { c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)) },
			func(err error) bool { var ne net.Error; return errors.As(err, &ne) && ne.Timeout() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, client := acceptPair(t, nil)
			client.Write(maskedFrame(opBinary, []byte("first")))
			if _, _, err := c.ReadMessage(nil); err != nil {
				t.Fatal(err)
			}
			tt.act(c, client)
			_, _, err := c.ReadMessage(nil)
			if err == nil || !tt.want(err) {
				t.Fatalf("ReadMessage = %v (%T)", err, err)
			}
			// The error is sticky, not lost after one report.
			if _, _, err2 := c.ReadMessage(nil); err2 == nil {
				t.Fatal("a second ReadMessage succeeded")
			}
		})
	}
}

// TestRTTStateOnlyWhenPinging checks that a connection without pings
// holds no RTT state, and that one with pings does from its start.
func TestRTTStateOnlyWhenPinging(t *testing.T) {
	c, _ := acceptPair(t, nil)
	if got := c.RTT(); got != (RTTStats{}) || c.rtt.Load() != nil {
		t.Fatalf("a connection that never pinged has RTT state: %+v", got)
	}
	p, _ := acceptPair(t, &UpgradeOptions{ConnOptions: ConnOptions{PingInterval: time.Hour}})
	if p.rtt.Load() == nil {
		t.Fatal("a pinging connection has no RTT state")
	}
}
