package netws

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MessageType is the type of a data message: Text or Binary.
type MessageType int

// The data message types of RFC 6455. Their values are the frame opcodes.
const (
	// Text messages carry UTF-8 text; netws validates it as it arrives.
	Text MessageType = 1
	// Binary messages carry arbitrary bytes.
	Binary MessageType = 2
)

func (t MessageType) String() string {
	switch t {
	case Text:
		return "text"
	case Binary:
		return "binary"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// Defaults used when the corresponding ConnOptions field is zero.
const (
	DefaultReadLimit    = 1 << 20
	DefaultMaxFrameSize = 16 << 10
	DefaultCloseTimeout = 5 * time.Second
	DefaultRTTWindow    = 128
	defaultReadBuffer   = 4096
	minReadBuffer       = 256
)

// ConnOptions configures a connection. The zero value is ready to use:
// a 1 MiB read limit, 16 KiB frames, no timeouts, no automatic pings.
type ConnOptions struct {
	// ReadLimit is the largest message, in bytes, that ReadMessage and
	// NextReader accept; a bigger one closes the connection with 1009.
	// 0 means DefaultReadLimit (1 MiB); a negative value means no limit.
	ReadLimit int64

	// MaxFrameSize is the largest payload of one frame that WriteMessage
	// and NextWriter send: longer messages are fragmented, so pings and
	// closes can go out between their frames. 0 means DefaultMaxFrameSize
	// (16 KiB).
	MaxFrameSize int

	// ReadBufferSize is the size of the buffer that frame headers and
	// small payloads are read into; large payloads are read straight into
	// the caller's buffer. 0 means 4096; the minimum is 256.
	ReadBufferSize int

	// IdleTimeout closes the connection (with 1001) when no frame at all,
	// control frames included, arrives for this long. 0 means none.
	IdleTimeout time.Duration

	// ReadTimeout bounds the time to receive a whole message once its
	// first frame has started to arrive. 0 means none.
	ReadTimeout time.Duration

	// WriteTimeout bounds the time to write one frame. A write that times
	// out leaves the stream unusable, so the connection is closed.
	// 0 means none.
	WriteTimeout time.Duration

	// CloseTimeout bounds how long Close waits for the peer to answer the
	// close handshake before closing the TCP connection anyway.
	// 0 means DefaultCloseTimeout (5 s).
	CloseTimeout time.Duration

	// PingInterval, when positive, makes the connection send an RTT ping
	// every interval and keep the connection alive (see KeepAliveTimeout).
	// Pongs are processed by the reader, so someone must be reading.
	PingInterval time.Duration

	// PongTimeout is how long a ping may go unanswered before it counts
	// as lost. 0 means 3 * PingInterval (or 3 s without PingInterval).
	PongTimeout time.Duration

	// KeepAliveTimeout closes the connection with 1001 when no pong has
	// arrived for this long while pings are being sent. Pongs are seen by
	// the reader, so only time spent waiting in ReadMessage or NextReader
	// counts: an application busy elsewhere (or reading nothing) is not
	// mistaken for a dead peer. 0 means 2*PingInterval + PongTimeout; a
	// negative value disables it.
	KeepAliveTimeout time.Duration

	// RTTWindow is the number of recent RTT samples percentiles are
	// computed over. 0 means DefaultRTTWindow (128); the maximum is 1024.
	RTTWindow int
}

// withDefaults returns o with zero fields replaced by their defaults.
func (o ConnOptions) withDefaults() ConnOptions {
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.MaxFrameSize <= 0 {
		o.MaxFrameSize = DefaultMaxFrameSize
	}
	if o.ReadBufferSize == 0 {
		o.ReadBufferSize = defaultReadBuffer
	}
	if o.ReadBufferSize < minReadBuffer {
		o.ReadBufferSize = minReadBuffer
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = 3 * o.PingInterval
		if o.PongTimeout <= 0 {
			o.PongTimeout = 3 * time.Second
		}
	}
	if o.KeepAliveTimeout == 0 {
		o.KeepAliveTimeout = 2*o.PingInterval + o.PongTimeout
	}
	if o.RTTWindow <= 0 {
		o.RTTWindow = DefaultRTTWindow
	}
	if o.RTTWindow > maxRTTWindow {
		o.RTTWindow = maxRTTWindow
	}
	return o
}

// ErrClosed is returned by operations on a connection that has been closed.
var ErrClosed = errors.New("netws: use of closed connection")

// ErrConcurrentRead is returned when a second goroutine calls ReadMessage or
// NextReader while another read is in progress. A Conn has one reader.
var ErrConcurrentRead = errors.New("netws: concurrent read: a Conn supports one reader at a time")

// Conn is a WebSocket connection, obtained from Upgrade, AcceptConn or Dial.
//
// Concurrency: a Conn has at most one reader (ReadMessage, NextReader) at a
// time; a second concurrent read fails with ErrConcurrentRead. Writes are
// safe from any number of goroutines: data messages (WriteMessage,
// NextWriter, WritePrepared) are serialized whole, while control frames
// (Ping, Close) and the automatic pongs go out between the frames of a
// message being written. Close and CloseNow are idempotent and safe to call
// from any goroutine.
type Conn struct {
	nc     net.Conn
	client bool
	opts   ConnOptions

	subprotocol string

	// Read side, owned by the reader (readMu).
	readMu  sync.Mutex
	reading atomic.Bool
	rbuf    []byte  // buffered bytes are rbuf[r:w]; nil while idle (see buffer.go)
	rbufp   *[]byte // rbuf's pool entry, if it came from the pool
	raw     *rawReader
	r, w    int
	rd      readState
	readErr error // sticky: once set, every read returns it

	// Write side. msgMu serializes data messages; writeMu serializes
	// frames on the wire, so control frames interleave with fragments.
	msgMu       sync.Mutex
	writeMu     sync.Mutex
	writeErr    error        // sticky, guarded by writeMu
	ctrlWaiting atomic.Int32 // control frames waiting for writeMu
	hdr         [maxHeaderSize]byte
	wv          [2][]byte
	wvb         net.Buffers
	rawW        *rawWriter // for TryWritePrepared, made on first use; under writeMu

	// Close state.
	closeSent  atomic.Bool   // a close frame has been written
	closing    atomic.Bool   // Close has been called
	closeRecvd chan struct{} // closed when the peer's close frame arrived
	closeOnce  sync.Once
	tcpClosed  chan struct{} // closed when the TCP connection is closed
	tcpOnce    sync.Once
	failMu     sync.Mutex
	failErr    error // why the connection was failed locally, for readers

	rtt       atomic.Pointer[rttTracker] // made on first use (rttState)
	keepalive *time.Timer
	readSince atomic.Int64 // with keepalive: when the read in progress began (unix ns); 0 when none
}

// newConn wraps an established connection. buffered holds bytes already
// read past the handshake.
func newConn(nc net.Conn, client bool, opts ConnOptions, buffered []byte) *Conn {
	c := &Conn{
		nc:         nc,
		client:     client,
		opts:       opts.withDefaults(),
		closeRecvd: make(chan struct{}),
		tcpClosed:  make(chan struct{}),
	}
	if len(buffered) > 0 {
		size := max(c.opts.ReadBufferSize, len(buffered))
		c.rbuf = make([]byte, size)
		c.w = copy(c.rbuf, buffered)
	}
	c.initRawReader()
	if c.opts.PingInterval > 0 {
		c.rttState() // the keepalive counts from now
		// Create the timer stopped, so keepaliveTick never sees it unset.
		c.keepalive = time.AfterFunc(time.Hour, c.keepaliveTick)
		c.keepalive.Reset(c.opts.PingInterval)
	}
	return c
}

// Subprotocol returns the subprotocol negotiated in the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// NetConn returns the underlying connection. Reading from or writing to it
// directly corrupts the WebSocket stream; it is meant for inspection and
// for setting socket options.
func (c *Conn) NetConn() net.Conn { return c.nc }

// SetReadDeadline sets the deadline for reads on the underlying connection.
// A read that times out fails the connection. ConnOptions.IdleTimeout and
// ReadTimeout, when set, replace this deadline as they go.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for writes on the underlying
// connection. ConnOptions.WriteTimeout, when set, replaces it on each frame.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

// CloseNow closes the TCP connection at once, without a close handshake.
// It is idempotent and safe to call from any goroutine; blocked reads and
// writes return.
func (c *Conn) CloseNow() error {
	err := ErrClosed
	c.tcpOnce.Do(func() {
		if c.keepalive != nil {
			c.keepalive.Stop()
		}
		// Signal first: an I/O error caused by closing nc must find
		// tcpClosed closed, to be reported as ErrClosed.
		close(c.tcpClosed)
		err = c.nc.Close()
	})
	if err == ErrClosed {
		return nil
	}
	return err
}

// fail records why the connection is being torn down, for readers that
// are about to see a network error, and closes it. The first cause wins.
func (c *Conn) fail(err error) {
	c.failMu.Lock()
	if c.failErr == nil {
		c.failErr = err
	}
	c.failMu.Unlock()
	c.CloseNow()
}

// failure returns the recorded cause of a local teardown, or nil.
func (c *Conn) failure() error {
	c.failMu.Lock()
	defer c.failMu.Unlock()
	return c.failErr
}
