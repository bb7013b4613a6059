package netws

// Interoperability with the npm "ws" package (Node.js), in both roles:
// ws as a client of a netws server (testdata/interop/node_client.js) and
// ws as the server of a netws client (testdata/interop/node_server.js).
//
// They need node and the repository's development dependencies:
//
//	npm ci                                     # at the repository root
//	go test -run 'Interop.*Node' -v ./netws/
//
// Without them the tests skip, unless TICKWIRE_REQUIRE_NODE=1.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// interopNode returns the node binary and the module root, whose
// node_modules/ws the scripts load, or ends the test if either is missing.
func interopNode(t *testing.T) (node, root string) {
	t.Helper()
	root = interopModuleRoot(t)
	node, err := exec.LookPath("node")
	if err != nil {
		interopRequireOrSkip(t, "TICKWIRE_REQUIRE_NODE",
			"node is not installed (Node.js 18 or later is needed; then run `npm ci` at the repository root %s)", root)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "ws", "package.json")); err != nil {
		interopRequireOrSkip(t, "TICKWIRE_REQUIRE_NODE",
			"the npm package ws is not installed: run `npm ci` at the repository root %s (it reads package-lock.json)", root)
	}
	return node, root
}

// interopScript returns the path of a script in testdata/interop.
func interopScript(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "interop", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tail returns the last n bytes of b, for error messages.
func interopTail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// nodeClientResult is the JSON line node_client.js prints.
type nodeClientResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	Cases []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"cases"`
	Ping *struct {
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"ping"`
	Close *struct {
		OK     bool   `json:"ok"`
		Code   int    `json:"code"`
		Reason string `json:"reason"`
		Ms     int    `json:"ms"`
		Detail string `json:"detail"`
	} `json:"close"`
	Protocol   string `json:"protocol"`
	Extensions string `json:"extensions"`
}

// nodeClientCloseReason is the reason node_client.js closes with.
const nodeClientCloseReason = "node client done: ünïcødé ✓"

// nodeClientCaseCount is how many results node_client.js reports: its
// message list (interopCases plus two messages it fragments itself), once
// one at a time and once pipelined.
var nodeClientCaseCount = 2 * (len(interopCases()) + 2)

func TestInteropNodeClient(t *testing.T) {
	node, root := interopNode(t)
	script := interopScript(t, "node_client.js")

	// Two endpoints: one writes every echo as a single frame (so the 16-
	// and 64-bit length encodings are used), one fragments into 1000-byte
	// frames.
	for _, tc := range []struct {
		name     string
		maxFrame int
	}{
		{"single-frames", 4 << 20},
		{"fragmented-1000", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ended := make(chan error, 1)
			srv := httptest.NewServer(interopEchoHandler(interopEchoOptions(tc.maxFrame), ended))
			defer srv.Close()
			url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"

			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, script, url)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "TICKWIRE_INTEROP_TIMEOUT_MS=60000")
			cmd.WaitDelay = 5 * time.Second
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("node_client.js did not finish within 90 s\nstdout: %s\nstderr: %s",
					interopTail(stdout.Bytes(), 2000), interopTail(stderr.Bytes(), 2000))
			}

			var res nodeClientResult
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			last := lines[len(lines)-1]
			if err := json.Unmarshal([]byte(last), &res); err != nil {
				t.Fatalf("node_client.js printed no JSON result (%v; exit: %v)\nstdout: %s\nstderr: %s",
					err, runErr, interopTail(stdout.Bytes(), 2000), interopTail(stderr.Bytes(), 2000))
			}
			if res.Error != "" {
				t.Errorf("node_client.js: %s", res.Error)
			}
			failed := 0
			for _, c := range res.Cases {
				if !c.OK {
					failed++
					t.Errorf("case %s: %s", c.Name, c.Detail)
				}
			}
			if len(res.Cases) != nodeClientCaseCount {
				t.Errorf("node_client.js reported %d cases, want %d", len(res.Cases), nodeClientCaseCount)
			}
			if res.Protocol != interopSubprotocol {
				t.Errorf("negotiated subprotocol %q, want %q", res.Protocol, interopSubprotocol)
			}
			if res.Extensions != "" {
				t.Errorf("extensions %q were negotiated; netws supports none", res.Extensions)
			}
			switch {
			case res.Ping == nil:
				t.Errorf("ping: no result")
			case !res.Ping.OK:
				t.Errorf("ping: %s", res.Ping.Detail)
			}
			switch {
			case res.Close == nil:
				t.Errorf("close handshake: no result")
			case !res.Close.OK:
				t.Errorf("close handshake: %s (reason %q, after %d ms)", res.Close.Detail, res.Close.Reason, res.Close.Ms)
			}
			if runErr != nil && !t.Failed() {
				t.Errorf("node_client.js exited with %v although every check passed\nstderr: %s", runErr, interopTail(stderr.Bytes(), 2000))
			}
			if !res.OK && !t.Failed() {
				t.Errorf("node_client.js reported failure without detail: %s", last)
			}
			interopCheckPeerClose(t, "node client", ended, nodeClientCloseReason)
			t.Logf("node_client.js: %d cases, %d failed", len(res.Cases), failed)
		})
	}
}

// nodeServerEvent is one JSON line node_server.js prints.
type nodeServerEvent struct {
	Event    string `json:"event"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	Code     int    `json:"code"`
	Reason   string `json:"reason"`
	Error    string `json:"error"`
}

// startNodeServer starts node_server.js and returns the port it listens on
// and the channel of its later events. The server is stopped (its stdin
// closed, then killed) when the test ends.
func startNodeServer(t *testing.T) (port int, events <-chan nodeServerEvent) {
	t.Helper()
	node, root := interopNode(t)
	script := interopScript(t, "node_server.js")

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = root
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting node_server.js: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close() // the script exits when its stdin ends
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cancel() // kills it
			<-done
		}
		cancel()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("node_server.js stderr: %s", interopTail(stderr.Bytes(), 2000))
		}
	})

	ch := make(chan nodeServerEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev nodeServerEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = nodeServerEvent{Event: "error", Error: fmt.Sprintf("unparsable line %q", sc.Text())}
			}
			ch <- ev
		}
		io.Copy(io.Discard, stdout)
	}()

	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("node_server.js exited before listening\nstderr: %s", interopTail(stderr.Bytes(), 2000))
		}
		if ev.Event != "listening" || ev.Port == 0 {
			t.Fatalf("node_server.js: first event %+v, want listening with a port", ev)
		}
		return ev.Port, ch
	case <-time.After(20 * time.Second):
		t.Fatalf("node_server.js did not listen within 20 s\nstderr: %s", interopTail(stderr.Bytes(), 2000))
	}
	panic("unreachable")
}

// nextNodeEvent returns the next event of the given kind, failing the test
// after timeout or on an error event.
func nextNodeEvent(t *testing.T, events <-chan nodeServerEvent, kind string, timeout time.Duration) nodeServerEvent {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("node_server.js exited while waiting for a %q event", kind)
			}
			if ev.Event == "error" {
				t.Errorf("node_server.js: %s", ev.Error)
				continue
			}
			if ev.Event == kind {
				return ev
			}
		case <-timer.C:
			t.Fatalf("node_server.js: no %q event within %v", kind, timeout)
		}
	}
}

// interopRoundTrip sends every case and reads its echo, one at a time, then
// all of them pipelined (a writer goroutine sends while this one reads),
// reporting every difference.
func interopRoundTrip(t *testing.T, c *Conn, cases []interopCase) {
	t.Helper()
	var buf []byte
	for _, tc := range cases {
		if err := c.WriteMessage(tc.typ, tc.data); err != nil {
			t.Fatalf("case %s: write: %v", tc.name, err)
		}
		typ, msg, err := c.ReadMessage(buf[:0])
		if err != nil {
			t.Fatalf("case %s: read the echo: %v", tc.name, err)
		}
		buf = msg
		if d := interopDiff(typ, msg, tc.typ, tc.data); d != "" {
			t.Errorf("case %s: echo: %s", tc.name, d)
		}
	}

	werr := make(chan error, 1)
	go func() {
		for _, tc := range cases {
			if err := c.WriteMessage(tc.typ, tc.data); err != nil {
				werr <- fmt.Errorf("pipelined case %s: write: %w", tc.name, err)
				return
			}
		}
		werr <- nil
	}()
	for _, tc := range cases {
		typ, msg, err := c.ReadMessage(buf[:0])
		if err != nil {
			t.Fatalf("pipelined case %s: read the echo: %v (writer: %v)", tc.name, err, <-werr)
		}
		buf = msg
		if d := interopDiff(typ, msg, tc.typ, tc.data); d != "" {
			t.Errorf("pipelined case %s: echo: %s", tc.name, d)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
}

func TestInteropNodeServer(t *testing.T) {
	port, events := startNodeServer(t)
	url := fmt.Sprintf("ws://127.0.0.1:%d/echo", port)

	// Writes as single frames first (every length encoding is used), then
	// fragmented into 1000-byte frames that ws must reassemble.
	for i, tc := range []struct {
		name     string
		maxFrame int
	}{
		{"single-frames", 4 << 20},
		{"fragmented-1000", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			c, err := Dial(ctx, url, &DialOptions{
				ConnOptions: ConnOptions{
					ReadLimit:    interopReadLimit,
					MaxFrameSize: tc.maxFrame,
					CloseTimeout: 10 * time.Second,
				},
				Subprotocols: []string{interopSubprotocol},
			})
			if err != nil {
				t.Fatalf("Dial %s: %v", url, err)
			}
			defer c.CloseNow()
			if got := c.Subprotocol(); got != interopSubprotocol {
				t.Errorf("Subprotocol() = %q, want %q", got, interopSubprotocol)
			}
			if ev := nextNodeEvent(t, events, "connection", 10*time.Second); ev.Protocol != interopSubprotocol {
				t.Errorf("ws server selected subprotocol %q, want %q", ev.Protocol, interopSubprotocol)
			}

			// An RTT ping: ws answers it before echoing the next message,
			// so the pong has been read once the echo has.
			if err := c.Ping(); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			interopRoundTrip(t, c, interopCases())
			if st := c.RTT(); st.PingsSent < 1 || st.PongsMatched < 1 {
				t.Errorf("RTT after a ping and a round trip: %d pings sent, %d pongs matched; want at least 1 each", st.PingsSent, st.PongsMatched)
			}

			reason := fmt.Sprintf("netws client done %d: ünïcødé ✓", i)
			start := time.Now()
			if err := c.Close(StatusNormalClosure, reason); err != nil {
				t.Errorf("Close: %v", err)
			}
			// CloseTimeout is 10 s: a handshake that completed takes far less.
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Close took %v: the ws server's close frame did not come back", d)
			}
			ev := nextNodeEvent(t, events, "close", 10*time.Second)
			if ev.Code != int(StatusNormalClosure) || ev.Reason != reason {
				t.Errorf("ws server saw close code %d reason %q, want %d %q", ev.Code, ev.Reason, StatusNormalClosure, reason)
			}
			if _, _, err := c.ReadMessage(nil); err == nil || errors.Is(err, ErrConcurrentRead) {
				t.Errorf("ReadMessage after Close: %v, want an error saying the connection is closed", err)
			}
		})
	}
}
