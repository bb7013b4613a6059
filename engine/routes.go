package engine

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
)

// routes installs the engine's HTTP routes.
func (e *Engine) routes() {
	e.mux = http.NewServeMux()
	e.mux.HandleFunc("GET /ws", e.serveWS)
	e.mux.HandleFunc("POST /matchmake/{game}", e.serveMatchmake)
	e.mux.HandleFunc("GET /api/rooms", e.serveRooms)
	e.mux.HandleFunc("GET /api/rooms/{id}", e.serveRoom)
	e.mux.HandleFunc("GET /healthz", e.serveHealth)
}

// serveWS upgrades a player's connection and serves it on a goroutine of
// its own, so that the HTTP handler returns and net/http releases the
// buffers it keeps per request.
func (e *Engine) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := netws.Upgrade(w, r, &netws.UpgradeOptions{ConnOptions: e.cfg.Conn, OriginPatterns: e.cfg.OriginPatterns})
	if err != nil {
		e.log.Debug("handshake refused", "remote", r.RemoteAddr, "error", err)
		return
	}
	// The request is not used after this: keep only what servePlayer needs.
	req := &http.Request{Header: r.Header, RemoteAddr: r.RemoteAddr, Host: r.Host, URL: r.URL, TLS: r.TLS}
	go e.servePlayer(c, req)
}

// servePlayer reads the join message, seats the player and serves it
// until it leaves.
func (e *Engine) servePlayer(nc *netws.Conn, r *http.Request) {
	c := e.mon.metrics.meter(nc) // counts traffic and how the connection ends
	defer c.end()
	defer c.CloseNow()
	c.SetReadDeadline(time.Now().Add(e.cfg.JoinTimeout))
	_, b, err := c.ReadMessage(nil)
	if err != nil {
		return
	}
	c.SetReadDeadline(time.Time{})
	m, err := rooms.DecodeClientMsg(b)
	if err == nil && m.Kind != rooms.ClientJoin {
		err = errors.New("the first message must be a join")
	}
	if err != nil {
		refuse(c, rooms.Errorf(rooms.ErrBadMessage, "%v", err))
		return
	}
	room, req, release, jerr := e.resolveJoin(r, m.Join)
	if jerr != nil {
		e.log.Debug("join refused", "remote", r.RemoteAddr, "error", jerr)
		refuse(c, jerr)
		return
	}
	if err := room.Serve(c, req); err != nil {
		release()
		c.Close(netws.StatusPolicyViolation, truncate(err.Error()))
		return
	}
	c.Close(netws.StatusNormalClosure, "")
}

// refuse tells the client why its join failed and closes the connection.
func refuse(c rooms.Conn, err *rooms.Error) {
	c.WriteMessage(netws.Binary, rooms.EncodeError(err.Code, err.Message))
	code := netws.StatusPolicyViolation
	if err.Code == rooms.ErrInternal {
		code = netws.StatusInternalError
	}
	c.Close(code, truncate(err.Message))
}

// truncate fits s in a close frame's reason.
func truncate(s string) string {
	if len(s) <= 120 {
		return s
	}
	s = s[:120]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	return strings.ToValidUTF8(s, "")
}

// RoomDetail is the answer to GET /api/rooms/{id}.
type RoomDetail struct {
	rooms.RoomInfo
	PlayerList []rooms.PlayerInfo `json:"playerList"`
}

func (e *Engine) serveRooms(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	list := make([]rooms.RoomInfo, 0, len(e.rooms))
	for _, room := range e.rooms {
		list = append(list, room.Info())
	}
	e.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	writeJSON(w, http.StatusOK, list)
}

func (e *Engine) serveRoom(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	e.mu.Lock()
	room := e.rooms[id]
	e.mu.Unlock()
	if room == nil {
		httpError(w, http.StatusNotFound, "no room "+strconv.Quote(id))
		return
	}
	writeJSON(w, http.StatusOK, RoomDetail{RoomInfo: room.Info(), PlayerList: room.Roster()})
}

func (e *Engine) serveHealth(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	n, closing := len(e.rooms), e.closing
	e.mu.Unlock()
	status, code := "ok", http.StatusOK
	if closing {
		status, code = "shutting down", http.StatusServiceUnavailable
	}
	health := e.node.health()
	health["status"], health["rooms"] = status, n
	writeJSON(w, code, health)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
