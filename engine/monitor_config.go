package engine

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults and limits of MonitorConfig.
const (
	DefaultMonitorInterval   = time.Second
	MinMonitorInterval       = 100 * time.Millisecond
	MaxMonitorInterval       = time.Minute
	DefaultMonitorMaxStreams = 64
)

// MonitorConfig configures the monitoring routes: the players API
// (/api/players, /api/rooms/{id}/players), the monitoring snapshot and its
// stream (/api/monitor, /api/monitor/ws), the dashboard (/monitor) and the
// Prometheus metrics (/metrics). The zero value serves them on the public
// address to anyone who can reach it; in production set Token, Addr, or
// both.
type MonitorConfig struct {
	// Disabled turns the monitoring routes off: they answer 404.
	Disabled bool

	// Token, if set, must come with every monitoring request, as the
	// header "Authorization: Bearer <token>" or, for browsers, as the
	// token query parameter (/monitor?token=...).
	Token string

	// Addr, if set, is a separate address (an admin address such as
	// 127.0.0.1:9090) that serves the monitoring routes instead of the
	// public one. ListenAndServe listens on it too; AdminHandler returns
	// its routes for a server of your own.
	Addr string

	// Interval is how often the stream sends a snapshot. 0 means
	// DefaultMonitorInterval (1 s). A client may ask for another with the
	// interval query parameter, from 100 ms to 1 min.
	Interval time.Duration

	// MaxStreams bounds the monitoring streams open at once; more are
	// refused with 503. 0 means DefaultMonitorMaxStreams (64).
	MaxStreams int
}

func (m MonitorConfig) withDefaults() MonitorConfig {
	if m.Interval == 0 {
		m.Interval = DefaultMonitorInterval
	}
	if m.MaxStreams == 0 {
		m.MaxStreams = DefaultMonitorMaxStreams
	}
	return m
}

// validate reports the first monitoring setting out of its range.
func (m MonitorConfig) validate() error {
	if m.Interval != 0 && (m.Interval < MinMonitorInterval || m.Interval > MaxMonitorInterval) {
		return fmt.Errorf("monitor interval %v: want %v to %v", m.Interval, MinMonitorInterval, MaxMonitorInterval)
	}
	if m.MaxStreams < 0 {
		return fmt.Errorf("monitor max streams %d: want 0 (the default, %d) or more", m.MaxStreams, DefaultMonitorMaxStreams)
	}
	if strings.ContainsAny(m.Token, " \t\r\n") {
		return fmt.Errorf("monitor token contains white space: it could not be sent in an Authorization header")
	}
	return nil
}

// flags binds the monitoring settings to fs, with environment defaults
// read through env, and returns a function that applies them to m.
func (m *MonitorConfig) flags(fs *flag.FlagSet, env func(name, def string) string) func() error {
	on := fs.String("monitor", env("TICKWIRE_MONITOR", strconv.FormatBool(!m.Disabled)), "serve the monitoring routes (/monitor, /api/players, /metrics...): true or false (env TICKWIRE_MONITOR)")
	token := fs.String("monitor-token", env("TICKWIRE_MONITOR_TOKEN", m.Token), "token the monitoring routes require; prefer the environment, which other users cannot list (env TICKWIRE_MONITOR_TOKEN)")
	addr := fs.String("monitor-addr", env("TICKWIRE_MONITOR_ADDR", m.Addr), "serve the monitoring routes on this admin address instead of the public one (env TICKWIRE_MONITOR_ADDR)")
	interval := fs.String("monitor-interval", env("TICKWIRE_MONITOR_INTERVAL", durationOr(m.Interval, DefaultMonitorInterval)), "how often the monitoring stream sends, 100ms to 1m (env TICKWIRE_MONITOR_INTERVAL)")
	return func() error {
		enabled, err := strconv.ParseBool(*on)
		if err != nil {
			return fmt.Errorf("-monitor %q: want true or false", *on)
		}
		d, err := time.ParseDuration(*interval)
		if err != nil || d < MinMonitorInterval || d > MaxMonitorInterval {
			return fmt.Errorf("-monitor-interval %q: want a duration from %v to %v, such as 500ms", *interval, MinMonitorInterval, MaxMonitorInterval)
		}
		m.Disabled, m.Token, m.Addr, m.Interval = !enabled, *token, *addr, d
		return nil
	}
}

func durationOr(d, def time.Duration) string {
	if d == 0 {
		d = def
	}
	return d.String()
}

// authorized reports whether r carries the monitoring token, when one is
// configured.
func (m MonitorConfig) authorized(r *http.Request) bool {
	if m.Token == "" {
		return true
	}
	got := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, v, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			got = strings.TrimSpace(v)
		}
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(m.Token)) == 1
}
