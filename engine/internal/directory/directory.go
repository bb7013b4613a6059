package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Keys, under Options.Prefix (P):
//
//	P nodes             set of node ids (members may have expired)
//	P node:{id}         hash: id, url, load, and "g:"+name for each game
//	                    it serves; expires
//	P rooms             set of room ids (members may have expired)
//	P game:{game}       set of the game's room ids (members may have expired)
//	P room:{id}         hash: id, game, node, cap, private, locked, players,
//	                    and "m:"+key for each metadata entry; expires
//	P pending:{id}      sorted set: seat tokens reserved by matchmaking,
//	                    scored by their expiry in Unix ms; expires with the room
//	P held:{id}         set: seat tokens of seated (or arriving) players;
//	                    expires with the room
//	P lock:{game}:{key} a matchmaker creating a room for these filters
//	P create:{node}     pub/sub channel: requests to create a room on node
//	P reply:{request}   list: the answer to a creation request
//
// The seats a room has taken are its pending and its held tokens together.
// A seat token is "{room}.{random}", so it says which room it is for.

// Defaults for zero Options fields.
const (
	DefaultPrefix = "tickwire:"
	DefaultExpiry = 3 * time.Second
)

// Options configures a Directory. The zero value is an embedded directory
// with the default prefix and expiry.
type Options struct {
	// URL is the Redis server, as redis://[user:password@]host:port/db
	// (rediss:// for TLS, unix:///path.sock). "" means an embedded
	// in-process Redis, private to this process.
	URL string

	// Prefix starts every key, so that several clusters (or test runs)
	// can share one Redis. "" means DefaultPrefix.
	Prefix string

	// Expiry is how long a node's entries outlive its last heartbeat.
	// 0 means DefaultExpiry.
	Expiry time.Duration
}

// Directory is a connection to the room directory. It is safe for
// concurrent use.
type Directory struct {
	rdb    *redis.Client
	prefix string
	expiry time.Duration
	addr   string               // for messages: host:port, or "embedded"
	mini   *miniredis.Miniredis // the embedded server, if any
}

// Errors the directory returns. Network and server errors are wrapped in
// an *UnavailableError instead.
var (
	// ErrNoRoom: no room matched a join-or-create query, and the query did
	// not ask for the creation lock.
	ErrNoRoom = errors.New("directory: no room with a free seat")
	// ErrCreate: no room matched, and the caller now holds the creation
	// lock: it should create a room, then call Unlock.
	ErrCreate = errors.New("directory: no room with a free seat; create one")
	// ErrBusy: no room matched, and another matchmaker is creating one
	// for the same query: try again shortly.
	ErrBusy = errors.New("directory: a room is being created; try again shortly")
	// ErrRoomNotFound: no live room with that id (of that game).
	ErrRoomNotFound = errors.New("directory: no such room")
	// ErrRoomFull: the room has no free seat.
	ErrRoomFull = errors.New("directory: room is full")
	// ErrRoomLocked: the room takes no new players.
	ErrRoomLocked = errors.New("directory: room is locked")
	// ErrSeatUnknown: the seat token was never issued, was used, or expired.
	ErrSeatUnknown = errors.New("directory: seat token unknown, used or expired")
	// ErrNoNode: no live node serves the game.
	ErrNoNode = errors.New("directory: no live node serves this game")
)

// ElsewhereError says that a room (and so a seat in it) belongs to another
// node than the one asking.
type ElsewhereError struct {
	Room, Node, URL string
}

func (e *ElsewhereError) Error() string {
	return fmt.Sprintf("directory: room %s is on node %s (%s)", e.Room, e.Node, e.URL)
}

// UnavailableError says the directory could not be reached or failed.
type UnavailableError struct {
	Addr string // the Redis server, or "embedded"
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("room directory at %s unavailable: %v", e.Addr, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// CheckURL reports whether u is a Redis URL that Open accepts.
func CheckURL(u string) error {
	if u == "" {
		return nil
	}
	if _, err := redis.ParseURL(u); err != nil {
		return fmt.Errorf("redis URL %q: %v (want redis://host:6379/0, rediss://... or unix:///path)", redact(u), err)
	}
	return nil
}

// redact hides the password of a URL, for messages.
func redact(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	return u[:scheme+3] + "***" + u[at:]
}

// Open connects to the directory opts describes, starting the embedded
// Redis when opts.URL is empty. It does not wait for a remote server to
// answer: use Ping for that. Close releases it.
func Open(opts Options) (*Directory, error) {
	d := &Directory{prefix: opts.Prefix, expiry: opts.Expiry}
	if d.prefix == "" {
		d.prefix = DefaultPrefix
	}
	if d.expiry <= 0 {
		d.expiry = DefaultExpiry
	}
	var o *redis.Options
	if opts.URL == "" {
		// The embedded server listens on a loopback port of its own and
		// the client reaches it like any Redis. (Its in-memory pipes are
		// unbuffered: a pipelined request larger than a few kilobytes,
		// such as a busy node's heartbeat, deadlocks on them.) Its keys
		// expire with the wall clock, as a real server's do.
		d.mini = miniredis.NewMiniRedis()
		d.mini.ClockTTL(true)
		if err := d.mini.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("directory: starting the embedded Redis on a loopback port: %w", err)
		}
		d.addr = "embedded"
		o = &redis.Options{Addr: d.mini.Addr()}
	} else {
		if err := CheckURL(opts.URL); err != nil {
			return nil, fmt.Errorf("directory: %w", err)
		}
		o, _ = redis.ParseURL(opts.URL)
		d.addr = o.Addr
	}
	// Callers have their own retry policies (heartbeats, matchmaking), and
	// a blind retry of a script that did run would take a seat twice.
	o.MaxRetries = -1
	o.DialerRetries = 1
	if o.DialTimeout == 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 2 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 2 * time.Second
	}
	o.ContextTimeoutEnabled = true
	o.Protocol = 2
	o.DisableIdentity = true
	d.rdb = redis.NewClient(o)
	return d, nil
}

// Addr returns the Redis server's address, or "embedded".
func (d *Directory) Addr() string { return d.addr }

// Close closes the connections, and stops the embedded server if any.
func (d *Directory) Close() error {
	err := d.rdb.Close()
	if d.mini != nil {
		d.mini.Close()
	}
	return err
}

// Ping checks that the directory answers.
func (d *Directory) Ping(ctx context.Context) error {
	return d.wrap(d.rdb.Ping(ctx).Err())
}

// wrap turns a client error into an *UnavailableError; nil stays nil.
func (d *Directory) wrap(err error) error {
	if err == nil {
		return nil
	}
	return &UnavailableError{Addr: d.addr, Err: err}
}

// run runs a script, loading it if the server does not know it.
func (d *Directory) run(ctx context.Context, s *redis.Script, args ...any) (any, error) {
	v, err := s.Run(ctx, d.rdb, nil, append([]any{d.prefix}, args...)...).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, d.wrap(err)
	}
	return v, nil
}

// ms is d in whole milliseconds, at least 1.
func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// reply is a script's array reply.
type reply []any

func asReply(v any) reply {
	r, _ := v.([]any)
	return r
}

// str returns element i as a string ("" if absent).
func (r reply) str(i int) string {
	if i >= len(r) {
		return ""
	}
	switch v := r[i].(type) {
	case string:
		return v
	case int64:
		return fmt.Sprint(v)
	}
	return ""
}

// int returns element i as an integer (0 if absent).
func (r reply) int(i int) int64 {
	if i >= len(r) {
		return 0
	}
	switch v := r[i].(type) {
	case int64:
		return v
	case string:
		var n int64
		fmt.Sscan(v, &n)
		return n
	}
	return 0
}
