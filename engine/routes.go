package engine

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
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
	room, req, jerr := e.resolveJoin(r, m.Join)
	if jerr != nil {
		e.log.Debug("join refused", "remote", r.RemoteAddr, "error", jerr)
		refuse(c, jerr)
		return
	}
	if err := room.Serve(c, req); err != nil {
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

// resolveJoin finds the room a join message asks for: by seat token, by
// reconnect token and room, by room id, or by game (join or create).
func (e *Engine) resolveJoin(r *http.Request, req rooms.JoinRequest) (*rooms.Room, rooms.JoinRequest, *rooms.Error) {
	if e.cfg.Auth != nil {
		name, err := e.cfg.Auth(r, req)
		if err != nil {
			return nil, req, rooms.Errorf(rooms.ErrUnauthorized, "%v", err)
		}
		req.Name = name
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		return nil, req, rooms.Errorf(rooms.ErrRoomClosed, "server shutting down")
	}
	switch {
	case req.Seat != "":
		s, ok := e.seats[req.Seat]
		delete(e.seats, req.Seat)
		if !ok || time.Now().After(s.expires) {
			if ok {
				e.reserved[s.room]--
			}
			return nil, req, rooms.Errorf(rooms.ErrBadSeat, "seat token unknown or expired; matchmake again")
		}
		e.reserved[s.room]--
		room := e.rooms[s.room]
		if room == nil {
			return nil, req, rooms.Errorf(rooms.ErrRoomNotFound, "room %s has closed; matchmake again", s.room)
		}
		return room, req, nil
	case req.Room != "":
		room := e.rooms[req.Room]
		if room == nil {
			return nil, req, rooms.Errorf(rooms.ErrRoomNotFound, "no room %q on this server", req.Room)
		}
		return room, req, nil
	case req.Reconnect != "":
		return nil, req, rooms.Errorf(rooms.ErrInvalidRequest, "a reconnect needs the room id from the welcome")
	case req.Game != "":
		g := e.games[req.Game]
		if g == nil {
			return nil, req, rooms.Errorf(rooms.ErrGameNotFound, "no game %q; registered: %s", req.Game, e.gameNames())
		}
		room, err := e.findOrCreate(g)
		if err != nil {
			return nil, req, rooms.Errorf(rooms.ErrInternal, "creating a room: %v", err)
		}
		return room, req, nil
	}
	return nil, req, rooms.Errorf(rooms.ErrInvalidRequest, "a join needs a game, a room, or a seat token")
}

// findOrCreate returns a room of g with a free seat, creating one if
// none has. The caller holds e.mu.
func (e *Engine) findOrCreate(g *game) (*rooms.Room, error) {
	var best *rooms.Room
	bestPlayers := -1
	for _, r := range e.rooms {
		if r.GameName() != g.name {
			continue
		}
		info := r.Info()
		taken := info.Players + e.reserved[r.ID()]
		if info.MaxPlayers > 0 && taken >= info.MaxPlayers {
			continue
		}
		// Fill the fullest room first, so rooms start with company.
		if taken > bestPlayers || (taken == bestPlayers && r.ID() < best.ID()) {
			best, bestPlayers = r, taken
		}
	}
	if best != nil {
		return best, nil
	}
	return e.createRoom(g)
}

func (e *Engine) gameNames() string {
	names := make([]string, 0, len(e.games))
	for n := range e.games {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// MatchmakeResponse is the answer to POST /matchmake/{game}.
type MatchmakeResponse struct {
	Room    string    `json:"room"`    // the room's id
	Seat    string    `json:"seat"`    // seat token for the join message
	URL     string    `json:"url"`     // WebSocket URL to connect to
	Expires time.Time `json:"expires"` // the seat is released after this
}

// serveMatchmake reserves a seat in a room of the game with space,
// creating a room when none has: join or create on this node.
func (e *Engine) serveMatchmake(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("game")
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		httpError(w, http.StatusServiceUnavailable, "server shutting down")
		return
	}
	g := e.games[name]
	if g == nil {
		names := e.gameNames()
		e.mu.Unlock()
		httpError(w, http.StatusNotFound, "no game "+strconv.Quote(name)+"; registered: "+names)
		return
	}
	e.expireSeats(time.Now())
	room, err := e.findOrCreate(g)
	if err != nil {
		e.mu.Unlock()
		httpError(w, http.StatusInternalServerError, "creating a room: "+err.Error())
		return
	}
	token := uuid.NewString()
	expires := time.Now().Add(e.cfg.SeatTTL)
	e.seats[token] = seat{room: room.ID(), expires: expires}
	e.reserved[room.ID()]++
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, MatchmakeResponse{Room: room.ID(), Seat: token, URL: e.wsURL(r), Expires: expires})
}

// expireSeats releases reservations past their expiry. The caller holds e.mu.
func (e *Engine) expireSeats(now time.Time) {
	for token, s := range e.seats {
		if now.After(s.expires) {
			delete(e.seats, token)
			e.reserved[s.room]--
		}
	}
}

// wsURL is the WebSocket URL clients of this server connect to.
func (e *Engine) wsURL(r *http.Request) string {
	if e.cfg.PublicURL != "" {
		return e.cfg.PublicURL
	}
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	return scheme + "://" + r.Host + "/ws"
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
	writeJSON(w, code, map[string]any{"status": status, "rooms": n})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
