package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/tickwire/tickwire/engine/internal/directory"
	"github.com/tickwire/tickwire/rooms"
)

// Matchmaking runs on every node against the shared room directory: it
// reserves a seat in a room with space on any node, or has the
// least-loaded node create a room, and tells the client where to connect.
// The room's node honours the seat once, before it expires.

// MatchmakeRequest is the optional JSON body of POST /matchmake/{game}.
// An empty body means join or create with no filters.
type MatchmakeRequest struct {
	// Room joins this room by id (private rooms too) instead of choosing.
	Room string `json:"room,omitempty"`

	// Create always opens a new room, with Metadata and Private.
	Create bool `json:"create,omitempty"`

	// Filters limits join-or-create to rooms whose metadata has these
	// values; a room created because none matched gets them.
	Filters map[string]string `json:"filters,omitempty"`

	// Metadata is the metadata of a room this request creates, besides
	// Filters.
	Metadata map[string]string `json:"metadata,omitempty"`

	// Private makes the room Create opens joinable by id only.
	Private bool `json:"private,omitempty"`
}

// MatchmakeResponse is the answer to POST /matchmake/{game}.
type MatchmakeResponse struct {
	Room    string    `json:"room"`    // the room's id
	Seat    string    `json:"seat"`    // seat token for the join message
	URL     string    `json:"url"`     // WebSocket URL to connect to
	Node    string    `json:"node"`    // the node hosting the room
	Expires time.Time `json:"expires"` // the seat is released after this
}

// Limits on a matchmaking request's body.
const (
	maxMatchmakeBody = 16 << 10
	maxMetadata      = 32  // entries in Filters and Metadata together
	maxMetadataLen   = 256 // bytes in a key or a value
	matchmakeTimeout = 10 * time.Second
)

// matchError is a matchmaking failure and the HTTP status it answers.
type matchError struct {
	status int
	msg    string
}

func matchErrorf(status int, format string, args ...any) *matchError {
	return &matchError{status, fmt.Sprintf(format, args...)}
}

// serveMatchmake answers POST /matchmake/{game}.
func (e *Engine) serveMatchmake(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("game")
	req, merr := decodeMatchmake(r)
	if merr == nil {
		ctx, cancel := context.WithTimeout(r.Context(), matchmakeTimeout)
		var seat directory.Seat
		seat, merr = e.matchmake(ctx, name, req)
		cancel()
		if merr == nil {
			url := seat.URL
			if seat.Node == e.node.id {
				url = e.wsURL(r)
			}
			writeJSON(w, http.StatusOK, MatchmakeResponse{Room: seat.Room, Seat: seat.Token, URL: url, Node: seat.Node, Expires: seat.Expires})
			return
		}
	}
	e.log.Debug("matchmaking failed", "game", name, "status", merr.status, "error", merr.msg)
	httpError(w, merr.status, merr.msg)
}

// decodeMatchmake reads and checks the request body, if any.
func decodeMatchmake(r *http.Request) (MatchmakeRequest, *matchError) {
	var req MatchmakeRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxMatchmakeBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && err != io.EOF {
		return req, matchErrorf(http.StatusBadRequest, "request body: %v; want a JSON object with room, create, filters, metadata or private, or no body", err)
	}
	switch {
	case req.Room != "" && (req.Create || len(req.Filters) > 0):
		return req, matchErrorf(http.StatusBadRequest, "room joins a room by id: it takes no create or filters")
	case req.Private && !req.Create:
		return req, matchErrorf(http.StatusBadRequest, "private applies to a room being created: add \"create\": true")
	case len(req.Metadata) > 0 && req.Room != "":
		return req, matchErrorf(http.StatusBadRequest, "metadata applies to a room being created, not to a join by id")
	case len(req.Filters)+len(req.Metadata) > maxMetadata:
		return req, matchErrorf(http.StatusBadRequest, "%d filters and metadata entries: at most %d", len(req.Filters)+len(req.Metadata), maxMetadata)
	}
	for _, m := range []map[string]string{req.Filters, req.Metadata} {
		for k, v := range m {
			if k == "" || len(k) > maxMetadataLen || len(v) > maxMetadataLen {
				return req, matchErrorf(http.StatusBadRequest, "metadata key %q: keys must be 1 to %d bytes and values at most %d", k, maxMetadataLen, maxMetadataLen)
			}
		}
	}
	return req, nil
}

// matchmake reserves a seat for a player of game as req asks.
func (e *Engine) matchmake(ctx context.Context, name string, req MatchmakeRequest) (directory.Seat, *matchError) {
	e.mu.Lock()
	closing, local := e.closing, e.games[name]
	e.mu.Unlock()
	if closing {
		return directory.Seat{}, matchErrorf(http.StatusServiceUnavailable, "server shutting down")
	}
	n := e.node
	if err := n.ready(ctx); err != nil {
		return directory.Seat{}, unavailable(err)
	}
	if local == nil {
		if merr := e.checkGame(ctx, name); merr != nil {
			return directory.Seat{}, merr
		}
	}
	switch {
	case req.Room != "":
		s, err := n.dir.Claim(ctx, directory.Query{Game: name, Room: req.Room, Self: n.id, SeatTTL: e.cfg.SeatTTL})
		switch {
		case errors.Is(err, directory.ErrRoomNotFound):
			return s, matchErrorf(http.StatusNotFound, "no room %q of game %q", req.Room, name)
		case errors.Is(err, directory.ErrRoomFull):
			return s, matchErrorf(http.StatusConflict, "room %s is full", req.Room)
		case errors.Is(err, directory.ErrRoomLocked):
			return s, matchErrorf(http.StatusConflict, "room %s is locked", req.Room)
		}
		return s, unavailable(err)
	case req.Create:
		return e.place(ctx, name, local, req.Metadata, req.Private)
	}
	meta := make(map[string]string, len(req.Filters)+len(req.Metadata))
	for k, v := range req.Metadata {
		meta[k] = v
	}
	for k, v := range req.Filters {
		meta[k] = v
	}
	q := directory.Query{
		Game: name, Self: n.id, Filters: req.Filters, SeatTTL: e.cfg.SeatTTL,
		Lock: uuid.NewString(), LockTTL: 2*n.opts.CreateTimeout + time.Second,
	}
	for {
		s, err := n.dir.Claim(ctx, q)
		switch {
		case errors.Is(err, directory.ErrCreate):
			s, merr := e.place(ctx, name, local, meta, false)
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			n.dir.Unlock(uctx, q)
			cancel()
			return s, merr
		case errors.Is(err, directory.ErrBusy):
			// Another matchmaker is creating a room for this query: its
			// free seats are ours to claim in a moment.
			select {
			case <-ctx.Done():
				return s, matchErrorf(http.StatusServiceUnavailable, "timed out waiting for a room of game %q to be created; try again", name)
			case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
			}
			continue
		}
		return s, unavailable(err)
	}
}

// checkGame answers 404 unless some live node serves the game.
func (e *Engine) checkGame(ctx context.Context, name string) *matchError {
	nodes, err := e.node.dir.Nodes(ctx)
	if err != nil {
		return unavailable(err)
	}
	all := map[string]bool{}
	e.mu.Lock()
	for g := range e.games {
		all[g] = true
	}
	e.mu.Unlock()
	for _, n := range nodes {
		for _, g := range n.Games {
			if g == name {
				return nil
			}
			all[g] = true
		}
	}
	names := make([]string, 0, len(all))
	for g := range all {
		names = append(names, g)
	}
	sort.Strings(names)
	return matchErrorf(http.StatusNotFound, "no game %s; registered: %s", strconv.Quote(name), strings.Join(names, ", "))
}

// unavailable maps a directory error to 503 with its reason; nil stays nil.
func unavailable(err error) *matchError {
	if err == nil {
		return nil
	}
	return matchErrorf(http.StatusServiceUnavailable, "%v; try again shortly", err)
}

// place creates a room of the game on the least-loaded live node that
// serves it, with a seat reserved in it. local is this node's game, or nil
// if it does not serve it. A node that does not answer in CreateTimeout is
// passed over; this node, if it serves the game, is the last resort.
func (e *Engine) place(ctx context.Context, name string, local *game, meta map[string]string, private bool) (directory.Seat, *matchError) {
	n := e.node
	var exclude []string
	// A placement outlives the creation and the heartbeat that follows.
	placementTTL := n.opts.CreateTimeout + n.opts.Expiry
	for range 3 {
		target, placement, err := n.dir.PickNode(ctx, name, n.id, local != nil, placementTTL, exclude...)
		if errors.Is(err, directory.ErrNoNode) {
			break
		}
		if err != nil {
			return directory.Seat{}, unavailable(err)
		}
		if target.ID == n.id {
			s, err := e.createHere(ctx, local, meta, private, e.cfg.SeatTTL, placement)
			return s, unavailable(err)
		}
		cctx, cancel := context.WithTimeout(ctx, n.opts.CreateTimeout)
		s, err := n.dir.RequestRoom(cctx, target.ID, directory.CreateRequest{Game: name, Metadata: meta, Private: private, SeatTTL: e.cfg.SeatTTL, Placement: placement})
		cancel()
		if err == nil {
			return s, nil
		}
		n.log.Warn("another node did not create a room; trying elsewhere", "node", target.ID, "game", name, "error", err)
		exclude = append(exclude, target.ID)
	}
	if local != nil {
		s, err := e.createHere(ctx, local, meta, private, e.cfg.SeatTTL, "")
		return s, unavailable(err)
	}
	return directory.Seat{}, matchErrorf(http.StatusServiceUnavailable, "no live node could create a room of game %q; try again shortly", name)
}

// createHere starts a room of g on this node and registers it in the
// directory with a seat reserved for seatTTL. placement is PickNode's
// token if the room was placed here, or "".
func (e *Engine) createHere(ctx context.Context, g *game, meta map[string]string, private bool, seatTTL time.Duration, placement string) (directory.Seat, error) {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return directory.Seat{}, errors.New("server shutting down")
	}
	r, err := e.createRoom(g)
	if err != nil {
		e.mu.Unlock()
		return directory.Seat{}, fmt.Errorf("creating a room of game %q: %w", g.name, err)
	}
	hr := e.node.host(r, g, meta, private, placement)
	e.mu.Unlock()
	return e.node.addRoom(ctx, hr, seatTTL)
}

// resolveJoin finds the room a join message asks for and holds a seat in
// it: by seat token, by room id (with a reconnect token: the player's own
// seat), or by game (join or create, on this node). release frees the seat
// again if the room refuses the join.
func (e *Engine) resolveJoin(r *http.Request, req rooms.JoinRequest) (room *rooms.Room, _ rooms.JoinRequest, release func(), _ *rooms.Error) {
	if e.cfg.Auth != nil {
		name, err := e.cfg.Auth(r, req)
		if err != nil {
			return nil, req, nil, rooms.Errorf(rooms.ErrUnauthorized, "%v", err)
		}
		req.Name = name
	}
	e.mu.Lock()
	closing, g := e.closing, e.games[req.Game]
	if req.Room != "" && req.Reconnect != "" {
		room = e.rooms[req.Room]
	}
	e.mu.Unlock()
	if closing {
		return nil, req, nil, rooms.Errorf(rooms.ErrRoomClosed, "server shutting down")
	}
	ctx, cancel := context.WithTimeout(r.Context(), matchmakeTimeout)
	defer cancel()
	n := e.node
	switch {
	case req.Seat != "":
		room, release, jerr := n.take(ctx, req.Seat)
		return room, req, release, jerr
	case req.Room != "" && req.Reconnect != "":
		if room == nil {
			return nil, req, nil, rooms.Errorf(rooms.ErrRoomNotFound, "no room %q on this server", req.Room)
		}
		return room, req, func() {}, nil // the player's seat is still held
	case req.Room != "":
		s, err := n.dir.Claim(ctx, directory.Query{Room: req.Room, Node: n.id, Self: n.id, SeatTTL: e.cfg.JoinTimeout})
		var ee *directory.ElsewhereError
		switch {
		case errors.As(err, &ee):
			return nil, req, nil, rooms.Errorf(rooms.ErrRoomNotFound, "room %s is on node %s; connect to %s", ee.Room, ee.Node, ee.URL)
		case errors.Is(err, directory.ErrRoomNotFound):
			return nil, req, nil, rooms.Errorf(rooms.ErrRoomNotFound, "no room %q on this server", req.Room)
		case errors.Is(err, directory.ErrRoomFull):
			return nil, req, nil, rooms.Errorf(rooms.ErrRoomFull, "room %s is full", req.Room)
		case errors.Is(err, directory.ErrRoomLocked):
			return nil, req, nil, rooms.Errorf(rooms.ErrJoinRefused, "room %s is locked", req.Room)
		case err != nil:
			return nil, req, nil, rooms.Errorf(rooms.ErrInternal, "%v; try again shortly", err)
		}
		room, release, jerr := n.take(ctx, s.Token)
		return room, req, release, jerr
	case req.Reconnect != "":
		return nil, req, nil, rooms.Errorf(rooms.ErrInvalidRequest, "a reconnect needs the room id from the welcome")
	case req.Game != "":
		if g == nil {
			e.mu.Lock()
			names := e.gameNames()
			e.mu.Unlock()
			return nil, req, nil, rooms.Errorf(rooms.ErrGameNotFound, "no game %q; registered: %s", req.Game, names)
		}
		s, err := e.joinOrCreateHere(ctx, g)
		if err != nil {
			return nil, req, nil, rooms.Errorf(rooms.ErrInternal, "%v; try again shortly", err)
		}
		room, release, jerr := n.take(ctx, s.Token)
		return room, req, release, jerr
	}
	return nil, req, nil, rooms.Errorf(rooms.ErrInvalidRequest, "a join needs a game, a room, or a seat token")
}

// joinOrCreateHere reserves a seat in a room of g on this node with
// space, creating a room when none has. Joins by game never leave the
// node they arrive at.
func (e *Engine) joinOrCreateHere(ctx context.Context, g *game) (directory.Seat, error) {
	n := e.node
	n.createMu.Lock()
	defer n.createMu.Unlock()
	s, err := n.dir.Claim(ctx, directory.Query{Game: g.name, Node: n.id, Self: n.id, SeatTTL: e.cfg.JoinTimeout})
	if errors.Is(err, directory.ErrNoRoom) {
		return e.createHere(ctx, g, nil, false, e.cfg.JoinTimeout, "")
	}
	return s, err
}

// gameNames lists the registered games. The caller holds e.mu.
func (e *Engine) gameNames() string {
	names := make([]string, 0, len(e.games))
	for n := range e.games {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
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
