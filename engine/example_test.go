package engine_test

import (
	"context"
	"log"
	"os/signal"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
)

// Lobby is the smallest game: players join, and everyone sees the count.
type Lobby struct{ room *rooms.Room }

func (g *Lobby) Init(r *rooms.Room) error                        { g.room = r; return nil }
func (g *Lobby) Join(p *rooms.Player, opts []byte) error         { return nil }
func (g *Lobby) Leave(p *rooms.Player, reason rooms.LeaveReason) {}
func (g *Lobby) Input(p *rooms.Player, seq uint32, data []byte)  {}
func (g *Lobby) Tick(t tick.Tick)                                {}
func (g *Lobby) Snapshot(p *rooms.Player) any                    { return len(g.room.Players()) }

// A server: register games, serve until SIGINT or SIGTERM, shut down
// gracefully.
func Example() {
	e, err := engine.New(engine.Config{Addr: "127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	if err := e.Register("lobby", func() rooms.Game { return &Lobby{} }, &rooms.RoomOptions{MaxPlayers: 16}); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.Shutdown(sctx)
	}()
	if err := e.ListenAndServe(); err != nil {
		log.Print(err) // http.ErrServerClosed after Shutdown
	}
}
