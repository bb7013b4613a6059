package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
)

// Engine is a tickwire server: it hosts the rooms of the games registered
// with it and serves players over WebSocket.
type Engine struct {
	cfg   Config
	log   hclog.Logger
	sched *tick.Scheduler
	mux   *http.ServeMux
	mon   *monitor // monitoring routes, metrics, admin server (monitor.go)
	node  *node    // this node in the room directory (directory.go)

	ctx    context.Context // ends at Shutdown: stops every room
	cancel context.CancelFunc

	mu      sync.Mutex
	games   map[string]*game
	rooms   map[string]*rooms.Room
	srv     *http.Server
	closing bool
	wg      sync.WaitGroup // running rooms
}

// game is a registered game.
type game struct {
	name    string
	newGame func() rooms.Game
	opts    rooms.RoomOptions
}

// New returns an engine for cfg, or an error naming a bad setting.
func New(cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.New(&hclog.LoggerOptions{
			Name: "tickwire", Level: hclog.LevelFromString(cfg.LogLevel), JSONFormat: cfg.LogJSON, Output: os.Stderr,
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		cfg:    cfg,
		log:    log,
		sched:  tick.NewScheduler(nil),
		ctx:    ctx,
		cancel: cancel,
		games:  make(map[string]*game),
		rooms:  make(map[string]*rooms.Room),
	}
	if err := e.startNode(); err != nil {
		cancel()
		return nil, fmt.Errorf("engine: %w", err)
	}
	e.routes()
	e.mon = newMonitor(e)
	return e, nil
}

// Register makes a game available under name. newGame is called once per
// room. opts configures the game's rooms; nil means Config.Rooms.
func (e *Engine) Register(name string, newGame func() rooms.Game, opts *rooms.RoomOptions) error {
	if name == "" || newGame == nil {
		return errors.New("engine: Register needs a name and a game constructor")
	}
	o := e.cfg.Rooms
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = e.log
	}
	if o.Scheduler == nil && o.Clock == nil {
		o.Scheduler = e.sched
	}
	o.OnTick = e.mon.metrics.observeTicks(name, o.OnTick)
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.games[name]; dup {
		return fmt.Errorf("engine: game %q is already registered", name)
	}
	e.games[name] = &game{name: name, newGame: newGame, opts: o}
	return nil
}

// Logger returns the engine's logger.
func (e *Engine) Logger() hclog.Logger { return e.log }

// Handler returns the engine's HTTP routes, for mounting on a server of
// your own; Handle adds routes (a game's web client) beside them.
func (e *Engine) Handler() http.Handler { return e.mux }

// Handle registers an extra HTTP handler on the engine's routes.
func (e *Engine) Handle(pattern string, h http.Handler) { e.mux.Handle(pattern, h) }

// ListenAndServe listens on Config.Addr and serves until Shutdown, with
// TLS when a certificate and key are configured.
func (e *Engine) ListenAndServe() error {
	ln, err := net.Listen("tcp", e.cfg.Addr)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return e.Serve(ln)
}

// Serve serves on ln until Shutdown. It returns http.ErrServerClosed after
// Shutdown. With MonitorConfig.Addr set, it also serves the monitoring
// routes there (see ServeAdmin).
func (e *Engine) Serve(ln net.Listener) error {
	if err := e.listenAdmin(); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           e.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          e.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return http.ErrServerClosed
	}
	e.srv = srv
	e.mu.Unlock()
	e.node.serving(ln.Addr(), e.cfg.TLSCertFile != "")
	scheme := "http"
	if e.cfg.TLSCertFile != "" {
		scheme = "https"
	}
	e.log.Info("serving", "url", scheme+"://"+ln.Addr().String()+"/")
	if e.cfg.TLSCertFile != "" {
		return srv.ServeTLS(ln, e.cfg.TLSCertFile, e.cfg.TLSKeyFile)
	}
	return srv.Serve(ln)
}

// Shutdown stops accepting connections, stops every room (players get
// close 1001, "server shutting down") and waits for them until ctx ends.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.closing = true
	srv := e.srv
	all := make([]*rooms.Room, 0, len(e.rooms))
	for _, r := range e.rooms {
		all = append(all, r)
	}
	e.mu.Unlock()
	e.log.Info("shutting down", "rooms", len(all))
	e.node.leave(ctx) // first, so that matchmaking sends no one here
	defer e.node.close()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	err = errors.Join(err, e.shutdownAdmin(ctx))
	for _, r := range all {
		r.Shutdown("server shutting down")
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		e.cancel()
		return fmt.Errorf("engine: shutdown: %d rooms still running: %w", e.roomCount(), ctx.Err())
	}
	e.cancel()
	return err
}

func (e *Engine) roomCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.rooms)
}

// createRoom starts a room of g. The caller holds e.mu.
func (e *Engine) createRoom(g *game) (*rooms.Room, error) {
	r, err := rooms.NewRoom(g.name, e.node.track(g.newGame()), g.opts)
	if err != nil {
		return nil, err
	}
	e.rooms[r.ID()] = r
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := r.Run(e.ctx); err != nil {
			e.log.Error("room failed", "room", r.ID(), "game", g.name, "error", err)
		}
		e.mu.Lock()
		delete(e.rooms, r.ID())
		e.mu.Unlock()
	}()
	e.log.Debug("room created", "room", r.ID(), "game", g.name)
	return r, nil
}
