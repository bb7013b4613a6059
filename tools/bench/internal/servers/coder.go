package servers

import (
	"bytes"
	"context"
	"net/http"

	"github.com/coder/websocket"
)

// coderLib serves with coder/websocket, compression off: Reader into a
// reused buffer and Write for echo. coder/websocket has no prepared-message
// path, so the room writes the tick's payload with a plain Write on every
// connection, which frames it anew each time.
type coderLib struct {
	opts websocket.AcceptOptions
	hub  *hub
	c    *counters
}

func newCoder(cfg Config, c *counters) *coderLib {
	l := &coderLib{c: c}
	l.opts = websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled}
	l.hub = newHub(cfg, c, func(p []byte) any { return &p }, nil)
	return l
}

func (l *coderLib) run(ctx context.Context) { l.hub.run(ctx) }
func (l *coderLib) dropped() uint64         { return 0 }

func (l *coderLib) echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &l.opts)
	if err != nil {
		return
	}
	c.SetReadLimit(readLimit)
	go func() {
		defer l.c.track()()
		defer c.CloseNow()
		ctx := context.Background()
		var buf bytes.Buffer
		for {
			typ, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			buf.Reset()
			if _, err := buf.ReadFrom(rd); err != nil {
				return
			}
			if err := c.Write(ctx, typ, buf.Bytes()); err != nil {
				return
			}
		}
	}()
}

func (l *coderLib) room(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &l.opts)
	if err != nil {
		return
	}
	c.SetReadLimit(readLimit)
	go func() {
		defer l.c.track()()
		defer c.CloseNow()
		ctx := context.Background()
		write := func(p *[]byte) error { return c.Write(ctx, websocket.MessageBinary, *p) }
		serveRoomConn(l.hub, write, func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		})
	}()
}
