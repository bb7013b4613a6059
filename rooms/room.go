package rooms

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// Defaults used when the corresponding RoomOptions field is zero.
const (
	DefaultTickRate       = 30
	DefaultReconnectGrace = 10 * time.Second
	DefaultEmptyTimeout   = 10 * time.Second
	DefaultSlowTimeout    = 5 * time.Second
	DefaultMaxInputSize   = 4096
	DefaultInputRate      = 120
)

// RoomOptions configures a room. The zero value is ready to use.
type RoomOptions struct {
	// TickRate is the simulation rate in ticks per second (1-1000).
	// 0 means DefaultTickRate (30).
	TickRate int

	// SnapshotRate is how many batches a second players receive; it must
	// divide TickRate, so that a batch goes out every TickRate/SnapshotRate
	// ticks (at 60 Hz, 20 means every third tick). Events broadcast in
	// between wait for the next batch. 0 means TickRate: every tick.
	SnapshotRate int

	// SnapshotHistory is how many of the table snapshots sent to each
	// player are kept as bases for deltas (see package rooms/snap): a
	// player whose acknowledgement is older gets a full snapshot. 0 means
	// one second's worth, SnapshotRate, and at least 8.
	SnapshotHistory int

	// MaxPlayers is the number of seats; 0 means no limit.
	MaxPlayers int

	// FrameSize is the largest frame payload a batch is split into, so
	// pings and pongs are never stuck behind a large snapshot.
	// 0 means netws.DefaultMaxFrameSize (16 KiB).
	FrameSize int

	// ReconnectGrace is how long a disconnected player keeps its seat,
	// waiting for a reconnect with its token. 0 means
	// DefaultReconnectGrace (10 s); negative means no grace.
	ReconnectGrace time.Duration

	// EmptyTimeout disposes of the room once it has had no players for
	// this long, counted from its start and from its last player's leave.
	// 0 means DefaultEmptyTimeout (10 s); negative means never.
	EmptyTimeout time.Duration

	// SlowTimeout drops a player whose connection has stayed behind (its
	// batches superseded before they could be sent) for this long.
	// 0 means DefaultSlowTimeout (5 s).
	SlowTimeout time.Duration

	// MaxInputSize is the largest input payload accepted, in bytes.
	// 0 means DefaultMaxInputSize (4096).
	MaxInputSize int

	// InputRate is how many inputs a second a player may send (bursts of
	// up to one second's worth). 0 means DefaultInputRate (120).
	InputRate int

	// Clock and Scheduler drive the tick loop; nil means the real clock
	// and a timer of the room's own. See package tick.
	Clock     tick.Clock
	Scheduler *tick.Scheduler

	// Logger receives the room's logs; nil means no logging.
	Logger hclog.Logger

	// OnTick, if set, is called on the room's goroutine at the end of
	// every tick with what the tick measured, for metrics. It must return
	// quickly and must not call the room's methods.
	OnTick func(TickReport)
}

// TickReport is what one tick of a room measured; see RoomOptions.OnTick.
type TickReport struct {
	Tick     tick.Tick     // the tick: its number, when it was due and started, its lateness
	Duration time.Duration // how long the room's work for the tick took
	Dropped  uint64        // messages dropped from send queues since the previous report
}

func (o RoomOptions) withDefaults() RoomOptions {
	if o.TickRate == 0 {
		o.TickRate = DefaultTickRate
	}
	if o.SnapshotRate == 0 {
		o.SnapshotRate = o.TickRate
	}
	if o.SnapshotHistory <= 0 {
		o.SnapshotHistory = max(o.SnapshotRate, 8)
	}
	if o.FrameSize <= 0 {
		o.FrameSize = netws.DefaultMaxFrameSize
	}
	if o.ReconnectGrace == 0 {
		o.ReconnectGrace = DefaultReconnectGrace
	}
	if o.EmptyTimeout == 0 {
		o.EmptyTimeout = DefaultEmptyTimeout
	}
	if o.SlowTimeout <= 0 {
		o.SlowTimeout = DefaultSlowTimeout
	}
	if o.MaxInputSize <= 0 {
		o.MaxInputSize = DefaultMaxInputSize
	}
	if o.InputRate <= 0 {
		o.InputRate = DefaultInputRate
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return o
}

// Room runs one game instance on its own goroutine at a fixed tick rate.
// Its exported methods fall in two groups: those a Game calls from its
// methods (ID, Players, Broadcast, Send, Kick, Close, Tick), which must not
// be called from elsewhere, and those safe from any goroutine (Run, Serve,
// Shutdown, Info, Done).
type Room struct {
	id   string
	name string // the game's registered name
	game Game
	opts RoomOptions
	log  hclog.Logger
	loop *tick.Loop

	mu      sync.Mutex // guards inbox, stopped
	inbox   []roomEvent
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
	count   atomic.Int32 // seated players, for Info
	roster  atomic.Pointer[[]rosterEntry]
	dropped atomic.Uint64 // messages dropped from the players' send queues

	// Owned by the room goroutine.
	players       []*Player
	events        []any
	tickN         uint64
	emptySince    time.Time
	closeCode     netws.StatusCode
	closeMsg      string
	crashed       bool
	encoded       map[any]*netws.PreparedMessage
	rosterDirty   bool   // players left or lost their connection since the roster was published
	reportedDrops uint64 // dropped as of the last TickReport

	snaps snapshotter // table snapshots: per-tick caches, stats
}

// NewRoom returns a room running game under the registered name. Call Run
// to start it.
func NewRoom(name string, game Game, opts RoomOptions) (*Room, error) {
	opts = opts.withDefaults()
	if opts.TickRate < 1 || opts.TickRate > tick.MaxRate {
		return nil, fmt.Errorf("rooms: TickRate %d out of range: want 1 to %d", opts.TickRate, tick.MaxRate)
	}
	if opts.SnapshotRate < 1 || opts.SnapshotRate > opts.TickRate || opts.TickRate%opts.SnapshotRate != 0 {
		return nil, fmt.Errorf("rooms: SnapshotRate %d does not divide TickRate %d: want a divisor of the tick rate (0 means every tick), so batches fall on ticks", opts.SnapshotRate, opts.TickRate)
	}
	if opts.MaxPlayers < 0 {
		return nil, fmt.Errorf("rooms: MaxPlayers %d is negative: want 0 (no limit) or more", opts.MaxPlayers)
	}
	loop, err := tick.NewLoop(tick.Options{Rate: opts.TickRate, Clock: opts.Clock, Scheduler: opts.Scheduler})
	if err != nil {
		return nil, err
	}
	id := uuid.NewString()
	return &Room{
		id:      id,
		name:    name,
		game:    game,
		opts:    opts,
		log:     opts.Logger.With("room", id, "game", name),
		loop:    loop,
		done:    make(chan struct{}),
		encoded: make(map[any]*netws.PreparedMessage),
	}, nil
}

// ID returns the room's id.
func (r *Room) ID() string { return r.id }

// GameName returns the name the room's game was registered under.
func (r *Room) GameName() string { return r.name }

// TickRate returns the room's ticks per second.
func (r *Room) TickRate() int { return r.opts.TickRate }

// Done is closed when the room has stopped.
func (r *Room) Done() <-chan struct{} { return r.done }

// Run initializes the game and runs the room until it closes: by
// Shutdown, by the game's Close, when it has been empty for EmptyTimeout,
// when ctx ends, or when the game panics. It returns the reason for an
// abnormal end (a game error or panic), or nil.
func (r *Room) Run(ctx context.Context) (err error) {
	defer close(r.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil
	}
	r.cancel = cancel
	r.mu.Unlock()
	r.closeCode, r.closeMsg = netws.StatusGoingAway, "room closed"
	if err := r.safely(func() error { return r.game.Init(r) }); err != nil {
		r.finish()
		return fmt.Errorf("rooms: game %s: Init: %w", r.name, err)
	}
	r.log.Debug("room started", "tick_rate", r.opts.TickRate)
	r.emptySince = r.now()
	var crash error
	r.loop.Run(ctx, func(t tick.Tick) {
		if err := r.safely(func() error { r.tick(t); r.report(t); return nil }); err != nil {
			crash = err
			r.crashed = true
			r.closeCode, r.closeMsg = netws.StatusInternalError, "room closed: the game failed"
			cancel()
		}
	})
	r.finish()
	return crash
}

// safely runs fn, turning a panic into an error that carries the stack.
func (r *Room) safely(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			stack := debug.Stack()
			r.log.Error("game panicked; closing the room", "panic", fmt.Sprint(v), "stack", string(stack))
			err = fmt.Errorf("rooms: game %s panicked: %v", r.name, v)
		}
	}()
	return fn()
}

func (r *Room) now() time.Time {
	if r.opts.Clock != nil {
		return r.opts.Clock.Now()
	}
	return time.Now()
}

// Shutdown stops the room: its players get close 1001 with reason.
// It does not wait; use Done.
func (r *Room) Shutdown(reason string) {
	r.enqueue(roomEvent{kind: evShutdown, text: reason})
	r.mu.Lock()
	if r.cancel == nil {
		// Not running (yet): make Run return at once.
		r.stopped = true
	}
	r.mu.Unlock()
}

// Close ends the room after the current tick, telling players reason.
// Call it from the game's methods.
func (r *Room) Close(reason string) {
	r.closeCode, r.closeMsg = netws.StatusNormalClosure, reason
	r.cancel()
}

// finish tells every player the room is over and releases them.
func (r *Room) finish() {
	r.mu.Lock()
	r.stopped = true
	pending := r.inbox
	r.inbox = nil
	r.mu.Unlock()
	for _, ev := range pending {
		if ev.kind == evJoin {
			ev.reply <- joinResult{err: Errorf(ErrRoomClosed, "%s", r.closeMsg)}
		}
	}
	for _, p := range r.players {
		if !r.crashed {
			r.safely(func() error { r.game.Leave(p, LeaveRoomClosed); return nil })
		}
		r.dropConn(p, r.closeCode, r.closeMsg)
	}
	r.players = nil
	r.count.Store(0)
	r.log.Debug("room stopped", "reason", r.closeMsg)
}

// Tick returns the number of the tick being run.
func (r *Room) Tick() uint64 { return r.tickN }

// Players returns the seated players, connected or in reconnect grace.
// The slice is the room's own: do not modify it.
func (r *Room) Players() []*Player { return r.players }

// Broadcast adds an event to this tick's batch, for every player.
func (r *Room) Broadcast(event any) { r.events = append(r.events, event) }

// Send sends a message of the given type to one player, outside the batch.
func (r *Room) Send(p *Player, typ string, data any) error {
	b, err := encodeServerMsg(ServerMessage, typ, data)
	if err != nil {
		return fmt.Errorf("rooms: encoding message %q: %w", typ, err)
	}
	if p.connected {
		p.out.pushMsg(b)
	}
	return nil
}

// Kick removes a player from the room; the client is told reason.
func (r *Room) Kick(p *Player, reason string) {
	r.removePlayer(p, LeaveKicked, netws.StatusPolicyViolation, reason)
}

// tick runs one tick of the room.
func (r *Room) tick(t tick.Tick) {
	r.tickN = t.N
	r.drainInbox(t.Start)
	r.checkPlayers(t.Start)
	r.game.Tick(t)
	r.broadcast(t)
	if r.rosterDirty || t.N%uint64(r.opts.TickRate) == 0 {
		r.publishRoster(t.Start)
	}
	if len(r.players) == 0 && r.opts.EmptyTimeout >= 0 && t.Start.Sub(r.emptySince) >= r.opts.EmptyTimeout {
		r.closeCode, r.closeMsg = netws.StatusNormalClosure, "room empty"
		r.cancel()
	}
}

// report calls the OnTick hook, if any, with what tick t measured.
func (r *Room) report(t tick.Tick) {
	if r.opts.OnTick == nil {
		return
	}
	d := r.dropped.Load()
	r.opts.OnTick(TickReport{Tick: t, Duration: r.now().Sub(t.Start), Dropped: d - r.reportedDrops})
	r.reportedDrops = d
}

// broadcast sends every connected player its batch, on snapshot ticks:
// each distinct snapshot is encoded and framed once, and players share the
// frames. Table snapshots (package rooms/snap) go as deltas against the
// state each player acknowledged, each distinct delta encoded once.
func (r *Room) broadcast(t tick.Tick) {
	if !r.snaps.due(t.N, uint64(r.opts.TickRate/r.opts.SnapshotRate)) {
		return // events wait for the next batch
	}
	clear(r.encoded)
	r.snaps.begin()
	timeMs := t.Start.UnixMilli()
	var events []byte
	tail := func() []byte {
		if events == nil {
			events = mustEncode(r.events)
		}
		return events
	}
	for _, p := range r.players {
		if !p.connected {
			continue
		}
		snap := r.game.Snapshot(p)
		if st := r.snaps.tableState(snap, t.N); st != nil {
			r.sendTable(p, st, t, tail)
			continue
		}
		key, shared := identity(snap)
		pm := r.encoded[key]
		if pm == nil || !shared {
			pm = r.encodeBatch(snap, tail())
			r.snaps.count++
			if shared {
				r.encoded[key] = pm
			}
		}
		prefix := appendBatchPrefix(make([]byte, 0, 24), ServerBatch, t.N, timeMs, p.lastSeq)
		p.out.pushBatch(prefix, pm, t.Start)
		r.snaps.queued(len(prefix) + len(pm.Payload()))
	}
	r.snaps.end()
	r.events = r.events[:0]
}

// encodeBatch encodes the shared tail of a batch: snapshot and events.
func (r *Room) encodeBatch(snap any, events []byte) *netws.PreparedMessage {
	var buf bytes.Buffer
	if err := msgpack.NewEncoder(&buf).Encode(snap); err != nil {
		panic(fmt.Sprintf("Snapshot returned a value msgpack cannot encode: %v", err))
	}
	buf.Write(events)
	pm, err := netws.NewPreparedMessage(netws.Binary, buf.Bytes(), r.opts.FrameSize)
	if err != nil {
		panic(err) // Binary is always a valid type
	}
	return pm
}

func mustEncode(v any) []byte {
	b, err := msgpack.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("an event msgpack cannot encode: %v", err))
	}
	return b
}

// identityKey identifies a reference value: the same pointer (map, slice
// of the same length) means the same snapshot.
type identityKey struct {
	t   reflect.Type
	ptr uintptr
	n   int
}

// identity returns a key for reference values, and false for values that
// cannot be recognized as shared.
func identity(v any) (any, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map:
		return identityKey{rv.Type(), rv.Pointer(), 0}, true
	case reflect.Slice:
		return identityKey{rv.Type(), rv.Pointer(), rv.Len()}, true
	}
	return nil, false
}

// checkPlayers ends reconnect grace periods that ran out and drops players
// that have stayed behind too long.
func (r *Room) checkPlayers(now time.Time) {
	for i := 0; i < len(r.players); i++ {
		p := r.players[i]
		if !p.connected {
			if now.Sub(p.disconnects) >= r.opts.ReconnectGrace {
				if r.removePlayer(p, LeaveDisconnected, 0, "") {
					i--
				}
			}
			continue
		}
		behind, overflow := p.out.behind(now)
		if behind > r.opts.SlowTimeout || overflow {
			reason := fmt.Sprintf("too slow: behind for more than %v", r.opts.SlowTimeout)
			r.log.Info("dropping slow player", "player", p.id, "behind", behind)
			r.disconnect(p, netws.StatusPolicyViolation, reason, now)
			if r.opts.ReconnectGrace < 0 && r.removePlayer(p, LeaveTooSlow, 0, "") {
				i--
			}
		}
	}
}

// disconnect ends p's connection but keeps its seat for the grace period.
func (r *Room) disconnect(p *Player, code netws.StatusCode, reason string, now time.Time) {
	r.dropConn(p, code, reason)
	p.disconnects = now
	r.rosterDirty = true
}

// dropConn closes p's connection, if it has one, with a close frame
// carrying code and reason; a connection too stuck to take the frame is
// closed outright shortly after.
func (r *Room) dropConn(p *Player, code netws.StatusCode, reason string) {
	if !p.connected {
		return
	}
	p.connected = false
	p.out.close()
	c, out := p.conn, p.out
	go func() {
		t := time.AfterFunc(2*time.Second, func() { c.CloseNow() })
		defer t.Stop()
		<-out.done // queued messages (an error saying why) go first
		if code != 0 {
			c.Close(code, reason)
		}
		c.CloseNow()
	}()
}

// removePlayer frees p's seat and tells the game. It reports whether p was
// seated.
func (r *Room) removePlayer(p *Player, why LeaveReason, code netws.StatusCode, reason string) bool {
	i := -1
	for j, q := range r.players {
		if q == p {
			i = j
		}
	}
	if i < 0 {
		return false
	}
	r.players = append(r.players[:i], r.players[i+1:]...)
	r.count.Store(int32(len(r.players)))
	if code != 0 {
		r.dropConn(p, code, reason)
	} else {
		r.dropConn(p, netws.StatusNormalClosure, why.String())
	}
	r.game.Leave(p, why)
	r.rosterDirty = true
	r.log.Debug("player left", "player", p.id, "reason", why)
	if len(r.players) == 0 {
		r.emptySince = r.now()
	}
	return true
}

// RoomInfo describes a room, for listings and monitoring.
type RoomInfo struct {
	ID         string     `json:"id"`
	Game       string     `json:"game"`
	Players    int        `json:"players"`
	MaxPlayers int        `json:"maxPlayers"` // 0: no limit
	TickRate   int        `json:"tickRate"`
	Ticks      tick.Stats `json:"ticks"`
	Dropped    uint64     `json:"dropped"` // messages dropped from the players' send queues, over the room's life

	Snapshots SnapshotStats `json:"snapshots"` // batch encodings, deltas and bytes
}

// PlayerInfo describes a seated player, for listings and monitoring.
// Traffic counts cover all the player's connections; bytes are message
// payload bytes, without WebSocket frame headers.
type PlayerInfo struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Connected   bool           `json:"connected"`
	LastInput   uint32         `json:"lastInput"`
	Joined      time.Time      `json:"joined"`
	ConnectedAt time.Time      `json:"connectedAt"` // when the current connection was attached; zero while disconnected
	RTT         netws.RTTStats `json:"rtt"`         // zero while disconnected
	BytesIn     uint64         `json:"bytesIn"`     // received from the client
	MessagesIn  uint64         `json:"messagesIn"`
	BytesOut    uint64         `json:"bytesOut"` // sent to the client
	MessagesOut uint64         `json:"messagesOut"`
	Dropped     uint64         `json:"dropped"` // batches superseded before they were sent, messages refused by a full send queue
}

// rosterEntry is a published player: what only the room goroutine may
// read, copied, and what anyone may read, referenced.
type rosterEntry struct {
	info    PlayerInfo
	conn    Conn // nil while disconnected
	traffic *traffic
}

// publishRoster refreshes the player list Roster returns to other
// goroutines; the room does it once a second, when it seats a player
// (before the welcome is queued), and at the end of a tick in which
// players left or lost their connection.
func (r *Room) publishRoster(now time.Time) {
	r.rosterDirty = false
	list := make([]rosterEntry, 0, len(r.players))
	for _, p := range r.players {
		e := rosterEntry{
			info:    PlayerInfo{ID: p.id, Name: p.name, Connected: p.connected, LastInput: p.lastSeq, Joined: p.joined},
			traffic: &p.traffic,
		}
		if p.connected {
			e.conn = p.conn
			e.info.ConnectedAt = p.connectedAt
		}
		list = append(list, e)
	}
	r.roster.Store(&list)
}

// Roster returns the room's players. Who is seated and connected, and
// their last input, are as of at most a second ago, but a player is
// listed before its welcome is sent; RTT and traffic figures are read at
// the call. It is safe to call from any goroutine.
func (r *Room) Roster() []PlayerInfo {
	l := r.roster.Load()
	if l == nil {
		return nil
	}
	out := make([]PlayerInfo, len(*l))
	for i, e := range *l {
		pi := e.info
		if e.conn != nil {
			pi.RTT = e.conn.RTT()
		}
		t := e.traffic
		pi.BytesIn, pi.MessagesIn = t.bytesIn.Load(), t.messagesIn.Load()
		pi.BytesOut, pi.MessagesOut = t.bytesOut.Load(), t.messagesOut.Load()
		pi.Dropped = t.dropped.Load()
		out[i] = pi
	}
	return out
}

// Info describes the room. It is safe to call from any goroutine.
func (r *Room) Info() RoomInfo {
	return RoomInfo{
		ID: r.id, Game: r.name, Players: int(r.count.Load()), MaxPlayers: r.opts.MaxPlayers,
		TickRate: r.opts.TickRate, Ticks: r.loop.Stats(), Dropped: r.dropped.Load(),
		Snapshots: r.snaps.stats(r.opts.SnapshotRate),
	}
}
