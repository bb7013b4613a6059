package rooms

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/tick/ticktest"
	"github.com/vmihailenco/msgpack/v5"
)

// memConn is an in-memory Conn: the test hands it client messages one at a
// time and reads what the server wrote. While stalled, writes block, like
// a client that stopped reading, so the room's batches are superseded.
type memConn struct {
	in     chan []byte
	closed chan struct{}
	once   sync.Once

	mu      sync.Mutex
	reads   int // ReadMessage calls: the messages before the last one are handled
	stalled bool
	out     [][]byte // messages the server wrote, in order
	seen    int      // of out, how many the test has consumed
}

func newMemConn() *memConn {
	return &memConn{in: make(chan []byte), closed: make(chan struct{})}
}

func (c *memConn) ReadMessage(dst []byte) (netws.MessageType, []byte, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	select {
	case b := <-c.in:
		return netws.Binary, append(dst, b...), nil
	case <-c.closed:
		return 0, nil, netws.ErrClosed
	}
}

func (c *memConn) WriteMessage(typ netws.MessageType, p []byte) error {
	return c.write(append([]byte(nil), p...))
}

func (c *memConn) WritePreparedPrefixed(prefix []byte, pm *netws.PreparedMessage) error {
	return c.write(append(append([]byte(nil), prefix...), pm.Payload()...))
}

func (c *memConn) write(b []byte) error {
	for {
		c.mu.Lock()
		select {
		case <-c.closed:
			c.mu.Unlock()
			return netws.ErrClosed
		default:
		}
		if !c.stalled {
			c.out = append(c.out, b)
			c.mu.Unlock()
			return nil
		}
		c.mu.Unlock()
		time.Sleep(50 * time.Microsecond)
	}
}

func (c *memConn) Close(code netws.StatusCode, reason string) error { return c.CloseNow() }
func (c *memConn) CloseNow() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}
func (c *memConn) RTT() netws.RTTStats { return netws.RTTStats{} }

func (c *memConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func (c *memConn) setStalled(v bool) {
	c.mu.Lock()
	c.stalled = v
	c.mu.Unlock()
}

// send hands the server one client message and waits until the player's
// reader has handled it (it has asked for the next one).
func (c *memConn) send(t *testing.T, fields ...any) {
	t.Helper()
	b, err := msgpack.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	want := c.reads + 1
	c.mu.Unlock()
	select {
	case c.in <- b:
	case <-time.After(10 * time.Second):
		t.Fatal("the player's reader did not take a message")
	}
	waitUntil(t, "the reader handled a message", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.reads >= want || c.isClosed()
	})
}

// serverMsg is a decoded server message.
type serverMsg struct {
	kind   int
	fields []msgpack.RawMessage
}

// batchTick returns the tick of a batch message, or false for others.
func (m serverMsg) batchTick() (uint64, bool) {
	if m.kind != ServerBatch && m.kind != ServerTableBatch {
		return 0, false
	}
	var n uint64
	msgpack.Unmarshal(m.fields[0], &n)
	return n, true
}

// take returns the messages written since the last take.
func (c *memConn) take(t *testing.T) []serverMsg {
	t.Helper()
	c.mu.Lock()
	raw := c.out[c.seen:]
	c.seen = len(c.out)
	c.mu.Unlock()
	var out []serverMsg
	for _, b := range raw {
		var f []msgpack.RawMessage
		if err := msgpack.Unmarshal(b, &f); err != nil || len(f) == 0 {
			t.Fatalf("server message is not a msgpack array: % x", b)
		}
		var m serverMsg
		msgpack.Unmarshal(f[0], &m.kind)
		m.fields = f[1:]
		out = append(out, m)
	}
	return out
}

// waitBatch waits until the server has written the batch of tick n.
func (c *memConn) waitBatch(t *testing.T, n uint64) {
	t.Helper()
	waitUntil(t, "a batch", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, b := range c.out[c.seen:] {
			var f []msgpack.RawMessage
			msgpack.Unmarshal(b, &f)
			if m := (serverMsg{fields: f[1:]}); len(f) > 1 {
				msgpack.Unmarshal(f[0], &m.kind)
				if got, ok := m.batchTick(); ok && got == n {
					return true
				}
			}
		}
		return false
	})
}

// waitUntil polls cond until it holds, failing the test if that takes
// more than 10 s: a guard against deadlocks, not a timing assertion.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// steppedRoom runs a room on a fake clock, one tick per step.
type steppedRoom struct {
	t     *testing.T
	r     *Room
	clock *ticktest.Clock
	ticks chan uint64
	tick  uint64
}

// startStepped runs a room for g on a fake clock; tick 0 has run when it
// returns. opts.OnTick, if set, sees every tick's report.
func startStepped(t *testing.T, g Game, opts RoomOptions) *steppedRoom {
	t.Helper()
	sr := &steppedRoom{t: t, clock: ticktest.NewClock(time.Unix(1_000_000, 0)), ticks: make(chan uint64, 1)}
	opts.Clock = sr.clock
	opts.EmptyTimeout = -1
	if opts.SlowTimeout == 0 {
		opts.SlowTimeout = time.Hour
	}
	onTick := opts.OnTick
	opts.OnTick = func(tr TickReport) {
		if onTick != nil {
			onTick(tr)
		}
		sr.ticks <- tr.Tick.N
	}
	r, err := NewRoom("test", g, opts)
	if err != nil {
		t.Fatal(err)
	}
	sr.r = r
	ctx, cancel := context.WithCancel(context.Background())
	go r.Run(ctx)
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.Done():
		case <-time.After(10 * time.Second):
			t.Error("room did not stop")
		}
	})
	sr.tick = <-sr.ticks
	return sr
}

// step runs the next tick and returns its number.
func (sr *steppedRoom) step() uint64 {
	sr.clock.Advance(sr.r.loop.Step())
	select {
	case sr.tick = <-sr.ticks:
	case <-time.After(10 * time.Second):
		sr.t.Fatal("the room did not tick")
	}
	return sr.tick
}

// queued returns how many events wait for the next tick.
func (sr *steppedRoom) queued() int {
	sr.r.mu.Lock()
	defer sr.r.mu.Unlock()
	return len(sr.r.inbox)
}

// join connects a new player (or reconnects one) and runs the tick that
// seats it; it returns the connection and the welcome.
func (sr *steppedRoom) join(req JoinRequest) (*memConn, Welcome) {
	t := sr.t
	t.Helper()
	c := newMemConn()
	t.Cleanup(func() { c.CloseNow() })
	before := sr.queued()
	go sr.r.Serve(c, req)
	waitUntil(t, "the join to be queued", func() bool { return sr.queued() > before })
	sr.step()
	waitUntil(t, "the welcome", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.out) > 0
	})
	msgs := c.take(t)
	if len(msgs) == 0 || msgs[0].kind != ServerWelcome {
		t.Fatalf("join: first messages %v, want a welcome", msgs)
	}
	var w Welcome
	if err := msgpack.Unmarshal(msgs[0].fields[0], &w); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.seen = 1 // the batches stay for the caller
	c.mu.Unlock()
	return c, w
}
