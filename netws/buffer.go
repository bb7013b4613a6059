package netws

import (
	"io"
	"os"
	"sync"
	"syscall"
)

// An idle connection should hold no read buffer: most of a game server's
// connections are waiting most of the time. On connections that expose
// their file descriptor (TCP, Unix), netws waits for readability without a
// buffer, through syscall.RawConn, and takes a buffer from a pool only when
// bytes are there to read; the buffer goes back once it is empty again.
// Other connections (TLS) keep a buffer from their first read on.
//
// Between messages such a connection also waits on a shallow stack
// (waitIdle): the reading goroutine parks a few frames below ReadMessage
// instead of at the bottom of the frame parser, so the stack of an idle
// connection's goroutine fits the runtime's smallest size. (A read cannot
// skip the read that finds nothing: RawConn.Read forgets a readiness the
// poller saw before it was called, so it must look first.)

// readBufPool holds read buffers of the default size.
var readBufPool = sync.Pool{New: func() any { b := make([]byte, defaultReadBuffer); return &b }}

// rawReader reads from a connection's file descriptor when it is readable.
// Its callback is a method value made once, so reads do not allocate.
type rawReader struct {
	rc   syscall.RawConn
	fn   func(fd uintptr) bool
	dst  []byte // where the next read goes; nil means the read buffer
	n    int
	serr error
	// pending is an error met by waitIdle, for the next read to return.
	pending error
}

// initRawReader sets up buffer-less waiting when nc allows it.
func (c *Conn) initRawReader() {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.raw = &rawReader{rc: rc}
	c.raw.fn = c.rawRead
}

// waitIdle reads once, when the connection has no buffered bytes, on a
// shallow stack: the caller is ReadMessage or NextReader, so a goroutine
// waiting for its next message parks a few frames below them instead of
// at the bottom of the frame parser. An error is kept for the parser's
// next read, which reports it as any read would.
func (c *Conn) waitIdle() {
	if c.raw == nil || c.r != c.w || c.raw.pending != nil {
		return
	}
	c.r, c.w = 0, 0
	c.armReadDeadline()
	if _, err := c.readToBuffer(); err != nil {
		c.raw.pending = err
	}
}

// acquireBuffer gives the connection a read buffer if it has none.
func (c *Conn) acquireBuffer() {
	if c.rbuf != nil {
		return
	}
	if c.opts.ReadBufferSize == defaultReadBuffer {
		c.rbufp = readBufPool.Get().(*[]byte)
		c.rbuf = *c.rbufp
		return
	}
	c.rbuf = make([]byte, c.opts.ReadBufferSize)
}

// releaseBuffer returns an empty read buffer to the pool. Only buffer-less
// waiters release: other connections would need a new one at once.
func (c *Conn) releaseBuffer() {
	if c.raw == nil || c.rbuf == nil || c.r != c.w {
		return
	}
	if c.rbufp != nil {
		readBufPool.Put(c.rbufp)
	}
	c.rbuf, c.rbufp = nil, nil
	c.r, c.w = 0, 0
}

// readToBuffer reads once into the read buffer after c.w.
func (c *Conn) readToBuffer() (int, error) {
	if c.raw == nil {
		c.acquireBuffer()
		n, err := c.nc.Read(c.rbuf[c.w:])
		c.w += n
		return n, err
	}
	c.raw.dst = nil
	n, err := c.rawWait()
	c.w += n
	return n, err
}

// readDirect reads once into p, bypassing the buffer.
func (c *Conn) readDirect(p []byte) (int, error) {
	if c.raw == nil {
		return c.nc.Read(p)
	}
	c.raw.dst = p
	n, err := c.rawWait()
	c.raw.dst = nil
	return n, err
}

// rawWait waits for the descriptor to be readable and reads once.
func (c *Conn) rawWait() (int, error) {
	if err := c.raw.pending; err != nil {
		c.raw.pending = nil
		return 0, err
	}
	c.raw.n, c.raw.serr = 0, nil
	err := c.raw.rc.Read(c.raw.fn)
	n := c.raw.n
	if err == nil {
		err = c.raw.serr
	}
	if err == nil && n == 0 {
		err = io.EOF
	}
	return n, err
}

// rawRead is the RawConn callback: it reads when data is there, and when
// it is not, gives the empty buffer back before the wait.
func (c *Conn) rawRead(fd uintptr) bool {
	p := c.raw.dst
	if p == nil {
		c.acquireBuffer()
		p = c.rbuf[c.w:]
	}
	var n int
	var err error
	for {
		n, err = syscall.Read(int(fd), p)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EAGAIN {
		if c.raw.dst == nil {
			c.releaseBuffer()
		}
		return false
	}
	if err != nil {
		c.raw.serr = os.NewSyscallError("read", err)
		n = 0
	}
	c.raw.n = n
	return true
}
