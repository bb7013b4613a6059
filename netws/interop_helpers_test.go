package netws

// Shared pieces of the interoperability tests (interop_node_test.go,
// interop_browser_test.go): finding the module root, skipping or failing
// when an external tool is missing, the message list, and the netws echo
// handler the foreign clients talk to.

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// interopSubprotocol is offered by the foreign clients and accepted by the
// echo handlers, so subprotocol negotiation is checked too.
const interopSubprotocol = "tickwire.v1"

// interopModuleRoot walks up from the working directory (the package
// directory under go test) to the directory holding go.mod.
func interopModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("interop: working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("interop: no go.mod in any parent of the working directory")
		}
		dir = parent
	}
}

// interopRequireOrSkip ends the test because an external tool is missing:
// with envVar set to 1 (as CI does) it is a failure, otherwise a skip with a
// message that is hard to miss in go test -v output.
func interopRequireOrSkip(t testing.TB, envVar, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(envVar) == "1" {
		t.Fatalf("interop: %s\n(%s=1 makes a missing dependency a failure)", msg, envVar)
	}
	t.Skipf("\n*** SKIPPING INTEROPERABILITY TEST %s ***\n*** %s\n*** (set %s=1 to turn this skip into a failure)", t.Name(), msg, envVar)
}

// interopCase is one message of the interoperability message list.
type interopCase struct {
	name string
	typ  MessageType
	data []byte
}

// interopText returns n bytes of valid UTF-8 cycling through characters of
// 1, 2, 3 and 4 bytes, so that frame and buffer boundaries fall inside
// multi-byte sequences; where the next character does not fit it pads with
// 'x'. node_client.js and browser.html build the same text.
func interopText(n int) []byte {
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

// interopBinary returns n bytes that are not periodic at any small power of
// two, so misordered or misaligned chunks show up as differences.
func interopBinary(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i * 31) ^ (i >> 8) ^ (i >> 16) ^ 0x5a)
	}
	return b
}

// interopCases returns the message list every interoperability test
// round-trips: short and empty messages of both types, the payload sizes
// around the frame length encodings (125: the largest 7-bit length, 126:
// the smallest 16-bit one, 65535: the largest 16-bit one, 65536: the
// smallest 64-bit one) and 1 MiB, each as binary and as multi-byte text.
func interopCases() []interopCase {
	cases := []interopCase{
		{"text/hello", Text, []byte("hello, tickwire")},
		{"text/utf8", Text, []byte("h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e \U0001F3AE\U0001F680")},
		{"binary/small", Binary, []byte{0, 1, 2, 3, 0x7f, 0x80, 0xfe, 0xff}},
		{"text/empty", Text, []byte{}},
		{"binary/empty", Binary, []byte{}},
	}
	for _, n := range []int{125, 126, 65535, 65536, 1 << 20} {
		label := fmt.Sprint(n)
		if n == 1<<20 {
			label = "1MiB"
		}
		cases = append(cases,
			interopCase{"binary/" + label, Binary, interopBinary(n)},
			interopCase{"text/" + label, Text, interopText(n)})
	}
	return cases
}

// interopDiff describes how got differs from want, or returns "".
func interopDiff(gotType MessageType, got []byte, wantType MessageType, want []byte) string {
	if gotType != wantType {
		return fmt.Sprintf("message type %v, want %v", gotType, wantType)
	}
	if bytes.Equal(got, want) {
		return ""
	}
	if len(got) != len(want) {
		return fmt.Sprintf("length %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at byte %d: got %#02x, want %#02x", i, got[i], want[i])
		}
	}
	return "bytes differ"
}

// interopReadLimit is the read limit of the echo handlers and of the netws
// clients in the interoperability tests: well above the largest message.
const interopReadLimit = 16 << 20

// interopEchoOptions returns the options of an echo endpoint whose writes
// are fragmented into frames of at most maxFrame bytes.
func interopEchoOptions(maxFrame int) *UpgradeOptions {
	return &UpgradeOptions{
		ConnOptions: ConnOptions{
			ReadLimit:    interopReadLimit,
			MaxFrameSize: maxFrame,
			CloseTimeout: 10 * time.Second,
		},
		Subprotocols: []string{interopSubprotocol},
	}
}

// interopEchoHandler upgrades each request with opts and echoes every
// message with its type until the connection ends. It sends the error that
// ended the connection (the *CloseError when the peer closed) to ended,
// without blocking; a failed upgrade is sent as well.
func interopEchoHandler(opts *UpgradeOptions, ended chan<- error) http.Handler {
	report := func(err error) {
		select {
		case ended <- err:
		default:
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, opts)
		if err != nil {
			report(fmt.Errorf("upgrade refused: %w", err))
			return
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(buf[:0])
			if err != nil {
				report(err)
				return
			}
			buf = msg
			if err := c.WriteMessage(typ, msg); err != nil {
				report(fmt.Errorf("echo write: %w", err))
				return
			}
		}
	})
}

// interopCheckPeerClose checks the error that ended an echo connection: the
// peer must have closed with code 1000 and the given reason.
func interopCheckPeerClose(t testing.TB, who string, ended <-chan error, wantReason string) {
	t.Helper()
	select {
	case err := <-ended:
		var ce *CloseError
		switch {
		case !errors.As(err, &ce):
			t.Errorf("%s: the netws echo handler ended with %v, want a *CloseError from the peer", who, err)
		case ce.Local:
			t.Errorf("%s: the netws echo handler closed the connection itself: %v", who, err)
		case ce.Code != StatusNormalClosure || ce.Reason != wantReason:
			t.Errorf("%s: the netws echo handler saw close code %d reason %q, want %d %q",
				who, ce.Code, ce.Reason, StatusNormalClosure, wantReason)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s: the netws echo handler did not end within 10 s of the client's close", who)
	}
}
