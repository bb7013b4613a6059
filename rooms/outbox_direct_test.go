package rooms

import (
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netws"
)

// directConn is a Conn that can write without waiting, like *netws.Conn,
// but refuses a direct write whenever refuse says so; every write it
// takes, direct or queued, is recorded in order.
type directConn struct {
	blockedConn
	refuse func(n int) bool

	mu      sync.Mutex
	tries   int
	direct  int
	written []byte // the prefixes, in the order written
}

func (c *directConn) TryWritePreparedPrefixed(prefix []byte, pm *netws.PreparedMessage) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tries++
	if c.refuse(c.tries) {
		return false, nil
	}
	c.direct++
	c.written = append(c.written, prefix...)
	return true, nil
}

func (c *directConn) WritePreparedPrefixed(prefix []byte, pm *netws.PreparedMessage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.written = append(c.written, prefix...)
	return nil
}

func (c *directConn) WriteMessage(typ netws.MessageType, p []byte) error { return nil }

func (c *directConn) snapshot() (written []byte, direct int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.written...), c.direct
}

// TestOutboxWritesDirectly checks the direct path: batches go out from
// the pushing goroutine while the queue is empty, and when the connection
// refuses one, it is queued and the order of what arrives is kept.
func TestOutboxWritesDirectly(t *testing.T) {
	tests := []struct {
		name       string
		refuse     func(n int) bool
		wantDirect int // of 200 batches
	}{
		{"always accepts", func(int) bool { return false }, 200},
		{"refuses every third", func(n int) bool { return n%3 == 0 }, 134},
		{"always refuses", func(int) bool { return true }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := &directConn{refuse: tt.refuse}
			o := newOutbox(conn, nil)
			pm, _ := netws.NewPreparedMessage(netws.Binary, []byte("state"), 0)
			now := time.Unix(1000, 0)
			for i := range 200 {
				o.pushBatch([]byte{byte(i)}, pm, now)
				// Like a room between ticks, let the queue drain.
				waitIdle(t, o)
			}
			o.close()
			select {
			case <-o.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the writer did not finish")
			}
			written, direct := conn.snapshot()
			if direct != tt.wantDirect {
				t.Errorf("%d batches written directly, want %d", direct, tt.wantDirect)
			}
			// Every batch arrives, in order, whichever way it went.
			if len(written) != 200 {
				t.Fatalf("%d batches arrived, want 200", len(written))
			}
			for i, b := range written {
				if int(b) != i {
					t.Fatalf("batch %d arrived in place %d", b, i)
				}
			}
			if got := o.traffic.messagesOut.Load(); got != uint64(len(written)) {
				t.Errorf("messagesOut = %d, want %d", got, len(written))
			}
		})
	}
}

// waitIdle waits until o has nothing queued and is not writing.
func waitIdle(t *testing.T, o *outbox) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		o.mu.Lock()
		idle := len(o.items) == 0 && !o.writing
		o.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox did not drain")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestOutboxDirectKeepsOrderUnderRefusals pushes batches without pause
// while the connection refuses direct writes at random: batches may be
// superseded but never reordered, and the last always arrives.
func TestOutboxDirectKeepsOrderUnderRefusals(t *testing.T) {
	conn := &directConn{refuse: func(n int) bool { return n*7919%5 < 2 }}
	o := newOutbox(conn, nil)
	pm, _ := netws.NewPreparedMessage(netws.Binary, []byte("state"), 0)
	for i := range 250 {
		o.pushBatch([]byte{byte(i)}, pm, time.Unix(1000, 0))
		if i%50 == 0 {
			o.pushMsg([]byte{}) // messages from another source share the queue
		}
	}
	o.close()
	select {
	case <-o.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer did not finish")
	}
	written, _ := conn.snapshot()
	for i := 1; i < len(written); i++ {
		if written[i] <= written[i-1] {
			t.Fatalf("batch %d arrived after batch %d", written[i], written[i-1])
		}
	}
	if len(written) == 0 || written[len(written)-1] != 249 {
		t.Fatalf("the last batch did not arrive: %v", written)
	}
}
