// Command arena serves a top-down arena shooter to play in the browser:
// move with WASD or the arrow keys, aim with the mouse, shoot with the
// button or the space bar. The server is authoritative and runs each room
// at a fixed tick rate; server-side bots keep a lone visitor company.
//
//	go run ./examples/arena
//
// then open the URL it prints (http://127.0.0.1:8080/ by default) in one
// or more browser windows. Everything it serves, the page and the client
// SDK included, is embedded: it needs nothing but Go, and no network.
//
// Each player receives the arena as an entity table sent as deltas, and
// only the part of it around its ship (snapshot.go); the camera follows
// the ship.
//
// Bullets are judged against the ships as their shooter saw them: the
// server rewinds its record of where the ships were by the shooter's
// RTT/2 and the interpolation delay its client reports, up to 500 ms
// (docs/lag-compensation.md). -lag-comp=false judges them against the
// ships as they are on the server, for comparison.
//
// Flags: -addr, -tick, -bots, -max-players, -lag-comp, -log-level, and the
// engine's (go run ./examples/arena -h lists them all).
package main

import (
	"context"
	"embed"
	"encoding/json"
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

// web holds the page and its script.
//
//go:embed web
var web embed.FS

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "arena:", err)
		}
		os.Exit(2)
	}
}

// options are the arena's own flags, beside the engine's.
type options struct {
	tick       int
	bots       int
	maxPlayers int
	lagComp    bool
}

// run parses args, serves until ctx is done, then shuts down. If ready is
// not nil it receives the page's URL once the server accepts connections.
func run(ctx context.Context, args []string, logOut io.Writer, ready chan<- string) error {
	cfg, o, err := parseFlags(args, logOut)
	if err != nil {
		return err
	}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{
		Name: "arena", Level: hclog.LevelFromString(cfg.LogLevel), JSONFormat: cfg.LogJSON, Output: logOut,
	})
	e, err := newServer(cfg, o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (choose another address with -addr)", cfg.Addr, err)
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String() + "/"
	errc := make(chan error, 1)
	go func() { errc <- e.Serve(ln) }()
	cfg.Logger.Info("arena ready: open this URL in a browser (more windows, more players)",
		"url", url, "tick_rate", cfg.Rooms.TickRate, "bots", o.bots, "lag_comp", o.lagComp)
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

// parseFlags parses the engine's flags and the arena's; usage and errors
// go to out.
func parseFlags(args []string, out io.Writer) (engine.Config, options, error) {
	var cfg engine.Config
	fs := flag.NewFlagSet("arena", flag.ContinueOnError)
	fs.SetOutput(out)
	apply := cfg.Flags(fs, os.Getenv)
	var o options
	fs.IntVar(&o.tick, "tick", 0, "room ticks per second, 1-1000 (short for -tick-rate; default 30)")
	fs.IntVar(&o.bots, "bots", 3, "server-side bots in each room, 0-8")
	fs.IntVar(&o.maxPlayers, "max-players", 12, "people per room, 1-64; more open another room")
	fs.BoolVar(&o.lagComp, "lag-comp", true, "judge bullets against the ships as their shooter saw them (lag compensation); false: as they are on the server")
	if err := fs.Parse(args); err != nil {
		return cfg, o, err
	}
	if fs.NArg() > 0 {
		return cfg, o, fmt.Errorf("unexpected arguments %q: every setting is a flag (see -h)", fs.Args())
	}
	if err := apply(); err != nil {
		return cfg, o, err
	}
	if err := o.apply(&cfg); err != nil {
		return cfg, o, err
	}
	return cfg, o, nil
}

// rules returns the arena's rules with the flags' choices.
func (o options) rules() Config {
	c := DefaultConfig()
	if !o.lagComp {
		c.LagComp = 0
	}
	return c
}

// apply checks the arena's flags and folds -tick into cfg.
func (o options) apply(cfg *engine.Config) error {
	if o.tick != 0 {
		if o.tick < 1 || o.tick > 1000 {
			return fmt.Errorf("-tick %d: want 1 to 1000 ticks a second", o.tick)
		}
		cfg.Rooms.TickRate = o.tick
	}
	if o.bots < 0 || o.bots > 8 {
		return fmt.Errorf("-bots %d: want 0 to 8", o.bots)
	}
	if o.maxPlayers < 1 || o.maxPlayers > 64 {
		return fmt.Errorf("-max-players %d: want 1 to 64", o.maxPlayers)
	}
	return nil
}

// pageRules is what /arena/rules.json tells the page: the rules it
// predicts its own ship with and draws the map from, and how much of the
// arena it receives around its ship.
type pageRules struct {
	ClientConfig
	Sight Sight `json:"sight"`
}

// newServer returns an engine with the arena registered and its page, the
// SDK and the arena's rules served beside the engine's routes.
func newServer(cfg engine.Config, o options) (*engine.Engine, error) {
	e, err := engine.New(cfg)
	if err != nil {
		return nil, err
	}
	rules := o.rules()
	roomOpts := cfg.Rooms
	roomOpts.MaxPlayers = o.maxPlayers
	if err := e.Register("arena", func() rooms.Game { return NewGame(rules, o.bots) }, &roomOpts); err != nil {
		return nil, err
	}
	page, err := fs.Sub(web, "web")
	if err != nil {
		return nil, err
	}
	rulesJSON, err := json.Marshal(pageRules{rules.Client(), DefaultSight()})
	if err != nil {
		return nil, err
	}
	static := http.FileServerFS(page)
	e.Handle("GET /{$}", static)
	e.Handle("GET /arena.js", static)
	e.Handle("GET /arena/rules.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(rulesJSON)
	}))
	e.Handle("GET "+sdk.Prefix+"/", http.StripPrefix(sdk.Prefix, sdk.Handler()))
	return e, nil
}
