package netws

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DialOptions configures the client side of the opening handshake. The zero
// value dials with no subprotocol, default TLS settings and default
// connection options.
type DialOptions struct {
	ConnOptions

	// Header holds extra request headers, such as Origin, Authorization
	// or User-Agent. The handshake's own headers may not be set here.
	Header http.Header

	// Subprotocols lists the subprotocols to offer, in order of preference.
	Subprotocols []string

	// TLSConfig configures wss:// connections. nil means a default config
	// with the server name taken from the URL.
	TLSConfig *tls.Config

	// HandshakeTimeout bounds connecting and the handshake, on top of any
	// deadline of the context. 0 means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// NetDial, if set, opens the TCP connection instead of a net.Dialer.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// reservedRequestHeaders may not be set through DialOptions.Header.
var reservedRequestHeaders = []string{
	"Host", "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
	"Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
}

// Dial opens a WebSocket connection to a ws:// or wss:// URL. It verifies
// the server's answer (101 status, Upgrade and Connection headers,
// Sec-WebSocket-Accept, the subprotocol) and returns a *HandshakeError that
// says what was wrong when it does not hold. opts may be nil.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("netws: invalid URL %q: %w", rawURL, err)
	}
	var secure bool
	switch u.Scheme {
	case "ws":
	case "wss":
		secure = true
	default:
		return nil, fmt.Errorf("netws: URL %q: scheme must be ws or wss", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("netws: URL %q has no host", rawURL)
	}
	for name := range opts.Header {
		// Keys set without Header.Set may not be in canonical form.
		if h := http.CanonicalHeaderKey(name); slices.Contains(reservedRequestHeaders, h) {
			return nil, fmt.Errorf("netws: DialOptions.Header may not set %s; netws sets it for the handshake", h)
		}
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if secure {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}

	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout(opts.HandshakeTimeout))
	defer cancel()
	dial := opts.NetDial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("netws: dial %s: %w", addr, err)
	}
	// Abort blocking handshake I/O when the context ends.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	c, err := clientHandshake(ctx, nc, u, secure, opts)
	if !stop() && err == nil {
		// The context ended just as the handshake finished; the deadline
		// may have been set, so clear it.
		nc.SetDeadline(time.Time{})
	}
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("netws: handshake with %s: %w", addr, ctx.Err())
		}
		return nil, err
	}
	return c, nil
}

func clientHandshake(ctx context.Context, nc net.Conn, u *url.URL, secure bool, opts *DialOptions) (*Conn, error) {
	if secure {
		cfg := opts.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, &HandshakeError{Reason: "TLS handshake: " + err.Error()}
		}
		nc = tc
	}
	var raw [16]byte
	rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])

	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       u.Host,
	}
	for k, v := range opts.Header {
		req.Header[k] = v
	}
	req.Header["Upgrade"] = []string{"websocket"}
	req.Header["Connection"] = []string{"Upgrade"}
	req.Header["Sec-WebSocket-Key"] = []string{key}
	req.Header["Sec-WebSocket-Version"] = []string{"13"}
	if len(opts.Subprotocols) > 0 {
		req.Header["Sec-WebSocket-Protocol"] = []string{strings.Join(opts.Subprotocols, ", ")}
	}
	bw := bufio.NewWriterSize(nc, 1024)
	if err := req.Write(bw); err != nil {
		return nil, &HandshakeError{Reason: "writing the request: " + err.Error()}
	}
	if err := bw.Flush(); err != nil {
		return nil, &HandshakeError{Reason: "writing the request: " + err.Error()}
	}
	br := bufio.NewReaderSize(nc, 1024)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, &HandshakeError{Reason: "reading the response: " + err.Error()}
	}
	protocol, herr := checkResponse(resp, key, opts.Subprotocols)
	if herr != nil {
		return nil, herr
	}
	var buffered []byte
	if n := br.Buffered(); n > 0 {
		buffered, _ = br.Peek(n)
	}
	c := newConn(nc, true, opts.ConnOptions, buffered)
	c.subprotocol = protocol
	return c, nil
}

// checkResponse validates the server's answer to the opening handshake
// (RFC 6455 section 4.2.2, as checked by the client in 4.1).
func checkResponse(resp *http.Response, key string, offered []string) (string, *HandshakeError) {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		reason := fmt.Sprintf("server answered %q, want 101 Switching Protocols", resp.Status)
		if b := strings.TrimSpace(string(body)); b != "" {
			reason += ": " + b
		}
		return "", &HandshakeError{StatusCode: resp.StatusCode, Reason: reason}
	}
	fail := func(format string, args ...any) (string, *HandshakeError) {
		return "", &HandshakeError{StatusCode: resp.StatusCode, Reason: fmt.Sprintf(format, args...)}
	}
	if !headerHasToken(resp.Header, "Upgrade", "websocket") {
		return fail("response Upgrade header is %q, want websocket", resp.Header.Get("Upgrade"))
	}
	if !headerHasToken(resp.Header, "Connection", "upgrade") {
		return fail("response Connection header is %q, want Upgrade", resp.Header.Get("Connection"))
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(key); got != want {
		return fail("response Sec-WebSocket-Accept is %q, want %q", got, want)
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		return fail("server selected extensions %q that were not offered", ext)
	}
	protocol := resp.Header.Get("Sec-WebSocket-Protocol")
	if protocol != "" {
		ok := false
		for _, p := range offered {
			ok = ok || p == protocol
		}
		if !ok {
			return fail("server selected subprotocol %q that was not offered", protocol)
		}
	}
	return protocol, nil
}
