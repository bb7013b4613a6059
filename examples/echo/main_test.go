package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netws"
)

func TestEchoServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-frame-size", "1000"}, io.Discard, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	c, err := netws.Dial(dctx, "ws://"+addr+"/", &netws.DialOptions{ConnOptions: netws.ConnOptions{ReadLimit: 16 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, tc := range []struct {
		typ netws.MessageType
		msg []byte
	}{
		{netws.Text, []byte("héllo")},
		{netws.Binary, []byte{}},
		{netws.Binary, bytes.Repeat([]byte{7}, 5<<20)},
	} {
		if err := c.WriteMessage(tc.typ, tc.msg); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.ReadMessage(nil)
		if err != nil || typ != tc.typ || !bytes.Equal(got, tc.msg) {
			t.Fatalf("echo of %d-byte %v: got %v, %d bytes, %v", len(tc.msg), tc.typ, typ, len(got), err)
		}
	}
	c.Close(netws.StatusNormalClosure, "")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run returned %v after shutdown", err)
	}
}

func TestEchoFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-frame-size", "0"}, "-frame-size must be at least 1"},
		{[]string{"-read-limit", "-5"}, "-read-limit must be at least 1"},
		{[]string{"-log-level", "loud"}, "-log-level \"loud\""},
		{[]string{"-addr", "nonsense"}, "nonsense"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want error containing %q", tt.args, err, tt.want)
		}
	}
}
