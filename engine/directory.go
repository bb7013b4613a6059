package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/engine/internal/directory"
	"github.com/tickwire/tickwire/rooms"
)

// DirectoryOptions configures this node's place in the room directory,
// the Redis that all nodes of a cluster share (Config.Redis). The zero
// value is ready to use.
type DirectoryOptions struct {
	// NodeID names this node in the directory and in logs. "" means the
	// host name and a random suffix.
	NodeID string

	// KeyPrefix starts every Redis key. Nodes with the same Redis and
	// prefix form one cluster. "" means "tickwire:".
	KeyPrefix string

	// Heartbeat is how often the node refreshes its entries. 0 means 1 s.
	Heartbeat time.Duration

	// Expiry is how long the node's entries outlive its last heartbeat:
	// a node that stops (killed, frozen, cut off) disappears from the
	// directory, with its rooms, within Expiry. 0 means 3 s; it must be
	// longer than Heartbeat.
	Expiry time.Duration

	// CreateTimeout bounds the wait for another node to create a room a
	// matchmaker asked it for, before trying elsewhere. 0 means 2 s.
	CreateTimeout time.Duration
}

func (o DirectoryOptions) withDefaults() DirectoryOptions {
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Second
	}
	if o.Expiry <= 0 {
		o.Expiry = directory.DefaultExpiry
	}
	if o.CreateTimeout <= 0 {
		o.CreateTimeout = 2 * time.Second
	}
	return o
}

// validate reports a directory setting out of range, naming it.
func (o DirectoryOptions) validate(redisURL string) error {
	if err := directory.CheckURL(redisURL); err != nil {
		return err
	}
	d := o.withDefaults()
	if d.Expiry <= d.Heartbeat {
		return fmt.Errorf("directory expiry %v must be longer than the heartbeat %v (3 heartbeats is a good expiry)", d.Expiry, d.Heartbeat)
	}
	return nil
}

// node is the engine's membership in the room directory: its heartbeats,
// the rooms it hosts and the directory seats those rooms hold.
type node struct {
	e    *Engine
	dir  *directory.Directory
	id   string
	opts DirectoryOptions
	log  hclog.Logger

	ctx    context.Context // ends when the node leaves the directory
	cancel context.CancelFunc
	loops  sync.WaitGroup
	wake   chan struct{} // asks for a heartbeat now
	flush  chan struct{} // asks for freed seats to be released now
	down   atomic.Bool   // the last heartbeat failed

	createMu  sync.Mutex // serializes local join-or-create of joins by game
	recoverMu sync.Mutex // one heartbeat at a time from ready
	beatMu    sync.Mutex // one beat at a time: an older snapshot never lands after a newer one

	mu       sync.Mutex
	url      string // this node's public WebSocket URL; "" until known
	hosted   map[string]*hostedRoom
	released map[string][]string // room -> seats freed here, not yet in the directory
	left     bool                // deregistered: the node is shutting down
}

// hostedRoom is a room of this node, as the directory must know it.
type hostedRoom struct {
	room     *rooms.Room
	game     string
	capacity int
	metadata map[string]string
	private  bool
	locked   bool
	// held are the directory seats of the room's seated and joining
	// players, one each; arriving are seats being taken.
	held     []string
	arriving map[string]bool
	// placement is PickNode's token for this room, until a heartbeat has
	// listed the room (and so retired the placement); "" for a room the
	// node created by itself.
	placement string
}

// startNode opens the directory and starts the heartbeats.
func (e *Engine) startNode() error {
	o := e.cfg.Directory.withDefaults()
	if o.NodeID == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "node"
		}
		var b [4]byte
		rand.Read(b[:])
		o.NodeID = host + "-" + hex.EncodeToString(b[:])
	}
	dir, err := directory.Open(directory.Options{URL: e.cfg.Redis, Prefix: o.KeyPrefix, Expiry: o.Expiry})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{
		e: e, dir: dir, id: o.NodeID, opts: o, log: e.log.Named("directory"),
		ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), flush: make(chan struct{}, 1),
		url: e.cfg.PublicURL, hosted: make(map[string]*hostedRoom), released: make(map[string][]string),
	}
	e.node = n
	n.loops.Add(1)
	go n.heartbeats()
	if e.cfg.Redis != "" {
		// Only nodes of a cluster are asked to create rooms by others.
		n.loops.Add(1)
		go func() {
			defer n.loops.Done()
			dir.ServeRequests(ctx, n.id, o.Heartbeat, n.serveCreate, func(err error) {
				n.log.Debug("receiving room creation requests", "error", err)
			})
		}()
		n.log.Info("joining the room directory", "node", n.id, "redis", dir.Addr(), "heartbeat", o.Heartbeat, "expiry", o.Expiry)
	}
	return nil
}

// serving tells the node the address it serves on, for its URL.
func (n *node) serving(addr net.Addr, tls bool) {
	n.mu.Lock()
	if n.url == "" {
		scheme := "ws"
		if tls {
			scheme = "wss"
		}
		n.url = scheme + "://" + addr.String() + "/ws"
		if ta, ok := addr.(*net.TCPAddr); ok && ta.IP.IsUnspecified() && n.e.cfg.Redis != "" {
			n.log.Warn("listening on every interface without a public URL: other nodes will send players to "+n.url+"; set -public-url", "node", n.id)
		}
	}
	n.mu.Unlock()
	n.poke(n.wake)
}

func (n *node) publicURL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.url
}

func (n *node) poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// heartbeats announces the node and its rooms every Heartbeat, releases
// freed seats, and backs off while the directory is unreachable.
func (n *node) heartbeats() {
	defer n.loops.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	failures := 0
	var lastLog time.Time
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.flush:
			if failures == 0 {
				ctx, cancel := context.WithTimeout(n.ctx, n.opts.Heartbeat)
				n.flushReleased(ctx)
				cancel()
			}
			continue
		case <-n.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-timer.C:
		}
		ctx, cancel := context.WithTimeout(n.ctx, max(n.opts.Heartbeat, time.Second))
		err := n.beat(ctx)
		cancel()
		delay := n.opts.Heartbeat
		switch {
		case err != nil && n.ctx.Err() != nil:
			return
		case err != nil:
			failures++
			n.down.Store(true)
			delay = min(n.opts.Heartbeat<<min(failures-1, 3), 8*n.opts.Heartbeat)
			if failures == 1 || time.Since(lastLog) >= 30*time.Second {
				lastLog = time.Now()
				n.log.Error("room directory unavailable: matchmaking answers 503 and new players cannot take seats until it is back; running rooms and their players are not affected",
					"node", n.id, "redis", n.dir.Addr(), "error", err, "failures", failures, "retry_in", delay)
			}
		default:
			failures = 0
			n.up()
		}
		timer.Reset(delay)
	}
}

// beat announces the node and its rooms once, and releases freed seats.
func (n *node) beat(ctx context.Context) error {
	n.beatMu.Lock()
	defer n.beatMu.Unlock()
	n.e.mu.Lock()
	games := make([]string, 0, len(n.e.games))
	for name := range n.e.games {
		games = append(games, name)
	}
	n.e.mu.Unlock()
	sort.Strings(games)
	n.mu.Lock()
	if n.left {
		n.mu.Unlock()
		return nil
	}
	list := make([]directory.HostedRoom, 0, len(n.hosted))
	var placed []*hostedRoom
	for _, hr := range n.hosted {
		r := directory.HostedRoom{Room: n.record(hr), Held: append([]string(nil), hr.held...), Placement: hr.placement}
		for tok := range hr.arriving {
			r.Held = append(r.Held, tok)
		}
		if hr.placement != "" {
			placed = append(placed, hr)
		}
		list = append(list, r)
	}
	me := directory.Node{ID: n.id, URL: n.url, Games: games, Load: len(list)}
	n.mu.Unlock()
	if err := n.dir.Announce(ctx, me, list); err != nil {
		return err
	}
	n.mu.Lock()
	for _, hr := range placed {
		hr.placement = "" // retired: the node's load counts the room now
	}
	n.mu.Unlock()
	return n.flushReleased(ctx)
}

// ready makes sure, before matchmaking, that the directory has this
// node's rooms: after an outage (Redis restarted empty, say) the node
// re-announces them at once rather than at its next heartbeat, so that
// matchmaking fills them before it opens new ones.
func (n *node) ready(ctx context.Context) error {
	if !n.down.Load() {
		return nil
	}
	n.recoverMu.Lock()
	defer n.recoverMu.Unlock()
	if !n.down.Load() {
		return nil
	}
	if err := n.beat(ctx); err != nil {
		return err
	}
	n.up()
	n.poke(n.wake) // and reset the heartbeat's backoff
	return nil
}

// up records a successful heartbeat, saying so after an outage.
func (n *node) up() {
	if n.down.CompareAndSwap(true, false) {
		n.log.Info("room directory reachable again", "node", n.id, "redis", n.dir.Addr())
	}
}

// record describes hr for the directory. The caller holds n.mu.
func (n *node) record(hr *hostedRoom) directory.Room {
	return directory.Room{
		ID: hr.room.ID(), Game: hr.game, Node: n.id, Capacity: hr.capacity, Players: hr.room.Info().Players,
		Private: hr.private, Locked: hr.locked, Metadata: hr.metadata,
	}
}

// flushReleased tells the directory about the seats freed here.
func (n *node) flushReleased(ctx context.Context) error {
	n.mu.Lock()
	pending := n.released
	n.released = make(map[string][]string)
	n.mu.Unlock()
	var failed error
	for room, tokens := range pending {
		if failed == nil {
			failed = n.dir.Release(ctx, room, tokens...)
			if failed == nil {
				continue
			}
		}
		n.mu.Lock() // keep them for the next heartbeat
		if _, ok := n.hosted[room]; ok {
			n.released[room] = append(n.released[room], tokens...)
		}
		n.mu.Unlock()
	}
	return failed
}

// host records a room just created on this node, for the placement
// PickNode made ("" if none). The caller holds e.mu, so the room cannot
// have ended and been forgotten before it is recorded.
func (n *node) host(r *rooms.Room, g *game, metadata map[string]string, private bool, placement string) *hostedRoom {
	hr := &hostedRoom{
		room: r, game: g.name, capacity: g.opts.MaxPlayers, metadata: metadata, private: private,
		arriving: make(map[string]bool), placement: placement,
	}
	n.mu.Lock()
	n.hosted[r.ID()] = hr
	n.mu.Unlock()
	go func() {
		<-r.Done()
		n.roomEnded(r.ID())
	}()
	return hr
}

// roomEnded forgets a room that has stopped and removes it from the
// directory.
func (n *node) roomEnded(id string) {
	n.mu.Lock()
	delete(n.hosted, id)
	delete(n.released, id)
	left := n.left
	n.mu.Unlock()
	if left {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, max(n.opts.Heartbeat, time.Second))
	defer cancel()
	if err := n.dir.RemoveRooms(ctx, id); err != nil {
		n.log.Debug("removing an ended room from the directory; it will expire", "room", id, "error", err)
	}
}

// addRoom registers a room just hosted here, with a first seat reserved
// in it.
func (n *node) addRoom(ctx context.Context, hr *hostedRoom, seatTTL time.Duration) (directory.Seat, error) {
	n.mu.Lock()
	rec := directory.HostedRoom{Room: n.record(hr)}
	n.mu.Unlock()
	s, err := n.dir.AddRoom(ctx, rec, seatTTL)
	if err != nil {
		return s, err
	}
	s.URL = n.publicURL()
	return s, nil
}

// take takes the seat token reserved in a room of this node. It returns
// the room and a function that frees the seat again, for a join the room
// refuses.
func (n *node) take(ctx context.Context, token string) (*rooms.Room, func(), *rooms.Error) {
	id := directory.RoomOf(token)
	n.mu.Lock()
	hr := n.hosted[id]
	if hr != nil {
		hr.arriving[token] = true
	}
	n.mu.Unlock()
	err := n.dir.Take(ctx, token, n.id)
	n.mu.Lock()
	if hr != nil {
		delete(hr.arriving, token)
		if err == nil && n.hosted[id] == hr {
			hr.held = append(hr.held, token)
		}
	}
	n.mu.Unlock()
	var ee *directory.ElsewhereError
	switch {
	case errors.As(err, &ee):
		return nil, nil, rooms.Errorf(rooms.ErrBadSeat, "this seat is in room %s on node %s; connect to %s", ee.Room, ee.Node, ee.URL)
	case errors.Is(err, directory.ErrSeatUnknown):
		return nil, nil, rooms.Errorf(rooms.ErrBadSeat, "seat token unknown, used or expired; matchmake again")
	case err != nil:
		if hr != nil {
			n.release(id, token) // it may have been taken before the error
		}
		return nil, nil, rooms.Errorf(rooms.ErrInternal, "%v; try again shortly", err)
	case hr == nil:
		n.release(id, token)
		return nil, nil, rooms.Errorf(rooms.ErrRoomNotFound, "room %s has closed; matchmake again", id)
	}
	return hr.room, func() { n.unseat(id, token) }, nil
}

// release queues a seat for release in the directory.
func (n *node) release(room, token string) {
	n.mu.Lock()
	n.released[room] = append(n.released[room], token)
	n.mu.Unlock()
	n.poke(n.flush)
}

// unseat frees one of a room's seats, token if it still holds it: seats
// are counted, not owned, so any held seat will do (a player's Leave may
// have released the very one it joined with).
func (n *node) unseat(room, token string) {
	n.mu.Lock()
	hr := n.hosted[room]
	if hr == nil || len(hr.held) == 0 {
		n.mu.Unlock()
		return
	}
	i := len(hr.held) - 1
	for j, t := range hr.held {
		if t == token {
			i = j
		}
	}
	token = hr.held[i]
	hr.held = append(hr.held[:i], hr.held[i+1:]...)
	n.mu.Unlock()
	n.release(room, token)
}

// track wraps a game so the node learns when its players leave.
func (n *node) track(g rooms.Game) rooms.Game { return &trackedGame{Game: g, n: n} }

// trackedGame is a Game whose Leave frees a directory seat.
type trackedGame struct {
	rooms.Game
	n    *node
	room string
}

func (g *trackedGame) Init(r *rooms.Room) error {
	g.room = r.ID()
	return g.Game.Init(r)
}

func (g *trackedGame) Leave(p *rooms.Player, reason rooms.LeaveReason) {
	defer g.n.unseat(g.room, "")
	g.Game.Leave(p, reason)
}

// Message passes custom messages on to games that take them.
func (g *trackedGame) Message(p *rooms.Player, typ string, data []byte) {
	if h, ok := g.Game.(rooms.MessageHandler); ok {
		h.Message(p, typ, data)
	}
}

// serveCreate creates a room another node asked for.
func (n *node) serveCreate(req directory.CreateRequest) {
	ctx, cancel := context.WithDeadline(n.ctx, req.Deadline)
	defer cancel()
	n.e.mu.Lock()
	g := n.e.games[req.Game]
	n.e.mu.Unlock()
	var seat directory.Seat
	err := fmt.Errorf("no game %q on node %s", req.Game, n.id)
	if g != nil {
		ttl := req.SeatTTL
		if ttl <= 0 {
			ttl = n.e.cfg.SeatTTL
		}
		seat, err = n.e.createHere(ctx, g, req.Metadata, req.Private, ttl, req.Placement)
	}
	if err != nil {
		n.log.Warn("could not create a room another node asked for", "game", req.Game, "error", err)
	}
	if err := n.dir.Answer(ctx, req, seat, err); err != nil {
		n.log.Debug("answering a room creation request", "error", err)
	}
}

// LockRoom locks (or unlocks) a room of this node: matchmaking sends no
// new players to a locked room, while its players stay and can
// reconnect. Games call it, for example, when a match starts.
func (e *Engine) LockRoom(id string, locked bool) error {
	n := e.node
	n.mu.Lock()
	hr := n.hosted[id]
	if hr != nil {
		hr.locked = locked
	}
	n.mu.Unlock()
	if hr == nil {
		return fmt.Errorf("engine: no room %q on this node", id)
	}
	n.poke(n.wake)
	return nil
}

// leave deregisters the node at once, so that no player is sent to it
// again, and stops its heartbeats.
func (n *node) leave(ctx context.Context) {
	n.mu.Lock()
	if n.left {
		n.mu.Unlock()
		return
	}
	n.left = true
	ids := make([]string, 0, len(n.hosted))
	for id := range n.hosted {
		ids = append(ids, id)
	}
	n.mu.Unlock()
	n.cancel()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := n.dir.RemoveNode(ctx, n.id, ids); err != nil {
		n.log.Warn("could not leave the room directory; the node's entries will expire", "node", n.id, "expiry", n.opts.Expiry, "error", err)
	} else if n.e.cfg.Redis != "" {
		n.log.Info("left the room directory", "node", n.id, "rooms", len(ids))
	}
}

// close stops the node's goroutines and closes the directory.
func (n *node) close() {
	n.cancel()
	n.dir.Close()
	n.loops.Wait()
}

// health describes the directory for /healthz.
func (n *node) health() map[string]any {
	status := "ok"
	if n.down.Load() {
		status = "unavailable"
	}
	return map[string]any{"node": n.id, "directory": status}
}
