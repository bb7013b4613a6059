package interop

// Interoperability of netws with github.com/gorilla/websocket, in both
// directions: a gorilla client against a netws server, and a netws client
// against a gorilla server. Each round-trips the same message list
// (short, empty, the payload sizes around the frame length encodings,
// 1 MiB, as binary and as multi-byte text), whole and fragmented, checks
// ping/pong, and closes in both directions with the code and reason
// observed on the other side. A passive frame sniffer on the connections
// checks how netws framed what it wrote.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickwire/tickwire/netws"
)

const (
	subprotocol = "tickwire.v1"
	readLimit   = 16 << 20
	// closeTimeout is long so that a close handshake that completes is
	// easy to tell from one that timed out.
	closeTimeout = 10 * time.Second
	// handshakeMax is how long a completed close handshake may take.
	handshakeMax = 3 * time.Second
)

// ---------------------------------------------------------------------
// Message list

type message struct {
	name string
	typ  netws.MessageType // gorilla's TextMessage and BinaryMessage have the same values
	data []byte
}

// textOf returns n bytes of valid UTF-8 cycling through characters of 1, 2,
// 3 and 4 bytes, so frame and buffer boundaries fall inside multi-byte
// sequences; where the next character does not fit it pads with 'x'.
func textOf(n int) []byte {
	chars := []string{"a", "\u00e9", "\u20ac", "\U0001F3AE"}
	b := make([]byte, 0, n)
	for i := 0; len(b) < n; i++ {
		if c := chars[i%len(chars)]; len(b)+len(c) <= n {
			b = append(b, c...)
		} else {
			b = append(b, 'x')
		}
	}
	return b
}

// binaryOf returns n bytes that are not periodic at any small power of two.
func binaryOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i * 31) ^ (i >> 8) ^ (i >> 16) ^ 0x5a)
	}
	return b
}

// messages is the list every test round-trips: 125 is the largest 7-bit
// payload length, 126 the smallest 16-bit one, 65535 the largest 16-bit
// one, 65536 the smallest 64-bit one.
func messages() []message {
	ms := []message{
		{"text/hello", netws.Text, []byte("hello, tickwire")},
		{"text/utf8", netws.Text, []byte("h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e \U0001F3AE\U0001F680")},
		{"binary/small", netws.Binary, []byte{0, 1, 2, 3, 0x7f, 0x80, 0xfe, 0xff}},
		{"text/empty", netws.Text, []byte{}},
		{"binary/empty", netws.Binary, []byte{}},
	}
	for _, n := range []int{125, 126, 65535, 65536, 1 << 20} {
		label := fmt.Sprint(n)
		if n == 1<<20 {
			label = "1MiB"
		}
		ms = append(ms,
			message{"binary/" + label, netws.Binary, binaryOf(n)},
			message{"text/" + label, netws.Text, textOf(n)})
	}
	return ms
}

// chunked are messages written with NextWriter in several Write calls of
// these sizes (the last chunk is the rest).
var chunkSizes = []int{1, 7, 1000, 4096, 333, 65536}

func chunkedMessages() []message {
	return []message{
		{"nextwriter/text-1MiB", netws.Text, textOf(1 << 20)},
		{"nextwriter/binary-70000", netws.Binary, binaryOf(70000)},
	}
}

// writeChunks writes data to w in chunkSizes pieces, then the rest.
func writeChunks(w interface{ Write([]byte) (int, error) }, data []byte) error {
	for _, n := range chunkSizes {
		n = min(n, len(data))
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	if len(data) > 0 {
		_, err := w.Write(data)
		return err
	}
	return nil
}

// diff describes how a received message differs from the expected one.
func diff(gotType int, got []byte, want message) string {
	if gotType != int(want.typ) {
		return fmt.Sprintf("message type %d, want %d", gotType, int(want.typ))
	}
	if bytes.Equal(got, want.data) {
		return ""
	}
	if len(got) != len(want.data) {
		return fmt.Sprintf("length %d, want %d", len(got), len(want.data))
	}
	for i := range got {
		if got[i] != want.data[i] {
			return fmt.Sprintf("first difference at byte %d: got %#02x, want %#02x", i, got[i], want.data[i])
		}
	}
	return "bytes differ"
}

// ---------------------------------------------------------------------
// Frame sniffer: parses the frames flowing one way on a connection without
// changing them.

type frameInfo struct {
	fin    bool
	op     byte
	masked bool
	length int64
	hdrLen int // header bytes, mask key included
}

type sniffer struct {
	mu     sync.Mutex
	crlf   int // bytes of "\r\n\r\n" matched; 4 once the HTTP head is over
	hdr    []byte
	skip   int64
	frames []frameInfo
}

func (s *sniffer) feed(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		if s.crlf < 4 { // still in the HTTP request or response head
			c := p[0]
			p = p[1:]
			switch {
			case c == "\r\n\r\n"[s.crlf]:
				s.crlf++
			case c == '\r':
				s.crlf = 1
			default:
				s.crlf = 0
			}
			continue
		}
		if s.skip > 0 {
			n := min(int64(len(p)), s.skip)
			s.skip -= n
			p = p[n:]
			continue
		}
		s.hdr = append(s.hdr, p[0])
		p = p[1:]
		if len(s.hdr) < 2 {
			continue
		}
		need := 2
		switch s.hdr[1] & 0x7f {
		case 126:
			need += 2
		case 127:
			need += 8
		}
		masked := s.hdr[1]&0x80 != 0
		if masked {
			need += 4
		}
		if len(s.hdr) < need {
			continue
		}
		f := frameInfo{fin: s.hdr[0]&0x80 != 0, op: s.hdr[0] & 0x0f, masked: masked, hdrLen: need}
		switch l := s.hdr[1] & 0x7f; l {
		case 126:
			f.length = int64(s.hdr[2])<<8 | int64(s.hdr[3])
		case 127:
			for _, b := range s.hdr[2:10] {
				f.length = f.length<<8 | int64(b)
			}
		default:
			f.length = int64(l)
		}
		s.frames = append(s.frames, f)
		s.skip = f.length
		s.hdr = s.hdr[:0]
	}
}

func (s *sniffer) snapshot() []frameInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]frameInfo(nil), s.frames...)
}

// sniffConn feeds what is read from the connection to a sniffer.
type sniffConn struct {
	net.Conn
	in *sniffer
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.feed(p[:n])
	return n, err
}

// sniffListener wraps every accepted connection and hands out its sniffer.
type sniffListener struct {
	net.Listener
	sniffers chan *sniffer
}

func (l *sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	s := new(sniffer)
	select {
	case l.sniffers <- s:
	default:
	}
	return &sniffConn{Conn: c, in: s}, nil
}

// newSniffedServer starts an httptest server whose accepted connections
// are sniffed (client-to-server frames).
func newSniffedServer(t *testing.T, h http.Handler) (*httptest.Server, <-chan *sniffer) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	ch := make(chan *sniffer, 16)
	srv.Listener = &sniffListener{Listener: srv.Listener, sniffers: ch}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, ch
}

// dataMessage is the frames of one data message.
type dataMessage struct {
	op     byte
	frames []frameInfo
	total  int64
}

// dataMessages groups data frames into messages, ignoring control frames.
func dataMessages(frames []frameInfo) ([]dataMessage, error) {
	var out []dataMessage
	var cur *dataMessage
	for i, f := range frames {
		if f.op >= 8 {
			continue
		}
		switch {
		case f.op == 0 && cur == nil:
			return out, fmt.Errorf("frame %d: continuation frame outside a message", i)
		case f.op != 0 && cur != nil:
			return out, fmt.Errorf("frame %d: opcode %d inside a fragmented message", i, f.op)
		case f.op != 0:
			cur = &dataMessage{op: f.op}
		}
		cur.frames = append(cur.frames, f)
		cur.total += f.length
		if f.fin {
			out = append(out, *cur)
			cur = nil
		}
	}
	return out, nil
}

// checkNetwsFraming checks the frames netws wrote for ms: one message per
// entry with the right opcode and length, frames of at most maxFrame
// bytes, no fragmentation of a message that fits in one frame, masking as
// wanted, and minimally encoded lengths (RFC 6455 section 5.2).
func checkNetwsFraming(t *testing.T, who string, frames []frameInfo, ms []message, maxFrame int, wantMasked bool) {
	t.Helper()
	got, err := dataMessages(frames)
	if err != nil {
		t.Errorf("%s: %v", who, err)
	}
	if len(got) != len(ms) {
		t.Errorf("%s: %d data messages seen on the wire, want %d", who, len(got), len(ms))
		return
	}
	nframes := 0
	for _, g := range got {
		nframes += len(g.frames)
	}
	t.Logf("%s: checked the framing of %d data messages in %d frames (MaxFrameSize %d)", who, len(got), nframes, maxFrame)
	for i, m := range ms {
		g := got[i]
		n := len(m.data)
		if g.op != byte(m.typ) || g.total != int64(n) {
			t.Errorf("%s: message %s: opcode %d with %d bytes, want opcode %d with %d bytes", who, m.name, g.op, g.total, m.typ, n)
			continue
		}
		minFrames := max(1, (n+maxFrame-1)/maxFrame)
		if len(g.frames) < minFrames || (n <= maxFrame && len(g.frames) != 1) {
			t.Errorf("%s: message %s (%d bytes, MaxFrameSize %d) sent in %d frames, want %d",
				who, m.name, n, maxFrame, len(g.frames), minFrames)
		}
		for j, f := range g.frames {
			ext := 0
			switch {
			case f.length > 65535:
				ext = 8
			case f.length > 125:
				ext = 2
			}
			wantHdr := 2 + ext
			if wantMasked {
				wantHdr += 4
			}
			switch {
			case f.length > int64(maxFrame):
				t.Errorf("%s: message %s frame %d: %d bytes, over MaxFrameSize %d", who, m.name, j, f.length, maxFrame)
			case f.masked != wantMasked:
				t.Errorf("%s: message %s frame %d: masked=%v, want %v", who, m.name, j, f.masked, wantMasked)
			case f.hdrLen != wantHdr:
				t.Errorf("%s: message %s frame %d: %d-byte header for a %d-byte payload, want %d (minimal length encoding)",
					who, m.name, j, f.hdrLen, f.length, wantHdr)
			}
		}
	}
}

// ---------------------------------------------------------------------
// gorilla client -> netws server

// netwsServer is a netws echo server. A text message "close-please" makes
// it close the connection itself with code 4000 instead of echoing.
type netwsServer struct {
	url      string
	sniffers <-chan *sniffer
	ended    chan error // how each connection ended (the read error)
	closed   chan error // the result of the server's own Close
}

const (
	serverCloseCode   = 4000
	serverCloseReason = "netws server bye: ünïcødé ✓"
)

func startNetwsServer(t *testing.T, maxFrame int) *netwsServer {
	t.Helper()
	s := &netwsServer{ended: make(chan error, 4), closed: make(chan error, 4)}
	opts := &netws.UpgradeOptions{
		ConnOptions: netws.ConnOptions{
			ReadLimit:    readLimit,
			MaxFrameSize: maxFrame,
			CloseTimeout: closeTimeout,
		},
		Subprotocols: []string{subprotocol},
	}
	srv, sniffers := newSniffedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := netws.Upgrade(w, r, opts)
		if err != nil {
			s.ended <- fmt.Errorf("upgrade refused: %w", err)
			return
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(buf[:0])
			if err != nil {
				s.ended <- err
				return
			}
			buf = msg
			if typ == netws.Text && string(msg) == "close-please" {
				start := time.Now()
				err := c.Close(serverCloseCode, serverCloseReason)
				if d := time.Since(start); err == nil && d > handshakeMax {
					err = fmt.Errorf("Close returned after %v: the peer's close frame did not come back", d)
				}
				s.closed <- err
				return
			}
			if err := c.WriteMessage(typ, msg); err != nil {
				s.ended <- fmt.Errorf("echo write: %w", err)
				return
			}
		}
	}))
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"
	s.sniffers = sniffers
	return s
}

// dialGorilla connects a gorilla client whose incoming frames are sniffed.
func dialGorilla(t *testing.T, url string, writeBuf int) (*websocket.Conn, *sniffer) {
	t.Helper()
	in := new(sniffer)
	d := websocket.Dialer{
		Subprotocols:     []string{subprotocol},
		WriteBufferSize:  writeBuf,
		HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var nd net.Dialer
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &sniffConn{Conn: c, in: in}, nil
		},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		status := ""
		if resp != nil {
			status = resp.Status
		}
		t.Fatalf("gorilla Dial %s: %v %s", url, err, status)
	}
	t.Cleanup(func() { c.Close() })
	if got := c.Subprotocol(); got != subprotocol {
		t.Errorf("gorilla client: subprotocol %q, want %q", got, subprotocol)
	}
	return c, in
}

// gorillaRoundTrip sends each message and reads its echo, then all of them
// pipelined.
func gorillaRoundTrip(t *testing.T, c *websocket.Conn, ms []message, chunked bool) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	send := func(m message) error {
		if !chunked {
			return c.WriteMessage(int(m.typ), m.data)
		}
		w, err := c.NextWriter(int(m.typ))
		if err != nil {
			return err
		}
		if err := writeChunks(w, m.data); err != nil {
			return err
		}
		return w.Close()
	}
	for _, m := range ms {
		if err := send(m); err != nil {
			t.Fatalf("message %s: gorilla write: %v", m.name, err)
		}
		typ, got, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("message %s: gorilla read of the echo: %v", m.name, err)
		}
		if d := diff(typ, got, m); d != "" {
			t.Errorf("message %s: echo: %s", m.name, d)
		}
	}
	werr := make(chan error, 1)
	go func() {
		for _, m := range ms {
			if err := send(m); err != nil {
				werr <- fmt.Errorf("pipelined message %s: gorilla write: %w", m.name, err)
				return
			}
		}
		werr <- nil
	}()
	for _, m := range ms {
		typ, got, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("pipelined message %s: gorilla read of the echo: %v (writer: %v)", m.name, err, <-werr)
		}
		if d := diff(typ, got, m); d != "" {
			t.Errorf("pipelined message %s: echo: %s", m.name, d)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
}

// framingModes are the two ways of writing the tests use: single frames
// (netws MaxFrameSize and gorilla's write buffer above the largest message,
// so every length encoding appears on the wire) and small frames.
var framingModes = []struct {
	name     string
	maxFrame int // netws MaxFrameSize
	writeBuf int // gorilla write buffer size: gorilla fragments client messages and NextWriter output at it
}{
	{"single-frames", 4 << 20, 2 << 20},
	{"fragmented", 1000, 512},
}

func TestGorillaClientNetwsServer(t *testing.T) {
	for _, mode := range framingModes {
		t.Run(mode.name, func(t *testing.T) {
			srv := startNetwsServer(t, mode.maxFrame)
			c, in := dialGorilla(t, srv.url, mode.writeBuf)
			var out *sniffer
			select {
			case out = <-srv.sniffers:
			case <-time.After(5 * time.Second):
				t.Fatal("the server's connection was not sniffed")
			}

			// Whole messages; then check how netws framed its echoes.
			ms := messages()
			gorillaRoundTrip(t, c, ms, false)
			echoes := append(append([]message(nil), ms...), ms...) // sequential, then pipelined
			checkNetwsFraming(t, "netws server", in.snapshot(), echoes, mode.maxFrame, false)

			// Messages written by gorilla with NextWriter in several Write
			// calls: fragmented when its write buffer is small.
			before := len(out.snapshot())
			gorillaRoundTrip(t, c, chunkedMessages(), true)
			if mode.writeBuf < 1<<20 {
				frames, _ := dataMessages(out.snapshot()[before:])
				if len(frames) == 0 || len(frames[0].frames) < 2 {
					t.Errorf("gorilla's NextWriter did not fragment the 1 MiB message (%d messages seen); the test does not test reassembly", len(frames))
				}
			}

			// A ping from gorilla is answered with a pong carrying its payload.
			pongs := make(chan string, 4)
			c.SetPongHandler(func(data string) error { pongs <- data; return nil })
			ping := "gorilla ping ✓"
			if err := c.WriteControl(websocket.PingMessage, []byte(ping), time.Now().Add(5*time.Second)); err != nil {
				t.Fatalf("gorilla ping: %v", err)
			}
			after := message{"text/after-ping", netws.Text, []byte("after the ping")}
			gorillaRoundTrip(t, c, []message{after}, false) // the pong precedes this echo
			select {
			case got := <-pongs:
				if got != ping {
					t.Errorf("pong payload %q, want %q", got, ping)
				}
			default:
				t.Errorf("no pong was read before the echo of the message sent after the ping")
			}

			// Close from gorilla: netws echoes the code, and reports the code
			// and reason to its reader.
			const reason = "gorilla client bye: ünïcødé ✓"
			if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, reason), time.Now().Add(5*time.Second)); err != nil {
				t.Fatalf("gorilla close: %v", err)
			}
			start := time.Now()
			c.SetReadDeadline(time.Now().Add(closeTimeout))
			_, _, err := c.ReadMessage()
			var ce *websocket.CloseError
			switch {
			case !errors.As(err, &ce):
				t.Errorf("after gorilla's close frame, ReadMessage returned %v, want the echoed close", err)
			case ce.Code != 1000:
				t.Errorf("netws answered the close with code %d, want 1000", ce.Code)
			}
			if d := time.Since(start); d > handshakeMax {
				t.Errorf("netws took %v to answer the close frame", d)
			}
			select {
			case err := <-srv.ended:
				var nce *netws.CloseError
				switch {
				case !errors.As(err, &nce):
					t.Errorf("netws reader ended with %v, want a *netws.CloseError", err)
				case nce.Local || nce.Code != 1000 || nce.Reason != reason:
					t.Errorf("netws reader saw %+v, want code 1000 reason %q from the peer", *nce, reason)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("the netws reader did not end after the close handshake")
			}
		})
	}
}

func TestGorillaClientNetwsServerCloses(t *testing.T) {
	srv := startNetwsServer(t, 0)
	c, _ := dialGorilla(t, srv.url, 0)
	if err := c.WriteMessage(websocket.TextMessage, []byte("close-please")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(closeTimeout))
	_, _, err := c.ReadMessage() // gorilla's default close handler answers with the same code
	var ce *websocket.CloseError
	switch {
	case !errors.As(err, &ce):
		t.Errorf("gorilla ReadMessage returned %v, want the server's close", err)
	case ce.Code != serverCloseCode || ce.Text != serverCloseReason:
		t.Errorf("gorilla saw close code %d reason %q, want %d %q", ce.Code, ce.Text, serverCloseCode, serverCloseReason)
	}
	select {
	case err := <-srv.closed:
		if err != nil {
			t.Errorf("netws server Close: %v", err)
		}
	case <-time.After(closeTimeout + 5*time.Second):
		t.Errorf("netws server Close did not return")
	}
}

// ---------------------------------------------------------------------
// netws client -> gorilla server

// gorillaServer is a gorilla echo server. It echoes with NextWriter in
// chunks when fragment is set. A text message "close-please" makes it send
// a close frame (4001) and keep reading until the close is answered;
// "ping-please" makes it ping the client before echoing.
type gorillaServer struct {
	url      string
	sniffers <-chan *sniffer
	ended    chan error  // the read error that ended each connection
	pongs    chan string // pong payloads received
}

const (
	gorillaCloseCode   = 4001
	gorillaCloseReason = "gorilla server bye: ünïcødé ✓"
	gorillaPing        = "gorilla server ping ✓"
)

func startGorillaServer(t *testing.T, writeBuf int, fragment bool) *gorillaServer {
	t.Helper()
	s := &gorillaServer{ended: make(chan error, 4), pongs: make(chan string, 4)}
	up := websocket.Upgrader{
		Subprotocols:    []string{subprotocol},
		WriteBufferSize: writeBuf,
	}
	srv, sniffers := newSniffedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			s.ended <- fmt.Errorf("gorilla upgrade: %w", err)
			return
		}
		defer c.Close()
		c.SetPongHandler(func(data string) error {
			select {
			case s.pongs <- data:
			default:
			}
			return nil
		})
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				s.ended <- err
				return
			}
			switch {
			case typ == websocket.TextMessage && string(msg) == "close-please":
				if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(gorillaCloseCode, gorillaCloseReason), time.Now().Add(5*time.Second)); err != nil {
					s.ended <- fmt.Errorf("gorilla close: %w", err)
					return
				}
				continue // read the answer
			case typ == websocket.TextMessage && string(msg) == "ping-please":
				if err := c.WriteControl(websocket.PingMessage, []byte(gorillaPing), time.Now().Add(5*time.Second)); err != nil {
					s.ended <- fmt.Errorf("gorilla ping: %w", err)
					return
				}
			}
			if fragment {
				w, err := c.NextWriter(typ)
				if err == nil {
					err = writeChunks(w, msg)
				}
				if err == nil {
					err = w.Close()
				}
				if err != nil {
					s.ended <- fmt.Errorf("gorilla echo: %w", err)
					return
				}
			} else if err := c.WriteMessage(typ, msg); err != nil {
				s.ended <- fmt.Errorf("gorilla echo: %w", err)
				return
			}
		}
	}))
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"
	s.sniffers = sniffers
	return s
}

func dialNetws(t *testing.T, url string, maxFrame int) *netws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, url, &netws.DialOptions{
		ConnOptions: netws.ConnOptions{
			ReadLimit:    readLimit,
			MaxFrameSize: maxFrame,
			CloseTimeout: closeTimeout,
		},
		Subprotocols: []string{subprotocol},
	})
	if err != nil {
		t.Fatalf("netws Dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if got := c.Subprotocol(); got != subprotocol {
		t.Errorf("netws client: subprotocol %q, want %q", got, subprotocol)
	}
	return c
}

// netwsRoundTrip sends each message with the netws client and reads its
// echo, then all of them pipelined. With chunked, messages are written with
// NextWriter in several Write calls.
func netwsRoundTrip(t *testing.T, c *netws.Conn, ms []message, chunked bool) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	send := func(m message) error {
		if !chunked {
			return c.WriteMessage(m.typ, m.data)
		}
		w, err := c.NextWriter(m.typ)
		if err != nil {
			return err
		}
		if err := writeChunks(w, m.data); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	}
	var buf []byte
	for _, m := range ms {
		if err := send(m); err != nil {
			t.Fatalf("message %s: netws write: %v", m.name, err)
		}
		typ, got, err := c.ReadMessage(buf[:0])
		if err != nil {
			t.Fatalf("message %s: netws read of the echo: %v", m.name, err)
		}
		buf = got
		if d := diff(int(typ), got, m); d != "" {
			t.Errorf("message %s: echo: %s", m.name, d)
		}
	}
	werr := make(chan error, 1)
	go func() {
		for _, m := range ms {
			if err := send(m); err != nil {
				werr <- fmt.Errorf("pipelined message %s: netws write: %w", m.name, err)
				return
			}
		}
		werr <- nil
	}()
	for _, m := range ms {
		typ, got, err := c.ReadMessage(buf[:0])
		if err != nil {
			t.Fatalf("pipelined message %s: netws read of the echo: %v (writer: %v)", m.name, err, <-werr)
		}
		buf = got
		if d := diff(int(typ), got, m); d != "" {
			t.Errorf("pipelined message %s: echo: %s", m.name, d)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
}

func TestNetwsClientGorillaServer(t *testing.T) {
	for _, mode := range framingModes {
		t.Run(mode.name, func(t *testing.T) {
			fragment := mode.writeBuf < 1<<20
			srv := startGorillaServer(t, mode.writeBuf, fragment)
			c := dialNetws(t, srv.url, mode.maxFrame)
			var in *sniffer // frames the netws client sent
			select {
			case in = <-srv.sniffers:
			case <-time.After(5 * time.Second):
				t.Fatal("the server's connection was not sniffed")
			}

			ms := messages()
			netwsRoundTrip(t, c, ms, false)
			sent := append(append([]message(nil), ms...), ms...) // sequential, then pipelined
			checkNetwsFraming(t, "netws client", in.snapshot(), sent, mode.maxFrame, true)

			// netws NextWriter in several Write calls.
			netwsRoundTrip(t, c, chunkedMessages(), true)

			// A ping from gorilla is answered by the netws reader.
			ping := message{"text/ping-please", netws.Text, []byte("ping-please")}
			after := message{"text/after-ping", netws.Text, []byte("after the ping")}
			netwsRoundTrip(t, c, []message{ping, after}, false)
			select {
			case got := <-srv.pongs:
				if got != gorillaPing {
					t.Errorf("pong payload %q, want %q", got, gorillaPing)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("gorilla received no pong for its ping")
			}

			// An RTT ping from netws is answered by gorilla's default ping
			// handler.
			if err := c.Ping(); err != nil {
				t.Fatalf("netws Ping: %v", err)
			}
			netwsRoundTrip(t, c, []message{after}, false)
			if st := c.RTT(); st.PongsMatched < 1 {
				t.Errorf("netws RTT: %d pings sent, %d pongs matched after a round trip; want a pong", st.PingsSent, st.PongsMatched)
			}

			// Close from netws: Close returns once gorilla answers, and
			// gorilla's reader sees the code and reason.
			const reason = "netws client bye: ünïcødé ✓"
			start := time.Now()
			if err := c.Close(netws.StatusNormalClosure, reason); err != nil {
				t.Errorf("netws Close: %v", err)
			}
			if d := time.Since(start); d > handshakeMax {
				t.Errorf("netws Close took %v: gorilla's close frame did not come back", d)
			}
			select {
			case err := <-srv.ended:
				var ce *websocket.CloseError
				switch {
				case !errors.As(err, &ce):
					t.Errorf("gorilla reader ended with %v, want a *websocket.CloseError", err)
				case ce.Code != 1000 || ce.Text != reason:
					t.Errorf("gorilla saw close code %d reason %q, want 1000 %q", ce.Code, ce.Text, reason)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("the gorilla reader did not end after netws closed")
			}
		})
	}
}

func TestNetwsClientGorillaServerCloses(t *testing.T) {
	srv := startGorillaServer(t, 0, false)
	c := dialNetws(t, srv.url, 0)
	if err := c.WriteMessage(netws.Text, []byte("close-please")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(closeTimeout))
	_, _, err := c.ReadMessage(nil)
	var ce *netws.CloseError
	switch {
	case !errors.As(err, &ce):
		t.Errorf("netws ReadMessage returned %v, want gorilla's close", err)
	case ce.Local || ce.Code != gorillaCloseCode || ce.Reason != gorillaCloseReason:
		t.Errorf("netws saw %+v, want code %d reason %q from the peer", *ce, gorillaCloseCode, gorillaCloseReason)
	}
	if got := netws.CloseStatus(err); got != gorillaCloseCode {
		t.Errorf("CloseStatus = %d, want %d", got, gorillaCloseCode)
	}
	// gorilla's reader sees netws's answer: the same code.
	select {
	case err := <-srv.ended:
		var gce *websocket.CloseError
		switch {
		case !errors.As(err, &gce):
			t.Errorf("gorilla reader ended with %v, want netws's close answer", err)
		case gce.Code != gorillaCloseCode:
			t.Errorf("netws answered gorilla's close with code %d, want %d", gce.Code, gorillaCloseCode)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the gorilla reader did not see netws's close answer")
	}
}
