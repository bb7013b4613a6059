package directory

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Node is a live node as the directory knows it.
type Node struct {
	ID    string   `json:"id"`
	URL   string   `json:"url"`   // the WebSocket URL players connect to; "" while unknown
	Games []string `json:"games"` // the games it can create rooms of
	Load  int      `json:"load"`  // the rooms it hosts, as of its last heartbeat, plus rooms placed on it (PickNode) that no heartbeat has listed yet
}

// Room is a room as the directory knows it.
type Room struct {
	ID       string            `json:"id"`
	Game     string            `json:"game"`
	Node     string            `json:"node"`
	Capacity int               `json:"capacity"` // 0: no limit
	Players  int               `json:"players"`  // seated, as of the node's last heartbeat
	Seats    int               `json:"seats"`    // taken: held by players and reserved by matchmaking
	Private  bool              `json:"private"`  // joinable by id only
	Locked   bool              `json:"locked"`   // takes no new players
	Metadata map[string]string `json:"metadata,omitempty"`
}

// HostedRoom is what a node tells the directory about one of its rooms.
type HostedRoom struct {
	Room
	// Held lists the seat tokens of the room's seated and arriving
	// players. It is used only when the directory has lost the room (it
	// expired while the node could not reach Redis) and has to re-create
	// it.
	Held []string
	// Placement is the token PickNode gave when it placed the room on
	// this node, or "" for a room the node created by itself. The first
	// announcement that lists the room retires the placement, which until
	// then counts in the node's load.
	Placement string
}

// Announce registers node and its rooms, or refreshes their expiry: it is
// the node's heartbeat. Room fields that can change (players, locked) are
// updated; a room the directory has lost is re-created. node.Load is the
// number of rooms listed: placements of rooms not among them keep counting
// on top of it, so that a room placed on the node while the heartbeat was
// on its way is not forgotten.
func (d *Directory) Announce(ctx context.Context, node Node, rooms []HostedRoom) error {
	ttl := ms(d.expiry)
	var placements []string
	for _, r := range rooms {
		if r.Placement != "" {
			placements = append(placements, r.Placement)
		}
	}
	args := append([]any{d.prefix, node.ID, node.URL, node.Load, ttl, len(placements)}, strs(placements)...)
	args = append(args, strs(node.Games)...)
	return d.pipeline(ctx, func(p redis.Pipeliner) {
		syncNodeScript.EvalSha(ctx, p, nil, args...)
		for _, r := range rooms {
			syncRoomScript.EvalSha(ctx, p, nil, append([]any{d.prefix}, roomArgs(r, ttl, "", 0)...)...)
		}
	})
}

// AddRoom registers a room its node has just created and reserves a first
// seat in it for seatTTL. It returns the seat; its URL is left for the
// caller to fill in.
func (d *Directory) AddRoom(ctx context.Context, r HostedRoom, seatTTL time.Duration) (Seat, error) {
	if seatTTL <= 0 {
		return Seat{}, fmt.Errorf("directory: AddRoom needs a seat TTL, got %v", seatTTL)
	}
	s := Seat{Token: r.ID + "." + newRandom(), Room: r.ID, Node: r.Node}
	v, err := d.run(ctx, syncRoomScript, roomArgs(r, ms(d.expiry), s.Token, ms(seatTTL))...)
	if err != nil {
		return Seat{}, err
	}
	if exp := asReply(v).int(1); exp > 0 {
		s.Expires = time.UnixMilli(exp)
	}
	return s, nil
}

// roomArgs lays out syncRoomScript's arguments after the prefix.
func roomArgs(r HostedRoom, ttl int64, token string, seatTTL int64) []any {
	args := []any{r.ID, r.Game, r.Node, r.Capacity, flag(r.Private), flag(r.Locked), r.Players, ttl, token, seatTTL, len(r.Metadata)}
	keys := make([]string, 0, len(r.Metadata))
	for k := range r.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, k, r.Metadata[k])
	}
	for _, t := range r.Held {
		args = append(args, t)
	}
	return args
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// RemoveRooms deletes rooms that have ended.
func (d *Directory) RemoveRooms(ctx context.Context, ids ...string) error {
	_, err := d.run(ctx, removeScript, append([]any{""}, strs(ids)...)...)
	return err
}

// RemoveNode deletes a node and the rooms it lists, at once: a node that
// shuts down gracefully calls it so that no player is sent to it again.
func (d *Directory) RemoveNode(ctx context.Context, id string, rooms []string) error {
	_, err := d.run(ctx, removeScript, append([]any{id}, strs(rooms)...)...)
	return err
}

func strs(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// PickNode chooses the node to create a room of game on: the live node
// serving it with the lowest load, self on a tie. selfServes says whether
// the calling node (self) serves the game; nodes in exclude are skipped.
// It returns ErrNoNode when none qualifies.
//
// The room about to be created counts in the chosen node's load from now
// on, so that concurrent creations spread out: PickNode returns the token
// of this placement, which the node that creates the room puts in the
// room's HostedRoom.Placement. A placement no heartbeat has listed within
// ttl (the creation failed) stops counting.
func (d *Directory) PickNode(ctx context.Context, game, self string, selfServes bool, ttl time.Duration, exclude ...string) (Node, string, error) {
	placement := newRandom()
	v, err := d.run(ctx, pickNodeScript, append([]any{game, self, flag(selfServes), placement, ms(ttl)}, strs(exclude)...)...)
	if err != nil {
		return Node{}, "", err
	}
	r := asReply(v)
	if len(r) < 2 {
		return Node{}, "", ErrNoNode
	}
	return Node{ID: r.str(0), URL: r.str(1)}, placement, nil
}

// Nodes lists the live nodes, by id.
func (d *Directory) Nodes(ctx context.Context) ([]Node, error) {
	ids, err := d.rdb.SMembers(ctx, d.prefix+"nodes").Result()
	if err != nil {
		return nil, d.wrap(err)
	}
	now, err := d.rdb.Time(ctx).Result()
	if err != nil {
		return nil, d.wrap(err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	placed := make([]*redis.IntCmd, len(ids))
	_, err = d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, d.prefix+"node:"+id)
			placed[i] = p.ZCount(ctx, d.prefix+"placed:"+id, "("+strconv.FormatInt(now.UnixMilli(), 10), "+inf")
		}
		return nil
	})
	if err != nil {
		return nil, d.wrap(err)
	}
	var nodes []Node
	for i, c := range cmds {
		h := c.Val()
		if h["id"] == "" {
			continue // expired
		}
		load, _ := strconv.Atoi(h["load"])
		n := Node{ID: h["id"], URL: h["url"], Load: load + int(placed[i].Val())}
		for k := range h {
			if g, ok := strings.CutPrefix(k, "g:"); ok {
				n.Games = append(n.Games, g)
			}
		}
		sort.Strings(n.Games)
		nodes = append(nodes, n)
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	return nodes, nil
}

// Rooms lists the live rooms (those whose node is alive too), by id.
func (d *Directory) Rooms(ctx context.Context) ([]Room, error) {
	ids, err := d.rdb.SMembers(ctx, d.prefix+"rooms").Result()
	if err != nil {
		return nil, d.wrap(err)
	}
	type cmds struct {
		room          *redis.MapStringStringCmd
		pending, held *redis.IntCmd
	}
	cs := make([]cmds, len(ids))
	now, err := d.rdb.Time(ctx).Result()
	if err != nil {
		return nil, d.wrap(err)
	}
	_, err = d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cs[i].room = p.HGetAll(ctx, d.prefix+"room:"+id)
			cs[i].pending = p.ZCount(ctx, d.prefix+"pending:"+id, "("+strconv.FormatInt(now.UnixMilli(), 10), "+inf")
			cs[i].held = p.SCard(ctx, d.prefix+"held:"+id)
		}
		return nil
	})
	if err != nil {
		return nil, d.wrap(err)
	}
	live := map[string]bool{}
	nodes, err := d.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		live[n.ID] = true
	}
	var list []Room
	for _, c := range cs {
		h := c.room.Val()
		if h["id"] == "" || !live[h["node"]] {
			continue
		}
		r := Room{ID: h["id"], Game: h["game"], Node: h["node"], Private: h["private"] == "1", Locked: h["locked"] == "1"}
		r.Capacity, _ = strconv.Atoi(h["cap"])
		r.Players, _ = strconv.Atoi(h["players"])
		r.Seats = int(c.pending.Val() + c.held.Val())
		for k, v := range h {
			if m, ok := strings.CutPrefix(k, "m:"); ok {
				if r.Metadata == nil {
					r.Metadata = map[string]string{}
				}
				r.Metadata[m] = v
			}
		}
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list, nil
}

// pipeline runs the script calls fn queues (with EvalSha) in one round
// trip, loading the scripts first if the server has forgotten them (a
// restarted Redis has).
func (d *Directory) pipeline(ctx context.Context, fn func(redis.Pipeliner)) error {
	for attempt := 0; ; attempt++ {
		cmds, err := d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { fn(p); return nil })
		if err == nil {
			return nil
		}
		noScript := false
		for _, c := range cmds {
			if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
				noScript = true
			}
		}
		if !noScript || attempt > 0 {
			return d.wrap(err)
		}
		for _, s := range []*redis.Script{syncNodeScript, syncRoomScript} {
			if err := s.Load(ctx, d.rdb).Err(); err != nil {
				return d.wrap(err)
			}
		}
	}
}
