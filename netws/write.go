package netws

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"time"
)

// smallWrite is the largest payload copied next to its header for a single
// write; bigger server payloads go out with writev, without copying.
const smallWrite = 2048

// writeBufSize is the size of pooled write buffers.
const writeBufSize = 4096

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, writeBufSize); return &b }}

// WriteMessage writes p as one message of type typ, fragmented into frames
// of at most ConnOptions.MaxFrameSize payload bytes. It is safe to call
// from several goroutines: messages go out whole, one after another, and
// control frames may go out between their frames. For Text messages the
// caller must supply valid UTF-8.
func (c *Conn) WriteMessage(typ MessageType, p []byte) error {
	op, err := dataOpcode(typ)
	if err != nil {
		return err
	}
	c.msgMu.Lock()
	defer c.msgMu.Unlock()
	return c.writeFragmented(op, p)
}

func dataOpcode(typ MessageType) (opcode, error) {
	if typ != Text && typ != Binary {
		return 0, fmt.Errorf("netws: cannot write message type %d; use netws.Text or netws.Binary", int(typ))
	}
	return opcode(typ), nil
}

// writeFragmented writes p as one message; the caller holds msgMu.
func (c *Conn) writeFragmented(op opcode, p []byte) error {
	fs := c.opts.MaxFrameSize
	for {
		n := min(len(p), fs)
		fin := n == len(p)
		if err := c.writeFrame(fin, op, p[:n], false); err != nil {
			return err
		}
		if fin {
			return nil
		}
		p = p[n:]
		op = opContinuation
	}
}

// writeControl writes a control frame. It does not wait for a data
// message being written: it goes out between that message's frames.
func (c *Conn) writeControl(op opcode, p []byte) error {
	return c.writeFrame(true, op, p, false)
}

// errWriteBusy is returned by a try-write when another frame is being written.
var errWriteBusy = errors.New("netws: a frame is being written")

// lockWrite takes the frame lock and checks that a frame of type op may
// still be written. With try set it fails with errWriteBusy instead of
// waiting for the lock. On success the caller must call unlockWrite.
func (c *Conn) lockWrite(op opcode, try bool) error {
	if try {
		if !c.writeMu.TryLock() {
			return errWriteBusy
		}
	} else {
		c.writeMu.Lock()
	}
	if c.writeErr == nil {
		select {
		case <-c.tcpClosed:
			c.writeErr = ErrClosed
		default:
		}
	}
	if c.writeErr != nil {
		err := c.writeErr
		c.writeMu.Unlock()
		return err
	}
	if c.closeSent.Load() {
		c.writeMu.Unlock()
		return ErrClosed
	}
	if op == opClose {
		c.closeSent.Store(true)
	}
	if c.opts.WriteTimeout > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
	}
	return nil
}

// unlockWrite releases the frame lock. A failed write leaves the stream in
// an unknown state, so it closes the connection and makes the error sticky.
func (c *Conn) unlockWrite(err error) error {
	if err != nil {
		select {
		case <-c.tcpClosed:
			err = ErrClosed
		default:
			err = fmt.Errorf("netws: write failed, connection closed: %w", err)
		}
		c.writeErr = err
	}
	c.writeMu.Unlock()
	if err != nil {
		c.CloseNow()
	}
	return err
}

// writeFrame writes one frame, masking it on client connections. With try
// set it gives up with errWriteBusy rather than wait for another frame.
func (c *Conn) writeFrame(fin bool, op opcode, p []byte, try bool) error {
	if op.isControl() {
		c.ctrlWaiting.Add(1)
		err := c.lockWrite(op, try)
		c.ctrlWaiting.Add(-1)
		if err != nil {
			return err
		}
	} else {
		c.yieldToControl()
		if err := c.lockWrite(op, try); err != nil {
			return err
		}
	}
	return c.unlockWrite(c.writeLocked(fin, op, p))
}

// yieldToControl lets a control frame that waits for the frame lock go
// before the next data frame. sync.Mutex would let a writer looping over
// frames take the lock again and again, holding a pong back for many
// frames; this gives the waiter the turn it is owed.
func (c *Conn) yieldToControl() {
	for i := 0; i < 64 && c.ctrlWaiting.Load() > 0; i++ {
		runtime.Gosched()
	}
}

// writeLocked writes one frame; the caller holds the frame lock.
func (c *Conn) writeLocked(fin bool, op opcode, p []byte) error {
	if c.client {
		return c.writeMasked(fin, op, p)
	}
	return c.writeUnmasked(fin, op, p)
}

// writeUnmasked writes a server frame: small payloads are copied after the
// header for one write, large ones are sent with writev.
func (c *Conn) writeUnmasked(fin bool, op opcode, p []byte) error {
	n := putHeader(c.hdr[:], fin, op, len(p), false, [4]byte{})
	if len(p) <= smallWrite {
		bp := writeBufPool.Get().(*[]byte)
		b := append(append((*bp)[:0], c.hdr[:n]...), p...)
		_, err := c.nc.Write(b)
		writeBufPool.Put(bp)
		return err
	}
	c.wv[0], c.wv[1] = c.hdr[:n], p
	c.wvb = c.wv[:]
	_, err := c.wvb.WriteTo(c.nc)
	c.wv[1] = nil
	return err
}

// writeMasked writes a client frame with a fresh random masking key,
// masking the payload in a pooled buffer so the caller's bytes stay intact.
func (c *Conn) writeMasked(fin bool, op opcode, p []byte) error {
	var key [4]byte
	k := rand.Uint32()
	key[0], key[1], key[2], key[3] = byte(k), byte(k>>8), byte(k>>16), byte(k>>24)
	bp := writeBufPool.Get().(*[]byte)
	defer writeBufPool.Put(bp)
	buf := *bp
	n := putHeader(buf, fin, op, len(p), true, key)
	pos := 0
	for {
		m := copy(buf[n:], p)
		pos = maskBytes(key, pos, buf[n:n+m])
		if _, err := c.nc.Write(buf[:n+m]); err != nil {
			return err
		}
		p = p[m:]
		if len(p) == 0 {
			return nil
		}
		n = 0
	}
}

// NextWriter returns a writer for one message of type typ. Bytes written
// are sent in frames of at most ConnOptions.MaxFrameSize; Close sends the
// final frame. Other data messages wait until the writer is closed, so
// close it promptly; control frames are not held up.
func (c *Conn) NextWriter(typ MessageType) (io.WriteCloser, error) {
	op, err := dataOpcode(typ)
	if err != nil {
		return nil, err
	}
	c.msgMu.Lock()
	return &messageWriter{c: c, op: op, buf: make([]byte, 0, c.opts.MaxFrameSize)}, nil
}

// messageWriter is the io.WriteCloser returned by NextWriter.
type messageWriter struct {
	c      *Conn
	op     opcode
	buf    []byte
	err    error
	closed bool
}

// errWriterClosed is returned by writes to a closed message writer.
var errWriterClosed = errors.New("netws: write to a closed message writer")

func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			// The buffer is full and more data follows: it is not the last frame.
			if w.err = w.c.writeFrame(false, w.op, w.buf, false); w.err != nil {
				return written, w.err
			}
			w.op = opContinuation
			w.buf = w.buf[:0]
		}
		n := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		written += n
	}
	return written, nil
}

// Close sends the final frame of the message and lets the next message go.
func (w *messageWriter) Close() error {
	if w.closed {
		return errWriterClosed
	}
	w.closed = true
	defer w.c.msgMu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.c.writeFrame(true, w.op, w.buf, false)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
