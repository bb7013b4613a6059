package netws

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
	start := 0
	for _, end := range pm.ends {
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
