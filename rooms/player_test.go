package rooms

import (
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netws"
)

// blockedConn is a Conn whose writes block until released, like a client
// that stopped reading.
type blockedConn struct {
	release chan struct{}
	mu      sync.Mutex
	writes  int
}

func (c *blockedConn) ReadMessage(dst []byte) (netws.MessageType, []byte, error) {
	<-c.release
	return 0, nil, netws.ErrClosed
}
func (c *blockedConn) WriteMessage(typ netws.MessageType, p []byte) error { return c.write() }
func (c *blockedConn) WritePreparedPrefixed(prefix []byte, pm *netws.PreparedMessage) error {
	return c.write()
}
func (c *blockedConn) write() error {
	<-c.release
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return nil
}
func (c *blockedConn) Close(code netws.StatusCode, reason string) error { return nil }
func (c *blockedConn) CloseNow() error                                  { return nil }
func (c *blockedConn) RTT() netws.RTTStats                              { return netws.RTTStats{} }

func TestOutboxStaysBoundedWhenTheClientStopsReading(t *testing.T) {
	conn := &blockedConn{release: make(chan struct{})}
	o := newOutbox(conn, nil)
	pm, _ := netws.NewPreparedMessage(netws.Binary, make([]byte, 4096), 0)
	start := time.Unix(1000, 0)
	for i := range 10000 {
		o.pushBatch([]byte{byte(i)}, pm, start.Add(time.Duration(i)*time.Millisecond))
	}
	o.mu.Lock()
	queued, superseded := len(o.items), o.superseded
	o.mu.Unlock()
	// The writer holds at most one batch; the queue at most one more.
	if queued > 1 || superseded < 9998 {
		t.Fatalf("after 10000 batches to a stuck client: %d queued, %d superseded; want at most 1 queued", queued, superseded)
	}
	if behind, _ := o.behind(start.Add(10 * time.Second)); behind < 9*time.Second {
		t.Fatalf("behind = %v, want about 10 s", behind)
	}
	for range maxQueued + 10 {
		o.pushMsg([]byte("event"))
	}
	if _, overflow := o.behind(start); !overflow {
		t.Fatal("more than maxQueued messages did not mark the outbox as overflowing")
	}
	close(conn.release)
	o.close()
	select {
	case <-o.done:
	case <-time.After(10 * time.Second):
		t.Fatal("writer did not finish after the connection was released")
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newRateLimiter(10, now)
	allowed := 0
	for range 100 {
		if l.allow(now) {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("burst allowed %d, want 10", allowed)
	}
	if !l.allow(now.Add(100 * time.Millisecond)) {
		t.Fatal("a token did not refill after 1/rate seconds")
	}
	if l.allow(now.Add(100 * time.Millisecond)) {
		t.Fatal("two tokens after 1/rate seconds")
	}
}
