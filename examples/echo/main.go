// Command echo serves a WebSocket echo endpoint at "/": every message comes
// back with its type. It is the target that WebSocket conformance suites and
// benchmarks are pointed at, so it stays this simple.
//
//	go run ./examples/echo -addr 127.0.0.1:9001
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/netws"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(2)
	}
}

// run parses args, serves until ctx is done and returns. If ready is not
// nil it receives the listening address once the server accepts.
func run(ctx context.Context, args []string, logOut io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(logOut)
	addr := fs.String("addr", "127.0.0.1:9001", "address to listen on")
	frameSize := fs.Int("frame-size", netws.DefaultMaxFrameSize, "largest frame payload sent; longer messages are fragmented (bytes, 1 or more)")
	readLimit := fs.Int64("read-limit", 16<<20, "largest message accepted (bytes, 1 or more)")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn or error")
	logJSON := fs.Bool("log-json", false, "log in JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *frameSize < 1 {
		return fmt.Errorf("-frame-size must be at least 1, got %d", *frameSize)
	}
	if *readLimit < 1 {
		return fmt.Errorf("-read-limit must be at least 1, got %d", *readLimit)
	}
	level := hclog.LevelFromString(*logLevel)
	if level == hclog.NoLevel {
		return fmt.Errorf("-log-level %q: want trace, debug, info, warn or error", *logLevel)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "echo", Level: level, Output: logOut, JSONFormat: *logJSON})

	opts := &netws.UpgradeOptions{
		ConnOptions: netws.ConnOptions{ReadLimit: *readLimit, MaxFrameSize: *frameSize},
		// A test target: conformance suites and benchmark pages may come
		// from any origin.
		InsecureSkipOriginCheck: true,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serveEcho(w, r, opts, log) }),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	log.Info("serving WebSocket echo", "url", "ws://"+ln.Addr().String()+"/", "frame_size", *frameSize, "read_limit", *readLimit)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// serveEcho upgrades the request and echoes every message with its type.
func serveEcho(w http.ResponseWriter, r *http.Request, opts *netws.UpgradeOptions, log hclog.Logger) {
	c, err := netws.Upgrade(w, r, opts)
	if err != nil {
		log.Debug("handshake refused", "remote", r.RemoteAddr, "error", err)
		return
	}
	defer c.CloseNow()
	log.Debug("connected", "remote", r.RemoteAddr)
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(buf[:0])
		if err != nil {
			log.Debug("disconnected", "remote", r.RemoteAddr, "reason", err)
			return
		}
		buf = msg
		if err := c.WriteMessage(typ, msg); err != nil {
			log.Debug("write failed", "remote", r.RemoteAddr, "error", err)
			return
		}
	}
}
