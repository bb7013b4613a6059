// Command rttmon is a terminal monitor of a tickwire server's players:
// it follows the server's monitoring stream and shows a live table of
// players, slowest first, with their smoothed RTT, latest and minimum
// samples, 95th percentile, jitter, ping loss and a sparkline of their
// recent RTT, refreshed in place.
//
//	go run ./tools/rttmon -url http://127.0.0.1:8080
//	go run ./tools/rttmon -url http://127.0.0.1:9090 -token "$TICKWIRE_MONITOR_TOKEN" -above 80ms
//	go run ./tools/rttmon -once -json | jq .
//
// -url is the server's address, or its monitoring address when it serves
// monitoring on one of its own (-monitor-addr). -room shows one room (an id
// or a prefix of one), -above only players whose smoothed RTT is at least
// that, -json writes one JSON line per update instead of the table, and
// -once stops after the first update.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/netws"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, isTerminal(os.Stdout))
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "rttmon:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "rttmon:", err)
		os.Exit(1)
	}
}

// isTerminal reports whether f is a terminal, where the table is redrawn
// in place.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// usageError is a bad flag or argument.
type usageError struct{ error }

type options struct {
	url      string
	token    string
	interval time.Duration
	filter   filter
	json     bool
	once     bool
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (options, error) {
	var o options
	fs := flag.NewFlagSet("rttmon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the server's address, or its monitoring address (-monitor-addr)")
	fs.StringVar(&o.token, "token", getenv("TICKWIRE_MONITOR_TOKEN"), "monitoring token (default: $TICKWIRE_MONITOR_TOKEN)")
	fs.DurationVar(&o.interval, "interval", time.Second, "how often to update, 100ms to 1m")
	fs.StringVar(&o.filter.room, "room", "", "show only this room: its id, or a prefix of it")
	fs.DurationVar(&o.filter.above, "above", 0, "show only players whose smoothed RTT is at least this, e.g. 80ms")
	fs.IntVar(&o.filter.top, "top", 0, "show at most this many players, slowest first; 0 for all")
	fs.BoolVar(&o.json, "json", false, "write one JSON line per update instead of the table")
	fs.BoolVar(&o.once, "once", false, "stop after the first update")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return o, usageError{fmt.Errorf("unexpected arguments %q: every setting is a flag", fs.Args())}
	case o.interval < engine.MinMonitorInterval || o.interval > engine.MaxMonitorInterval:
		return o, usageError{fmt.Errorf("-interval %v: want %v to %v", o.interval, engine.MinMonitorInterval, engine.MaxMonitorInterval)}
	case o.filter.above < 0:
		return o, usageError{fmt.Errorf("-above %v: want 0 or more", o.filter.above)}
	case o.filter.top < 0:
		return o, usageError{fmt.Errorf("-top %d: want 0 or more", o.filter.top)}
	}
	return o, nil
}

// streamURL turns the -url flag into the monitoring stream's URL.
func streamURL(raw string, interval time.Duration) (string, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", usageError{fmt.Errorf("-url %q: want the server's address, such as http://127.0.0.1:8080", raw)}
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", usageError{fmt.Errorf("-url %q: want an http:// or https:// address", raw)}
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/monitor/ws"
	u.RawQuery = url.Values{"interval": {interval.String()}}.Encode()
	return u.String(), nil
}

// run monitors until ctx ends, the stream ends, or after one update with -once.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, tty bool) error {
	o, err := parseFlags(args, stderr, getenv)
	if err != nil {
		return err
	}
	wsURL, err := streamURL(o.url, o.interval)
	if err != nil {
		return err
	}
	c, err := dial(ctx, wsURL, o)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	go func() {
		<-ctx.Done()
		c.Close(netws.StatusNormalClosure, "")
	}()

	v := newView(o.filter)
	redraw := tty && !o.json && !o.once
	if redraw {
		fmt.Fprint(stdout, ansiHide+ansiClear)
		defer fmt.Fprint(stdout, ansiShow)
	}
	enc := json.NewEncoder(stdout)
	for n := 0; ; n++ {
		_, b, err := c.ReadMessage(nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return streamEnded(err)
		}
		var s engine.MonitorSnapshot
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("the server sent something other than a monitoring snapshot (%v); is -url a tickwire server?", err)
		}
		fr := v.update(s)
		if o.once && o.filter.room != "" && fr.Rooms == 0 {
			return fmt.Errorf("no room on %s has an id starting with %q", s.Node, o.filter.room)
		}
		switch {
		case o.json:
			enc.Encode(engine.MonitorPlayers{Time: fr.Time, Node: fr.Node, Players: fr.Players})
		case redraw:
			fmt.Fprint(stdout, ansiHome)
			v.render(stdout, o.url, fr, true)
			fmt.Fprint(stdout, ansiClearDown)
		default:
			if n > 0 {
				fmt.Fprintln(stdout)
			}
			v.render(stdout, o.url, fr, false)
		}
		if o.once {
			return nil
		}
	}
}

// dial opens the stream, turning refusals into errors that say what to do.
func dial(ctx context.Context, wsURL string, o options) (*netws.Conn, error) {
	opts := &netws.DialOptions{HandshakeTimeout: 10 * time.Second}
	if o.token != "" {
		opts.Header = http.Header{"Authorization": {"Bearer " + o.token}}
	}
	c, err := netws.Dial(ctx, wsURL, opts)
	if err == nil {
		return c, nil
	}
	var he *netws.HandshakeError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &he) && he.StatusCode == http.StatusUnauthorized && o.token == "":
		return nil, fmt.Errorf("%s needs a monitoring token: pass it with -token or TICKWIRE_MONITOR_TOKEN", o.url)
	case errors.As(err, &he) && he.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("%s refused the monitoring token (401 Unauthorized): check -token or TICKWIRE_MONITOR_TOKEN", o.url)
	case errors.As(err, &he) && he.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s has no monitoring stream (404): monitoring may be off (-monitor=false) or served on its own address (-monitor-addr); point -url there", o.url)
	case errors.As(err, &he) && he.StatusCode != 0:
		return nil, fmt.Errorf("%s refused the monitoring stream: %v", o.url, err)
	case errors.As(err, &oe) && oe.Op == "dial", errors.As(err, &ne) && ne.Timeout():
		return nil, fmt.Errorf("cannot reach %s (%v): is the server running, and is -url its address?", o.url, err)
	}
	return nil, fmt.Errorf("connecting to %s: %w", o.url, err)
}

// streamEnded explains why the stream stopped.
func streamEnded(err error) error {
	var ce *netws.CloseError
	if errors.As(err, &ce) && ce.Code != netws.StatusAbnormalClosure {
		reason := ce.Reason
		if reason == "" {
			reason = ce.Code.String()
		}
		return fmt.Errorf("the server ended the monitoring stream: %s (%d)", reason, int(ce.Code))
	}
	return fmt.Errorf("lost the monitoring stream: %w", err)
}
