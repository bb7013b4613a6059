// Package load is the benchmark's load generator: echo clients doing
// write-then-read, room clients recording delivery latency, and idle
// connections. Its client is gobwas/ws's dialer for the handshake and a
// few lines of framing of its own on the raw net.Conn: one Write per
// message, buffered reads, no allocation per message, so that the server
// is the bottleneck.
package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gobwas/ws"
)

// client is one WebSocket client connection.
type client struct {
	nc   net.Conn
	br   *bufio.Reader
	wbuf []byte
	rng  uint64
}

// errClosed is returned when the server sends a close frame.
var errClosed = errors.New("server closed the connection")

// dial opens a WebSocket connection to url. readBuf sizes its read buffer;
// 0 means no read buffer (an idle connection that is never read).
func dial(ctx context.Context, url string, readBuf int, seed uint64) (*client, error) {
	d := ws.Dialer{Timeout: 10 * time.Second}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	c := &client{nc: nc, rng: seed | 1}
	var r io.Reader = nc
	if br != nil {
		// Bytes the server sent right after its handshake response.
		b, _ := br.Peek(br.Buffered())
		pre := bytes.Clone(b)
		ws.PutReader(br)
		r = io.MultiReader(bytes.NewReader(pre), nc)
	}
	if readBuf > 0 {
		c.br = bufio.NewReaderSize(r, readBuf)
	}
	return c, nil
}

func (c *client) close() { c.nc.Close() }

// maskKey returns a fresh masking key (xorshift64).
func (c *client) maskKey() [4]byte {
	c.rng ^= c.rng << 13
	c.rng ^= c.rng >> 7
	c.rng ^= c.rng << 17
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], uint32(c.rng))
	return k
}

// write sends p as one masked frame of opcode op with a single Write.
func (c *client) write(op ws.OpCode, p []byte) error {
	key := c.maskKey()
	b := c.wbuf[:0]
	b = append(b, 0x80|byte(op))
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, key[:]...)
	h := len(b)
	b = append(b, p...)
	ws.Cipher(b[h:], key, 0)
	c.wbuf = b
	_, err := c.nc.Write(b)
	return err
}

// readMessage reads the next data message, copying the first len(head)
// bytes of its payload into head and discarding the rest. It returns the
// message's opcode and full length. Pings are answered; a close frame ends
// with errClosed.
func (c *client) readMessage(head []byte) (ws.OpCode, int, error) {
	var op ws.OpCode
	total := 0
	for {
		b, err := c.br.Peek(2)
		if err != nil {
			return 0, 0, err
		}
		fin, fop := b[0]&0x80 != 0, ws.OpCode(b[0]&0x0F)
		if b[1]&0x80 != 0 {
			return 0, 0, fmt.Errorf("masked frame from the server")
		}
		hn, n := 2, int(b[1]&0x7F)
		switch n {
		case 126:
			hn = 4
		case 127:
			hn = 10
		}
		if b, err = c.br.Peek(hn); err != nil {
			return 0, 0, err
		}
		switch hn {
		case 4:
			n = int(binary.BigEndian.Uint16(b[2:]))
		case 10:
			n = int(binary.BigEndian.Uint64(b[2:]))
		}
		c.br.Discard(hn)
		if fop.IsControl() {
			var ctl [125]byte
			if n > len(ctl) {
				return 0, 0, fmt.Errorf("control frame of %d bytes", n)
			}
			if _, err := io.ReadFull(c.br, ctl[:n]); err != nil {
				return 0, 0, err
			}
			switch fop {
			case ws.OpClose:
				return 0, 0, errClosed
			case ws.OpPing:
				if err := c.write(ws.OpPong, ctl[:n]); err != nil {
					return 0, 0, err
				}
			}
			continue
		}
		if fop != ws.OpContinuation {
			op = fop
		}
		if k := min(n, max(len(head)-total, 0)); k > 0 {
			if _, err := io.ReadFull(c.br, head[total:total+k]); err != nil {
				return 0, 0, err
			}
			if _, err := c.br.Discard(n - k); err != nil {
				return 0, 0, err
			}
		} else if _, err := c.br.Discard(n); err != nil {
			return 0, 0, err
		}
		total += n
		if fin {
			return op, total, nil
		}
	}
}
