package netws

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawRequest is an opening handshake request built line by line, so that
// tests can send what net/http's client never would.
type rawRequest struct {
	method, proto string
	headers       [][2]string // in order; Host is added from the server address
}

// validRequest is the opening handshake of RFC 6455 section 1.2.
func validRequest() rawRequest {
	return rawRequest{method: "GET", proto: "HTTP/1.1", headers: [][2]string{
		{"Upgrade", "websocket"},
		{"Connection", "Upgrade"},
		{"Sec-WebSocket-Key", testKey},
		{"Sec-WebSocket-Version", "13"},
	}}
}

// set replaces every header called name (case-insensitively) with values;
// with no values it removes the header.
func (r rawRequest) set(name string, values ...string) rawRequest {
	var h [][2]string
	for _, kv := range r.headers {
		if !strings.EqualFold(kv[0], name) {
			h = append(h, kv)
		}
	}
	for _, v := range values {
		h = append(h, [2]string{name, v})
	}
	r.headers = h
	return r
}

func (r rawRequest) with(f func(*rawRequest)) rawRequest { f(&r); return r }

func (r rawRequest) bytes(host string) []byte {
	b := fmt.Appendf(nil, "%s /ws %s\r\nHost: %s\r\n", r.method, r.proto, host)
	for _, kv := range r.headers {
		b = fmt.Appendf(b, "%s: %s\r\n", kv[0], kv[1])
	}
	return append(b, "\r\n"...)
}

// roundTrip sends raw request bytes to addr and reads the response.
func roundTrip(t *testing.T, addr string, req []byte) (*http.Response, string) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(hangGuard))
	if _, err := nc.Write(req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestUpgradeRequestRules checks the server side of RFC 6455 section 4.2.1
// through Upgrade on a net/http server: every refusal answers with the
// right status and says which header is wrong.
func TestUpgradeRequestRules(t *testing.T) {
	base := validRequest()
	tests := []struct {
		name       string
		opts       *UpgradeOptions
		req        rawRequest
		sameOrigin bool // add Origin: http://<the server's host>

		status     int
		bodyHas    string // for refusals: a substring of the explanation
		header     string // a response header to check...
		headerWant string // ...and its value ("" means absent)
	}{
		{name: "valid", req: base, status: 101},
		{name: "POST", req: base.with(func(r *rawRequest) { r.method = "POST" }), status: 405, bodyHas: "GET", header: "Allow", headerWant: "GET"},
		{name: "PUT", req: base.with(func(r *rawRequest) { r.method = "PUT" }), status: 405, header: "Allow", headerWant: "GET"},
		{name: "HTTP/1.0", req: base.with(func(r *rawRequest) { r.proto = "HTTP/1.0" }), status: 400, bodyHas: "HTTP/1.1"},
		{name: "no Connection", req: base.set("Connection"), status: 400, bodyHas: "Connection"},
		{name: "Connection: keep-alive", req: base.set("Connection", "keep-alive"), status: 400, bodyHas: "Connection"},
		{name: "Connection: Upgraded", req: base.set("Connection", "Upgraded"), status: 400, bodyHas: "Connection"},
		{name: "no Upgrade", req: base.set("Upgrade"), status: 400, bodyHas: "Upgrade"},
		{name: "Upgrade: h2c", req: base.set("Upgrade", "h2c"), status: 400, bodyHas: "Upgrade"},
		{name: "Upgrade: websockets", req: base.set("Upgrade", "websockets"), status: 400, bodyHas: "Upgrade"},
		{name: "no key", req: base.set("Sec-WebSocket-Key"), status: 400, bodyHas: "Sec-WebSocket-Key"},
		{name: "two keys", req: base.set("Sec-WebSocket-Key", testKey, "AQIDBAUGBwgJCgsMDQ4PEA=="), status: 400, bodyHas: "Sec-WebSocket-Key"},
		{name: "key of 15 bytes", req: base.set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(make([]byte, 15))), status: 400, bodyHas: "Sec-WebSocket-Key"},
		{name: "key of 17 bytes", req: base.set("Sec-WebSocket-Key", base64.StdEncoding.EncodeToString(make([]byte, 17))), status: 400, bodyHas: "Sec-WebSocket-Key"},
		{name: "key not base64", req: base.set("Sec-WebSocket-Key", "not base64 at all!!!!!!!"), status: 400, bodyHas: "Sec-WebSocket-Key"},
		{name: "key in URL encoding", req: base.set("Sec-WebSocket-Key", "_-8AAAAAAAAAAAAAAAAAAA=="), status: 400, bodyHas: "Sec-WebSocket-Key"},
		{name: "empty key", req: base.set("Sec-WebSocket-Key", ""), status: 400, bodyHas: "Sec-WebSocket-Key"},
		{name: "version 8", req: base.set("Sec-WebSocket-Version", "8"), status: 426, bodyHas: "13", header: "Sec-WebSocket-Version", headerWant: "13"},
		{name: "no version", req: base.set("Sec-WebSocket-Version"), status: 426, header: "Sec-WebSocket-Version", headerWant: "13"},
		{name: "two versions", req: base.set("Sec-WebSocket-Version", "13", "8"), status: 426, header: "Sec-WebSocket-Version", headerWant: "13"},
		{name: "cross origin", req: base.set("Origin", "https://evil.example"), status: 403, bodyHas: "OriginPatterns"},
		{name: "origin with another port", req: base.set("Origin", "http://127.0.0.1:1"), status: 403, bodyHas: "OriginPatterns"},
		{name: "invalid origin", req: base.set("Origin", "::not a url"), status: 403},
		{name: "same origin", req: base, sameOrigin: true, status: 101},
		{name: "no origin", req: base.set("Origin"), status: 101},
		{name: "origin allowed by a pattern", opts: &UpgradeOptions{OriginPatterns: []string{"*.example.com"}}, req: base.set("Origin", "https://app.example.com"), status: 101},
		{name: "pattern matching is case-insensitive", opts: &UpgradeOptions{OriginPatterns: []string{"*.Example.com"}}, req: base.set("Origin", "https://APP.example.COM"), status: 101},
		{name: "origin not matching the pattern", opts: &UpgradeOptions{OriginPatterns: []string{"*.example.com"}}, req: base.set("Origin", "https://example.com.evil.net"), status: 403, bodyHas: "OriginPatterns"},
		{name: "any origin when the check is skipped", opts: &UpgradeOptions{InsecureSkipOriginCheck: true}, req: base.set("Origin", "https://evil.example"), status: 101},
		{name: "Connection token list", req: base.set("Connection", "keep-alive, Upgrade"), status: 101},
		{name: "Connection lower case", req: base.set("Connection", "upgrade"), status: 101},
		{name: "Connection in two headers", req: base.set("Connection", "keep-alive", "Upgrade"), status: 101},
		{name: "Upgrade: WebSocket", req: base.set("Upgrade", "WebSocket"), status: 101},
		{name: "Upgrade token list", req: base.set("Upgrade", "foo/1, websocket"), status: 101},
		{name: "lower-case header names", req: validRequest().with(func(r *rawRequest) {
			for i := range r.headers {
				r.headers[i][0] = strings.ToLower(r.headers[i][0])
			}
		}), status: 101},
		{name: "key with surrounding spaces", req: base.set("Sec-WebSocket-Key", "  "+testKey+"  "), status: 101, header: "Sec-WebSocket-Accept", headerWant: rfcAccept(testKey)},
		{name: "accept of the RFC example", req: base, status: 101, header: "Sec-WebSocket-Accept", headerWant: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		{
			name:   "subprotocol: server preference wins",
			opts:   &UpgradeOptions{Subprotocols: []string{"v2", "v1"}},
			req:    base.set("Sec-WebSocket-Protocol", "v1, v2"),
			status: 101, header: "Sec-WebSocket-Protocol", headerWant: "v2",
		},
		{
			name:   "subprotocol offered in two headers",
			opts:   &UpgradeOptions{Subprotocols: []string{"chat"}},
			req:    base.set("Sec-WebSocket-Protocol", "v1", "chat"),
			status: 101, header: "Sec-WebSocket-Protocol", headerWant: "chat",
		},
		{
			name:   "subprotocol: none in common",
			opts:   &UpgradeOptions{Subprotocols: []string{"v3"}},
			req:    base.set("Sec-WebSocket-Protocol", "v1, v2"),
			status: 101, header: "Sec-WebSocket-Protocol", headerWant: "",
		},
		{
			name:   "subprotocol: none offered",
			opts:   &UpgradeOptions{Subprotocols: []string{"v1"}},
			req:    base,
			status: 101, header: "Sec-WebSocket-Protocol", headerWant: "",
		},
		{
			name:   "subprotocols are case-sensitive",
			opts:   &UpgradeOptions{Subprotocols: []string{"Chat"}},
			req:    base.set("Sec-WebSocket-Protocol", "chat"),
			status: 101, header: "Sec-WebSocket-Protocol", headerWant: "",
		},
		{
			name:   "extensions are not negotiated",
			req:    base.set("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
			status: 101, header: "Sec-WebSocket-Extensions", headerWant: "",
		},
		{
			name:   "extra response headers",
			opts:   &UpgradeOptions{Header: http.Header{"X-Game": {"tickwire"}}},
			req:    base,
			status: 101, header: "X-Game", headerWant: "tickwire",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			upgraded := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := Upgrade(w, r, tt.opts)
				if err == nil {
					c.CloseNow()
				}
				upgraded <- err
			}))
			defer srv.Close()
			host := srv.Listener.Addr().String()
			req := tt.req
			if tt.sameOrigin {
				req = req.set("Origin", "http://"+host)
			}
			resp, body := roundTrip(t, host, req.bytes(host))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %s (%q), want %d", resp.Status, body, tt.status)
			}
			if tt.header != "" {
				if got := resp.Header.Get(tt.header); got != tt.headerWant {
					t.Errorf("%s: %q, want %q", tt.header, got, tt.headerWant)
				}
			}
			var err error
			select {
			case err = <-upgraded:
			case <-time.After(hangGuard):
				t.Fatal("the handler did not return")
			}
			if tt.status == 101 {
				if err != nil {
					t.Fatalf("Upgrade: %v", err)
				}
				if resp.Header.Get("Sec-WebSocket-Accept") != rfcAccept(strings.TrimSpace(tt.req.headerValue("Sec-WebSocket-Key"))) {
					t.Errorf("Sec-WebSocket-Accept %q is wrong", resp.Header.Get("Sec-WebSocket-Accept"))
				}
				if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") || !strings.EqualFold(resp.Header.Get("Connection"), "Upgrade") {
					t.Errorf("101 without Upgrade/Connection headers: %v", resp.Header)
				}
				return
			}
			if !strings.Contains(body, tt.bodyHas) {
				t.Errorf("refusal body %q does not mention %q", body, tt.bodyHas)
			}
			var he *HandshakeError
			if !errors.As(err, &he) || he.StatusCode != tt.status {
				t.Fatalf("Upgrade returned %v, want a *HandshakeError with status %d", err, tt.status)
			}
			if !strings.Contains(he.Error(), tt.bodyHas) {
				t.Errorf("HandshakeError %q does not mention %q", he, tt.bodyHas)
			}
		})
	}
}

func (r rawRequest) headerValue(name string) string {
	for _, kv := range r.headers {
		if strings.EqualFold(kv[0], name) {
			return kv[1]
		}
	}
	return ""
}

func TestSubprotocolNegotiation(t *testing.T) {
	tests := []struct {
		name           string
		server, client []string
		want           string
	}{
		{"server preference order", []string{"v2", "v1"}, []string{"v1", "v2"}, "v2"},
		{"one in common", []string{"a", "b"}, []string{"c", "b"}, "b"},
		{"none in common", []string{"a"}, []string{"b"}, ""},
		{"client offers none", []string{"a"}, nil, ""},
		{"server supports none", nil, []string{"a"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serverGot := make(chan string, 1)
			url := testServer(t, &UpgradeOptions{Subprotocols: tt.server}, func(c *Conn) {
				serverGot <- c.Subprotocol()
				echo(c)
			})
			c := dialTest(t, url, &DialOptions{Subprotocols: tt.client})
			if got := c.Subprotocol(); got != tt.want {
				t.Errorf("client Subprotocol() = %q, want %q", got, tt.want)
			}
			if got := <-serverGot; got != tt.want {
				t.Errorf("server Subprotocol() = %q, want %q", got, tt.want)
			}
			// The connection works.
			if err := c.WriteMessage(Text, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			if _, msg, err := c.ReadMessage(nil); err != nil || string(msg) != "hi" {
				t.Fatalf("echo: %q %v", msg, err)
			}
		})
	}
}

// acceptOne runs AcceptConn on one connection of a loopback listener.
func acceptOne(t *testing.T, opts *UpgradeOptions) (addr string, result <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			ch <- err
			return
		}
		c, _, err := AcceptConn(nc, opts)
		if err == nil {
			c.CloseNow()
		}
		ch <- err
	}()
	return ln.Addr().String(), ch
}

func acceptResult(t *testing.T, result <-chan error) error {
	t.Helper()
	select {
	case err := <-result:
		return err
	case <-time.After(hangGuard):
		t.Fatal("AcceptConn did not return")
		return nil
	}
}

func TestAcceptConnRefusals(t *testing.T) {
	tests := []struct {
		name    string
		req     string
		status  int
		bodyHas string
	}{
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n", 400, "request"},
		{"not HTTP", "HELLO\r\n\r\n", 400, "request"},
		{"missing key", string(validRequest().set("Sec-WebSocket-Key").bytes("x")), 400, "Sec-WebSocket-Key"},
		{"version 8", string(validRequest().set("Sec-WebSocket-Version", "8").bytes("x")), 426, "13"},
		{"POST", string(validRequest().with(func(r *rawRequest) { r.method = "POST" }).bytes("x")), 405, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, result := acceptOne(t, nil)
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(hangGuard))
			io.WriteString(nc, tt.req)
			br := bufio.NewReader(nc)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("reading the refusal: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.bodyHas) {
				t.Errorf("got %s %q, want %d mentioning %q", resp.Status, body, tt.status, tt.bodyHas)
			}
			// The server closed the connection after its answer.
			if n, err := br.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("after the refusal: read %d, %v; want EOF", n, err)
			}
			var he *HandshakeError
			if err := acceptResult(t, result); !errors.As(err, &he) || he.StatusCode != tt.status {
				t.Errorf("AcceptConn: %v, want a *HandshakeError with status %d", err, tt.status)
			}
		})
	}
}

// TestAcceptConnHandshakeTimeout sends half a request and nothing more:
// AcceptConn must give up after HandshakeTimeout and close the connection.
func TestAcceptConnHandshakeTimeout(t *testing.T) {
	addr, result := acceptOne(t, &UpgradeOptions{HandshakeTimeout: 200 * time.Millisecond})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
	nc.SetReadDeadline(time.Now().Add(hangGuard))
	if _, err := io.ReadAll(nc); err != nil {
		t.Fatalf("the server did not close the connection: %v", err)
	}
	if err := acceptResult(t, result); err == nil {
		t.Fatal("AcceptConn succeeded on half a request")
	}
}

// TestDialResponseRules checks the client side of RFC 6455 section 4.1:
// Dial must refuse any response but a correct 101 and say why.
func TestDialResponseRules(t *testing.T) {
	tests := []struct {
		name    string
		opts    *DialOptions
		respond func(req *http.Request) string
		status  int      // HandshakeError.StatusCode
		errHas  []string // substrings of the error
	}{
		{
			name: "404 with a body",
			respond: func(*http.Request) string {
				return "HTTP/1.1 404 Not Found\r\nContent-Length: 22\r\n\r\nno such game endpoint\n"
			},
			status: 404, errHas: []string{"404", "no such game endpoint"},
		},
		{
			name: "200 OK",
			respond: func(*http.Request) string {
				return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
			},
			status: 200, errHas: []string{"200", "want 101"},
		},
		{
			name: "426 from a server speaking another version",
			respond: func(*http.Request) string {
				return "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 8\r\nContent-Length: 0\r\n\r\n"
			},
			status: 426, errHas: []string{"426"},
		},
		{
			name: "wrong Sec-WebSocket-Accept",
			respond: func(req *http.Request) string {
				return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept(testKey) + "\r\n\r\n"
			},
			status: 101, errHas: []string{"Sec-WebSocket-Accept"},
		},
		{
			name: "missing Sec-WebSocket-Accept",
			respond: func(req *http.Request) string {
				return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
			},
			status: 101, errHas: []string{"Sec-WebSocket-Accept"},
		},
		{
			name: "missing Upgrade",
			respond: func(req *http.Request) string {
				return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + rfcAccept(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
			},
			status: 101, errHas: []string{"Upgrade"},
		},
		{
			name: "missing Connection",
			respond: func(req *http.Request) string {
				return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + rfcAccept(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
			},
			status: 101, errHas: []string{"Connection"},
		},
		{
			name:    "unoffered subprotocol",
			opts:    &DialOptions{Subprotocols: []string{"v1"}},
			respond: func(req *http.Request) string { return response101(req, "Sec-WebSocket-Protocol: v2") },
			status:  101, errHas: []string{"subprotocol", "v2"},
		},
		{
			name:    "subprotocol when none was offered",
			respond: func(req *http.Request) string { return response101(req, "Sec-WebSocket-Protocol: v1") },
			status:  101, errHas: []string{"subprotocol", "v1"},
		},
		{
			name: "extensions selected",
			respond: func(req *http.Request) string {
				return response101(req, "Sec-WebSocket-Extensions: permessage-deflate")
			},
			status: 101, errHas: []string{"extensions", "permessage-deflate"},
		},
		{
			name:    "not HTTP",
			respond: func(*http.Request) string { return "SSH-2.0-OpenSSH_9.6\r\n" },
			errHas:  []string{"reading the response"},
		},
		{
			name:    "connection closed without an answer",
			respond: func(*http.Request) string { return "" },
			errHas:  []string{"reading the response"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := fakeServer(t, func(nc net.Conn, br *bufio.Reader, req *http.Request) {
				io.WriteString(nc, tt.respond(req))
			})
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			c, err := Dial(ctx, url, tt.opts)
			if err == nil {
				c.CloseNow()
				t.Fatal("Dial succeeded")
			}
			var he *HandshakeError
			if !errors.As(err, &he) || he.StatusCode != tt.status {
				t.Fatalf("Dial: %v, want a *HandshakeError with status %d", err, tt.status)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// TestDialSendsValidRequest checks the request Dial sends against RFC 6455
// section 4.1, with the server side's own rules.
func TestDialSendsValidRequest(t *testing.T) {
	got := make(chan *http.Request, 1)
	url := fakeServer(t, func(nc net.Conn, br *bufio.Reader, req *http.Request) {
		got <- req
		io.WriteString(nc, response101(req, "Sec-WebSocket-Protocol: b"))
	})
	c := dialTest(t, url+"path?q=1", &DialOptions{
		Subprotocols: []string{"a", "b"},
		Header:       http.Header{"Origin": {"https://game.example"}, "Authorization": {"Bearer x"}},
	})
	req := <-got
	if _, err := checkRequest(req, &UpgradeOptions{OriginPatterns: []string{"game.example"}}); err != nil {
		t.Fatalf("Dial's request is refused: %v", err)
	}
	key, err := base64.StdEncoding.DecodeString(req.Header.Get("Sec-WebSocket-Key"))
	if err != nil || len(key) != 16 {
		t.Errorf("Sec-WebSocket-Key %q is not 16 bytes in base64", req.Header.Get("Sec-WebSocket-Key"))
	}
	checks := map[string]string{
		"RequestURI":             req.RequestURI,
		"Sec-WebSocket-Protocol": req.Header.Get("Sec-WebSocket-Protocol"),
		"Authorization":          req.Header.Get("Authorization"),
	}
	want := map[string]string{
		"RequestURI":             "/path?q=1",
		"Sec-WebSocket-Protocol": "a, b",
		"Authorization":          "Bearer x",
	}
	for k, v := range checks {
		if v != want[k] {
			t.Errorf("%s = %q, want %q", k, v, want[k])
		}
	}
	if c.Subprotocol() != "b" {
		t.Errorf("Subprotocol() = %q, want b", c.Subprotocol())
	}
}

func TestDialRefusesBadArguments(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		opts   *DialOptions
		errHas string
	}{
		{"http scheme", "http://127.0.0.1:1/", nil, "scheme must be ws or wss"},
		{"https scheme", "https://127.0.0.1:1/", nil, "scheme must be ws or wss"},
		{"no scheme", "example.com/ws", nil, "scheme must be ws or wss"},
		{"no host", "ws:///path", nil, "no host"},
		{"bad URL", "ws://[::1", nil, "invalid URL"},
		{"reserved header set canonically", "ws://127.0.0.1:1/", &DialOptions{Header: headerWith("Sec-WebSocket-Key", "x")}, "Sec-Websocket-Key"},
		{"reserved header in a literal", "ws://127.0.0.1:1/", &DialOptions{Header: http.Header{"Sec-WebSocket-Protocol": {"x"}}}, "Sec-Websocket-Protocol"},
		{"reserved header in lower case", "ws://127.0.0.1:1/", &DialOptions{Header: http.Header{"upgrade": {"h2c"}}}, "Upgrade"},
		{"Host header", "ws://127.0.0.1:1/", &DialOptions{Header: headerWith("Host", "other")}, "Host"},
		{"Connection header", "ws://127.0.0.1:1/", &DialOptions{Header: headerWith("Connection", "close")}, "Connection"},
		{"version header", "ws://127.0.0.1:1/", &DialOptions{Header: headerWith("Sec-WebSocket-Version", "8")}, "Sec-Websocket-Version"},
		{"extensions header", "ws://127.0.0.1:1/", &DialOptions{Header: headerWith("Sec-WebSocket-Extensions", "permessage-deflate")}, "Sec-Websocket-Extensions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dialed := false
			opts := tt.opts
			if opts == nil {
				opts = &DialOptions{}
			}
			opts.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				dialed = true
				return nil, errors.New("must not dial")
			}
			c, err := Dial(context.Background(), tt.url, opts)
			if err == nil {
				c.CloseNow()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not mention %q", err, tt.errHas)
			}
			if dialed {
				t.Error("Dial connected before rejecting its arguments")
			}
		})
	}
}

func headerWith(name, value string) http.Header {
	h := http.Header{}
	h.Set(name, value)
	return h
}

// TestDialContextCancel cancels the context while the server never
// answers: Dial must return the context's error, not wait for the
// handshake timeout.
func TestDialContextCancel(t *testing.T) {
	url := fakeServer(t, func(nc net.Conn, br *bufio.Reader, req *http.Request) {
		io.Copy(io.Discard, br) // never answer; wait for the client to go
	})
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		c, err := Dial(ctx, url, &DialOptions{HandshakeTimeout: time.Hour})
		if err == nil {
			c.CloseNow()
		}
		result <- err
	}()
	time.Sleep(100 * time.Millisecond) // let Dial send its request
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Dial: %v, want context.Canceled", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("Dial did not return after its context was cancelled")
	}
}

// TestDialHandshakeTimeout bounds the handshake with HandshakeTimeout when
// the context has no deadline.
func TestDialHandshakeTimeout(t *testing.T) {
	url := fakeServer(t, func(nc net.Conn, br *bufio.Reader, req *http.Request) {
		io.Copy(io.Discard, br)
	})
	_, err := Dial(context.Background(), url, &DialOptions{HandshakeTimeout: 200 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial: %v, want context.DeadlineExceeded", err)
	}
}

// TestDialTLS runs a whole session over wss:// against an httptest TLS
// server, trusting its certificate through its client's TLS config.
func TestDialTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, &UpgradeOptions{Subprotocols: []string{"tickwire"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		echo(c)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusting dial below fails its TLS handshake
	srv.StartTLS()
	defer srv.Close()
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig
	url := "wss" + strings.TrimPrefix(srv.URL, "https")
	c := dialTest(t, url, &DialOptions{TLSConfig: tlsConfig, Subprotocols: []string{"tickwire"}})
	if _, ok := c.NetConn().(*tls.Conn); !ok {
		t.Fatalf("NetConn() is a %T, want a *tls.Conn", c.NetConn())
	}
	if c.Subprotocol() != "tickwire" {
		t.Errorf("Subprotocol() = %q", c.Subprotocol())
	}
	for _, n := range []int{0, 10, 70000} {
		msg := pattern(n)
		if err := c.WriteMessage(Binary, msg); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.ReadMessage(nil)
		if err != nil || typ != Binary || string(got) != string(msg) {
			t.Fatalf("echo of %d bytes over TLS: %v %d bytes %v", n, typ, len(got), err)
		}
	}
	if err := c.Close(StatusNormalClosure, "tls done"); err != nil {
		t.Fatal(err)
	}

	// Without the server's certificate, the TLS handshake fails.
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if _, err := Dial(ctx, url, nil); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("Dial without trusting the certificate: %v, want a TLS error", err)
	}
}

// TestAcceptKey checks Sec-WebSocket-Accept against the example of RFC 6455
// section 1.3.
func TestAcceptKey(t *testing.T) {
	if got := acceptKey(testKey); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("acceptKey(%q) = %q", testKey, got)
	}
}

// TestAcceptConnBoundsRequestSize sends an endless request header:
// AcceptConn must refuse it once it passes net/http's default limit
// instead of buffering it until the handshake timeout.
func TestAcceptConnBoundsRequestSize(t *testing.T) {
	addr, result := acceptOne(t, &UpgradeOptions{HandshakeTimeout: time.Minute})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	go func() {
		io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n")
		line := []byte("X-Padding: " + strings.Repeat("a", 1000) + "\r\n")
		for range 4 * http.DefaultMaxHeaderBytes / len(line) {
			if _, err := nc.Write(line); err != nil {
				return
			}
		}
	}()
	nc.SetReadDeadline(time.Now().Add(hangGuard))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("no answer to an oversized request: %v", err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %s, want 431", resp.Status)
	}
	var he *HandshakeError
	if err := acceptResult(t, result); !errors.As(err, &he) || he.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("AcceptConn: %v, want a *HandshakeError with status 431", err)
	}
}
