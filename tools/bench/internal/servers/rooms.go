package servers

import (
	"context"
	"net/http"
	"time"

	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tools/bench/internal/wire"
)

// roomsLib is the room built with tickwire's rooms package: one Room whose
// Game stamps the send time into its payload every tick and returns the
// same []byte as every player's snapshot, so rooms encodes it once per tick
// and sends each player WritePreparedPrefixed(prefix, pm). Each player's
// outbox keeps only the latest unsent batch, the same policy as the
// mailbox. Echo is netws's.
type roomsLib struct {
	rm   *rooms.Room
	game *payloadGame
	opts netws.UpgradeOptions
	c    *counters
}

// payloadGame sends every player the same payload.
type payloadGame struct {
	payload []byte
	c       *counters
}

func (g *payloadGame) Init(r *rooms.Room) error                        { return nil }
func (g *payloadGame) Join(p *rooms.Player, opts []byte) error         { return nil }
func (g *payloadGame) Leave(p *rooms.Player, reason rooms.LeaveReason) {}
func (g *payloadGame) Input(p *rooms.Player, seq uint32, data []byte)  {}

// Tick stamps the payload. The room encodes the snapshot within the same
// tick, on the same goroutine, so changing it in place is safe.
func (g *payloadGame) Tick(t tick.Tick) {
	wire.PutStamp(g.payload, time.Now())
	g.c.ticks.Add(1)
}

func (g *payloadGame) Snapshot(p *rooms.Player) any {
	g.c.offered.Add(1)
	return g.payload
}

func newRooms(cfg Config, c *counters) (*roomsLib, error) {
	g := &payloadGame{payload: make([]byte, cfg.Size), c: c}
	r, err := rooms.NewRoom("bench", g, rooms.RoomOptions{
		TickRate:       cfg.Rate,
		EmptyTimeout:   -1,
		ReconnectGrace: -1,
	})
	if err != nil {
		return nil, err
	}
	l := &roomsLib{rm: r, game: g, c: c}
	l.opts = netws.UpgradeOptions{InsecureSkipOriginCheck: true}
	l.opts.ReadLimit = readLimit
	return l, nil
}

func (l *roomsLib) run(ctx context.Context) { l.rm.Run(ctx) }

// dropped sums the batches superseded in players' outboxes, as of the
// room's last roster (refreshed once a second).
func (l *roomsLib) dropped() uint64 {
	var n uint64
	for _, p := range l.rm.Roster() {
		n += p.Dropped
	}
	return n
}

func (l *roomsLib) echo(w http.ResponseWriter, r *http.Request) {
	c, err := netws.Upgrade(w, r, &l.opts)
	if err != nil {
		return
	}
	go func() {
		defer l.c.track()()
		defer c.CloseNow()
		serveNetwsEcho(c)
	}()
}

func (l *roomsLib) room(w http.ResponseWriter, r *http.Request) {
	c, err := netws.Upgrade(w, r, &l.opts)
	if err != nil {
		return
	}
	go func() {
		defer l.c.track()()
		defer c.CloseNow()
		l.rm.Serve(c, rooms.JoinRequest{Name: "bench"})
	}()
}
