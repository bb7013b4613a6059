package netws

import "fmt"

// PreparedMessage is a message encoded into frames once, to be written to
// many connections: on server connections WritePrepared sends the same
// bytes to each, with no per-connection copying or masking. Client
// connections must mask every frame, so for them it is written like
// WriteMessage. A PreparedMessage is immutable and safe for concurrent use.
type PreparedMessage struct {
	typ    MessageType
	data   []byte
	frames []byte // the encoded server frames, back to back
	ends   []int  // end offset in frames of each frame
}

// NewPreparedMessage encodes data as a message of type typ, fragmented into
// frames of at most maxFrameSize payload bytes (0 means
// DefaultMaxFrameSize). It keeps data; the caller must not modify it
// afterwards.
func NewPreparedMessage(typ MessageType, data []byte, maxFrameSize int) (*PreparedMessage, error) {
	op, err := dataOpcode(typ)
	if err != nil {
		return nil, err
	}
	if maxFrameSize <= 0 {
		maxFrameSize = DefaultMaxFrameSize
	}
	nframes := max(1, (len(data)+maxFrameSize-1)/maxFrameSize)
	pm := &PreparedMessage{
		typ:    typ,
		data:   data,
		frames: make([]byte, 0, len(data)+nframes*maxHeaderSize),
		ends:   make([]int, 0, nframes),
	}
	var hdr [maxHeaderSize]byte
	p := data
	for {
		n := min(len(p), maxFrameSize)
		fin := n == len(p)
		h := putHeader(hdr[:], fin, op, n, false, [4]byte{})
		pm.frames = append(append(pm.frames, hdr[:h]...), p[:n]...)
		pm.ends = append(pm.ends, len(pm.frames))
		if fin {
			return pm, nil
		}
		p = p[n:]
		op = opContinuation
	}
}

// Type returns the message type.
func (pm *PreparedMessage) Type() MessageType { return pm.typ }

// Payload returns the message payload. It must not be modified.
func (pm *PreparedMessage) Payload() []byte { return pm.data }

// WritePrepared writes a prepared message. Like WriteMessage it is safe
// from several goroutines, and control frames may go out between its
// frames.
func (c *Conn) WritePrepared(pm *PreparedMessage) error {
	c.msgMu.Lock()
	defer c.msgMu.Unlock()
	if c.client {
		return c.writeFragmented(opcode(pm.typ), pm.data)
	}
	return c.writeFramesFrom(pm, 0)
}

// writeFramesFrom writes pm's encoded frames from frame i on, each under
// the frame lock, so control frames can go out between them.
func (c *Conn) writeFramesFrom(pm *PreparedMessage, i int) error {
	start := 0
	if i > 0 {
		start = pm.ends[i-1]
	}
	for _, end := range pm.ends[i:] {
		c.yieldToControl()
		if err := c.lockWrite(opBinary, false); err != nil {
			return err
		}
		_, err := c.nc.Write(pm.frames[start:end])
		if err := c.unlockWrite(err); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// WritePreparedPrefixed writes one message whose payload is prefix followed
// by pm's payload, with pm's type. prefix travels in a first frame of its
// own and pm's frames follow as continuation frames, so a broadcast can
// give each connection a few bytes of its own (a per-player header) in
// front of bytes encoded once for everyone. On server connections pm's
// payload is not copied; prefix must fit in one frame (at most
// MaxFrameSize bytes).
func (c *Conn) WritePreparedPrefixed(prefix []byte, pm *PreparedMessage) error {
	if len(prefix) > c.opts.MaxFrameSize {
		return fmt.Errorf("netws: prefix of %d bytes exceeds MaxFrameSize %d", len(prefix), c.opts.MaxFrameSize)
	}
	c.msgMu.Lock()
	defer c.msgMu.Unlock()
	op := opcode(pm.typ)
	if c.client {
		if err := c.writeFrame(false, op, prefix, false); err != nil {
			return err
		}
		return c.writeFragmented(opContinuation, pm.data)
	}
	// The prefix frame and pm's first frame, its opcode changed to
	// continuation, go out in one write.
	if err := c.lockWrite(op, false); err != nil {
		return err
	}
	first := pm.frames[:pm.ends[0]]
	hn := headerSize(first[1])
	n := putHeader(c.hdr[:], false, op, len(prefix), false, [4]byte{})
	bp := writeBufPool.Get().(*[]byte)
	b := append(append((*bp)[:0], c.hdr[:n]...), prefix...)
	b = append(b, first[0]&^0x0F|byte(opContinuation))
	b = append(b, first[1:hn]...)
	c.wv[0], c.wv[1] = b, first[hn:]
	c.wvb = c.wv[:]
	_, err := c.wvb.WriteTo(c.nc)
	c.wv[0], c.wv[1] = nil, nil
	writeBufPool.Put(bp)
	if err := c.unlockWrite(err); err != nil {
		return err
	}
	return c.writeFramesFrom(pm, 1)
}
