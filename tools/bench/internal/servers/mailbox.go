package servers

import "sync/atomic"

// mailbox is a connection's 1-slot "latest" mailbox: the room offers each
// tick's message without ever blocking, and the connection's writer
// goroutine sends the most recent one. A message still in the slot when the
// next arrives is replaced and counted as dropped. Every library but gws
// (see gws.go) and tickwire-rooms (whose outbox has the same policy) uses it.
type mailbox[T any] struct {
	slot atomic.Pointer[T]
	wake chan struct{}
	c    *counters
}

func newMailbox[T any](c *counters) *mailbox[T] {
	return &mailbox[T]{wake: make(chan struct{}, 1), c: c}
}

// offer implements peer. msg must be a *T.
func (m *mailbox[T]) offer(msg any) {
	if m.slot.Swap(msg.(*T)) != nil {
		m.c.dropped.Add(1)
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// serve writes what arrives in the mailbox until stop is closed or a write
// fails.
func (m *mailbox[T]) serve(stop <-chan struct{}, write func(*T) error) {
	for {
		select {
		case <-stop:
			return
		case <-m.wake:
		}
		if v := m.slot.Swap(nil); v != nil {
			if err := write(v); err != nil {
				return
			}
		}
	}
}

// serveRoomConn seats a connection in hub behind a mailbox, runs its writer
// on a goroutine of its own, and calls read, which must return when the
// connection fails or closes; then it leaves the hub.
func serveRoomConn[T any](h *hub, write func(*T) error, read func()) {
	m := newMailbox[T](h.c)
	stop := make(chan struct{})
	h.join(m)
	go m.serve(stop, write)
	read()
	h.leave(m)
	close(stop)
}
