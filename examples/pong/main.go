// Command pong serves two-player pong in the browser. Matchmaking pairs
// players two by two: the first waits for an opponent, the second starts
// the match, a third opens a new room. When a player leaves, the other is
// told and the room ends.
//
//	go run ./examples/pong
//
// then open the URL it prints (http://127.0.0.1:8080/ by default) in two
// browser windows. Move with W/S or the arrow keys. docs/writing-a-game.md
// builds this example step by step.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/examples/sdk"
	"github.com/tickwire/tickwire/rooms"
)

//go:embed web
var web embed.FS

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pong:", err)
		}
		os.Exit(2)
	}
}

// run parses args, serves until ctx is done, then shuts down. If ready is
// not nil it receives the page's URL once the server accepts connections.
func run(ctx context.Context, args []string, logOut io.Writer, ready chan<- string) error {
	var cfg engine.Config
	fs := flag.NewFlagSet("pong", flag.ContinueOnError)
	fs.SetOutput(logOut)
	apply := cfg.Flags(fs, os.Getenv) // -addr, -tick-rate, -log-level, ...
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: every setting is a flag (see -h)", fs.Args())
	}
	if err := apply(); err != nil {
		return err
	}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{
		Name: "pong", Level: hclog.LevelFromString(cfg.LogLevel), JSONFormat: cfg.LogJSON, Output: logOut,
	})
	e, err := newServer(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (choose another address with -addr)", cfg.Addr, err)
	}
	url := "http://" + ln.Addr().String() + "/"
	if cfg.TLSCertFile != "" {
		url = "https://" + ln.Addr().String() + "/"
	}
	errc := make(chan error, 1)
	go func() { errc <- e.Serve(ln) }()
	cfg.Logger.Info("pong ready: open this URL in two browser windows", "url", url)
	if ready != nil {
		ready <- url
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = e.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// newServer returns an engine with pong registered, two seats a room, and
// the page and the SDK served beside the engine's routes.
func newServer(cfg engine.Config) (*engine.Engine, error) {
	e, err := engine.New(cfg)
	if err != nil {
		return nil, err
	}
	opts := cfg.Rooms
	opts.MaxPlayers = 2
	opts.ReconnectGrace = 5 * time.Second // an opponent who vanished is not waited for long
	if err := e.Register("pong", func() rooms.Game { return &Game{} }, &opts); err != nil {
		return nil, err
	}
	page, err := fs.Sub(web, "web")
	if err != nil {
		return nil, err
	}
	static := http.FileServerFS(page)
	e.Handle("GET /{$}", static)
	e.Handle("GET /pong.js", static)
	e.Handle("GET "+sdk.Prefix+"/", http.StripPrefix(sdk.Prefix, sdk.Handler()))
	return e, nil
}
