package servers

import (
	"context"
	"sync"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/wire"
)

// peer is a connection seated in a hub. offer must not block.
type peer interface {
	offer(msg any)
}

// hub is the broadcast room of the library servers: every tick it makes a
// fresh payload of cfg.Size bytes, stamps the send time in its first 8
// bytes, encodes it once with prepare and offers the result to every peer.
type hub struct {
	cfg     Config
	c       *counters
	prepare func(payload []byte) any
	release func(msg any) // optional: called after every peer had the tick's message

	mu    sync.Mutex
	peers map[peer]struct{}
}

func newHub(cfg Config, c *counters, prepare func([]byte) any, release func(any)) *hub {
	return &hub{cfg: cfg, c: c, prepare: prepare, release: release, peers: make(map[peer]struct{})}
}

func (h *hub) join(p peer) {
	h.mu.Lock()
	h.peers[p] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) leave(p peer) {
	h.mu.Lock()
	delete(h.peers, p)
	h.mu.Unlock()
}

// run ticks until ctx ends.
func (h *hub) run(ctx context.Context) {
	t := time.NewTicker(time.Second / time.Duration(h.cfg.Rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		payload := make([]byte, h.cfg.Size)
		wire.PutStamp(payload, time.Now())
		msg := h.prepare(payload)
		h.mu.Lock()
		for p := range h.peers {
			p.offer(msg)
		}
		n := len(h.peers)
		h.mu.Unlock()
		if h.release != nil {
			h.release(msg)
		}
		h.c.ticks.Add(1)
		h.c.offered.Add(uint64(n))
	}
}
