package load

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of Options, so that a typing mistake cannot start a flood.
const (
	MaxBots     = 10000
	MaxRate     = 1000 // inputs a second, per bot
	MaxDuration = time.Hour
)

// Options describes a run. URL, Game and Duration are required.
type Options struct {
	// URL is the server's HTTP address, such as http://127.0.0.1:8080.
	URL string

	// Game is the registered game to matchmake into.
	Game string

	// Bots is how many bots to run, 1 to MaxBots; 0 means 1.
	Bots int

	// Rate is how many inputs a second each bot sends, up to MaxRate;
	// 0 means none (the bots only watch).
	Rate float64

	// Duration is how long the run lasts, ramp included; bots leave at
	// its end. Up to MaxDuration.
	Duration time.Duration

	// Ramp spreads the bots' starts evenly over this much time, so that
	// they do not all arrive at once. It must be shorter than Duration.
	Ramp time.Duration

	// Name starts each bot's display name ("bot" gives bot-1, bot-2, ...).
	// "" means "bot".
	Name string

	// Input returns the payload of a bot's input number seq (any msgpack
	// encodable value). nil means a small map {"seq": seq}.
	Input func(bot int, seq uint32) any

	// AllowHosts lists the hosts (host:port) besides URL's that
	// matchmaking may send bots to, as with several nodes. A bot sent
	// anywhere else fails instead of connecting.
	AllowHosts []string
}

func (o Options) withDefaults() Options {
	if o.Bots == 0 {
		o.Bots = 1
	}
	if o.Name == "" {
		o.Name = "bot"
	}
	if o.Input == nil {
		o.Input = func(_ int, seq uint32) any { return map[string]uint32{"seq": seq} }
	}
	return o
}

// Validate reports the first option out of its range.
func (o Options) Validate() error {
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		return errors.New("load: a server URL is required, such as http://127.0.0.1:8080")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("load: URL %q: want the server's http:// or https:// address", o.URL)
	case o.Game == "":
		return errors.New("load: a game to matchmake into is required")
	case o.Bots < 0 || o.Bots > MaxBots:
		return fmt.Errorf("load: %d bots: want 1 to %d", o.Bots, MaxBots)
	case o.Rate < 0 || o.Rate > MaxRate:
		return fmt.Errorf("load: rate %v inputs a second: want 0 to %d", o.Rate, MaxRate)
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return fmt.Errorf("load: duration %v: want more than 0 and at most %v", o.Duration, MaxDuration)
	case o.Ramp < 0 || o.Ramp >= o.Duration:
		return fmt.Errorf("load: ramp %v: want 0 or more, and less than the duration %v", o.Ramp, o.Duration)
	}
	return nil
}

// Report is what a run measured.
type Report struct {
	URL      string  `json:"url"`
	Game     string  `json:"game"`
	Bots     int     `json:"bots"`
	Rate     float64 `json:"rate"`     // inputs a second, per bot
	Seconds  float64 `json:"seconds"`  // how long the run lasted
	Joined   int     `json:"joined"`   // bots that joined a room
	Failed   int     `json:"failed"`   // bots that could not join, or were dropped
	Rooms    int     `json:"rooms"`    // distinct rooms the bots joined
	Inputs   uint64  `json:"inputs"`   // inputs sent
	Acked    uint64  `json:"acked"`    // inputs acknowledged by a batch
	Batches  uint64  `json:"batches"`  // batches received
	Skipped  uint64  `json:"skipped"`  // ticks whose batch never arrived (superseded while a bot was behind)
	BytesIn  uint64  `json:"bytesIn"`  // payload bytes received
	BytesOut uint64  `json:"bytesOut"` // payload bytes sent

	InPerSecond  float64 `json:"inBytesPerSecond"`
	OutPerSecond float64 `json:"outBytesPerSecond"`

	RTT          Summary `json:"rtt"`          // input to acknowledging batch
	Delivery     Summary `json:"delivery"`     // batch server time to arrival
	Interarrival Summary `json:"interarrival"` // between consecutive batches
	Jitter       Summary `json:"jitter"`       // |inter-arrival - tick step|

	Errors map[string]int `json:"errors"` // what went wrong, and how often
}

// Progress is a run's state while it runs.
type Progress struct {
	Elapsed   time.Duration
	Connected int // bots connected now
	Joined    int // bots that have joined so far
	Failed    int
	Batches   uint64
	Inputs    uint64
	BytesIn   uint64
	BytesOut  uint64
	RTT       Summary // so far
}

// run is the shared state of a run's bots.
type run struct {
	o     Options
	host  string
	start time.Time

	connected, joined, failed atomic.Int64
	inputs, acked, batches    atomic.Uint64
	skipped                   atomic.Uint64
	bytesIn, bytesOut         atomic.Uint64

	rtt, delivery, interarrival, jitter histogram

	mu     sync.Mutex
	errs   map[string]int
	rooms  map[string]bool
	report func(Progress)
}

// Run runs the bots for o.Duration, or until ctx ends, and reports what
// they measured. progress, if not nil, is called about once a second
// from a goroutine of Run's own. Errors of single bots (a refused join, a
// dropped connection) are counted in the Report; Run returns an error only
// for bad options.
func Run(ctx context.Context, o Options, progress func(Progress)) (*Report, error) {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(o.URL)
	r := &run{o: o, host: u.Host, start: time.Now(), errs: make(map[string]int), rooms: make(map[string]bool), report: progress}
	ctx, cancel := context.WithDeadline(ctx, r.start.Add(o.Duration))
	defer cancel()

	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go r.progressLoop(stopProgress, progressDone)

	var wg sync.WaitGroup
	for i := range o.Bots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			delay := time.Duration(0)
			if o.Bots > 1 {
				delay = o.Ramp * time.Duration(i) / time.Duration(o.Bots)
			}
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r.bot(ctx, i+1)
		}()
	}
	wg.Wait()
	close(stopProgress)
	<-progressDone
	return r.result(), nil
}

func (r *run) progressLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if r.report == nil {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r.report(r.progress())
		}
	}
}

func (r *run) progress() Progress {
	return Progress{
		Elapsed:   time.Since(r.start),
		Connected: int(r.connected.Load()),
		Joined:    int(r.joined.Load()),
		Failed:    int(r.failed.Load()),
		Batches:   r.batches.Load(),
		Inputs:    r.inputs.Load(),
		BytesIn:   r.bytesIn.Load(),
		BytesOut:  r.bytesOut.Load(),
		RTT:       r.rtt.summary(),
	}
}

// fail counts a bot that failed, and why.
func (r *run) fail(why string) {
	r.failed.Add(1)
	r.mu.Lock()
	r.errs[why]++
	r.mu.Unlock()
}

func (r *run) result() *Report {
	secs := time.Since(r.start).Seconds()
	rep := &Report{
		URL: r.o.URL, Game: r.o.Game, Bots: r.o.Bots, Rate: r.o.Rate, Seconds: round3(secs),
		Joined: int(r.joined.Load()), Failed: int(r.failed.Load()),
		Inputs: r.inputs.Load(), Acked: r.acked.Load(), Batches: r.batches.Load(), Skipped: r.skipped.Load(),
		BytesIn: r.bytesIn.Load(), BytesOut: r.bytesOut.Load(),
		RTT: r.rtt.summary(), Delivery: r.delivery.summary(), Interarrival: r.interarrival.summary(), Jitter: r.jitter.summary(),
	}
	if secs > 0 {
		rep.InPerSecond = round3(float64(rep.BytesIn) / secs)
		rep.OutPerSecond = round3(float64(rep.BytesOut) / secs)
	}
	r.mu.Lock()
	rep.Rooms = len(r.rooms)
	rep.Errors = maps.Clone(r.errs)
	r.mu.Unlock()
	return rep
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// ErrorList returns the report's errors, most frequent first.
func (rep *Report) ErrorList() []string {
	keys := make([]string, 0, len(rep.Errors))
	for k := range rep.Errors {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := rep.Errors[keys[i]], rep.Errors[keys[j]]
		return a > b || a == b && keys[i] < keys[j]
	})
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%d× %s", rep.Errors[k], k)
	}
	return out
}

// allowed reports whether bots may connect to host.
func (r *run) allowed(host string) bool {
	return strings.EqualFold(host, r.host) || slices.ContainsFunc(r.o.AllowHosts, func(h string) bool { return strings.EqualFold(h, host) })
}
