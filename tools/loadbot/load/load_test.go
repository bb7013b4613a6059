package load

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tools/impair/proxy"
)

// echo is a game whose snapshot is the number of inputs applied.
type echo struct{ inputs int }

func (g *echo) Init(*rooms.Room) error                 { return nil }
func (g *echo) Join(*rooms.Player, []byte) error       { return nil }
func (g *echo) Leave(*rooms.Player, rooms.LeaveReason) {}
func (g *echo) Input(*rooms.Player, uint32, []byte)    { g.inputs++ }
func (g *echo) Tick(tick.Tick)                         {}
func (g *echo) Snapshot(*rooms.Player) any             { return g.inputs }

// serve starts an engine with the game "echo" (4 seats a room, 50 Hz).
func serve(t *testing.T, cfg engine.Config) string {
	t.Helper()
	cfg.Logger = hclog.NewNullLogger()
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Register("echo", func() rooms.Game { return &echo{} }, &rooms.RoomOptions{TickRate: 50, MaxPlayers: 4})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

func TestBotsPlayAndMeasure(t *testing.T) {
	url := serve(t, engine.Config{})
	var progress []Progress
	rep, err := Run(context.Background(), Options{
		URL: url, Game: "echo", Bots: 6, Rate: 20, Duration: 2500 * time.Millisecond, Ramp: 300 * time.Millisecond,
	}, func(p Progress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %+v", rep)
	if rep.Joined != 6 || rep.Failed != 0 || len(rep.Errors) != 0 {
		t.Fatalf("joined %d, failed %d, errors %v; want 6 bots in and no errors", rep.Joined, rep.Failed, rep.Errors)
	}
	if rep.Rooms != 2 {
		t.Errorf("6 bots in rooms of 4 filled %d rooms, want 2", rep.Rooms)
	}
	if rep.Inputs == 0 || rep.Acked == 0 || rep.Acked > rep.Inputs || rep.RTT.Count == 0 {
		t.Errorf("inputs %d, acked %d, RTT samples %d: want inputs acknowledged and timed", rep.Inputs, rep.Acked, rep.RTT.Count)
	}
	if rep.Batches == 0 || rep.Interarrival.Count == 0 || rep.Delivery.Count != rep.Batches {
		t.Errorf("batches %d, inter-arrivals %d, deliveries %d", rep.Batches, rep.Interarrival.Count, rep.Delivery.Count)
	}
	// At 50 Hz batches are 20 ms apart on average, however late some are.
	if m := rep.Interarrival.MeanMs; m < 10 || m > 40 {
		t.Errorf("mean inter-arrival %v ms at 50 Hz, want about 20", m)
	}
	if rep.BytesIn == 0 || rep.BytesOut == 0 || rep.InPerSecond <= 0 {
		t.Errorf("traffic: in %d, out %d, %v B/s", rep.BytesIn, rep.BytesOut, rep.InPerSecond)
	}
	if len(progress) == 0 || progress[len(progress)-1].Joined != 6 {
		t.Errorf("progress reports %+v, want some, the last with all 6 bots joined", progress)
	}
}

func TestEveryInputHeldUpByAStallIsTimed(t *testing.T) {
	url := serve(t, engine.Config{})
	p, err := proxy.Listen("127.0.0.1:0", strings.TrimPrefix(url, "http://"), proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	go func() {
		time.Sleep(time.Second)
		p.Hold()
		time.Sleep(500 * time.Millisecond)
		p.Release()
	}()
	rep, err := Run(context.Background(), Options{URL: "http://" + p.Addr().String(), Game: "echo", Rate: 20, Duration: 2500 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Joined != 1 || rep.Acked == 0 || rep.RTT.Count != rep.Acked {
		t.Errorf("joined %d, acked %d, RTT samples %d: want one sample per acknowledged input", rep.Joined, rep.Acked, rep.RTT.Count)
	}
	// Inputs sent during the 500 ms hold waited for its end.
	if rep.RTT.MaxMs < 300 {
		t.Errorf("longest RTT %v ms across a 500 ms stall", rep.RTT.MaxMs)
	}
}

func TestBotFailuresAreReported(t *testing.T) {
	url := serve(t, engine.Config{})
	dead := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return "http://" + ln.Addr().String()
	}()
	elsewhere := serve(t, engine.Config{PublicURL: "ws://192.0.2.1:9/ws"}) // sends bots to another host
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"unknown game", Options{URL: url, Game: "chess"}, `matchmaking: 404 no game "chess"`},
		{"no server", Options{URL: dead, Game: "echo"}, "connection refused"},
		{"another host", Options{URL: elsewhere, Game: "echo"}, "list its host with -allow"},
	}
	for _, tt := range tests {
		tt.o.Bots, tt.o.Duration = 2, 2*time.Second
		rep, err := Run(context.Background(), tt.o, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		errs := strings.Join(rep.ErrorList(), "; ")
		if rep.Failed != 2 || rep.Joined != 0 || !strings.Contains(errs, tt.want) || !strings.HasPrefix(errs, "2× ") {
			t.Errorf("%s: failed %d, joined %d, errors %q; want both bots failed with %q", tt.name, rep.Failed, rep.Joined, errs, tt.want)
		}
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	url := serve(t, engine.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan *Report, 1)
	go func() {
		rep, _ := Run(ctx, Options{URL: url, Game: "echo", Bots: 2, Rate: 10, Duration: time.Hour}, nil)
		done <- rep
	}()
	select {
	case rep := <-done:
		if rep.Failed != 0 {
			t.Errorf("bots stopped by the context counted as failed: %v", rep.Errors)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestOptionErrors(t *testing.T) {
	ok := Options{URL: "http://127.0.0.1:1", Game: "g", Duration: time.Second}
	tests := []struct {
		change func(*Options)
		want   string
	}{
		{func(o *Options) { o.URL = "" }, "URL is required"},
		{func(o *Options) { o.URL = "ws://127.0.0.1:1" }, "http:// or https://"},
		{func(o *Options) { o.Game = "" }, "game"},
		{func(o *Options) { o.Bots = MaxBots + 1 }, "bots"},
		{func(o *Options) { o.Bots = -1 }, "bots"},
		{func(o *Options) { o.Rate = MaxRate + 1 }, "rate"},
		{func(o *Options) { o.Duration = 0 }, "duration"},
		{func(o *Options) { o.Duration = 2 * MaxDuration }, "duration"},
		{func(o *Options) { o.Ramp = time.Second }, "ramp"},
	}
	for _, tt := range tests {
		o := ok
		tt.change(&o)
		if _, err := Run(context.Background(), o, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want an error about %q", o, err, tt.want)
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	h.add(-time.Second) // counts as 0
	s := h.summary()
	within := func(got, want float64) bool { return got >= want*0.97 && got <= want*1.03 }
	if s.Count != 1001 || !within(s.P50Ms, 500) || !within(s.P90Ms, 900) || !within(s.P99Ms, 990) || s.MaxMs != 1000 {
		t.Errorf("summary %+v, want p50 500, p90 900, p99 990 (within 3%%) and max 1000", s)
	}
	if !within(s.MeanMs, 500) {
		t.Errorf("mean %v, want about 500", s.MeanMs)
	}
	var empty histogram
	if s := empty.summary(); s != (Summary{}) {
		t.Errorf("empty histogram: %+v", s)
	}
}
