package netws

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// testServer starts an httptest server whose handler upgrades with opts and
// passes each server-side Conn to handle.
func testServer(t *testing.T, opts *UpgradeOptions, handle func(*Conn)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		handle(c)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// echo echoes messages until the connection fails.
func echo(c *Conn) {
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(buf[:0])
		if err != nil {
			return
		}
		buf = msg
		if err := c.WriteMessage(typ, msg); err != nil {
			return
		}
	}
}

func dialTest(t *testing.T, url string, opts *DialOptions) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestEchoRoundTrip(t *testing.T) {
	url := testServer(t, &UpgradeOptions{ConnOptions: ConnOptions{ReadLimit: 4 << 20, MaxFrameSize: 1000}}, echo)
	c := dialTest(t, url, &DialOptions{ConnOptions: ConnOptions{ReadLimit: 4 << 20, MaxFrameSize: 777}})
	sizes := []int{0, 1, 125, 126, 127, 1000, 1001, 65535, 65536, 1 << 20}
	for _, typ := range []MessageType{Binary, Text} {
		for _, n := range sizes {
			msg := bytes.Repeat([]byte("aé"), n/3+1)[:0]
			for len(msg) < n {
				msg = append(msg, "x"...)
			}
			if err := c.WriteMessage(typ, msg); err != nil {
				t.Fatalf("write %v %d: %v", typ, n, err)
			}
			gotTyp, got, err := c.ReadMessage(nil)
			if err != nil {
				t.Fatalf("read %v %d: %v", typ, n, err)
			}
			if gotTyp != typ || !bytes.Equal(got, msg) {
				t.Fatalf("echo %v %d bytes: got %v %d bytes", typ, n, gotTyp, len(got))
			}
		}
	}
	if err := c.Close(StatusNormalClosure, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := c.ReadMessage(nil); err == nil {
		t.Fatal("read after Close succeeded")
	}
}
