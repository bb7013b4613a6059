package servers

import (
	"bytes"
	"context"
	"net/http"

	"github.com/gorilla/websocket"
)

// gorillaLib serves with gorilla/websocket, default buffer sizes (it reuses
// the buffers net/http hijacks): NextReader into a reused buffer and
// WriteMessage for echo; a PreparedMessage per tick, written with
// WritePreparedMessage, for the room.
type gorillaLib struct {
	up  websocket.Upgrader
	hub *hub
	c   *counters
}

func newGorilla(cfg Config, c *counters) *gorillaLib {
	l := &gorillaLib{c: c}
	l.up = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	l.hub = newHub(cfg, c, func(p []byte) any {
		pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, p)
		if err != nil {
			panic(err)
		}
		return pm
	}, nil)
	return l
}

func (l *gorillaLib) run(ctx context.Context) { l.hub.run(ctx) }
func (l *gorillaLib) dropped() uint64         { return 0 }

func (l *gorillaLib) echo(w http.ResponseWriter, r *http.Request) {
	c, err := l.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c.SetReadLimit(readLimit)
	go func() {
		defer l.c.track()()
		defer c.Close()
		var buf bytes.Buffer
		for {
			typ, rd, err := c.NextReader()
			if err != nil {
				return
			}
			buf.Reset()
			if _, err := buf.ReadFrom(rd); err != nil {
				return
			}
			if err := c.WriteMessage(typ, buf.Bytes()); err != nil {
				return
			}
		}
	}()
}

func (l *gorillaLib) room(w http.ResponseWriter, r *http.Request) {
	c, err := l.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c.SetReadLimit(readLimit)
	go func() {
		defer l.c.track()()
		defer c.Close()
		serveRoomConn(l.hub, c.WritePreparedMessage, func() {
			for {
				if _, _, err := c.NextReader(); err != nil {
					return
				}
			}
		})
	}()
}
