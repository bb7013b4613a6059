package netws

// Micro-benchmarks of netws's steady-state paths over in-memory
// connections (no syscalls): frame headers, whole messages read and
// written, echo, and prepared broadcast to 1000 connections. Run them with
//
//	go test -run '^$' -bench . -benchmem ./netws
//
// allocs/op should be 0 for everything but the broadcasts, whose op
// includes encoding the PreparedMessage once (a few allocations for all
// 1000 connections together). The tools/bench module measures netws
// against other libraries over real sockets.

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"
)

var benchSizes = []int{64, 1024, 16384}

// benchConn is an in-memory net.Conn. Reads serve pre once (a handshake
// request), then loop over stream forever, filling the whole buffer each
// time, as a peer that always has data ready would. Writes are counted
// and discarded.
type benchConn struct {
	pre     []byte
	stream  []byte
	pos     int
	written int64
}

func (c *benchConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	if len(c.stream) == 0 {
		return 0, net.ErrClosed
	}
	n := 0
	for n < len(p) {
		m := copy(p[n:], c.stream[c.pos:])
		n += m
		c.pos += m
		if c.pos == len(c.stream) {
			c.pos = 0
		}
	}
	return n, nil
}

func (c *benchConn) Write(p []byte) (int, error) {
	c.written += int64(len(p))
	return len(p), nil
}

func (c *benchConn) Close() error                     { return nil }
func (c *benchConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *benchConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *benchConn) SetDeadline(time.Time) error      { return nil }
func (c *benchConn) SetReadDeadline(time.Time) error  { return nil }
func (c *benchConn) SetWriteDeadline(time.Time) error { return nil }

const benchHandshake = "GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// benchServerConn returns a server Conn accepted over a benchConn whose
// reads then loop over stream.
func benchServerConn(tb testing.TB, stream []byte) (*Conn, *benchConn) {
	tb.Helper()
	nc := &benchConn{pre: []byte(benchHandshake), stream: stream}
	c, _, err := AcceptConn(nc, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c, nc
}

// benchClientFrames encodes count masked frames of opcode op and size
// bytes each (ASCII, so valid text too), as a client sends them, back to
// back.
func benchClientFrames(op opcode, size, count int) []byte {
	payload := bytes.Repeat([]byte{'x'}, size)
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	var hdr [maxHeaderSize]byte
	var out []byte
	for range count {
		n := putHeader(hdr[:], true, op, size, true, key)
		out = append(out, hdr[:n]...)
		start := len(out)
		out = append(out, payload...)
		maskBytes(key, 0, out[start:])
	}
	return out
}

// benchFramesFor returns enough back-to-back frames of size bytes that the
// replayed stream is at least 64 KiB, so buffer refills cross frame
// boundaries at varying offsets.
func benchFramesFor(size int) []byte {
	return benchClientFrames(opBinary, size, max(1, (64<<10)/(size+maxHeaderSize)))
}

func BenchmarkFrameHeaderWrite(b *testing.B) {
	for _, n := range []int{64, 1024, 70000} {
		b.Run(fmt.Sprintf("len=%d", n), func(b *testing.B) {
			var buf [maxHeaderSize]byte
			key := [4]byte{1, 2, 3, 4}
			b.ReportAllocs()
			for b.Loop() {
				putHeader(buf[:], true, opBinary, n, true, key)
			}
		})
	}
}

func BenchmarkFrameHeaderRead(b *testing.B) {
	for _, n := range []int{64, 1024, 70000} {
		b.Run(fmt.Sprintf("len=%d", n), func(b *testing.B) {
			var buf [maxHeaderSize]byte
			hn := putHeader(buf[:], true, opBinary, n, true, [4]byte{1, 2, 3, 4})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseHeader(buf[:hn]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadMessage reads masked client messages on a server Conn into
// a reused buffer.
func BenchmarkReadMessage(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			c, _ := benchServerConn(b, benchFramesFor(size))
			buf := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_, msg, err := c.ReadMessage(buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				buf = msg
			}
		})
	}
}

// BenchmarkReadMessageTCP reads messages on a server Conn over a real
// loopback TCP connection, fed by a goroutine that writes the frames in
// large batches: it covers the read path taken on TCP (waiting for
// readability without a buffer), which an in-memory net.Conn does not.
func BenchmarkReadMessageTCP(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Skip("no loopback TCP:", err)
			}
			defer ln.Close()
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			nc, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := client.Write([]byte(benchHandshake)); err != nil {
				b.Fatal(err)
			}
			c, _, err := AcceptConn(nc, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			resp := make([]byte, 256)
			if _, err := client.Read(resp); err != nil { // the 101 response
				b.Fatal(err)
			}
			frames := benchFramesFor(size)
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := client.Write(frames); err != nil {
						return
					}
				}
			}()
			buf := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_, msg, err := c.ReadMessage(buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				buf = msg
			}
		})
	}
}

// BenchmarkReadMessageText reads masked text messages, which netws
// validates as UTF-8 as they arrive.
func BenchmarkReadMessageText(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			c, _ := benchServerConn(b, benchClientFrames(opText, size, max(1, (64<<10)/(size+maxHeaderSize))))
			buf := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_, msg, err := c.ReadMessage(buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				buf = msg
			}
		})
	}
}

// BenchmarkNextReader reads the same messages through NextReader.
func BenchmarkNextReader(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			c, _ := benchServerConn(b, benchFramesFor(size))
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_, r, err := c.NextReader()
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; n < size; {
					m, err := r.Read(buf[n:])
					if err != nil {
						b.Fatal(err)
					}
					n += m
				}
			}
		})
	}
}

// BenchmarkWriteMessage writes messages on a server Conn (unmasked).
func BenchmarkWriteMessage(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			c, _ := benchServerConn(b, nil)
			p := bytes.Repeat([]byte{'x'}, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(Binary, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteMessageClient writes messages on a client Conn, which
// masks every frame.
func BenchmarkWriteMessageClient(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			c := newConn(&benchConn{}, true, ConnOptions{}, nil)
			p := bytes.Repeat([]byte{'x'}, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.WriteMessage(Binary, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEcho is an echo server's loop on one Conn: read a message into
// a reused buffer and write it back.
func BenchmarkEcho(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			c, _ := benchServerConn(b, benchFramesFor(size))
			buf := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				typ, msg, err := c.ReadMessage(buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				buf = msg
				if err := c.WriteMessage(typ, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

const benchBroadcastConns = 1000

func benchBroadcastSet(b *testing.B) []*Conn {
	conns := make([]*Conn, benchBroadcastConns)
	for i := range conns {
		conns[i], _ = benchServerConn(b, nil)
	}
	return conns
}

// BenchmarkBroadcastPrepared is one room tick: a message encoded once
// with NewPreparedMessage and written to 1000 server Conns. bytes/s counts
// what the 1000 connections are sent; ns/conn is the cost per delivery.
func BenchmarkBroadcastPrepared(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("conns=%d/size=%d", benchBroadcastConns, size), func(b *testing.B) {
			conns := benchBroadcastSet(b)
			payload := bytes.Repeat([]byte{'x'}, size)
			b.SetBytes(int64(size * benchBroadcastConns))
			b.ReportAllocs()
			for b.Loop() {
				pm, err := NewPreparedMessage(Binary, payload, 0)
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range conns {
					if err := c.WritePrepared(pm); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBroadcastConns), "ns/conn")
		})
	}
}

// BenchmarkBroadcastPreparedPrefixed is the rooms package's tick: a
// per-connection prefix in front of frames prepared once.
func BenchmarkBroadcastPreparedPrefixed(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("conns=%d/size=%d", benchBroadcastConns, size), func(b *testing.B) {
			conns := benchBroadcastSet(b)
			payload := bytes.Repeat([]byte{'x'}, size)
			prefix := []byte{0x96, 0x02, 0xcd, 0x12, 0x34, 0xcf, 0, 0, 1, 2, 3, 4, 5, 6, 0x07}
			b.SetBytes(int64((size + len(prefix)) * benchBroadcastConns))
			b.ReportAllocs()
			for b.Loop() {
				pm, err := NewPreparedMessage(Binary, payload, 0)
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range conns {
					if err := c.WritePreparedPrefixed(prefix, pm); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBroadcastConns), "ns/conn")
		})
	}
}
