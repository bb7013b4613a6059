package rooms

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickwire/tickwire/netws"
)

// Conn is what a room needs of a player's connection. *netws.Conn
// implements it; tests may use any other implementation.
type Conn interface {
	ReadMessage(dst []byte) (netws.MessageType, []byte, error)
	WriteMessage(typ netws.MessageType, p []byte) error
	WritePreparedPrefixed(prefix []byte, pm *netws.PreparedMessage) error
	Close(code netws.StatusCode, reason string) error
	CloseNow() error
	RTT() netws.RTTStats
}

// Player is a seat in a room. The room's goroutine owns it: a Game may
// read and change it from its methods, and nothing else should.
type Player struct {
	id    string
	name  string
	token string // reconnect token
	room  *Room

	// Data is for the game's own per-player state.
	Data any

	conn        Conn
	out         *outbox
	connected   bool
	lastSeq     uint32 // last input applied
	joined      time.Time
	connectedAt time.Time // when the current connection was attached
	disconnects time.Time // when the connection dropped, while in grace
	traffic     traffic   // over all the player's connections

	sent sentStates // table states sent, and the client's acknowledgement
}

// traffic counts the messages through a player's connections. The
// player's reader and writer goroutines add to it while monitoring reads
// it, so its fields are atomic. Bytes are message payload bytes, without
// WebSocket frame headers.
type traffic struct {
	bytesIn, messagesIn   atomic.Uint64
	bytesOut, messagesOut atomic.Uint64
	dropped               atomic.Uint64 // batches superseded, messages refused by a full queue

	// roomDropped, if not nil, counts the drops of every player of a room.
	roomDropped *atomic.Uint64
}

// drop counts n messages dropped from the send queue.
func (t *traffic) drop(n uint64) {
	t.dropped.Add(n)
	if t.roomDropped != nil {
		t.roomDropped.Add(n)
	}
}

// ID returns the player's id, unique across rooms and nodes.
func (p *Player) ID() string { return p.id }

// Name returns the display name the client gave when joining.
func (p *Player) Name() string { return p.name }

// Connected reports whether the player has a live connection; a player in
// the reconnect grace period keeps its seat but is not connected.
func (p *Player) Connected() bool { return p.connected }

// LastInput returns the sequence number of the last input applied.
func (p *Player) LastInput() uint32 { return p.lastSeq }

// RTT returns the round-trip time statistics of the player's connection,
// or zero values while it is disconnected.
func (p *Player) RTT() netws.RTTStats {
	if p.conn == nil || !p.connected {
		return netws.RTTStats{}
	}
	return p.conn.RTT()
}

// outItem is one queued message: a whole encoded message, or a batch
// (a per-player prefix in front of frames prepared once for many).
type outItem struct {
	msg    []byte
	prefix []byte
	pm     *netws.PreparedMessage
}

func (it outItem) isBatch() bool { return it.pm != nil }

// maxQueued bounds the messages (not batches) waiting for one player.
const maxQueued = 256

// directWriter is implemented by connections that can write a batch
// without waiting, as *netws.Conn does: then the room writes a player's
// batch itself when that player's queue is empty, and the writer
// goroutine wakes only for players whose socket is full.
type directWriter interface {
	TryWritePreparedPrefixed(prefix []byte, pm *netws.PreparedMessage) (bool, error)
}

// outbox is a player's send queue, drained by a writer goroutine so that a
// slow connection never holds up the room. A newer batch supersedes an
// unsent older one, so the queue never grows with the tick count.
type outbox struct {
	conn    Conn
	direct  directWriter // conn, if it can write without waiting
	traffic *traffic

	mu          sync.Mutex
	items       []outItem
	closed      bool
	overflow    bool
	behindSince time.Time // when a batch was last superseded while behind
	superseded  uint64
	writing     bool // a write is in progress: by the writer, or direct

	wake chan struct{}
	done chan struct{} // closed when the writer has returned
}

// newOutbox starts the writer of a send queue to c, counting into t.
func newOutbox(c Conn, t *traffic) *outbox {
	if t == nil {
		t = new(traffic)
	}
	o := &outbox{conn: c, traffic: t, wake: make(chan struct{}, 1), done: make(chan struct{})}
	o.direct, _ = c.(directWriter)
	go o.run()
	return o
}

// pushMsg queues a whole message.
func (o *outbox) pushMsg(b []byte) {
	o.mu.Lock()
	if !o.closed {
		if len(o.items) >= maxQueued {
			o.overflow = true
			o.traffic.drop(1)
		} else {
			o.items = append(o.items, outItem{msg: b})
		}
	}
	o.mu.Unlock()
	o.signal()
}

// pushBatch queues a batch, replacing one still unsent; or, when nothing
// is queued or being written, writes it at once if the connection can
// take it without waiting.
func (o *outbox) pushBatch(prefix []byte, pm *netws.PreparedMessage, now time.Time) {
	o.mu.Lock()
	if o.direct != nil && !o.closed && !o.writing && len(o.items) == 0 {
		o.writing = true
		o.mu.Unlock()
		ok, err := o.direct.TryWritePreparedPrefixed(prefix, pm)
		if ok {
			o.traffic.messagesOut.Add(1)
			o.traffic.bytesOut.Add(uint64(len(prefix) + len(pm.Payload())))
		}
		o.mu.Lock()
		o.writing = false
		if ok || err != nil { // a failed connection is the reader's to report
			o.behindSince = time.Time{}
			pending := len(o.items) > 0 || o.closed
			o.mu.Unlock()
			if pending {
				o.signal()
			}
			return
		}
	}
	if !o.closed {
		for i, it := range o.items {
			if it.isBatch() {
				o.items = append(o.items[:i], o.items[i+1:]...)
				o.superseded++
				o.traffic.drop(1)
				if o.behindSince.IsZero() {
					o.behindSince = now
				}
				break
			}
		}
		o.items = append(o.items, outItem{prefix: prefix, pm: pm})
	}
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// behind returns how long the player has been behind (0 if it is not), and
// whether its message queue overflowed.
func (o *outbox) behind(now time.Time) (time.Duration, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.behindSince.IsZero() {
		return 0, o.overflow
	}
	return now.Sub(o.behindSince), o.overflow
}

// close stops the writer after it has sent what is queued.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.signal()
}

// run writes queued items until the outbox is closed and empty, or a write
// fails (the reader then sees the connection end).
func (o *outbox) run() {
	defer close(o.done)
	var batch []outItem
	for range o.wake {
		o.mu.Lock()
		if o.writing {
			// A direct write is in progress; it signals when done.
			o.mu.Unlock()
			continue
		}
		o.writing = len(o.items) > 0
		batch = append(batch[:0], o.items...)
		clear(o.items)
		o.items = o.items[:0]
		closed := o.closed
		o.mu.Unlock()
		for _, it := range batch {
			var err error
			var n int
			if it.isBatch() {
				err = o.conn.WritePreparedPrefixed(it.prefix, it.pm)
				n = len(it.prefix) + len(it.pm.Payload())
			} else {
				err = o.conn.WriteMessage(netws.Binary, it.msg)
				n = len(it.msg)
			}
			if err != nil {
				return
			}
			o.traffic.messagesOut.Add(1)
			o.traffic.bytesOut.Add(uint64(n))
		}
		clear(batch)
		o.mu.Lock()
		o.writing = false
		if len(o.items) == 0 {
			o.behindSince = time.Time{}
		}
		empty := len(o.items) == 0
		o.mu.Unlock()
		if closed && empty {
			return
		}
	}
}

// rateLimiter is a token bucket: rate tokens a second, up to burst.
type rateLimiter struct {
	rate, burst, tokens float64
	last                time.Time
}

func newRateLimiter(rate int, now time.Time) rateLimiter {
	r := float64(rate)
	return rateLimiter{rate: r, burst: r, tokens: r, last: now}
}

// allow takes a token if one is available.
func (l *rateLimiter) allow(now time.Time) bool {
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
