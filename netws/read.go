package netws

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// readState is the reader's position in the frame stream.
type readState struct {
	inMessage bool        // the first frame of a data message has been read
	typ       MessageType // type of the message in progress
	remaining int64       // payload bytes of the current frame not yet read
	fin       bool        // the current frame ends its message
	masked    bool
	key       [4]byte
	keyPos    int
	size      int64     // payload bytes of the message so far, current frame included
	deadline  time.Time // when the message must be complete (ReadTimeout); zero if none
	gen       uint64
	utf8      utf8Validator
}

// maxGrow bounds how far ReadMessage grows its buffer ahead of the payload
// that has arrived: a header may announce any length up to the read limit
// (or 2^63-1 without one), and memory should follow the bytes received.
const maxGrow = 1 << 20

// ReadMessage reads the next data message and appends its payload to dst,
// returning the extended slice; pass dst[:0] of a reused buffer to read
// without allocating, or nil. Control frames that arrive before or between
// the message's frames are handled on the way: pings are answered, pongs
// feed the RTT tracker, a close frame completes the close handshake.
//
// On a protocol violation, a limit or a timeout, ReadMessage sends the
// matching close frame, closes the connection and returns a *CloseError
// with Local set. When the peer closes, it returns the peer's *CloseError.
// Once it has failed, every later call returns the same error.
func (c *Conn) ReadMessage(dst []byte) (MessageType, []byte, error) {
	if !c.reading.CompareAndSwap(false, true) {
		return 0, dst, ErrConcurrentRead
	}
	defer c.endRead()
	c.beginRead()
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if c.readErr != nil {
		return 0, dst, c.readErr
	}
	c.waitIdle()
	typ, dst, err := c.readMessage(dst)
	if err != nil {
		c.readErr = err
	}
	return typ, dst, err
}

func (c *Conn) readMessage(dst []byte) (MessageType, []byte, error) {
	if err := c.beginMessage(); err != nil {
		return 0, dst, err
	}
	for {
		for c.rd.remaining > 0 {
			dst = slices.Grow(dst, int(min(c.rd.remaining, maxGrow)))
			n, err := c.readPayload(dst[len(dst):cap(dst)])
			dst = dst[:len(dst)+n]
			if err != nil {
				return 0, dst, err
			}
		}
		if c.rd.fin {
			return c.rd.typ, dst, c.endMessage()
		}
		if err := c.nextDataFrame(); err != nil {
			return 0, dst, err
		}
	}
}

// NextReader returns the type of the next data message and a reader for its
// payload. The reader returns io.EOF at the end of the message and stops
// working when NextReader or ReadMessage is called again; the unread rest
// of its message is then discarded.
func (c *Conn) NextReader() (MessageType, io.Reader, error) {
	if !c.reading.CompareAndSwap(false, true) {
		return 0, nil, ErrConcurrentRead
	}
	defer c.endRead()
	c.beginRead()
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if c.readErr != nil {
		return 0, nil, c.readErr
	}
	c.waitIdle()
	if err := c.beginMessage(); err != nil {
		c.readErr = err
		return 0, nil, err
	}
	return c.rd.typ, &messageReader{c: c, gen: c.rd.gen}, nil
}

// messageReader reads one message's payload for NextReader.
type messageReader struct {
	c   *Conn
	gen uint64
}

func (r *messageReader) Read(p []byte) (int, error) {
	c := r.c
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if c.readErr != nil {
		return 0, c.readErr
	}
	if r.gen != c.rd.gen || !c.rd.inMessage {
		return 0, io.EOF
	}
	for c.rd.remaining == 0 {
		var err error
		if c.rd.fin {
			if err = c.endMessage(); err == nil {
				return 0, io.EOF
			}
		} else {
			err = c.nextDataFrame()
		}
		if err != nil {
			c.readErr = err
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.readPayload(p)
	if err != nil {
		c.readErr = err
	}
	return n, err
}

// beginMessage discards what is left of a message a NextReader caller did
// not finish, then reads up to the first frame of the next data message.
func (c *Conn) beginMessage() error {
	if c.rd.inMessage {
		if err := c.discardMessage(); err != nil {
			return err
		}
	}
	return c.nextDataFrame()
}

// discardPool holds the buffers discarded payloads are read into.
var discardPool = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// discardMessage reads and drops the rest of the current data message, or
// a whole message if none is in progress.
func (c *Conn) discardMessage() error {
	if !c.rd.inMessage {
		if err := c.nextDataFrame(); err != nil {
			return err
		}
	}
	sp := discardPool.Get().(*[]byte)
	defer discardPool.Put(sp)
	for {
		for c.rd.remaining > 0 {
			if _, err := c.readPayload(*sp); err != nil {
				return err
			}
		}
		if c.rd.fin {
			return c.endMessage()
		}
		if err := c.nextDataFrame(); err != nil {
			return err
		}
	}
}

// endMessage finishes the message whose last frame has been read.
func (c *Conn) endMessage() error {
	c.rd.inMessage = false
	c.releaseBuffer()
	if c.rd.typ == Text && !c.rd.utf8.complete() {
		return c.failRead(localClose(StatusInvalidPayload, "text message ends inside a UTF-8 sequence"))
	}
	return nil
}

// fill makes sure at least n (<= ReadBufferSize) bytes are buffered.
func (c *Conn) fill(n int) error {
	if c.r == c.w {
		c.r, c.w = 0, 0
	}
	for c.w-c.r < n {
		if c.rbuf != nil && len(c.rbuf)-c.r < n {
			c.w = copy(c.rbuf, c.rbuf[c.r:c.w])
			c.r = 0
		}
		if _, err := c.readToBuffer(); err != nil && c.w-c.r < n {
			return err
		}
	}
	return nil
}

// nextDataFrame reads frame headers until one starts or continues a data
// message, handling the control frames it meets on the way.
func (c *Conn) nextDataFrame() error {
	for {
		c.armReadDeadline()
		h, err := c.readHeader()
		if err != nil {
			return err
		}
		if h.op.isControl() {
			if err := c.readControl(&h); err != nil {
				return err
			}
			continue
		}
		if h.op == opContinuation {
			if !c.rd.inMessage {
				return c.failRead(localClose(StatusProtocolError, "continuation frame with no message in progress"))
			}
		} else {
			if c.rd.inMessage {
				return c.failRead(localClose(StatusProtocolError, fmt.Sprintf("%s frame while a fragmented message is in progress", h.op)))
			}
			c.rd.inMessage = true
			c.rd.typ = MessageType(h.op)
			c.rd.size = 0
			c.rd.gen++
			c.rd.utf8.reset()
			c.rd.deadline = time.Time{}
			if c.opts.ReadTimeout > 0 {
				c.rd.deadline = time.Now().Add(c.opts.ReadTimeout)
			}
			c.armReadDeadline()
		}
		if limit := c.opts.ReadLimit; limit > 0 && h.length > limit-c.rd.size {
			return c.failRead(localClose(StatusMessageTooBig,
				fmt.Sprintf("message of at least %d bytes exceeds the read limit of %d", c.rd.size+h.length, limit)))
		}
		c.rd.size += h.length
		c.rd.remaining = h.length
		c.rd.fin = h.fin
		c.rd.masked = h.masked
		c.rd.key = h.key
		c.rd.keyPos = 0
		return nil
	}
}

// armReadDeadline sets the read deadline for what comes next: IdleTimeout
// from now, as every frame restarts the idle timer, but no later than the
// ReadTimeout deadline of the message in progress. Without either option,
// or once Close has taken over the deadline, it leaves the deadline alone.
func (c *Conn) armReadDeadline() {
	if c.opts.IdleTimeout <= 0 && c.opts.ReadTimeout <= 0 || c.closing.Load() {
		return
	}
	var d time.Time
	if c.opts.IdleTimeout > 0 {
		d = time.Now().Add(c.opts.IdleTimeout)
	}
	if c.rd.inMessage && !c.rd.deadline.IsZero() && (d.IsZero() || c.rd.deadline.Before(d)) {
		d = c.rd.deadline
	}
	c.nc.SetReadDeadline(d)
}

// readHeader reads and checks one frame header.
func (c *Conn) readHeader() (frameHeader, error) {
	if err := c.fill(2); err != nil {
		return frameHeader{}, c.readError(err)
	}
	n := headerSize(c.rbuf[c.r+1])
	if err := c.fill(n); err != nil {
		return frameHeader{}, c.readError(err)
	}
	h, err := parseHeader(c.rbuf[c.r : c.r+n])
	if err != nil {
		return h, c.failRead(localClose(StatusProtocolError, err.Error()))
	}
	c.r += n
	switch {
	case h.rsv != 0:
		return h, c.failRead(localClose(StatusProtocolError, "RSV bits set but no extension was negotiated"))
	case h.op.isReserved():
		return h, c.failRead(localClose(StatusProtocolError, h.op.String()))
	case h.op.isControl() && !h.fin:
		return h, c.failRead(localClose(StatusProtocolError, "fragmented "+h.op.String()+" frame"))
	case h.op.isControl() && h.length > maxControlPayload:
		return h, c.failRead(localClose(StatusProtocolError,
			fmt.Sprintf("%s frame payload of %d bytes exceeds 125", h.op, h.length)))
	case !c.client && !h.masked:
		return h, c.failRead(localClose(StatusProtocolError, "unmasked frame from client"))
	case c.client && h.masked:
		return h, c.failRead(localClose(StatusProtocolError, "masked frame from server"))
	}
	return h, nil
}

// readError turns a network error met while waiting for a frame into the
// error to report, closing the connection with a reason when a timeout set
// by the options fired.
func (c *Conn) readError(err error) error {
	if isTimeout(err) && c.failure() == nil && !c.closing.Load() {
		switch {
		case c.rd.inMessage && c.opts.ReadTimeout > 0 && (c.opts.IdleTimeout <= 0 || !time.Now().Before(c.rd.deadline)):
			return c.failRead(localClose(StatusPolicyViolation, "read timeout: message not received within "+c.opts.ReadTimeout.String()))
		case c.opts.IdleTimeout > 0:
			return c.failRead(localClose(StatusGoingAway, "idle timeout: no frame for "+c.opts.IdleTimeout.String()))
		}
	}
	return c.readFailure(err)
}

// readControl reads a control frame's payload and acts on it.
func (c *Conn) readControl(h *frameHeader) error {
	n := int(h.length)
	if err := c.fill(n); err != nil {
		return c.readError(err)
	}
	p := c.rbuf[c.r : c.r+n]
	c.r += n
	if h.masked {
		maskBytes(h.key, 0, p)
	}
	switch h.op {
	case opPing:
		if !c.closeSent.Load() {
			c.writeControl(opPong, p)
		}
	case opPong:
		c.rttState().onPong(p, time.Now())
	case opClose:
		code, reason, ce := parseClosePayload(p)
		if ce != nil {
			return c.failRead(ce)
		}
		return c.onPeerClose(code, reason)
	}
	return nil
}

// readPayload reads up to len(p) bytes of the current frame's payload,
// unmasking and validating them. Large reads bypass the buffer.
func (c *Conn) readPayload(p []byte) (int, error) {
	if int64(len(p)) > c.rd.remaining {
		p = p[:c.rd.remaining]
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	switch {
	case c.w > c.r:
		n = copy(p, c.rbuf[c.r:c.w])
		c.r += n
	case len(p) >= c.opts.ReadBufferSize:
		n, err = c.readDirect(p)
	default:
		c.r, c.w = 0, 0
		var m int
		m, err = c.readToBuffer()
		n = copy(p, c.rbuf[:m])
		c.r = n
	}
	if n > 0 {
		p = p[:n]
		if c.rd.masked {
			c.rd.keyPos = maskBytes(c.rd.key, c.rd.keyPos, p)
		}
		c.rd.remaining -= int64(n)
		if c.rd.typ == Text && !c.rd.utf8.write(p) {
			return n, c.failRead(localClose(StatusInvalidPayload, "text message is not valid UTF-8"))
		}
		return n, nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return 0, c.readError(err)
}
