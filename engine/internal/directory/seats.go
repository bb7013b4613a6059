package directory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Seat is a seat in a room, reserved by Claim or held after Take.
type Seat struct {
	Token   string    // what the player presents to the room's node
	Room    string    // the room's id
	Node    string    // the node hosting the room
	URL     string    // that node's WebSocket URL ("" if it has announced none)
	Expires time.Time // a reserved seat is freed after this; zero for a held seat
}

// Query selects the room Claim reserves a seat in.
type Query struct {
	// Game is the game the room must run. With Room set, "" means any.
	Game string
	// Room, if set, is the one room to claim a seat in; private rooms
	// qualify. Otherwise Claim picks, among the game's public, unlocked
	// rooms with a free seat that match Filters, the one with the most
	// seats taken (so rooms fill up before new ones open), then the lowest
	// id.
	Room string
	// Node, if set, limits the search to that node's rooms.
	Node string
	// Self is the calling node. Its rooms qualify even while it has no
	// URL in the directory.
	Self string
	// Filters are metadata entries a room must have, all of them.
	Filters map[string]string
	// SeatTTL is how long the seat stays reserved for its player; more
	// than 0.
	SeatTTL time.Duration
	// Lock, if set, is a value identifying the caller: when no room
	// matches, Claim takes the creation lock for Game and Filters with it
	// (and returns ErrCreate) unless another caller holds it (ErrBusy). The
	// lock lasts LockTTL or until Unlock.
	Lock    string
	LockTTL time.Duration
}

// lockKey names the creation lock of q's game and filters.
func (q Query) lockKey() string {
	keys := make([]string, 0, len(q.Filters))
	for k := range q.Filters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s=%d:%s;", len(k), k, len(q.Filters[k]), q.Filters[k])
	}
	return q.Game + ":" + hex.EncodeToString(h.Sum(nil)[:12])
}

// newRandom returns the random part of a seat token.
func newRandom() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }

// Claim reserves a seat for SeatTTL in the room q selects. With q.Room it
// returns ErrRoomNotFound, ErrRoomLocked, ErrRoomFull or, when q.Node is
// set and the room is elsewhere, an *ElsewhereError; otherwise, when no
// room matches, ErrNoRoom, ErrCreate or ErrBusy (see Query.Lock).
func (d *Directory) Claim(ctx context.Context, q Query) (Seat, error) {
	if q.SeatTTL <= 0 {
		return Seat{}, fmt.Errorf("directory: Claim needs a SeatTTL, got %v", q.SeatTTL)
	}
	lock := ""
	if q.Lock != "" && q.Room == "" {
		lock = q.lockKey()
	}
	args := []any{q.Game, q.Room, q.Node, q.Self, newRandom(), ms(q.SeatTTL), lock, q.Lock, ms(q.LockTTL), len(q.Filters)}
	for k, v := range q.Filters {
		args = append(args, k, v)
	}
	v, err := d.run(ctx, claimScript, args...)
	if err != nil {
		return Seat{}, err
	}
	r := asReply(v)
	switch r.str(0) {
	case "ok":
		return Seat{Room: r.str(1), Node: r.str(2), URL: r.str(3), Token: r.str(4), Expires: time.UnixMilli(r.int(5))}, nil
	case "elsewhere":
		return Seat{}, &ElsewhereError{Room: r.str(1), Node: r.str(2), URL: r.str(3)}
	case "notfound":
		return Seat{}, ErrRoomNotFound
	case "locked":
		return Seat{}, ErrRoomLocked
	case "full":
		return Seat{}, ErrRoomFull
	case "none":
		return Seat{}, ErrNoRoom
	case "create":
		return Seat{}, ErrCreate
	case "busy":
		return Seat{}, ErrBusy
	}
	return Seat{}, d.wrap(fmt.Errorf("claim script answered %v", v))
}

// Unlock releases the creation lock q.Lock holds, if it still does.
func (d *Directory) Unlock(ctx context.Context, q Query) error {
	_, err := d.run(ctx, unlockScript, q.lockKey(), q.Lock)
	return err
}

// RoomOf returns the room a seat token is for, or "" for a malformed one.
func RoomOf(token string) string {
	room, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	return room
}

// Take turns the reserved seat token into a held one, for node, which
// must host its room: a seat is taken once, and only before it expires.
// It returns ErrSeatUnknown, or an *ElsewhereError when the room is on
// another node.
func (d *Directory) Take(ctx context.Context, token, node string) error {
	room := RoomOf(token)
	if room == "" {
		return ErrSeatUnknown
	}
	v, err := d.run(ctx, takeScript, room, token, node)
	if err != nil {
		return err
	}
	r := asReply(v)
	switch r.str(0) {
	case "ok":
		return nil
	case "elsewhere":
		return &ElsewhereError{Room: r.str(1), Node: r.str(2), URL: r.str(3)}
	}
	return ErrSeatUnknown
}

// Release frees seats of a room, reserved or held. Releasing a seat twice
// is harmless.
func (d *Directory) Release(ctx context.Context, room string, tokens ...string) error {
	if len(tokens) == 0 {
		return nil
	}
	_, err := d.run(ctx, releaseScript, append([]any{room}, strs(tokens)...)...)
	return err
}
