package vs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tools/bench/internal/crowd"
)

// ServerOptions configures Serve.
type ServerOptions struct {
	// Addr is the listen address; "" means 127.0.0.1:0 (a free port).
	Addr string

	// RoomSize is how many players a room seats; 0 means
	// DefaultRoomSize.
	RoomSize int

	// Crowd configures the game: entities, and the view side for
	// interest management. Its Stats are Serve's own.
	Crowd crowd.Options

	// Redis is the URL of the Redis server holding the room directory
	// (engine.Config.Redis), such as unix:///tmp/x/redis.sock; "" means
	// the engine's embedded directory.
	Redis string

	// MaxLifetime stops the server after this long, however it is going;
	// 0 means 20 minutes.
	MaxLifetime time.Duration

	// In carries the commands StatsCmd, ProfileCmd and StopProfileCmd,
	// answered on Out. The server stops when In ends. nil means no
	// commands, and no end.
	In io.Reader

	// Out receives the ListeningPrefix line and the stats lines.
	Out io.Writer

	// Log receives the engine's warnings and errors; nil means none.
	Log io.Writer
}

// Serve runs a tickwire engine serving the crowd game as "crowd", at
// TickRate with SnapshotRate batches a second, and the engine's defaults
// otherwise (monitoring routes, an RTT ping a second; the room directory
// in o.Redis). It prints ListeningPrefix and the address once it accepts
// connections, and returns when ctx ends, In ends or MaxLifetime passes.
func Serve(ctx context.Context, o ServerOptions) error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.RoomSize == 0 {
		o.RoomSize = DefaultRoomSize
	}
	if o.RoomSize < 1 || o.RoomSize > MaxClients {
		return fmt.Errorf("server: room size %d: want 1 to %d", o.RoomSize, MaxClients)
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = 20 * time.Minute
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	logOut := o.Log
	if logOut == nil {
		logOut = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, o.MaxLifetime)
	defer cancel()

	stats := new(crowd.Stats)
	co := o.Crowd
	co.Stats = stats
	logger := hclog.New(&hclog.LoggerOptions{Name: "tickwire", Level: hclog.Warn, Output: logOut})
	e, err := engine.New(engine.Config{Addr: o.Addr, Logger: logger, Redis: o.Redis})
	if err != nil {
		return err
	}
	ro := rooms.RoomOptions{TickRate: TickRate, SnapshotRate: SnapshotRate, MaxPlayers: o.RoomSize}
	if err := e.Register("crowd", func() rooms.Game { return crowd.New(co) }, &ro); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("server: listening on %s: %w", o.Addr, err)
	}
	served := make(chan error, 1)
	go func() { served <- e.Serve(ln) }()
	fmt.Fprintf(o.Out, "%s%s\n", ListeningPrefix, ln.Addr())

	if o.In != nil {
		go func() {
			defer cancel() // In ended: the driver is gone
			serveCommands(o.In, o.Out, stats)
		}()
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	err = e.Shutdown(sctx)
	if serr := <-served; err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	return err
}

// serveCommands answers the commands read from in until it ends.
func serveCommands(in io.Reader, out io.Writer, stats *crowd.Stats) {
	var prof *os.File
	defer func() {
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
	}()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == StatsCmd:
			b, _ := json.Marshal(ServerStats{
				Ticks: stats.Ticks.Load(), Patches: stats.Snapshots.Load(),
				Inputs: stats.Inputs.Load(), Clients: stats.Players.Load(),
			})
			fmt.Fprintf(out, "%s%s\n", StatsPrefix, b)
		case strings.HasPrefix(line, ProfileCmd):
			if prof != nil {
				fmt.Fprintf(out, "%sa profile is already being taken\n", ProfileErrorPrefix)
				continue
			}
			f, err := os.Create(strings.TrimSpace(strings.TrimPrefix(line, ProfileCmd)))
			if err == nil {
				if err = pprof.StartCPUProfile(f); err != nil {
					f.Close()
				}
			}
			if err != nil {
				fmt.Fprintf(out, "%s%v\n", ProfileErrorPrefix, err)
				continue
			}
			prof = f
			fmt.Fprintln(out, Profiling)
		case line == StopProfileCmd:
			if prof != nil {
				pprof.StopCPUProfile()
				prof.Close()
				prof = nil
			}
			fmt.Fprintln(out, Profiled)
		}
	}
}
