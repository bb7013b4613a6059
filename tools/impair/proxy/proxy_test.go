package proxy

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer echoes every connection until it ends, then half-closes.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func startProxy(t *testing.T, target string, opts Options) *Proxy {
	t.Helper()
	p, err := Listen("127.0.0.1:0", target, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

func TestForwardsBytesIntactBothWays(t *testing.T) {
	for _, opts := range []Options{{}, {Delay: time.Millisecond, Jitter: time.Millisecond, Seed: 1}} {
		p := startProxy(t, echoServer(t), opts)
		c := dial(t, p)
		msg := make([]byte, 1<<20)
		for i := range msg {
			msg[i] = byte(i*7 + i>>10)
		}
		go func() {
			c.Write(msg)
			c.(*net.TCPConn).CloseWrite()
		}()
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("%+v: reading the echo: %v", opts, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("%+v: echo of %d bytes came back as %d bytes, or reordered", opts, len(msg), len(got))
		}
		if s := p.Stats(); s.Connections != 1 || s.BytesUp != uint64(len(msg)) || s.BytesDown != uint64(len(msg)) {
			t.Fatalf("%+v: stats %+v, want 1 connection and %d bytes each way", opts, s, len(msg))
		}
	}
}

func TestDelayIsAddedEachWay(t *testing.T) {
	const delay = 20 * time.Millisecond
	p := startProxy(t, echoServer(t), Options{Delay: delay})
	c := dial(t, p)
	buf := make([]byte, 1)
	for range 3 {
		start := time.Now()
		c.Write([]byte{1})
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		// A lower bound only: the proxy can add, never remove, delay.
		if rtt := time.Since(start); rtt < 2*delay {
			t.Fatalf("round trip %v through a %v-each-way proxy, want at least %v", rtt, delay, 2*delay)
		}
	}
}

func TestJitterKeepsBytesInOrder(t *testing.T) {
	p := startProxy(t, echoServer(t), Options{Delay: 2 * time.Millisecond, Jitter: 2 * time.Millisecond, Seed: 7})
	c := dial(t, p)
	const n = 200
	go func() {
		for i := range n {
			c.Write([]byte{byte(i)})
			time.Sleep(100 * time.Microsecond) // separate reads, separate delays
		}
	}()
	got := make([]byte, n)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	for i, b := range got {
		if b != byte(i) {
			t.Fatalf("byte %d is %d: jitter reordered the stream", i, b)
		}
	}
}

func TestHoldStopsTrafficUntilRelease(t *testing.T) {
	p := startProxy(t, echoServer(t), Options{})
	c := dial(t, p)
	buf := make([]byte, 1)
	c.Write([]byte{1})
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	p.Hold()
	c.Write([]byte{2})
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := c.Read(buf); n != 0 || err == nil {
		t.Fatalf("read %d bytes (%v) while the proxy held traffic", n, err)
	}
	p.Release()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || buf[0] != 2 {
		t.Fatalf("after Release: %v %v, want the held byte 2", buf, err)
	}
}

func TestCloseEndsConnections(t *testing.T) {
	p := startProxy(t, echoServer(t), Options{})
	c := dial(t, p)
	c.Write([]byte{1})
	io.ReadFull(c, make([]byte, 1))
	p.Close()
	if _, err := io.ReadAll(c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("client read after Close: %v, want EOF", err)
	}
	if _, err := net.Dial("tcp", p.Addr().String()); err == nil {
		t.Fatal("the proxy still accepts connections after Close")
	}
}

func TestUnreachableTargetClosesTheClient(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	p := startProxy(t, dead, Options{})
	c := dial(t, p)
	if _, err := io.ReadAll(c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read: %v, want the connection closed", err)
	}
}

func TestStallSchedule(t *testing.T) {
	start := time.Unix(1000, 0)
	p := &Proxy{opts: Options{StallEvery: time.Second, StallFor: 300 * time.Millisecond}}
	tests := []struct {
		age     time.Duration
		stalled bool
		end     time.Duration
	}{
		{0, false, 0}, // no stall at the start
		{500 * time.Millisecond, false, 0},
		{time.Second, true, 1300 * time.Millisecond},
		{1299 * time.Millisecond, true, 1300 * time.Millisecond},
		{1300 * time.Millisecond, false, 0},
		{2100 * time.Millisecond, true, 2300 * time.Millisecond},
	}
	for _, tt := range tests {
		end, ok := p.stallEnd(start.Add(tt.age), start)
		if ok != tt.stalled || (ok && end != start.Add(tt.end)) {
			t.Errorf("at %v: stalled %v until %v, want %v until %v", tt.age, ok, end.Sub(start), tt.stalled, tt.end)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		opts Options
		want string
	}{
		{Options{Delay: -1}, "delay"},
		{Options{Jitter: -1}, "jitter"},
		{Options{StallEvery: time.Second}, "set both"},
		{Options{StallFor: time.Second}, "set both"},
		{Options{StallEvery: time.Second, StallFor: time.Second}, "shorter than its period"},
		{Options{StallEvery: -time.Second, StallFor: time.Second}, "0 or more"},
	}
	for _, tt := range tests {
		if _, err := Listen("127.0.0.1:0", "127.0.0.1:1", tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Listen with %+v: %v, want an error containing %q", tt.opts, err, tt.want)
		}
	}
	if _, err := Listen("127.0.0.1:0", "nohost", Options{}); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("Listen with target nohost: %v, want a host:port error", err)
	}
	if _, err := Listen("bad address", "127.0.0.1:1", Options{}); err == nil {
		t.Error("Listen on a bad address succeeded")
	}
}
