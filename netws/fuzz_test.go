package netws

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Run the fuzzers with, for example:
//
//	go test -run '^$' -fuzz '^FuzzReadFrames$' -fuzztime 60s ./netws/
//	go test -run '^$' -fuzz '^FuzzHandshakeRequest$' -fuzztime 60s ./netws/
//
// Their seed corpora under testdata/fuzz are generated from readFrameSeeds
// and handshakeSeeds; after changing those, regenerate the files with
//
//	go test -run '^TestFuzzSeedCorpus$' ./netws/ -update-fuzz-seeds

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the generated seed corpora under testdata/fuzz")

// memConn is an in-memory net.Conn: reads return a fixed input, at most
// chunk bytes at a time (0: as much as asked), then io.EOF; writes are
// collected. Deadlines are accepted and ignored.
type memConn struct {
	mu     sync.Mutex
	in     []byte
	chunk  int
	out    bytes.Buffer
	closed bool
}

func (m *memConn) Read(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, net.ErrClosed
	}
	if len(m.in) == 0 {
		return 0, io.EOF
	}
	if m.chunk > 0 && len(p) > m.chunk {
		p = p[:m.chunk]
	}
	n := copy(p, m.in)
	m.in = m.in[n:]
	return n, nil
}

func (m *memConn) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, net.ErrClosed
	}
	return m.out.Write(p)
}

func (m *memConn) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (m *memConn) written() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.out.Bytes())
}

func (*memConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (*memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000} }
func (*memConn) SetDeadline(t time.Time) error      { return nil }
func (*memConn) SetReadDeadline(t time.Time) error  { return nil }
func (*memConn) SetWriteDeadline(t time.Time) error { return nil }

// fuzzHandshake is the request that precedes the fuzzed frame stream.
const fuzzHandshake = "GET /game HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"

// fuzzReadLimit is the read limit of FuzzReadFrames's connection, unless
// its mode lifts it.
const fuzzReadLimit = 1000

// The bits of FuzzReadFrames's mode byte.
const (
	fuzzNextReader  = 1 << 0 // read with NextReader in small reads instead of ReadMessage
	fuzzNoLimit     = 1 << 1 // ReadLimit -1 instead of fuzzReadLimit
	fuzzSmallBuffer = 1 << 2 // the minimum ReadBufferSize
	fuzzChunkShift  = 3      // mode>>3: the connection delivers at most this many bytes per Read (0: no limit)
)

// FuzzReadFrames feeds an arbitrary client-to-server byte stream, after a
// valid handshake, to a server Conn, reading messages until it fails. It
// must not panic or hang, and it checks what netws promises: messages
// within the read limit, text valid UTF-8, a sticky error, and on the wire
// valid server frames ending with a close frame that matches the error.
func FuzzReadFrames(f *testing.F) {
	f.Fuzz(func(t *testing.T, mode byte, stream []byte) {
		limit := int64(fuzzReadLimit)
		if mode&fuzzNoLimit != 0 {
			limit = -1
		}
		opts := &UpgradeOptions{ConnOptions: ConnOptions{ReadLimit: limit}}
		if mode&fuzzSmallBuffer != 0 {
			opts.ReadBufferSize = minReadBuffer
		}
		nc := &memConn{in: append([]byte(fuzzHandshake), stream...), chunk: int(mode >> fuzzChunkShift)}
		c, _, err := AcceptConn(nc, opts)
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		written := len(nc.written()) // the 101 response

		var (
			msgs    int
			total   int
			readErr error
			problem error
		)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				typ, msg, err := fuzzRead(c, mode&fuzzNextReader != 0)
				if err != nil {
					readErr = err
					return
				}
				msgs++
				total += len(msg)
				switch {
				case typ != Text && typ != Binary:
					problem = fmt.Errorf("message of type %v", typ)
				case limit > 0 && int64(len(msg)) > limit:
					problem = fmt.Errorf("message of %d bytes over the read limit of %d", len(msg), limit)
				case typ == Text && !utf8.Valid(msg):
					problem = fmt.Errorf("text message %q is not valid UTF-8", msg)
				case total > len(stream) || 6*msgs > len(stream):
					// A message takes at least a 6-byte frame, and
					// carries no more than the stream holds.
					problem = fmt.Errorf("%d messages of %d bytes from a %d-byte stream", msgs, total, len(stream))
				}
				if problem != nil {
					return
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("reading did not end")
		}
		if problem != nil {
			t.Fatal(problem)
		}

		// The error is sticky, for both kinds of read.
		for range 2 {
			if _, _, err := c.ReadMessage(nil); err != readErr {
				t.Fatalf("ReadMessage after %v returned %v", readErr, err)
			}
			if _, _, err := c.NextReader(); err != readErr {
				t.Fatalf("NextReader after %v returned %v", readErr, err)
			}
		}

		var ce *CloseError
		if !errors.As(readErr, &ce) {
			t.Fatalf("read error %v is not a *CloseError", readErr)
		}
		frames, err := decodeFrames(nc.written()[written:])
		if err != nil {
			t.Fatalf("netws wrote invalid frames: %v", err)
		}
		events, closing, err := serverEvents(frames)
		if err != nil {
			t.Fatalf("netws wrote invalid frames: %v", err)
		}
		for _, e := range events {
			if e.op != opPong {
				t.Fatalf("netws wrote a %s frame while only reading", e.op)
			}
		}
		switch {
		case ce.Code == StatusAbnormalClosure:
			// The stream ended: nothing to answer.
			if !ce.Local || closing != nil {
				t.Fatalf("%v, and a close frame %v was sent", ce, closing)
			}
		case ce.Local:
			if !slices.Contains([]StatusCode{StatusProtocolError, StatusInvalidPayload, StatusMessageTooBig}, ce.Code) {
				t.Fatalf("local close with unexpected code: %v", ce)
			}
			if closing == nil {
				t.Fatalf("%v, but no close frame was sent", ce)
			}
			code, reason := closeFields(closing.payload)
			if code != ce.Code || reason != truncateReason(ce.Reason) || reason == "" || !utf8.ValidString(reason) {
				t.Fatalf("%v, but the close frame says %v %q", ce, code, reason)
			}
		default:
			// The peer closed: its code is echoed without a reason.
			if closing == nil {
				t.Fatalf("peer close %v not answered", ce)
			}
			if ce.Code != StatusNoStatusReceived && !validWireCode(ce.Code) || !utf8.ValidString(ce.Reason) {
				t.Fatalf("invalid peer close accepted: %v", ce)
			}
			if code, reason := closeFields(closing.payload); code != ce.Code || reason != "" {
				t.Fatalf("peer close %v answered with %v %q", ce, code, reason)
			}
		}
		if !nc.closed {
			t.Fatal("the connection was not closed")
		}
	})
}

// fuzzRead reads one message with ReadMessage or, with streaming set,
// through NextReader in reads of 7 bytes.
func fuzzRead(c *Conn, streaming bool) (MessageType, []byte, error) {
	if !streaming {
		return c.ReadMessage(nil)
	}
	typ, r, err := c.NextReader()
	if err != nil {
		return typ, nil, err
	}
	var msg []byte
	buf := make([]byte, 7)
	for {
		n, err := r.Read(buf)
		msg = append(msg, buf[:n]...)
		if err == io.EOF {
			return typ, msg, nil
		}
		if err != nil {
			return typ, msg, err
		}
	}
}

// FuzzHandshakeRequest parses arbitrary bytes as an HTTP request and runs
// the server's handshake checks on it. Nothing may panic; a refusal must be
// a well-formed HTTP error; an accepted request must be a GET with a 16-byte
// key, and its 101 response must parse with the right Accept and nothing
// after it.
func FuzzHandshakeRequest(f *testing.F) {
	opts := &UpgradeOptions{
		Subprotocols:   []string{"tickwire.v1", "chat"},
		OriginPatterns: []string{"*.example.com"},
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		hs, herr := checkRequest(req, opts)
		if herr != nil {
			if !slices.Contains([]int{400, 403, 405, 426}, herr.StatusCode) {
				t.Fatalf("refused with status %d: %v", herr.StatusCode, herr)
			}
			nc := &memConn{}
			writeRefusal(nc, herr)
			br := bufio.NewReader(bytes.NewReader(nc.written()))
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				t.Fatalf("the refusal %q is not a valid response: %v", nc.written(), err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != herr.StatusCode || string(body) != herr.Reason+"\n" {
				t.Fatalf("the refusal reads as %d %q (%v), want %d %q", resp.StatusCode, body, err, herr.StatusCode, herr.Reason)
			}
			if br.Buffered() != 0 {
				t.Fatalf("%d bytes after the refusal", br.Buffered())
			}
			return
		}
		if req.Method != http.MethodGet || !req.ProtoAtLeast(1, 1) {
			t.Fatalf("accepted %s %s", req.Method, req.Proto)
		}
		if key, err := base64.StdEncoding.DecodeString(hs.key); err != nil || len(key) != 16 {
			t.Fatalf("accepted key %q: %d bytes, %v", hs.key, len(key), err)
		}
		if hs.key != strings.TrimSpace(req.Header.Get("Sec-WebSocket-Key")) {
			t.Fatalf("key %q differs from the request's %q", hs.key, req.Header.Get("Sec-WebSocket-Key"))
		}
		if hs.subprotocol != "" && (!slices.Contains(opts.Subprotocols, hs.subprotocol) || !slices.Contains(headerTokens(req.Header, "Sec-WebSocket-Protocol"), hs.subprotocol)) {
			t.Fatalf("selected subprotocol %q: not both supported and offered", hs.subprotocol)
		}
		b := appendResponse(nil, hs, nil)
		br := bufio.NewReader(bytes.NewReader(b))
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatalf("the 101 response %q does not parse: %v", b, err)
		}
		if br.Buffered() != 0 {
			t.Fatalf("%d bytes after the 101 response %q", br.Buffered(), b)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols ||
			resp.Header.Get("Sec-WebSocket-Accept") != rfcAccept(hs.key) ||
			!strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") ||
			!strings.EqualFold(resp.Header.Get("Connection"), "upgrade") ||
			resp.Header.Get("Sec-WebSocket-Protocol") != hs.subprotocol {
			t.Fatalf("wrong 101 response %q for key %q", b, hs.key)
		}
	})
}

// readFrameSeeds returns FuzzReadFrames's seed corpus: valid streams and one
// stream per rule, each as (mode, stream).
func readFrameSeeds() map[string][]any {
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	plain := func(frames ...[]byte) []any { return []any{byte(0), joinFrames(frames...)} }
	seeds := map[string][]any{
		"empty":                          plain(),
		"text":                           plain(cf.text("Hello, world"), bye),
		"binary_len16":                   plain(cf.binary(pattern(300)), bye),
		"fragmented_text":                plain(cf.frag(opText, false, "Hel"), cf.frag(opContinuation, false, "lo, "), cf.frag(opContinuation, true, "world"), bye),
		"ping_between_fragments":         plain(cf.frag(opBinary, false, "frag"), cf.ping("between"), cf.frag(opContinuation, true, "mented"), bye),
		"pongs_and_pings":                plain(cf.pong("unsolicited"), cf.ping(strings.Repeat("p", 125)), cf.text("x"), cf.ping(""), bye),
		"empty_fragments":                plain(cf.frag(opText, false, ""), cf.frag(opContinuation, false, "abc"), cf.frag(opContinuation, true, ""), bye),
		"utf8_split_across_fragments":    plain(cf.frag(opText, false, "a\xe2"), cf.frag(opContinuation, false, "\x82"), cf.frag(opContinuation, true, "\xacb"), bye),
		"several_messages_no_close":      plain(cf.text(kosme), cf.binary([]byte{0, 1, 2}), cf.text("")),
		"close_empty":                    plain(cf.closeRaw(nil)),
		"close_code_4999_reason":         plain(cf.close(4999, "game over ✓")),
		"close_1_byte":                   plain(cf.closeRaw([]byte{3})),
		"close_code_1005":                plain(cf.close(1005, "")),
		"close_code_999":                 plain(cf.close(999, "")),
		"close_reason_invalid_utf8":      plain(cf.close(1000, "bad \xff")),
		"close_126_bytes":                plain(cf.closeRaw(closeBody(1000, strings.Repeat("r", 124)))),
		"len16_not_minimal":              plain(frameLen(true, 0, opBinary, pattern(100), true, len16, 100)),
		"len64_not_minimal":              plain(frameLen(true, 0, opBinary, pattern(200), true, len64, 200)),
		"len64_top_bit":                  plain(frameLen(true, 0, opBinary, nil, true, len64, 1<<63|70000)),
		"unmasked":                       plain(frame(true, 0, opText, []byte("hi"), false)),
		"rsv1":                           plain(frame(true, rsv1, opText, []byte("hi"), true)),
		"rsv3_continuation":              plain(cf.frag(opText, false, "a"), frame(true, rsv3, opContinuation, []byte("b"), true)),
		"reserved_opcode_3":              plain(frame(true, 0, 0x3, []byte("x"), true)),
		"reserved_opcode_b":              plain(frame(true, 0, 0xB, nil, true)),
		"ping_126_bytes":                 plain(cf.ping(strings.Repeat("p", 126))),
		"fragmented_ping":                plain(frame(false, 0, opPing, []byte("a"), true)),
		"continuation_without_message":   plain(cf.frag(opContinuation, true, "x")),
		"text_inside_fragmented_message": plain(cf.frag(opText, false, "a"), cf.text("b")),
		"invalid_utf8":                   plain(cf.text("abc\xffdef")),
		"invalid_utf8_across_fragments":  plain(cf.frag(opText, false, "ab\xce"), cf.frag(opContinuation, true, "Acd")),
		"invalid_utf8_first_fragment":    plain(cf.frag(opText, false, kosme+"\xed\xa0\x80edited")),
		"invalid_utf8_frame_cut_short":   plain(frameLen(true, 0, opText, []byte(kosme+"\xed\xa0\x80edited"), true, len7, 30)),
		"text_ends_mid_sequence":         plain(cf.text("abc\xe2\x82")),
		"over_read_limit_header_only":    plain(frameLen(true, 0, opBinary, nil, true, len16, fuzzReadLimit+1)),
		"fragments_over_read_limit":      plain(frame(false, 0, opBinary, pattern(600), true), frame(true, 0, opContinuation, pattern(401), true)),
		"frame_cut_short":                plain(frameLen(true, 0, opBinary, pattern(10), true, len7, 20)),
		"header_cut_short":               plain(cf.text("ok"), []byte{0x81, 0xFE, 0x01}),
	}
	seeds["no_limit_huge_header"] = []any{byte(fuzzNoLimit), frameLen(true, 0, opBinary, pattern(10), true, len64, 1<<62)}
	seeds["no_limit_large_message"] = []any{byte(fuzzNoLimit | fuzzSmallBuffer), joinFrames(cf.binary(pattern(3000)), bye)}
	seeds["next_reader_fragments"] = []any{byte(fuzzNextReader), joinFrames(cf.frag(opText, false, "hello "), cf.ping("p"), cf.frag(opContinuation, true, "world"), cf.binary(pattern(50)), bye)}
	seeds["next_reader_invalid_utf8"] = []any{byte(fuzzNextReader), joinFrames(cf.frag(opText, false, "fine"), cf.frag(opContinuation, true, "then \xff"))}
	seeds["one_byte_reads"] = []any{byte(1<<fuzzChunkShift | fuzzSmallBuffer), joinFrames(cf.frag(opText, false, kosme), cf.ping("p"), cf.frag(opContinuation, true, "✓"), cf.binary(pattern(400)), bye)}
	seeds["five_byte_reads_next_reader"] = []any{byte(5<<fuzzChunkShift | fuzzNextReader), joinFrames(cf.binary(pattern(300)), cf.text("x"), cf.close(1001, ""))}
	return seeds
}

// handshakeSeeds returns FuzzHandshakeRequest's seed corpus.
func handshakeSeeds() map[string][]any {
	base := validRequest()
	req := func(r rawRequest) []any { return []any{r.bytes("game.example.com")} }
	return map[string][]any{
		"valid":                    req(base),
		"valid_with_subprotocols":  req(base.set("Sec-WebSocket-Protocol", "chat, tickwire.v1")),
		"subprotocols_none_shared": req(base.set("Sec-WebSocket-Protocol", "v9")),
		"origin_allowed":           req(base.set("Origin", "https://app.example.com")),
		"origin_same":              req(base.set("Origin", "http://game.example.com")),
		"origin_cross":             req(base.set("Origin", "https://evil.example")),
		"post":                     req(base.with(func(r *rawRequest) { r.method = "POST" })),
		"http10":                   req(base.with(func(r *rawRequest) { r.proto = "HTTP/1.0" })),
		"no_connection":            req(base.set("Connection")),
		"connection_token_list":    req(base.set("Connection", "keep-alive, Upgrade")),
		"no_upgrade":               req(base.set("Upgrade")),
		"upgrade_mixed_case":       req(base.set("Upgrade", "WebSocket")),
		"no_key":                   req(base.set("Sec-WebSocket-Key")),
		"two_keys":                 req(base.set("Sec-WebSocket-Key", testKey, testKey)),
		"short_key":                req(base.set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA")),
		"key_with_spaces":          req(base.set("Sec-WebSocket-Key", "  "+testKey+" ")),
		"version_8":                req(base.set("Sec-WebSocket-Version", "8")),
		"no_version":               req(base.set("Sec-WebSocket-Version")),
		"with_body":                {append(base.set("Content-Length", "5").bytes("x"), "hello"...)},
		"frames_after_request":     {append(base.bytes("x"), cf.text("hi")...)},
		"garbage":                  {[]byte("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")},
		"absolute_uri":             {[]byte("GET http://game.example.com/ws HTTP/1.1\r\nHost: game.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n")},
	}
}

// fuzzCorpusFile encodes values in the "go test fuzz v1" format.
func fuzzCorpusFile(vals []any) []byte {
	b := []byte("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case byte:
			b = fmt.Appendf(b, "byte(%q)\n", v)
		case []byte:
			b = fmt.Appendf(b, "[]byte(%q)\n", v)
		default:
			panic(fmt.Sprintf("fuzzCorpusFile: %T", v))
		}
	}
	return b
}

// TestFuzzSeedCorpus checks that the seed corpora under testdata/fuzz hold
// the seeds above (other files, such as crashers found by fuzzing, are
// left alone), or rewrites them with -update-fuzz-seeds.
func TestFuzzSeedCorpus(t *testing.T) {
	for target, seeds := range map[string]map[string][]any{
		"FuzzReadFrames":       readFrameSeeds(),
		"FuzzHandshakeRequest": handshakeSeeds(),
	} {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateFuzzSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, vals := range seeds {
			path := filepath.Join(dir, name)
			want := fuzzCorpusFile(vals)
			if *updateFuzzSeeds {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is missing or stale; run go test -run '^TestFuzzSeedCorpus$' ./netws/ -update-fuzz-seeds", path)
			}
		}
	}
}
