package servers

import (
	"context"
	"net/http"

	"github.com/tickwire/tickwire/netws"
)

// netwsLib serves with tickwire's netws: ReadMessage into a reused buffer
// and WriteMessage for echo; a PreparedMessage per tick for the room,
// written by the tick's goroutine with TryWritePrepared, and through the
// connection's writer goroutine with WritePrepared only when the socket
// cannot take it at once.
type netwsLib struct {
	opts netws.UpgradeOptions
	hub  *hub
	c    *counters
}

func newNetws(cfg Config, c *counters) *netwsLib {
	l := &netwsLib{c: c}
	l.opts = netws.UpgradeOptions{InsecureSkipOriginCheck: true}
	l.opts.ReadLimit = readLimit
	l.hub = newHub(cfg, c, func(p []byte) any {
		pm, err := netws.NewPreparedMessage(netws.Binary, p, 0)
		if err != nil {
			panic(err)
		}
		return pm
	}, nil)
	return l
}

func (l *netwsLib) run(ctx context.Context) { l.hub.run(ctx) }
func (l *netwsLib) dropped() uint64         { return 0 }

func (l *netwsLib) echo(w http.ResponseWriter, r *http.Request) {
	c, err := netws.Upgrade(w, r, &l.opts)
	if err != nil {
		return
	}
	go func() {
		defer l.c.track()()
		defer c.CloseNow()
		serveNetwsEcho(c)
	}()
}

// serveNetwsEcho echoes c's messages until it fails.
func serveNetwsEcho(c *netws.Conn) {
	var buf []byte
	for {
		typ, b, err := c.ReadMessage(buf[:0])
		if err != nil {
			return
		}
		buf = b
		if err := c.WriteMessage(typ, b); err != nil {
			return
		}
	}
}

func (l *netwsLib) room(w http.ResponseWriter, r *http.Request) {
	c, err := netws.Upgrade(w, r, &l.opts)
	if err != nil {
		return
	}
	go func() {
		defer l.c.track()()
		defer c.CloseNow()
		serveRoomConnDirect(l.hub, c.TryWritePrepared, c.WritePrepared, func() {
			var buf []byte
			for {
				_, b, err := c.ReadMessage(buf[:0])
				if err != nil {
					return
				}
				buf = b
			}
		})
	}()
}
