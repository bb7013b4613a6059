package servers

import "sync/atomic"

// mailbox is a connection's 1-slot "latest" mailbox: the room offers each
// tick's message without ever blocking, and the connection's writer
// goroutine sends the most recent one. A message still in the slot when the
// next arrives is replaced and counted as dropped. Every library but gws
// (see gws.go) and tickwire-rooms (whose outbox has the same policy) uses it.
type mailbox[T any] struct {
	slot atomic.Pointer[T]
	busy atomic.Bool // the writer goroutine is taking or writing a message
	wake chan struct{}
	c    *counters
}

// idle reports whether the mailbox is empty and its writer is not
// writing: then a message written directly cannot overtake one of its.
func (m *mailbox[T]) idle() bool {
	return !m.busy.Load() && m.slot.Load() == nil
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
		m.busy.Store(true)
		if v := m.slot.Swap(nil); v != nil {
			if err := write(v); err != nil {
				return
			}
		}
		m.busy.Store(false)
	}
}

// serveRoomConn seats a connection in hub behind a mailbox, runs its writer
// on a goroutine of its own, and calls read, which must return when the
// connection fails or closes; then it leaves the hub.
func serveRoomConn[T any](h *hub, write func(*T) error, read func()) {
	serveRoomConnDirect(h, nil, write, read)
}

// directPeer is a connection whose tick messages are first written from
// the hub's goroutine without waiting (try), and go through its mailbox
// only when that cannot be done now.
type directPeer[T any] struct {
	m   *mailbox[T]
	try func(*T) (bool, error)
}

func (p *directPeer[T]) offer(msg any) {
	if p.m.idle() {
		if ok, err := p.try(msg.(*T)); ok || err != nil {
			return
		}
	}
	p.m.offer(msg)
}

// serveRoomConnDirect is serveRoomConn for a library that can write
// without waiting: with try set, the hub writes directly when it can.
func serveRoomConnDirect[T any](h *hub, try func(*T) (bool, error), write func(*T) error, read func()) {
	m := newMailbox[T](h.c)
	var p peer = m
	if try != nil {
		p = &directPeer[T]{m: m, try: try}
	}
	stop := make(chan struct{})
	h.join(p)
	go m.serve(stop, write)
	read()
	h.leave(p)
	close(stop)
}
