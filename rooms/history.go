package rooms

import (
	"sync/atomic"

	"github.com/tickwire/tickwire/rooms/snap"
)

// sentStates is one player's short history of the table states the room
// sent it, and the newest tick its client acknowledged: the bases of the
// deltas the player gets.
//
// A state is recorded when its batch is queued, whether or not the batch
// is later superseded: the client can only acknowledge what it received,
// and every tick it acknowledges is then found here, until it is older
// than the history's length.
type sentStates struct {
	// acked is the newest tick the client said it applied; 0 for none.
	// The player's reader stores it; the room goroutine reads it.
	acked atomic.Uint64

	// Owned by the room goroutine.
	ring []sentState // a ring of the last len(ring) states sent
	next int         // where the next one goes
}

type sentState struct {
	tick  uint64
	state *snap.State
}

// ack records the client's acknowledgement of tick; 0 asks for a full
// snapshot. An acknowledgement that arrives from a replaced connection
// after a reconnect can overwrite a newer one; it then names a state that
// is no longer in the history, which costs one full snapshot.
func (h *sentStates) ack(tick uint64) { h.acked.Store(tick) }

// base returns the state the client acknowledged, or nil when it
// acknowledged none that is still in the history.
func (h *sentStates) base() *snap.State {
	tick := h.acked.Load()
	if tick == 0 {
		return nil // tick 0 on the wire means no base
	}
	for k := range h.ring { // newest first: acks are usually recent
		i := (h.next - 1 - k + 2*len(h.ring)) % len(h.ring)
		if e := h.ring[i]; e.tick == tick && e.state != nil {
			return e.state
		}
	}
	return nil
}

// record adds the state sent at tick, forgetting the oldest once size
// states are kept.
func (h *sentStates) record(tick uint64, s *snap.State, size int) {
	if len(h.ring) != size {
		h.ring = make([]sentState, size)
		h.next = 0
	}
	h.ring[h.next] = sentState{tick, s}
	h.next = (h.next + 1) % size
}

// reset forgets the history and the acknowledgement, for a new connection
// whose client has no state yet.
func (h *sentStates) reset() {
	clear(h.ring)
	h.next = 0
	h.acked.Store(0)
}
