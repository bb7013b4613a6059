package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestImpairForwardsUntilInterrupted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-target", ln.Addr().String(), "-delay", "5ms"}, &out, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("ping"))
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo through impair: %q %v", got, err)
	}
	c.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run returned %v after interrupt", err)
	}
	if !strings.Contains(out.String(), "delay 5ms") || !strings.Contains(out.String(), "done: 1 connections") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestImpairFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "-target is required"},
		{[]string{"-target", "127.0.0.1:1", "-delay", "-1s"}, "delay -1s is negative"},
		{[]string{"-target", "127.0.0.1:1", "-stall-for", "1s"}, "set both"},
		{[]string{"-target", "127.0.0.1:1", "-stall-every", "1s", "-stall-for", "2s"}, "shorter than its period"},
		{[]string{"-target", "nohost"}, "host:port"},
		{[]string{"-target", "127.0.0.1:1", "extra"}, "unexpected arguments"},
		{[]string{"-delay", "soon"}, "invalid value"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), tt.args, &out, nil)
		if err == nil || !strings.Contains(err.Error()+out.String(), tt.want) {
			t.Errorf("run(%q) = %v (output %q), want an error containing %q", tt.args, err, out.String(), tt.want)
		}
	}
}
