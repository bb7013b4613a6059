package servers

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/lxzan/gws"
)

// gwsLib serves with lxzan/gws, default options (compression off, 4 KiB
// pooled read buffer), each connection's ReadLoop on a goroutine of its own
// as gws recommends behind net/http. Echo writes each message back with
// WriteMessage from OnMessage. The room uses gws.Broadcaster, which frames
// the tick's payload once and writes it through each connection's own
// asynchronous write queue.
type gwsLib struct {
	echoUp  *gws.Upgrader
	roomUp  *gws.Upgrader
	hub     *hub
	c       *counters
	skipped atomic.Uint64
}

func newGWS(cfg Config, c *counters) *gwsLib {
	l := &gwsLib{c: c}
	opt := func() *gws.ServerOption { return &gws.ServerOption{ReadMaxPayloadSize: readLimit} }
	l.echoUp = gws.NewUpgrader(gwsEcho{}, opt())
	l.roomUp = gws.NewUpgrader(gwsRoom{}, opt())
	l.hub = newHub(cfg, c,
		func(p []byte) any { return gws.NewBroadcaster(gws.OpcodeBinary, p) },
		func(msg any) { msg.(*gws.Broadcaster).Close() })
	return l
}

func (l *gwsLib) run(ctx context.Context) { l.hub.run(ctx) }
func (l *gwsLib) dropped() uint64         { return l.skipped.Load() }

type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(s *gws.Conn, m *gws.Message) {
	_ = s.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

type gwsRoom struct{ gws.BuiltinEventHandler }

func (gwsRoom) OnMessage(s *gws.Conn, m *gws.Message) { m.Close() }

func (l *gwsLib) echo(w http.ResponseWriter, r *http.Request) {
	s, err := l.echoUp.Upgrade(w, r)
	if err != nil {
		return
	}
	go func() {
		defer l.c.track()()
		s.ReadLoop()
	}()
}

// gwsPeer bounds a connection to one broadcast in flight, as the mailbox
// does for the other libraries: a tick that finds the previous one still
// queued or being written is skipped for this connection (and counted as
// dropped). release runs on gws's write queue right after the broadcast's
// write.
type gwsPeer struct {
	conn    *gws.Conn
	busy    atomic.Bool
	release func()
	skipped *atomic.Uint64
}

func (p *gwsPeer) offer(msg any) {
	if !p.busy.CompareAndSwap(false, true) {
		p.skipped.Add(1)
		return
	}
	if err := msg.(*gws.Broadcaster).Broadcast(p.conn); err != nil {
		p.busy.Store(false)
		return
	}
	p.conn.Async(p.release)
}

func (l *gwsLib) room(w http.ResponseWriter, r *http.Request) {
	s, err := l.roomUp.Upgrade(w, r)
	if err != nil {
		return
	}
	p := &gwsPeer{conn: s, skipped: &l.skipped}
	p.release = func() { p.busy.Store(false) }
	go func() {
		defer l.c.track()()
		l.hub.join(p)
		s.ReadLoop()
		l.hub.leave(p)
	}()
}
