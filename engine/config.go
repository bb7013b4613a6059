package engine

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
)

// Config configures an Engine. The zero value serves on 127.0.0.1:8080
// with default room and connection options.
type Config struct {
	// Addr is the listen address. "" means "127.0.0.1:8080".
	Addr string

	// PublicURL is the WebSocket URL clients are told to connect to, e.g.
	// "wss://eu1.example.com/ws". "" means derived from each request.
	PublicURL string

	// TLSCertFile and TLSKeyFile, when both set, make ListenAndServe serve
	// HTTPS and wss.
	TLSCertFile, TLSKeyFile string

	// Logger receives the engine's logs; nil means an hclog logger at
	// LogLevel on standard error, in JSON when LogJSON is set.
	Logger   hclog.Logger
	LogLevel string // trace, debug, info (default), warn, error
	LogJSON  bool

	// Rooms holds the defaults for rooms of games registered without
	// options of their own.
	Rooms rooms.RoomOptions

	// Conn configures player connections. Zero fields get engine
	// defaults: a 64 KiB read limit and an RTT ping every second.
	Conn netws.ConnOptions

	// OriginPatterns lists the browser origins allowed besides the
	// server's own host (see netws.UpgradeOptions).
	OriginPatterns []string

	// Auth, if set, is asked about every join: it returns the player's
	// name, or an error to refuse the join.
	Auth AuthFunc

	// SeatTTL is how long a seat reserved by matchmaking waits for its
	// player. 0 means 30 s.
	SeatTTL time.Duration

	// JoinTimeout bounds the wait for a new connection's join message.
	// 0 means 10 s.
	JoinTimeout time.Duration

	// Monitor configures the monitoring routes and metrics: off, behind a
	// token, or on an admin address of their own. See MonitorConfig.
	Monitor MonitorConfig

	// Redis is the URL of the Redis server holding the room directory
	// that the nodes of a cluster share, e.g. redis://10.0.0.5:6379/0
	// (rediss:// for TLS). "" means an embedded in-process directory: a
	// cluster of one node.
	Redis string

	// Directory configures this node's identity and heartbeats in the
	// room directory.
	Directory DirectoryOptions
}

// AuthFunc validates a join. r is the WebSocket upgrade request and join
// the client's join message (its Token field carries a credential). It
// returns the player's display name, or an error whose text the client sees.
type AuthFunc func(r *http.Request, join rooms.JoinRequest) (name string, err error)

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Conn.ReadLimit == 0 {
		c.Conn.ReadLimit = 64 << 10
	}
	if c.Conn.PingInterval == 0 {
		c.Conn.PingInterval = time.Second
	}
	if c.SeatTTL <= 0 {
		c.SeatTTL = 30 * time.Second
	}
	if c.JoinTimeout <= 0 {
		c.JoinTimeout = 10 * time.Second
	}
	return c
}

// Validate reports the first setting out of its accepted range, naming it.
func (c Config) Validate() error {
	if hclog.LevelFromString(c.LogLevel) == hclog.NoLevel && c.LogLevel != "" {
		return fmt.Errorf("log level %q: want trace, debug, info, warn or error", c.LogLevel)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("TLS needs both a certificate file and a key file")
	}
	if r := c.Rooms.TickRate; r < 0 || r > 1000 {
		return fmt.Errorf("tick rate %d: want 1 to 1000", r)
	}
	if c.Rooms.MaxPlayers < 0 {
		return fmt.Errorf("max players %d: want 0 (no limit) or more", c.Rooms.MaxPlayers)
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "ws://") && !strings.HasPrefix(c.PublicURL, "wss://") {
		return fmt.Errorf("public URL %q: want a ws:// or wss:// URL", c.PublicURL)
	}
	if err := c.Monitor.validate(); err != nil {
		return err
	}
	if err := c.Directory.validate(c.Redis); err != nil {
		return err
	}
	return nil
}

// Flags binds the common settings to fs, each with an environment
// variable as its default (TICKWIRE_ADDR, TICKWIRE_TICK_RATE, ...), and
// returns a function that applies the parsed values to c and validates
// them. A bad value, from a flag or the environment, is an error that
// names the setting and its accepted range.
func (c *Config) Flags(fs *flag.FlagSet, getenv func(string) string) func() error {
	if getenv == nil {
		getenv = os.Getenv
	}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	addr := fs.String("addr", env("TICKWIRE_ADDR", "127.0.0.1:8080"), "listen address (env TICKWIRE_ADDR)")
	public := fs.String("public-url", env("TICKWIRE_PUBLIC_URL", ""), "WebSocket URL announced to clients, e.g. wss://host/ws (env TICKWIRE_PUBLIC_URL)")
	tickRate := fs.String("tick-rate", env("TICKWIRE_TICK_RATE", strconv.Itoa(max(c.Rooms.TickRate, rooms.DefaultTickRate))), "room ticks per second, 1-1000 (env TICKWIRE_TICK_RATE)")
	logLevel := fs.String("log-level", env("TICKWIRE_LOG_LEVEL", "info"), "trace, debug, info, warn or error (env TICKWIRE_LOG_LEVEL)")
	logJSON := fs.String("log-json", env("TICKWIRE_LOG_JSON", "false"), "log in JSON: true or false (env TICKWIRE_LOG_JSON)")
	cert := fs.String("tls-cert", env("TICKWIRE_TLS_CERT", ""), "TLS certificate file, for https and wss (env TICKWIRE_TLS_CERT)")
	key := fs.String("tls-key", env("TICKWIRE_TLS_KEY", ""), "TLS key file (env TICKWIRE_TLS_KEY)")
	applyMonitor := c.Monitor.flags(fs, env)
	redis := fs.String("redis", env("TICKWIRE_REDIS", ""), "Redis URL of the room directory a cluster's nodes share, e.g. redis://127.0.0.1:6379/0; empty: embedded, one node (env TICKWIRE_REDIS)")
	nodeID := fs.String("node-id", env("TICKWIRE_NODE_ID", c.Directory.NodeID), "this node's name in the room directory and logs; empty: host name and a random suffix (env TICKWIRE_NODE_ID)")
	return func() error {
		rate, err := strconv.Atoi(*tickRate)
		if err != nil || rate < 1 || rate > 1000 {
			return fmt.Errorf("-tick-rate %q: want a whole number from 1 to 1000", *tickRate)
		}
		j, err := strconv.ParseBool(*logJSON)
		if err != nil {
			return fmt.Errorf("-log-json %q: want true or false", *logJSON)
		}
		if hclog.LevelFromString(*logLevel) == hclog.NoLevel {
			return fmt.Errorf("-log-level %q: want trace, debug, info, warn or error", *logLevel)
		}
		c.Addr, c.PublicURL, c.LogLevel, c.LogJSON = *addr, *public, *logLevel, j
		c.Rooms.TickRate = rate
		c.TLSCertFile, c.TLSKeyFile = *cert, *key
		c.Redis, c.Directory.NodeID = *redis, *nodeID
		if err := applyMonitor(); err != nil {
			return err
		}
		return c.Validate()
	}
}
