package netws

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// acceptGUID is the fixed GUID of RFC 6455 section 1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// DefaultHandshakeTimeout bounds a handshake when the options set none.
const DefaultHandshakeTimeout = 10 * time.Second

// UpgradeOptions configures the server side of the opening handshake.
// The zero value accepts same-origin browsers and non-browser clients, with
// no subprotocol and default connection options.
type UpgradeOptions struct {
	ConnOptions

	// Subprotocols lists the subprotocols the server supports, in order of
	// preference. The first one the client also offers is selected;
	// if the client offers some and none match, none is selected.
	Subprotocols []string

	// OriginPatterns lists the origins accepted besides the request's own
	// host, as host patterns in path.Match syntax ("example.com",
	// "*.example.com", "localhost:*"). Requests without an Origin header
	// (non-browser clients) are always accepted.
	OriginPatterns []string

	// InsecureSkipOriginCheck accepts any Origin. Browsers then let any web
	// page open a connection with the user's cookies: use with care.
	InsecureSkipOriginCheck bool

	// HandshakeTimeout bounds reading the request (AcceptConn) and writing
	// the response. 0 means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// Header holds extra headers for the 101 response.
	Header http.Header
}

// HandshakeError reports a refused or failed opening handshake. On the
// server it carries the HTTP status that was answered; on the client, the
// status received (0 if the exchange never got that far).
type HandshakeError struct {
	StatusCode int
	Reason     string

	header http.Header // extra response headers (server side)
}

func (e *HandshakeError) Error() string {
	if e.StatusCode == 0 {
		return "netws: handshake failed: " + e.Reason
	}
	return fmt.Sprintf("netws: handshake failed (%d %s): %s", e.StatusCode, http.StatusText(e.StatusCode), e.Reason)
}

func refuse(status int, format string, args ...any) *HandshakeError {
	return &HandshakeError{StatusCode: status, Reason: fmt.Sprintf(format, args...)}
}

// handshake is what a valid opening request asks for.
type handshake struct {
	key         string
	subprotocol string
}

// checkRequest validates an opening handshake request (RFC 6455 section
// 4.2.1) against opts.
func checkRequest(r *http.Request, opts *UpgradeOptions) (handshake, *HandshakeError) {
	var hs handshake
	if r.Method != http.MethodGet {
		e := refuse(http.StatusMethodNotAllowed, "WebSocket handshake must use GET, not %s", r.Method)
		e.header = http.Header{"Allow": {"GET"}}
		return hs, e
	}
	if !r.ProtoAtLeast(1, 1) {
		return hs, refuse(http.StatusBadRequest, "WebSocket handshake requires HTTP/1.1 or later, got %s", r.Proto)
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") {
		return hs, refuse(http.StatusBadRequest, "missing or invalid Connection header: want a list containing \"Upgrade\"")
	}
	if !headerHasToken(r.Header, "Upgrade", "websocket") {
		return hs, refuse(http.StatusBadRequest, "missing or invalid Upgrade header: want \"websocket\"")
	}
	switch v := r.Header.Values("Sec-WebSocket-Version"); {
	case len(v) == 1 && strings.TrimSpace(v[0]) == "13":
	default:
		got := "none"
		if len(v) > 0 {
			got = strings.Join(v, ", ")
		}
		e := refuse(http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version %s: this server speaks 13", got)
		e.header = http.Header{"Sec-Websocket-Version": {"13"}}
		return hs, e
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return hs, refuse(http.StatusBadRequest, "want exactly one Sec-WebSocket-Key header, got %d", len(keys))
	}
	hs.key = strings.TrimSpace(keys[0])
	if raw, err := base64.StdEncoding.DecodeString(hs.key); err != nil || len(raw) != 16 {
		return hs, refuse(http.StatusBadRequest, "invalid Sec-WebSocket-Key header: want 16 bytes in base64")
	}
	if err := checkOrigin(r, opts); err != nil {
		return hs, err
	}
	hs.subprotocol = selectSubprotocol(r.Header, opts.Subprotocols)
	return hs, nil
}

// checkOrigin applies the origin policy: no Origin header, the request's
// own host, or a host matching one of opts.OriginPatterns.
func checkOrigin(r *http.Request, opts *UpgradeOptions) *HandshakeError {
	origin := r.Header.Get("Origin")
	if origin == "" || opts.InsecureSkipOriginCheck {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return refuse(http.StatusForbidden, "invalid Origin header %q", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, p := range opts.OriginPatterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok {
			return nil
		}
	}
	return refuse(http.StatusForbidden, "origin %q is not allowed; the server can allow it with UpgradeOptions.OriginPatterns", origin)
}

// selectSubprotocol returns the first of the server's subprotocols that the
// client offered, or "".
func selectSubprotocol(h http.Header, supported []string) string {
	offered := headerTokens(h, "Sec-WebSocket-Protocol")
	for _, s := range supported {
		for _, o := range offered {
			if o == s {
				return s
			}
		}
	}
	return ""
}

// headerTokens splits every value of the header into comma-separated,
// trimmed tokens.
func headerTokens(h http.Header, name string) []string {
	var tokens []string
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	return tokens
}

// headerHasToken reports whether the header's comma lists contain token,
// compared case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, t := range headerTokens(h, name) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// acceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// appendResponse appends the 101 response for hs.
func appendResponse(b []byte, hs handshake, extra http.Header) []byte {
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = append(b, acceptKey(hs.key)...)
	b = append(b, "\r\n"...)
	if hs.subprotocol != "" {
		b = append(b, "Sec-WebSocket-Protocol: "...)
		b = append(b, hs.subprotocol...)
		b = append(b, "\r\n"...)
	}
	for k, vs := range extra {
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

// Upgrade upgrades an HTTP request on a net/http server to a WebSocket
// connection. It validates the request; when it refuses, it has already
// answered with an HTTP error that says why (400 for a malformed request,
// naming the header; 403 for a refused Origin; 405 for a method other than
// GET; 426 with Sec-WebSocket-Version: 13 for another version) and returns
// a *HandshakeError. opts may be nil.
//
// The request itself was read by the http.Server: bound that with
// http.Server.ReadHeaderTimeout. To accept on a raw net.Conn, with the
// request read under HandshakeTimeout, use AcceptConn.
func Upgrade(w http.ResponseWriter, r *http.Request, opts *UpgradeOptions) (*Conn, error) {
	if opts == nil {
		opts = &UpgradeOptions{}
	}
	hs, herr := checkRequest(r, opts)
	if herr != nil {
		for k, v := range herr.header {
			w.Header()[k] = v
		}
		http.Error(w, herr.Reason, herr.StatusCode)
		return nil, herr
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		herr := refuse(http.StatusInternalServerError, "cannot take over the connection (%v); WebSocket needs an HTTP/1.1 server", err)
		http.Error(w, herr.Reason, herr.StatusCode)
		return nil, herr
	}
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		buffered, _ = brw.Reader.Peek(n)
	}
	return finishAccept(nc, hs, opts, buffered)
}

// AcceptConn performs the server side of the opening handshake on a raw
// connection: it reads the request under opts.HandshakeTimeout (refusing
// one over http.DefaultMaxHeaderBytes with 431), validates it and answers.
// It returns the request for inspection (its Body is empty). When it
// refuses it answers with an HTTP error, closes nc and returns a
// *HandshakeError. opts may be nil.
func AcceptConn(nc net.Conn, opts *UpgradeOptions) (*Conn, *http.Request, error) {
	if opts == nil {
		opts = &UpgradeOptions{}
	}
	nc.SetDeadline(time.Now().Add(handshakeTimeout(opts.HandshakeTimeout)))
	// http.ReadRequest does not bound the header size; bound it as
	// net/http's server does by default.
	lr := &io.LimitedReader{R: nc, N: http.DefaultMaxHeaderBytes}
	br := bufio.NewReaderSize(lr, 1024)
	r, err := http.ReadRequest(br)
	if err != nil {
		herr := refuse(http.StatusBadRequest, "cannot read the handshake request: %v", err)
		if lr.N == 0 {
			herr = refuse(http.StatusRequestHeaderFieldsTooLarge, "handshake request larger than %d bytes", http.DefaultMaxHeaderBytes)
		}
		writeRefusal(nc, herr)
		nc.Close()
		return nil, nil, herr
	}
	hs, herr := checkRequest(r, opts)
	if herr != nil {
		writeRefusal(nc, herr)
		nc.Close()
		return nil, r, herr
	}
	var buffered []byte
	if n := br.Buffered(); n > 0 {
		buffered, _ = br.Peek(n)
	}
	c, err := finishAccept(nc, hs, opts, buffered)
	return c, r, err
}

// writeRefusal writes a plain-text HTTP error response for herr.
func writeRefusal(nc net.Conn, herr *HandshakeError) {
	body := herr.Reason + "\n"
	b := fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n",
		herr.StatusCode, http.StatusText(herr.StatusCode), len(body))
	for k, vs := range herr.header {
		for _, v := range vs {
			b = fmt.Appendf(b, "%s: %s\r\n", k, v)
		}
	}
	b = append(b, "\r\n"...)
	b = append(b, body...)
	nc.Write(b)
}

// finishAccept writes the 101 response and wraps the connection.
func finishAccept(nc net.Conn, hs handshake, opts *UpgradeOptions, buffered []byte) (*Conn, error) {
	nc.SetDeadline(time.Now().Add(handshakeTimeout(opts.HandshakeTimeout)))
	if _, err := nc.Write(appendResponse(nil, hs, opts.Header)); err != nil {
		nc.Close()
		return nil, &HandshakeError{Reason: "writing the 101 response: " + err.Error()}
	}
	nc.SetDeadline(time.Time{})
	c := newConn(nc, false, opts.ConnOptions, buffered)
	c.subprotocol = hs.subprotocol
	return c, nil
}

func handshakeTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultHandshakeTimeout
	}
	return d
}
