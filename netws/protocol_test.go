package netws

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// These tests speak raw RFC 6455 to netws: they build frames byte by byte,
// decode what netws sends with their own decoder, and check every rule of
// the protocol one table row at a time.

// hangGuard bounds every wait in these tests. It only turns a hang into a
// failure; no test asserts how fast anything happens.
const hangGuard = 20 * time.Second

// testMaskKey masks every client frame the tests build: the key of the
// examples in RFC 6455 section 5.7.
var testMaskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// The RSV bits, in place in the first header byte.
const (
	rsv1 = 0x40
	rsv2 = 0x20
	rsv3 = 0x10
)

// Length forms of a frame header: the 7-bit length, or 126 followed by a
// 16-bit length, or 127 followed by a 64-bit length.
const (
	len7  = 7
	len16 = 16
	len64 = 64
)

// frame encodes one frame with the minimal length encoding; masked frames
// are what a client sends, unmasked ones what a server sends.
func frame(fin bool, rsv byte, op opcode, payload []byte, masked bool) []byte {
	form := len7
	switch {
	case len(payload) > 0xFFFF:
		form = len64
	case len(payload) > 125:
		form = len16
	}
	return frameLen(fin, rsv, op, payload, masked, form, uint64(len(payload)))
}

// frameLen encodes a frame whose header declares the length declared in
// the given form. Neither needs to be right: declared may differ from
// len(payload) (a frame cut short), and the form need not be minimal.
func frameLen(fin bool, rsv byte, op opcode, payload []byte, masked bool, form int, declared uint64) []byte {
	b0 := rsv | byte(op)
	if fin {
		b0 |= 0x80
	}
	var m byte
	if masked {
		m = 0x80
	}
	b := []byte{b0}
	switch form {
	case len7:
		b = append(b, m|byte(declared))
	case len16:
		b = binary.BigEndian.AppendUint16(append(b, m|126), uint16(declared))
	case len64:
		b = binary.BigEndian.AppendUint64(append(b, m|127), declared)
	default:
		panic("frameLen: bad length form")
	}
	if !masked {
		return append(b, payload...)
	}
	b = append(b, testMaskKey[:]...)
	for i, x := range payload {
		b = append(b, x^testMaskKey[i%4])
	}
	return b
}

// clientFrames builds well-formed masked client frames: cf.text("hi").
type clientFrames struct{}

var cf clientFrames

func (clientFrames) text(s string) []byte     { return frame(true, 0, opText, []byte(s), true) }
func (clientFrames) binary(p []byte) []byte   { return frame(true, 0, opBinary, p, true) }
func (clientFrames) ping(s string) []byte     { return frame(true, 0, opPing, []byte(s), true) }
func (clientFrames) pong(s string) []byte     { return frame(true, 0, opPong, []byte(s), true) }
func (clientFrames) closeRaw(p []byte) []byte { return frame(true, 0, opClose, p, true) }

// frag builds one fragment: op is opText or opBinary for the first one and
// opContinuation for the others; fin marks the last.
func (clientFrames) frag(op opcode, fin bool, s string) []byte {
	return frame(fin, 0, op, []byte(s), true)
}

// close builds a close frame carrying code and reason.
func (clientFrames) close(code int, reason string) []byte {
	return frame(true, 0, opClose, closeBody(code, reason), true)
}

// closeBody encodes a close frame payload: a 2-byte code and the reason.
func closeBody(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// joinFrames concatenates encoded frames into one byte stream.
func joinFrames(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// pattern returns n deterministic, non-repeating-looking bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// wireFrame is a frame decoded by the tests' own decoder.
type wireFrame struct {
	fin     bool
	rsv     byte
	op      opcode
	masked  bool
	key     [4]byte
	payload []byte // unmasked
}

// readWireFrame reads one frame from r, unmasking its payload.
func readWireFrame(r io.Reader) (wireFrame, error) {
	var f wireFrame
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return f, err
	}
	f.fin = h[0]&0x80 != 0
	f.rsv = h[0] & 0x70
	f.op = opcode(h[0] & 0x0F)
	f.masked = h[1]&0x80 != 0
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return f, io.ErrUnexpectedEOF
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return f, io.ErrUnexpectedEOF
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<30 {
		return f, fmt.Errorf("frame length %d is absurd", n)
	}
	if f.masked {
		if _, err := io.ReadFull(r, f.key[:]); err != nil {
			return f, io.ErrUnexpectedEOF
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, io.ErrUnexpectedEOF
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= f.key[i%4]
		}
	}
	return f, nil
}

// decodeFrames decodes a whole byte stream into frames; a partial frame at
// the end is an error.
func decodeFrames(b []byte) ([]wireFrame, error) {
	r := bytes.NewReader(b)
	var frames []wireFrame
	for r.Len() > 0 {
		f, err := readWireFrame(r)
		if err != nil {
			return frames, fmt.Errorf("frame %d: %w", len(frames), err)
		}
		frames = append(frames, f)
	}
	return frames, nil
}

// event is a message or control frame seen on the wire: data frames are
// reassembled into messages (op is opText or opBinary).
type event struct {
	op   opcode
	data []byte
}

func wantText(s string) event      { return event{opText, []byte(s)} }
func wantBinary(b []byte) event    { return event{opBinary, b} }
func wantPong(s string) event      { return event{opPong, []byte(s)} }
func (e event) equal(o event) bool { return e.op == o.op && bytes.Equal(e.data, o.data) }

func (e event) String() string {
	if len(e.data) > 40 {
		return fmt.Sprintf("%s[%d bytes]", e.op, len(e.data))
	}
	return fmt.Sprintf("%s%q", e.op, e.data)
}

// serverEvents checks that frames are valid server frames (unmasked, no
// RSV bits, control frames whole and small, fragments in order) and
// reassembles them into events. The close frame, which must be last, is
// returned apart.
func serverEvents(frames []wireFrame) (events []event, closing *wireFrame, err error) {
	var msg *event
	for i, f := range frames {
		switch {
		case closing != nil:
			return events, closing, fmt.Errorf("frame %d (%s) follows the close frame", i, f.op)
		case f.masked:
			return events, nil, fmt.Errorf("frame %d (%s) from the server is masked", i, f.op)
		case f.rsv != 0:
			return events, nil, fmt.Errorf("frame %d (%s) has RSV bits %#x", i, f.op, f.rsv)
		case f.op.isControl() && (!f.fin || len(f.payload) > 125):
			return events, nil, fmt.Errorf("frame %d: invalid %s frame (fin %v, %d bytes)", i, f.op, f.fin, len(f.payload))
		}
		switch f.op {
		case opClose:
			closing = &frames[i]
		case opPing, opPong:
			events = append(events, event{f.op, f.payload})
		case opText, opBinary:
			if msg != nil {
				return events, nil, fmt.Errorf("frame %d: %s frame inside a fragmented message", i, f.op)
			}
			msg = &event{f.op, append([]byte{}, f.payload...)}
		case opContinuation:
			if msg == nil {
				return events, nil, fmt.Errorf("frame %d: continuation frame with no message", i)
			}
			msg.data = append(msg.data, f.payload...)
		default:
			return events, nil, fmt.Errorf("frame %d: reserved opcode %#x", i, byte(f.op))
		}
		if msg != nil && f.fin && !f.op.isControl() {
			events = append(events, *msg)
			msg = nil
		}
	}
	if msg != nil {
		return events, closing, fmt.Errorf("the stream ends inside a %s message", msg.op)
	}
	return events, closing, nil
}

// closeFields decodes a close frame payload; an empty one reads as 1005.
func closeFields(p []byte) (StatusCode, string) {
	if len(p) < 2 {
		return StatusNoStatusReceived, ""
	}
	return StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
}

// rfcAccept computes Sec-WebSocket-Accept as RFC 6455 section 4.2.2 says.
func rfcAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// testKey is the Sec-WebSocket-Key of RFC 6455 section 1.3.
const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// rawPeer is a server Conn, accepted with AcceptConn on loopback TCP, and
// the raw client end of its connection.
type rawPeer struct {
	t     *testing.T
	nc    net.Conn      // the client end
	br    *bufio.Reader // what the server sends, after its 101 response
	conns chan *Conn    // receives the server Conn once accepted
	sc    *Conn
	done  chan struct{} // closed when the server goroutine has returned
	err   error         // what the server's handle function returned; set before done
}

// serverSetup configures startServerWith.
type serverSetup struct {
	opts *UpgradeOptions
	// smallBuffers shrinks the server's socket send buffer, so a server
	// write blocks soon when the client does not read. (The client's
	// receive buffer is left alone: shrinking it on an open connection
	// can stall TCP for seconds.)
	smallBuffers bool
}

// startServer accepts one connection with AcceptConn and runs handle on the
// server Conn in a goroutine; the test gets the client end, past a valid
// handshake.
func startServer(t *testing.T, opts *UpgradeOptions, handle func(*Conn) error) *rawPeer {
	return startServerWith(t, serverSetup{opts: opts}, handle)
}

func startServerWith(t *testing.T, setup serverSetup, handle func(*Conn) error) *rawPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &rawPeer{t: t, conns: make(chan *Conn, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		nc, err := ln.Accept()
		ln.Close()
		if err != nil {
			p.err = err
			return
		}
		if setup.smallBuffers {
			nc.(*net.TCPConn).SetWriteBuffer(16 << 10)
		}
		c, _, err := AcceptConn(nc, setup.opts)
		if err != nil {
			p.err = err
			return
		}
		p.conns <- c
		defer c.CloseNow()
		p.err = handle(c)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p.nc = nc
	t.Cleanup(func() {
		nc.Close()
		select {
		case <-p.done:
		case <-time.After(hangGuard):
			t.Error("the server goroutine did not return after the client closed")
		}
	})
	p.br = bufio.NewReader(nc)
	req := "GET /chat HTTP/1.1\r\nHost: " + ln.Addr().String() +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	nc.SetDeadline(time.Now().Add(hangGuard))
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != rfcAccept(testKey) {
		t.Fatalf("handshake response: %s, accept %q", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	nc.SetDeadline(time.Time{})
	return p
}

// server returns the server Conn.
func (p *rawPeer) server() *Conn {
	p.t.Helper()
	if p.sc == nil {
		select {
		case p.sc = <-p.conns:
		case <-time.After(hangGuard):
			p.t.Fatal("the server did not accept the connection")
		}
	}
	return p.sc
}

// send writes chunks to the server, gap apart, ignoring write errors: the
// server may rightly close the connection before it has read everything.
func (p *rawPeer) send(chunks [][]byte, gap time.Duration) {
	for i, b := range chunks {
		if i > 0 && gap > 0 {
			time.Sleep(gap)
		}
		if _, err := p.nc.Write(b); err != nil {
			return
		}
	}
}

// readToEnd reads everything the server sends until it closes the TCP
// connection, failing the test if it does not.
func (p *rawPeer) readToEnd() []byte {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(hangGuard))
	var out bytes.Buffer
	// An orderly close reads as EOF (nil here); a close with unread input
	// in the server's socket reads as a reset after the data it sent.
	if _, err := out.ReadFrom(p.br); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		p.t.Fatalf("the server did not close the TCP connection: %v (after %d bytes)", err, out.Len())
	}
	return out.Bytes()
}

// wait waits for the server goroutine to return and returns its error.
func (p *rawPeer) wait() error {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(hangGuard):
		p.t.Fatal("the server goroutine did not return")
	}
	return p.err
}

// echoUntilError is echo, returning the error that ended it.
func echoUntilError(c *Conn) error {
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(buf[:0])
		if err != nil {
			return err
		}
		buf = msg
		if err := c.WriteMessage(typ, msg); err != nil {
			return err
		}
	}
}

// wantClose is how a table row expects the connection to end.
type wantClose struct {
	code  StatusCode // 1005: a close frame with an empty payload
	local bool       // the server failed the connection (else it echoed the client's close)
}

// fails expects the server to fail the connection with code and a reason.
func fails(code StatusCode) wantClose { return wantClose{code, true} }

// echoes expects the server to answer the client's close with code.
func echoes(code StatusCode) wantClose { return wantClose{code, false} }

type protocolCase struct {
	name   string
	opts   ConnOptions
	in     []byte        // what the client sends after the handshake...
	chunks [][]byte      // ...or these, written gap apart
	gap    time.Duration //
	want   []event       // the messages echoed and the pongs, in order
	// anyPongs ignores pongs, for rows whose pings race a timeout.
	anyPongs bool
	close    wantClose
	reason   string // a substring of the close reason, for failures
}

// runProtocolCase plays one row against a server Conn running the echo
// loop and checks everything the server sent, that it closed the TCP
// connection, and that its goroutine returned with the matching error.
func runProtocolCase(t *testing.T, tc protocolCase) {
	t.Helper()
	p := startServer(t, &UpgradeOptions{ConnOptions: tc.opts}, echoUntilError)
	chunks := tc.chunks
	if tc.in != nil {
		chunks = [][]byte{tc.in}
	}
	go p.send(chunks, tc.gap)
	out := p.readToEnd() // fails the test unless the server closes TCP
	serverErr := p.wait()

	frames, err := decodeFrames(out)
	if err != nil {
		t.Fatalf("decoding what the server sent: %v", err)
	}
	events, closing, err := serverEvents(frames)
	if err != nil {
		t.Fatalf("invalid server frames: %v", err)
	}
	if tc.anyPongs {
		events = removePongs(events)
	}
	if !eventsEqual(events, tc.want) {
		t.Errorf("server sent %v, want %v", events, tc.want)
	}
	if closing == nil {
		t.Fatalf("the server closed the connection without a close frame (server error: %v)", serverErr)
	}
	code, reason := closeFields(closing.payload)
	if code != tc.close.code {
		t.Errorf("close code %v (reason %q), want %v", code, reason, tc.close.code)
	}
	if len(closing.payload) == 1 {
		t.Errorf("close frame with a 1-byte payload")
	}

	var ce *CloseError
	if !errors.As(serverErr, &ce) {
		t.Fatalf("the server's read ended with %v, want a *CloseError", serverErr)
	}
	if ce.Local != tc.close.local || ce.Code != tc.close.code {
		t.Errorf("server error: %v (code %v, local %v), want code %v local %v", ce, ce.Code, ce.Local, tc.close.code, tc.close.local)
	}
	if tc.close.local {
		if reason == "" || !utf8.ValidString(reason) {
			t.Errorf("failure close reason %q: want a readable explanation", reason)
		}
		if reason != truncateReason(ce.Reason) {
			t.Errorf("close reason %q differs from the error's reason %q", reason, ce.Reason)
		}
		if !strings.Contains(reason, tc.reason) {
			t.Errorf("close reason %q does not mention %q", reason, tc.reason)
		}
	} else if reason != "" {
		t.Errorf("the server echoed the close with reason %q, want none", reason)
	}
	t.Logf("server: %v", serverErr)
}

func removePongs(events []event) []event {
	var out []event
	for _, e := range events {
		if e.op != opPong {
			out = append(out, e)
		}
	}
	return out
}

func eventsEqual(a, b []event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

// bye is the normal close that ends rows which expect the server to keep
// going.
var bye = cf.close(1000, "bye")

// fragmentedPings sends a text message in fragments with pings between
// them, n writes in all; with a gap between writes it spans n gaps.
func fragmentedPings(n int) [][]byte {
	chunks := [][]byte{cf.frag(opText, false, "start ")}
	for i := range n - 2 {
		chunks = append(chunks, cf.ping(fmt.Sprint(i)))
	}
	return append(chunks, joinFrames(cf.frag(opContinuation, true, "end"), bye))
}

func TestProtocolRules(t *testing.T) {
	var cases []protocolCase
	add := func(c ...protocolCase) { cases = append(cases, c...) }

	// RFC 6455 5.2: payload lengths in the 7-bit, 16-bit and 64-bit forms,
	// which must be minimal; the 64-bit form's top bit must be 0.
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		add(protocolCase{
			name:  fmt.Sprintf("length %d echoes", n),
			in:    joinFrames(cf.binary(pattern(n)), bye),
			want:  []event{wantBinary(pattern(n))},
			close: echoes(1000),
		})
	}
	add(
		protocolCase{name: "length 100 in the 16-bit form", in: frameLen(true, 0, opBinary, pattern(100), true, len16, 100), close: fails(1002), reason: "minimal"},
		protocolCase{name: "length 125 in the 16-bit form", in: frameLen(true, 0, opBinary, pattern(125), true, len16, 125), close: fails(1002), reason: "minimal"},
		protocolCase{name: "length 200 in the 64-bit form", in: frameLen(true, 0, opBinary, pattern(200), true, len64, 200), close: fails(1002), reason: "minimal"},
		protocolCase{name: "length 65535 in the 64-bit form", in: frameLen(true, 0, opBinary, nil, true, len64, 65535), close: fails(1002), reason: "minimal"},
		protocolCase{name: "64-bit length with its top bit set", in: frameLen(true, 0, opBinary, nil, true, len64, 1<<63|70000), close: fails(1002), reason: "most significant bit"},
		protocolCase{name: "64-bit length all ones", in: frameLen(true, 0, opBinary, nil, true, len64, 1<<64-1), close: fails(1002)},
	)

	// 5.1, 5.3: a client must mask every frame.
	add(
		protocolCase{name: "unmasked text frame", in: frame(true, 0, opText, []byte("hi"), false), close: fails(1002), reason: "unmasked"},
		protocolCase{name: "unmasked ping", in: frame(true, 0, opPing, []byte("hi"), false), close: fails(1002), reason: "unmasked"},
		protocolCase{name: "unmasked close", in: frame(true, 0, opClose, closeBody(1000, ""), false), close: fails(1002), reason: "unmasked"},
		protocolCase{name: "unmasked fragment after masked ones", in: joinFrames(cf.frag(opText, false, "a"), frame(true, 0, opContinuation, []byte("b"), false)), close: fails(1002), reason: "unmasked"},
	)

	// 5.2: RSV bits must be 0 unless an extension defines them.
	for _, r := range []struct {
		name string
		bits byte
	}{{"RSV1", rsv1}, {"RSV2", rsv2}, {"RSV3", rsv3}, {"all RSV bits", rsv1 | rsv2 | rsv3}} {
		add(protocolCase{name: r.name + " on a text frame", in: frame(true, r.bits, opText, []byte("hi"), true), close: fails(1002), reason: "RSV"})
	}
	add(
		protocolCase{name: "RSV1 on a ping", in: frame(true, rsv1, opPing, nil, true), close: fails(1002), reason: "RSV"},
		protocolCase{name: "RSV2 on a continuation", in: joinFrames(cf.frag(opText, false, "a"), frame(true, rsv2, opContinuation, []byte("b"), true)), close: fails(1002), reason: "RSV"},
	)

	// 5.2: reserved opcodes fail the connection.
	for _, op := range []opcode{0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		add(protocolCase{
			name:   fmt.Sprintf("reserved opcode %#x", byte(op)),
			in:     joinFrames(frame(true, 0, op, []byte("x"), true), bye),
			close:  fails(1002),
			reason: "reserved",
		})
	}
	add(protocolCase{name: "reserved opcode inside a fragmented message", in: joinFrames(cf.frag(opText, false, "a"), frame(true, 0, 0x3, nil, true)), close: fails(1002), reason: "reserved"})

	// 5.5: control frames carry at most 125 bytes and are not fragmented;
	// 5.5.2, 5.5.3: a ping is answered with a pong carrying its payload;
	// an unsolicited pong is ignored.
	add(
		protocolCase{name: "ping with 125 bytes", in: joinFrames(cf.ping(strings.Repeat("p", 125)), bye), want: []event{wantPong(strings.Repeat("p", 125))}, close: echoes(1000)},
		protocolCase{name: "empty ping", in: joinFrames(cf.ping(""), bye), want: []event{wantPong("")}, close: echoes(1000)},
		protocolCase{name: "binary ping payload", in: joinFrames(frame(true, 0, opPing, []byte{0, 0xFF, 0x80, 1}, true), bye), want: []event{{opPong, []byte{0, 0xFF, 0x80, 1}}}, close: echoes(1000)},
		protocolCase{name: "ping with 126 bytes", in: cf.ping(strings.Repeat("p", 126)), close: fails(1002), reason: "125"},
		protocolCase{name: "ping declaring 126 bytes, payload never sent", in: frameLen(true, 0, opPing, nil, true, len16, 126), close: fails(1002), reason: "125"},
		protocolCase{name: "close with 126 bytes", in: cf.closeRaw(closeBody(1000, strings.Repeat("r", 124))), close: fails(1002), reason: "125"},
		protocolCase{name: "fragmented ping", in: frame(false, 0, opPing, []byte("a"), true), close: fails(1002), reason: "fragmented"},
		protocolCase{name: "fragmented pong", in: frame(false, 0, opPong, []byte("a"), true), close: fails(1002), reason: "fragmented"},
		protocolCase{name: "fragmented close", in: frame(false, 0, opClose, closeBody(1000, ""), true), close: fails(1002), reason: "fragmented"},
		protocolCase{name: "unsolicited pong is ignored", in: joinFrames(cf.pong("hello?"), cf.text("still here"), bye), want: []event{wantText("still here")}, close: echoes(1000)},
		protocolCase{name: "several pings answered in order", in: joinFrames(cf.ping("1"), cf.ping("2"), cf.text("x"), cf.ping("3"), bye), want: []event{wantPong("1"), wantPong("2"), wantText("x"), wantPong("3")}, close: echoes(1000)},
	)

	// 5.4: fragmentation. Control frames may come between fragments and
	// are answered at once; continuation frames need a message in
	// progress; a new data frame may not start inside one; fragments may
	// be empty.
	add(
		protocolCase{
			name:  "text in 3 fragments",
			in:    joinFrames(cf.frag(opText, false, "Hel"), cf.frag(opContinuation, false, "lo, "), cf.frag(opContinuation, true, "world"), bye),
			want:  []event{wantText("Hello, world")},
			close: echoes(1000),
		},
		protocolCase{
			name:  "binary in 3 fragments",
			in:    joinFrames(frame(false, 0, opBinary, []byte{1, 2}, true), frame(false, 0, opContinuation, []byte{3}, true), frame(true, 0, opContinuation, []byte{4, 5}, true), bye),
			want:  []event{wantBinary([]byte{1, 2, 3, 4, 5})},
			close: echoes(1000),
		},
		protocolCase{
			name:  "ping between fragments is answered before the echo",
			in:    joinFrames(cf.frag(opText, false, "frag"), cf.ping("between"), cf.frag(opContinuation, true, "mented"), bye),
			want:  []event{wantPong("between"), wantText("fragmented")},
			close: echoes(1000),
		},
		protocolCase{
			name:  "pong between fragments is ignored",
			in:    joinFrames(cf.frag(opBinary, false, "a"), cf.pong("x"), cf.frag(opContinuation, true, "b"), bye),
			want:  []event{wantBinary([]byte("ab"))},
			close: echoes(1000),
		},
		protocolCase{
			name:  "close between fragments ends the connection",
			in:    joinFrames(cf.frag(opText, false, "never "), cf.close(1000, ""), cf.frag(opContinuation, true, "echoed")),
			close: echoes(1000),
		},
		protocolCase{name: "continuation with no message", in: cf.frag(opContinuation, true, "x"), close: fails(1002), reason: "continuation"},
		protocolCase{name: "continuation after a complete message", in: joinFrames(cf.text("done"), cf.frag(opContinuation, true, "x")), want: []event{wantText("done")}, close: fails(1002), reason: "continuation"},
		protocolCase{name: "text while a text message is in progress", in: joinFrames(cf.frag(opText, false, "a"), cf.text("b")), close: fails(1002), reason: "in progress"},
		protocolCase{name: "binary while a text message is in progress", in: joinFrames(cf.frag(opText, false, "a"), cf.binary([]byte("b"))), close: fails(1002), reason: "in progress"},
		protocolCase{name: "text fragment while a binary message is in progress", in: joinFrames(cf.frag(opBinary, false, "a"), cf.frag(opText, false, "b")), close: fails(1002), reason: "in progress"},
		protocolCase{
			name:  "empty fragments",
			in:    joinFrames(cf.frag(opText, false, ""), cf.frag(opContinuation, false, "abc"), cf.frag(opContinuation, false, ""), cf.frag(opContinuation, true, ""), bye),
			want:  []event{wantText("abc")},
			close: echoes(1000),
		},
		protocolCase{
			name:  "message of empty fragments only",
			in:    joinFrames(frame(false, 0, opBinary, nil, true), frame(true, 0, opContinuation, nil, true), bye),
			want:  []event{wantBinary([]byte{})},
			close: echoes(1000),
		},
		protocolCase{
			name:  "many small fragments",
			in:    joinFrames(cf.frag(opText, false, "0"), bytes.Repeat(cf.frag(opContinuation, false, "1"), 200), cf.frag(opContinuation, true, "2"), bye),
			want:  []event{wantText("0" + strings.Repeat("1", 200) + "2")},
			close: echoes(1000),
		},
	)

	// 5.6, 8.1: text must be valid UTF-8, checked as the bytes arrive so a
	// bad message fails at once, even before its end has been sent.
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" // κόσμε
	add(
		protocolCase{name: "invalid UTF-8 in one frame", in: joinFrames(cf.text("abc\xffdef"), bye), close: fails(1007), reason: "UTF-8"},
		protocolCase{name: "overlong encoding", in: cf.text("\xc0\xaf"), close: fails(1007)},
		protocolCase{name: "UTF-16 surrogate", in: cf.text(kosme + "\xed\xa0\x80edited"), close: fails(1007)},
		protocolCase{name: "code point above U+10FFFF", in: cf.text("\xf4\x90\x80\x80"), close: fails(1007)},
		protocolCase{name: "invalid across fragments", in: joinFrames(cf.frag(opText, false, "ab\xce"), cf.frag(opContinuation, true, "Acd"), bye), close: fails(1007)},
		protocolCase{name: "invalid first fragment, rest never sent", in: cf.frag(opText, false, kosme+"\xed\xa0\x80edited"), close: fails(1007)},
		protocolCase{name: "first fragment ends in an impossible prefix, rest never sent", in: cf.frag(opText, false, kosme+"\xf4\x90"), close: fails(1007)},
		protocolCase{
			name:  "frame cut short after invalid bytes",
			in:    frameLen(true, 0, opText, []byte(kosme+"\xed\xa0\x80edited"), true, len7, 30),
			close: fails(1007),
		},
		protocolCase{
			name:  "long frame cut short after invalid bytes",
			in:    frameLen(true, 0, opText, []byte(kosme+"\xed\xa0\x80edited"), true, len64, 1<<20),
			close: fails(1007),
		},
		protocolCase{name: "text ends inside a sequence", in: cf.text("abc\xe2\x82"), close: fails(1007)},
		protocolCase{name: "fragmented text ends inside a sequence", in: joinFrames(cf.frag(opText, false, "abc"), cf.frag(opContinuation, true, "\xe2\x82")), close: fails(1007)},
		protocolCase{
			name:  "character split across fragments",
			in:    joinFrames(cf.frag(opText, false, "a\xe2"), cf.frag(opContinuation, false, "\x82"), cf.frag(opContinuation, true, "\xacb"), bye),
			want:  []event{wantText("a€b")},
			close: echoes(1000),
		},
		protocolCase{
			name:  "4-byte character one byte per fragment",
			in:    joinFrames(cf.frag(opText, false, "\xf0"), cf.frag(opContinuation, false, "\x9f"), cf.frag(opContinuation, false, "\x98"), cf.frag(opContinuation, true, "\x80"), bye),
			want:  []event{wantText("😀")},
			close: echoes(1000),
		},
		protocolCase{name: "valid multi-byte text", in: joinFrames(cf.text(kosme+" ünïcødé ✓ 😀"), bye), want: []event{wantText(kosme + " ünïcødé ✓ 😀")}, close: echoes(1000)},
		protocolCase{name: "binary is not validated", in: joinFrames(cf.binary([]byte("\xff\xfe")), bye), want: []event{wantBinary([]byte("\xff\xfe"))}, close: echoes(1000)},
	)

	// 5.5.1, 7.4: the close handshake and close codes.
	add(
		protocolCase{name: "empty close is echoed empty", in: cf.closeRaw(nil), close: echoes(StatusNoStatusReceived)},
		protocolCase{name: "close 1000 with a reason", in: cf.close(1000, "see you"), close: echoes(1000)},
		protocolCase{name: "close with a 123-byte reason", in: cf.close(1000, strings.Repeat("r", 123)), close: echoes(1000)},
		protocolCase{name: "close with a 1-byte payload", in: cf.closeRaw([]byte{0x03}), close: fails(1002), reason: "1-byte"},
		protocolCase{name: "close reason not UTF-8", in: cf.close(1000, "bad \xff reason"), close: fails(1007), reason: "UTF-8"},
		protocolCase{name: "nothing is echoed after a close", in: joinFrames(cf.close(1000, ""), cf.text("late"), cf.ping("late")), close: echoes(1000)},
	)
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		add(protocolCase{name: fmt.Sprintf("invalid close code %d", code), in: cf.close(code, ""), close: fails(1002), reason: "close code"})
	}
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		add(protocolCase{name: fmt.Sprintf("valid close code %d", code), in: cf.close(code, "why"), close: echoes(StatusCode(code))})
	}

	// 10.4: a message over the read limit fails with 1009 as soon as a
	// header announces it, before its payload arrives.
	limit := ConnOptions{ReadLimit: 1000}
	add(
		protocolCase{name: "message at the read limit", opts: limit, in: joinFrames(cf.binary(pattern(1000)), bye), want: []event{wantBinary(pattern(1000))}, close: echoes(1000)},
		protocolCase{name: "header over the read limit, payload never sent", opts: limit, in: frameLen(true, 0, opBinary, nil, true, len16, 1001), close: fails(1009), reason: "read limit"},
		protocolCase{name: "huge 64-bit header, payload never sent", opts: limit, in: frameLen(true, 0, opText, nil, true, len64, 1<<62), close: fails(1009), reason: "read limit"},
		protocolCase{
			name:   "fragments over the read limit in total",
			opts:   limit,
			in:     joinFrames(frame(false, 0, opBinary, pattern(600), true), frame(true, 0, opContinuation, pattern(401), true)),
			close:  fails(1009),
			reason: "read limit",
		},
		protocolCase{
			name:  "control frames do not count towards the limit",
			opts:  limit,
			in:    joinFrames(frame(false, 0, opBinary, pattern(500), true), cf.ping(strings.Repeat("p", 125)), frame(true, 0, opContinuation, pattern(500), true), bye),
			want:  []event{wantPong(strings.Repeat("p", 125)), wantBinary(append(pattern(500), pattern(500)...))},
			close: echoes(1000),
		},
		protocolCase{
			name:  "the limit applies per message",
			opts:  limit,
			in:    joinFrames(cf.binary(pattern(1000)), cf.binary(pattern(1000)), bye),
			want:  []event{wantBinary(pattern(1000)), wantBinary(pattern(1000))},
			close: echoes(1000),
		},
		protocolCase{
			name:  "no read limit",
			opts:  ConnOptions{ReadLimit: -1},
			in:    joinFrames(cf.binary(pattern(2<<20)), bye),
			want:  []event{wantBinary(pattern(2 << 20))},
			close: echoes(1000),
		},
		protocolCase{
			name: "no read limit, huge header, payload never sent",
			opts: ConnOptions{ReadLimit: -1, ReadTimeout: 200 * time.Millisecond},
			in:   frameLen(true, 0, opBinary, pattern(10), true, len64, 1<<62),
			// Nothing may be allocated for the announced size: the
			// read waits for the payload until the read timeout.
			close:  fails(1008),
			reason: "read timeout",
		},
	)

	// ConnOptions timeouts.
	add(
		protocolCase{name: "idle timeout", opts: ConnOptions{IdleTimeout: 200 * time.Millisecond}, close: fails(1001), reason: "idle"},
		protocolCase{
			name:   "idle timeout after a message",
			opts:   ConnOptions{IdleTimeout: 200 * time.Millisecond},
			in:     cf.text("hi"),
			want:   []event{wantText("hi")},
			close:  fails(1001),
			reason: "idle",
		},
		protocolCase{name: "read timeout, fragmented message half sent", opts: ConnOptions{ReadTimeout: 200 * time.Millisecond}, in: cf.frag(opText, false, "half"), close: fails(1008), reason: "read timeout"},
		protocolCase{name: "read timeout, frame half sent", opts: ConnOptions{ReadTimeout: 200 * time.Millisecond}, in: frameLen(true, 0, opBinary, pattern(10), true, len7, 20), close: fails(1008), reason: "read timeout"},
		protocolCase{
			name:   "read timeout with idle timeout, message half sent",
			opts:   ConnOptions{ReadTimeout: 200 * time.Millisecond, IdleTimeout: time.Minute},
			in:     cf.frag(opText, false, "half"),
			close:  fails(1008),
			reason: "read timeout",
		},
		protocolCase{
			name:   "idle timeout inside a fragmented message",
			opts:   ConnOptions{IdleTimeout: 200 * time.Millisecond},
			in:     cf.frag(opBinary, false, "half"),
			close:  fails(1001),
			reason: "idle",
		},
		protocolCase{
			// Every frame, pings included, restarts the idle timer,
			// also inside a fragmented message.
			name:   "pings inside a message keep an idle connection alive",
			opts:   ConnOptions{IdleTimeout: time.Second},
			chunks: fragmentedPings(12),
			gap:    150 * time.Millisecond,
			want: []event{
				wantPong("0"), wantPong("1"), wantPong("2"), wantPong("3"), wantPong("4"),
				wantPong("5"), wantPong("6"), wantPong("7"), wantPong("8"), wantPong("9"),
				wantText("start end"),
			},
			close: echoes(1000),
		},
		protocolCase{
			// Pings keep the connection from idling, not a message
			// from taking longer than the read timeout.
			name:     "pings do not extend the read timeout",
			opts:     ConnOptions{ReadTimeout: 300 * time.Millisecond, IdleTimeout: time.Minute},
			chunks:   fragmentedPings(100),
			gap:      50 * time.Millisecond,
			anyPongs: true,
			close:    fails(1008),
			reason:   "read timeout",
		},
	)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runProtocolCase(t, tc)
		})
	}
}

// TestFramesPipelinedWithHandshake sends frames in the same write as the
// handshake request: the bytes AcceptConn read past the request must be
// the start of the frame stream.
func TestFramesPipelinedWithHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		c, _, err := AcceptConn(nc, nil)
		if err != nil {
			done <- err
			return
		}
		defer c.CloseNow()
		done <- echoUntilError(c)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(hangGuard))
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	msgs := []string{"first", strings.Repeat("second", 1000), "third"}
	stream := []byte(req)
	for _, m := range msgs {
		stream = append(stream, cf.text(m)...)
	}
	stream = append(stream, bye...)
	if _, err := nc.Write(stream); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	out, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := decodeFrames(out)
	if err != nil {
		t.Fatal(err)
	}
	events, closing, err := serverEvents(frames)
	if err != nil {
		t.Fatal(err)
	}
	want := []event{wantText(msgs[0]), wantText(msgs[1]), wantText(msgs[2])}
	if !eventsEqual(events, want) || closing == nil {
		t.Fatalf("got %v, close %v; want %v and a close", events, closing, want)
	}
	if err := <-done; CloseStatus(err) != 1000 {
		t.Fatalf("server ended with %v, want the client's 1000", err)
	}
}

// fakeServer serves one connection on loopback as a raw server: it reads
// the client's handshake request and passes it to serve. It returns the
// ws:// URL. The connection is closed when serve returns.
func fakeServer(t *testing.T, serve func(nc net.Conn, br *bufio.Reader, req *http.Request)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(hangGuard))
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Errorf("fake server: reading the request: %v", err)
			return
		}
		serve(nc, br, req)
	}()
	t.Cleanup(func() {
		ln.Close()
		select {
		case <-done:
		case <-time.After(hangGuard):
			t.Error("fake server goroutine did not return")
		}
	})
	return "ws://" + ln.Addr().String() + "/"
}

// response101 is a valid 101 answer to req, followed by extra header lines.
func response101(req *http.Request, extra ...string) string {
	s := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		rfcAccept(req.Header.Get("Sec-WebSocket-Key")) + "\r\n"
	for _, h := range extra {
		s += h + "\r\n"
	}
	return s + "\r\n"
}

// TestClientProtocolRules feeds raw server frames to a Dial client: frames
// from a server must not be masked, and every other reading rule applies
// on the client too. The client must answer a failure with a close frame
// of the same code, masked like all its frames.
func TestClientProtocolRules(t *testing.T) {
	tests := []struct {
		name   string
		frames []byte // what the fake server sends after its 101
		want   StatusCode
	}{
		{"masked frame from the server", frame(true, 0, opText, []byte("hi"), true), 1002},
		{"masked ping from the server", frame(true, 0, opPing, nil, true), 1002},
		{"RSV1", frame(true, rsv1, opBinary, []byte("x"), false), 1002},
		{"reserved opcode", frame(true, 0, 0xB, nil, false), 1002},
		{"non-minimal length", frameLen(true, 0, opBinary, pattern(5), false, len16, 5), 1002},
		{"continuation with no message", frame(true, 0, opContinuation, []byte("x"), false), 1002},
		{"ping over 125 bytes", frame(true, 0, opPing, pattern(126), false), 1002},
		{"invalid UTF-8", frame(true, 0, opText, []byte("\xff"), false), 1007},
		{"invalid close code", frame(true, 0, opClose, closeBody(1005, ""), false), 1002},
		{"over the read limit", frameLen(true, 0, opBinary, nil, false, len64, 1<<21), 1009},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clientClose := make(chan wireFrame, 1)
			url := fakeServer(t, func(nc net.Conn, br *bufio.Reader, req *http.Request) {
				io.WriteString(nc, response101(req)+string(tt.frames))
				f, err := readWireFrame(br)
				if err != nil {
					t.Errorf("fake server: reading the client's close: %v", err)
					return
				}
				clientClose <- f
			})
			c := dialTest(t, url, nil)
			_, _, err := c.ReadMessage(nil)
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != tt.want || !ce.Local || ce.Reason == "" {
				t.Fatalf("ReadMessage: %v; want a local %v with a reason", err, tt.want)
			}
			select {
			case f := <-clientClose:
				code, reason := closeFields(f.payload)
				if f.op != opClose || !f.masked || code != tt.want || reason == "" {
					t.Fatalf("client sent %s (masked %v) %v %q; want a masked close %v with a reason", f.op, f.masked, code, reason, tt.want)
				}
			case <-time.After(hangGuard):
				t.Fatal("the client sent no close frame")
			}
			if _, _, err2 := c.ReadMessage(nil); err2 != err {
				t.Fatalf("second ReadMessage: %v, want the same error %v", err2, err)
			}
		})
	}
}

// TestClientGetsServerClose checks that a server's close frame reaches the
// client's reader as the peer's *CloseError and is echoed, masked.
func TestClientGetsServerClose(t *testing.T) {
	echoed := make(chan wireFrame, 1)
	url := fakeServer(t, func(nc net.Conn, br *bufio.Reader, req *http.Request) {
		// The 101, a message and the close arrive in one write.
		io.WriteString(nc, response101(req)+string(frame(true, 0, opText, []byte("hello"), false))+
			string(frame(true, 0, opClose, closeBody(4001, "game over ✓"), false)))
		if f, err := readWireFrame(br); err == nil {
			echoed <- f
		}
	})
	c := dialTest(t, url, nil)
	typ, msg, err := c.ReadMessage(nil)
	if err != nil || typ != Text || string(msg) != "hello" {
		t.Fatalf("ReadMessage = %v %q %v, want text hello", typ, msg, err)
	}
	_, _, err = c.ReadMessage(nil)
	var ce *CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("ReadMessage: %v, want a *CloseError", err)
	}
	if ce.Code != 4001 || ce.Reason != "game over ✓" || ce.Local {
		t.Fatalf("CloseError = %+v, want the peer's 4001 %q", ce, "game over ✓")
	}
	select {
	case f := <-echoed:
		if code, _ := closeFields(f.payload); f.op != opClose || !f.masked || code != 4001 {
			t.Fatalf("client answered %s masked=%v code %v, want a masked close 4001", f.op, f.masked, code)
		}
	case <-time.After(hangGuard):
		t.Fatal("the client did not answer the close")
	}
	if err := c.WriteMessage(Text, []byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteMessage after the close handshake: %v, want ErrClosed", err)
	}
}

// TestClientMasksEveryFrame checks RFC 6455 5.3: every client frame is
// masked, with a fresh key, and the caller's buffer is left intact.
func TestClientMasksEveryFrame(t *testing.T) {
	got := make(chan []wireFrame, 1)
	url := fakeServer(t, func(nc net.Conn, br *bufio.Reader, req *http.Request) {
		io.WriteString(nc, response101(req))
		var frames []wireFrame
		for {
			f, err := readWireFrame(br)
			if err != nil {
				break
			}
			frames = append(frames, f)
			if f.op == opClose {
				break
			}
		}
		got <- frames
	})
	c := dialTest(t, url, &DialOptions{ConnOptions: ConnOptions{MaxFrameSize: 5000}})
	msg := pattern(12000)
	orig := append([]byte{}, msg...)
	if err := c.WriteMessage(Binary, msg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(msg, orig) {
		t.Fatal("WriteMessage modified the caller's buffer")
	}
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	c.Close(StatusNormalClosure, "")
	frames := <-got
	var data []byte
	keys := map[[4]byte]bool{}
	for i, f := range frames {
		if !f.masked {
			t.Errorf("frame %d (%s) is not masked", i, f.op)
		}
		if keys[f.key] {
			t.Errorf("frame %d reuses masking key %x", i, f.key)
		}
		keys[f.key] = true
		if !f.op.isControl() {
			data = append(data, f.payload...)
		}
	}
	if len(frames) != 5 || !bytes.Equal(data, msg) {
		t.Fatalf("server got %d frames carrying %d bytes; want 3 data frames, a ping and a close carrying the message", len(frames), len(data))
	}
}

// dialEcho dials a server running the echo loop.
func dialEcho(t *testing.T, serverOpts *UpgradeOptions, opts *DialOptions) *Conn {
	t.Helper()
	return dialTest(t, testServer(t, serverOpts, echo), opts)
}

func TestCloseIsIdempotentAndConcurrent(t *testing.T) {
	for _, mixCloseNow := range []bool{false, true} {
		t.Run(fmt.Sprintf("with CloseNow %v", mixCloseNow), func(t *testing.T) {
			c := dialEcho(t, nil, nil)
			if err := c.WriteMessage(Text, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for i := range 32 {
				wg.Go(func() {
					if mixCloseNow && i%4 == 0 {
						errs <- c.CloseNow()
						return
					}
					errs <- c.Close(StatusNormalClosure, "bye")
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("concurrent Close/CloseNow: %v", err)
				}
			}
			if err := c.Close(StatusNormalClosure, "again"); err != nil {
				t.Errorf("Close after Close: %v", err)
			}
			if err := c.CloseNow(); err != nil {
				t.Errorf("CloseNow after Close: %v", err)
			}
		})
	}
}

// TestCloseWithBlockedReader checks that Close lets a reader blocked in
// ReadMessage see the peer's answer.
func TestCloseWithBlockedReader(t *testing.T) {
	c := dialEcho(t, nil, nil)
	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage(nil)
		readErr <- err
	}()
	waitFor(t, "the reader to block", c.reading.Load)
	if err := c.Close(StatusNormalClosure, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-readErr:
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != StatusNormalClosure || ce.Local {
			t.Fatalf("blocked reader got %v, want the peer's 1000", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("the blocked reader did not return after Close")
	}
}

func TestCloseRejectsUnsendableCodes(t *testing.T) {
	c := dialEcho(t, nil, nil)
	for _, code := range []StatusCode{0, 999, 1004, 1005, 1006, 1015, 2999, 5000} {
		if err := c.Close(code, ""); err == nil || !strings.Contains(err.Error(), "may not be sent") {
			t.Errorf("Close(%d): %v, want an error saying it may not be sent", code, err)
		}
	}
	for _, reason := range []string{strings.Repeat("r", 124), "bad \xff"} {
		if err := c.Close(StatusNormalClosure, reason); err == nil {
			t.Errorf("Close with reason %q succeeded", reason)
		}
	}
	// The refused calls did not use up Close.
	if err := c.Close(StatusNormalClosure, strings.Repeat("r", 123)); err != nil {
		t.Fatalf("Close with a 123-byte reason: %v", err)
	}
}

func TestConcurrentReadFails(t *testing.T) {
	p := startServer(t, nil, func(c *Conn) error {
		_, _, err := c.ReadMessage(nil)
		return err
	})
	sc := p.server()
	waitFor(t, "the first reader to block", sc.reading.Load)
	if _, _, err := sc.ReadMessage(nil); err != ErrConcurrentRead {
		t.Errorf("second ReadMessage: %v, want ErrConcurrentRead", err)
	}
	if _, _, err := sc.NextReader(); err != ErrConcurrentRead {
		t.Errorf("NextReader during ReadMessage: %v, want ErrConcurrentRead", err)
	}
	// The refused reads did not disturb the first one.
	p.nc.Write(joinFrames(cf.text("ok"), bye))
	if err := p.wait(); CloseStatus(err) != -1 {
		t.Fatalf("first reader: %v, want the message", err)
	}
}

func TestCloseStatus(t *testing.T) {
	ce := &CloseError{Code: StatusPolicyViolation, Reason: "x"}
	tests := []struct {
		name string
		err  error
		want StatusCode
	}{
		{"nil", nil, -1},
		{"plain error", errors.New("boom"), -1},
		{"ErrClosed", ErrClosed, -1},
		{"CloseError", ce, StatusPolicyViolation},
		{"wrapped", fmt.Errorf("reading: %w", ce), StatusPolicyViolation},
		{"wrapped twice", fmt.Errorf("game: %w", fmt.Errorf("reading: %w", ce)), StatusPolicyViolation},
		{"joined", errors.Join(io.EOF, ce), StatusPolicyViolation},
		{"private code", &CloseError{Code: 4123}, 4123},
	}
	for _, tt := range tests {
		if got := CloseStatus(tt.err); got != tt.want {
			t.Errorf("%s: CloseStatus = %v, want %v", tt.name, got, tt.want)
		}
	}
	// CloseError unwraps to its cause.
	wrapped := &CloseError{Code: StatusAbnormalClosure, Err: io.ErrUnexpectedEOF}
	if !errors.Is(wrapped, io.ErrUnexpectedEOF) {
		t.Error("CloseError does not unwrap to its Err")
	}
}

func TestWritesAfterCloseFail(t *testing.T) {
	for _, how := range []string{"Close", "CloseNow"} {
		t.Run(how, func(t *testing.T) {
			c := dialEcho(t, nil, nil)
			if how == "Close" {
				if err := c.Close(StatusNormalClosure, ""); err != nil {
					t.Fatal(err)
				}
			} else {
				c.CloseNow()
			}
			pm, _ := NewPreparedMessage(Binary, []byte("x"), 0)
			checks := []struct {
				name string
				err  error
			}{
				{"WriteMessage", c.WriteMessage(Text, []byte("late"))},
				{"Ping", c.Ping()},
				{"WritePrepared", c.WritePrepared(pm)},
			}
			w, err := c.NextWriter(Binary)
			if err == nil {
				w.Write([]byte("late"))
				err = w.Close()
			}
			checks = append(checks, struct {
				name string
				err  error
			}{"NextWriter", err})
			for _, ch := range checks {
				if !errors.Is(ch.err, ErrClosed) {
					t.Errorf("%s after %s: %v, want ErrClosed", ch.name, how, ch.err)
				}
			}
			if _, _, err := c.ReadMessage(nil); err == nil {
				t.Errorf("ReadMessage after %s succeeded", how)
			}
		})
	}
}

func TestWriteMessageRejectsControlTypes(t *testing.T) {
	c := dialEcho(t, nil, nil)
	for _, typ := range []MessageType{0, 8, 9, 10} {
		if err := c.WriteMessage(typ, nil); err == nil {
			t.Errorf("WriteMessage(%v) succeeded", typ)
		}
		if _, err := c.NextWriter(typ); err == nil {
			t.Errorf("NextWriter(%v) succeeded", typ)
		}
	}
}

// serverFrames runs write on a server Conn, then reads and decodes all it
// sent until it closes the connection.
func serverFrames(t *testing.T, opts ConnOptions, write func(c *Conn) error) []wireFrame {
	t.Helper()
	p := startServer(t, &UpgradeOptions{ConnOptions: opts}, write)
	out := p.readToEnd()
	if err := p.wait(); err != nil {
		t.Fatalf("server: %v", err)
	}
	frames, err := decodeFrames(out)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

// checkFragments checks that frames are exactly one message of type op,
// in frames of the given payload sizes, carrying want.
func checkFragments(t *testing.T, frames []wireFrame, op opcode, sizes []int, want []byte) {
	t.Helper()
	if len(frames) != len(sizes) {
		t.Fatalf("%d frames, want %d", len(frames), len(sizes))
	}
	var got []byte
	for i, f := range frames {
		wantOp := opContinuation
		if i == 0 {
			wantOp = op
		}
		if f.op != wantOp || f.fin != (i == len(frames)-1) || f.masked || len(f.payload) != sizes[i] {
			t.Fatalf("frame %d: %s fin=%v masked=%v %d bytes; want %s fin=%v unmasked %d bytes",
				i, f.op, f.fin, f.masked, len(f.payload), wantOp, i == len(frames)-1, sizes[i])
		}
		got = append(got, f.payload...)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the fragments do not carry the message")
	}
}

// fragmentSizes returns the frame sizes of an n-byte message in frames of
// at most size bytes.
func fragmentSizes(n, size int) []int {
	var s []int
	for n > size {
		s = append(s, size)
		n -= size
	}
	return append(s, n)
}

func TestWriteMessageFragments(t *testing.T) {
	msg := pattern(100 << 10)
	frames := serverFrames(t, ConnOptions{MaxFrameSize: 1000}, func(c *Conn) error {
		return c.WriteMessage(Binary, msg)
	})
	// 102400 bytes in frames of 1000: 102 full frames and one of 400.
	sizes := fragmentSizes(len(msg), 1000)
	if len(sizes) != 103 {
		t.Fatalf("fragmentSizes: %d frames", len(sizes))
	}
	checkFragments(t, frames, opBinary, sizes, msg)
}

// TestPingInterleavesWithLargeMessage proves that control frames do not
// wait behind a large message: a ping issued while the message's frames
// are blocked on a peer that does not read goes out between two of them.
func TestPingInterleavesWithLargeMessage(t *testing.T) {
	const size, frameSize = 4 << 20, 16 << 10
	msg := pattern(size)
	p := startServerWith(t, serverSetup{opts: &UpgradeOptions{ConnOptions: ConnOptions{MaxFrameSize: frameSize}}, smallBuffers: true},
		func(c *Conn) error { return c.WriteMessage(Binary, msg) })
	sc := p.server()
	// Read the first two frames: the message is under way. Then stop
	// reading, so the writer blocks, and ping from another goroutine.
	p.nc.SetReadDeadline(time.Now().Add(hangGuard))
	var frames []wireFrame
	for range 2 {
		f, err := readWireFrame(p.br)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	pinged := make(chan error, 1)
	go func() { pinged <- sc.Ping() }()
	time.Sleep(100 * time.Millisecond) // let Ping queue up behind the blocked frame
	rest, err := decodeFrames(p.readToEnd())
	if err != nil {
		t.Fatal(err)
	}
	frames = append(frames, rest...)
	if err := <-pinged; err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := p.wait(); err != nil {
		t.Fatalf("WriteMessage: %v", err)
	}
	var data []wireFrame
	pingAt := -1
	for i, f := range frames {
		if f.op == opPing {
			if pingAt >= 0 {
				t.Fatal("two pings")
			}
			pingAt = i
			continue
		}
		data = append(data, f)
	}
	if pingAt < 0 {
		t.Fatal("no ping was sent")
	}
	if pingAt == len(frames)-1 || frames[pingAt-1].op != opContinuation || frames[pingAt+1].op != opContinuation {
		t.Fatalf("the ping is frame %d of %d: not between two continuation frames", pingAt, len(frames))
	}
	t.Logf("ping sent as frame %d of %d", pingAt, len(frames))
	checkFragments(t, data, opBinary, fragmentSizes(size, frameSize), msg)
}

func TestNextWriterStreams(t *testing.T) {
	tests := []struct {
		name   string
		writes []int // sizes of successive Write calls
		sizes  []int // frame sizes expected with MaxFrameSize 1000
	}{
		{"one small write", []int{10}, []int{10}},
		{"several small writes", []int{3, 4, 5}, []int{12}},
		{"nothing written", nil, []int{0}},
		{"exactly one frame", []int{600, 400}, []int{1000}},
		{"over one frame", []int{600, 401}, []int{1000, 1}},
		{"exactly three frames", []int{1000, 1000, 1000}, []int{1000, 1000, 1000}},
		{"one big write", []int{2500}, []int{1000, 1000, 500}},
		{"mixed writes", []int{1, 1998, 2, 700}, []int{1000, 1000, 701}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []byte
			for _, n := range tt.writes {
				want = append(want, pattern(n)...)
			}
			frames := serverFrames(t, ConnOptions{MaxFrameSize: 1000}, func(c *Conn) error {
				w, err := c.NextWriter(Text)
				if err != nil {
					return err
				}
				for _, n := range tt.writes {
					if m, err := w.Write(pattern(n)); err != nil || m != n {
						return fmt.Errorf("Write(%d) = %d, %v", n, m, err)
					}
				}
				if err := w.Close(); err != nil {
					return err
				}
				if _, err := w.Write([]byte("x")); err == nil {
					return errors.New("Write after Close succeeded")
				}
				return nil
			})
			checkFragments(t, frames, opText, tt.sizes, want)
		})
	}
}

func TestNextWriterHoldsOtherMessages(t *testing.T) {
	frames := serverFrames(t, ConnOptions{MaxFrameSize: 10}, func(c *Conn) error {
		w, err := c.NextWriter(Binary)
		if err != nil {
			return err
		}
		w.Write(pattern(25))
		other := make(chan error, 1)
		go func() { other <- c.WriteMessage(Text, []byte("second")) }()
		time.Sleep(50 * time.Millisecond) // give the other message a chance to cut in
		w.Write(pattern(5))
		if err := w.Close(); err != nil {
			return err
		}
		return <-other
	})
	events, _, err := serverEvents(frames)
	if err != nil {
		t.Fatal(err)
	}
	want := []event{wantBinary(append(pattern(25), pattern(5)...)), wantText("second")}
	if !eventsEqual(events, want) {
		t.Fatalf("got %v, want %v", events, want)
	}
}

func TestNextReader(t *testing.T) {
	type result struct {
		typ  MessageType
		data string
		err  error
	}
	results := make(chan result, 10)
	p := startServer(t, nil, func(c *Conn) error {
		// Message 1, fragmented, read whole through the reader in small
		// reads.
		typ, r, err := c.NextReader()
		if err != nil {
			return err
		}
		var got []byte
		buf := make([]byte, 3)
		for {
			n, err := r.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		results <- result{typ, string(got), nil}
		// Message 2: read 2 bytes only; the rest must be discarded.
		typ, r2, err := c.NextReader()
		if err != nil {
			return err
		}
		head := make([]byte, 2)
		if _, err := io.ReadFull(r2, head); err != nil {
			return err
		}
		results <- result{typ, string(head), nil}
		// Message 3 with ReadMessage; message 2's reader is then done.
		typ, msg, err := c.ReadMessage(nil)
		results <- result{typ, string(msg), err}
		if n, err := r2.Read(head); n != 0 || err != io.EOF {
			return fmt.Errorf("stale reader: %d, %v; want io.EOF", n, err)
		}
		if n, err := r.Read(head); n != 0 || err != io.EOF {
			return fmt.Errorf("finished reader: %d, %v; want io.EOF", n, err)
		}
		// Message 4: empty.
		typ, r, err = c.NextReader()
		if err != nil {
			return err
		}
		all, err := io.ReadAll(r)
		results <- result{typ, string(all), err}
		// Message 5: invalid UTF-8 behind a valid start.
		_, r, err = c.NextReader()
		if err != nil {
			return err
		}
		_, err = io.ReadAll(r)
		results <- result{0, "", err}
		return err
	})
	p.send([][]byte{joinFrames(
		cf.frag(opText, false, "hello "), cf.ping("p"), cf.frag(opContinuation, false, "wor"), cf.frag(opContinuation, true, "ld"),
		frame(false, 0, opBinary, []byte("abcdef"), true), frame(true, 0, opContinuation, []byte("ghij"), true),
		cf.text("third"),
		cf.frag(opText, false, ""), cf.frag(opContinuation, true, ""),
		cf.frag(opText, false, "fine"), cf.frag(opContinuation, true, "then \xff"),
	)}, 0)
	want := []result{{Text, "hello world", nil}, {Binary, "ab", nil}, {Text, "third", nil}, {Text, "", nil}}
	for i, w := range want {
		select {
		case got := <-results:
			if got != w {
				t.Fatalf("message %d: got %+v, want %+v", i+1, got, w)
			}
		case <-time.After(hangGuard):
			t.Fatalf("message %d: no result (server: %v)", i+1, p.err)
		}
	}
	p.readToEnd()
	if err := p.wait(); CloseStatus(err) != StatusInvalidPayload {
		t.Fatalf("reading invalid UTF-8 through NextReader: %v, want 1007", err)
	}
}

func TestPreparedMessageSameBytes(t *testing.T) {
	tests := []struct {
		name      string
		typ       MessageType
		size      int
		frameSize int
		sizes     []int
	}{
		{"one frame", Text, 300, 0, []int{300}},
		{"fragmented", Binary, 5000, 1000, []int{1000, 1000, 1000, 1000, 1000}},
		{"empty", Binary, 0, 1000, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := pattern(tt.size)
			if tt.typ == Text {
				data = bytes.Repeat([]byte("x"), tt.size)
			}
			pm, err := NewPreparedMessage(tt.typ, data, tt.frameSize)
			if err != nil {
				t.Fatal(err)
			}
			if pm.Type() != tt.typ || !bytes.Equal(pm.Payload(), data) {
				t.Fatal("Type or Payload do not match")
			}
			var outs [][]byte
			for range 3 {
				p := startServer(t, nil, func(c *Conn) error {
					if err := c.WritePrepared(pm); err != nil {
						return err
					}
					return c.WritePrepared(pm) // twice: it is reusable
				})
				outs = append(outs, p.readToEnd())
				if err := p.wait(); err != nil {
					t.Fatalf("WritePrepared: %v", err)
				}
			}
			for i := 1; i < len(outs); i++ {
				if !bytes.Equal(outs[i], outs[0]) {
					t.Fatalf("connection %d received different bytes from connection 0", i)
				}
			}
			var want []byte
			op := opcode(tt.typ)
			for i, n := range tt.sizes {
				want = append(want, frame(i == len(tt.sizes)-1, 0, op, data[:n], false)...)
				data = data[n:]
				op = opContinuation
			}
			want = append(want, want...)
			if !bytes.Equal(outs[0], want) {
				t.Fatalf("received %d bytes, not the %d bytes of %d frames sent twice", len(outs[0]), len(want), len(tt.sizes))
			}
		})
	}
}

func TestPreparedMessageFromClient(t *testing.T) {
	c := dialEcho(t, nil, nil)
	pm, err := NewPreparedMessage(Text, []byte("prepared ✓"), 4)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.WritePrepared(pm); err != nil {
			t.Fatal(err)
		}
		typ, msg, err := c.ReadMessage(nil)
		if err != nil || typ != Text || string(msg) != "prepared ✓" {
			t.Fatalf("echo of a prepared message: %v %q %v", typ, msg, err)
		}
	}
}

// TestWriteTimeoutClosesConnection writes to a peer that never reads: the
// write must fail and the connection be closed.
func TestWriteTimeoutClosesConnection(t *testing.T) {
	var sc *Conn
	p := startServerWith(t, serverSetup{opts: &UpgradeOptions{ConnOptions: ConnOptions{WriteTimeout: 200 * time.Millisecond}}, smallBuffers: true},
		func(c *Conn) error {
			sc = c
			err := c.WriteMessage(Binary, make([]byte, 8<<20))
			if err == nil {
				return errors.New("WriteMessage to a peer that never reads succeeded")
			}
			if err2 := c.WriteMessage(Text, []byte("again")); err2 == nil {
				return errors.New("a write after a failed write succeeded")
			}
			return err
		})
	err := p.wait()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("WriteMessage: %v, want a write timeout", err)
	}
	select {
	case <-sc.tcpClosed:
	default:
		t.Fatal("the connection is still open after a write timed out")
	}
	p.readToEnd() // the client sees the connection end
	if err := sc.Ping(); err == nil {
		t.Fatal("Ping after a write timeout succeeded")
	}
}

// TestCloseTimeoutWithReadOptions closes a connection whose peer never
// answers the close: Close must give up after CloseTimeout whatever the
// read timeouts are.
func TestCloseTimeoutWithReadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts ConnOptions
	}{
		{"no read options", ConnOptions{}},
		{"read timeout", ConnOptions{ReadTimeout: time.Minute}},
		{"idle timeout", ConnOptions{IdleTimeout: time.Minute}},
		{"both", ConnOptions{ReadTimeout: time.Minute, IdleTimeout: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			opts.CloseTimeout = 200 * time.Millisecond
			p := startServer(t, &UpgradeOptions{ConnOptions: opts}, func(c *Conn) error {
				return c.Close(StatusGoingAway, "shutting down")
			})
			// The client reads the close but never answers it.
			frames, err := decodeFrames(p.readToEnd())
			if err != nil {
				t.Fatal(err)
			}
			if err := p.wait(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if len(frames) != 1 || frames[0].op != opClose {
				t.Fatalf("server sent %d frames, want one close", len(frames))
			}
			if code, reason := closeFields(frames[0].payload); code != StatusGoingAway || reason != "shutting down" {
				t.Fatalf("close frame %v %q", code, reason)
			}
		})
	}
}
