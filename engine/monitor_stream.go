package engine

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/tickwire/tickwire/netws"
)

// serveMonitorStream answers GET /api/monitor/ws: a WebSocket on which
// the server sends the monitoring snapshot (GET /api/monitor) as a JSON
// text message at once and then every interval, until the client closes.
// Query parameters: room (one room only) and interval (such as 500ms).
// Messages from the client are read and ignored.
func (e *Engine) serveMonitorStream(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	room := q.Get("room")
	every := e.mon.cfg.Interval
	if v := q.Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < MinMonitorInterval || d > MaxMonitorInterval {
			httpError(w, http.StatusBadRequest, "interval "+strconv.Quote(v)+": want a duration from "+MinMonitorInterval.String()+" to "+MaxMonitorInterval.String()+", such as 500ms")
			return
		}
		every = d
	}
	if _, ok := e.monitorSnapshot(room); !ok {
		httpError(w, http.StatusNotFound, "no room "+strconv.Quote(room)+" on this node")
		return
	}
	if int(e.mon.streams.Add(1)) > e.mon.cfg.MaxStreams {
		e.mon.streams.Add(-1)
		httpError(w, http.StatusServiceUnavailable, "too many monitoring streams open ("+strconv.Itoa(e.mon.cfg.MaxStreams)+"); close one or raise MonitorConfig.MaxStreams")
		return
	}
	c, err := netws.Upgrade(w, r, &netws.UpgradeOptions{
		ConnOptions: netws.ConnOptions{
			ReadLimit:    4 << 10,
			PingInterval: 10 * time.Second,
			WriteTimeout: 10 * time.Second,
		},
		OriginPatterns: e.cfg.OriginPatterns,
	})
	if err != nil {
		e.mon.streams.Add(-1)
		e.log.Debug("monitoring stream refused", "remote", r.RemoteAddr, "error", err)
		return
	}
	go e.streamMonitor(c, room, every)
}

// streamMonitor sends snapshots on c every interval until the client
// goes or the engine shuts down.
func (e *Engine) streamMonitor(c *netws.Conn, room string, every time.Duration) {
	defer e.mon.streams.Add(-1)
	defer c.CloseNow()
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		var buf []byte
		for {
			_, b, err := c.ReadMessage(buf[:0])
			if err != nil {
				return
			}
			buf = b
		}
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s, _ := e.monitorSnapshot(room)
		b, err := json.Marshal(s)
		if err != nil {
			c.Close(netws.StatusInternalError, "encoding the snapshot failed")
			return
		}
		if err := c.WriteMessage(netws.Text, b); err != nil {
			return
		}
		select {
		case <-t.C:
		case <-gone:
			return
		case <-e.ctx.Done():
			c.Close(netws.StatusGoingAway, "server shutting down")
			return
		}
	}
}
