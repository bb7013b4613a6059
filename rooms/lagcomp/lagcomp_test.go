package lagcomp_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tickwire/tickwire/rooms/lagcomp"
)

// The scenario of the package's tests and of docs/lag-compensation.md: a
// 60 Hz room; a target (ID 1) crosses the field along the x axis at a
// constant speed; a shooter (ID 2) stands below it and fires a hitscan
// shot at where the target appeared on the shooter's screen.
const (
	target  = 1
	shooter = 2
	speed   = 10.0 // units a second, along +x
	radius  = 0.5
	rate    = 60
	step    = time.Second / rate
)

var (
	base       = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	shooterPos = lagcomp.Vec{X: 0, Y: -20}
)

// targetAt is where the target is at d after base.
func targetAt(d time.Duration) lagcomp.Vec { return lagcomp.Vec{X: -5 + speed*d.Seconds()} }

// tickTime is the start of tick n, the time its frame is recorded with.
func tickTime(n int) time.Time { return base.Add(time.Duration(n) * step) }

// record fills h with ticks 0 to n-1 of the scenario.
func record(t testing.TB, h *lagcomp.History, n int) {
	t.Helper()
	bodies := make([]lagcomp.Body, 2)
	for i := range n {
		now := tickTime(i)
		bodies[0] = lagcomp.Body{ID: target, Pos: targetAt(now.Sub(base)), Radius: radius}
		bodies[1] = lagcomp.Body{ID: shooter, Pos: shooterPos, Radius: radius}
		if err := h.Record(now, bodies); err != nil {
			t.Fatalf("Record tick %d: %v", i, err)
		}
	}
}

// shot is the segment a client fires: from the shooter through the point
// where it drew the target, continued as far again.
func shot(aim lagcomp.Vec) (from, to lagcomp.Vec) {
	return shooterPos, shooterPos.Add(aim.Sub(shooterPos).Scale(2))
}

func newHistory(t testing.TB, opts lagcomp.Options) *lagcomp.History {
	t.Helper()
	h, err := lagcomp.New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	return h
}

// fireTick is the tick that applies the shot: frames 0 to 99 are recorded.
const fireTick = 100

func TestShotUnderLatency(t *testing.T) {
	tests := []struct {
		name  string
		seen  time.Duration // how far behind the input's arrival the shooter saw the target: RTT/2 + interp
		wait  time.Duration // how long the input waited for the tick that applies it
		lag   lagcomp.Lag   // what the server is told; Lag{} is no compensation
		ticks int           // frames recorded before the shot; 0 means fireTick

		wantHit     bool
		wantBy      time.Duration
		wantClamped bool
	}{{
		name: "compensated: 100ms RTT, 100ms interpolation",
		seen: 150 * time.Millisecond, lag: lagcomp.Lag{RTT: 100 * time.Millisecond, Interp: 100 * time.Millisecond},
		wantHit: true, wantBy: 150 * time.Millisecond,
	}, {
		name: "uncompensated: same shot against the newest frame",
		seen: 150 * time.Millisecond, lag: lagcomp.Lag{},
		wantHit: false, wantBy: step,
	}, {
		name: "compensated between ticks: 90ms RTT",
		seen: 145 * time.Millisecond, lag: lagcomp.Lag{RTT: 90 * time.Millisecond, Interp: 100 * time.Millisecond},
		wantHit: true, wantBy: 145 * time.Millisecond,
	}, {
		name: "compensated: 20ms RTT, 50ms interpolation",
		seen: 60 * time.Millisecond, lag: lagcomp.Lag{RTT: 20 * time.Millisecond, Interp: 50 * time.Millisecond},
		wantHit: true, wantBy: 60 * time.Millisecond,
	}, {
		// Inputs wait in the room's queue for the next tick, and the rewind
		// counts from the tick's start: it goes back further than the
		// shooter saw by the wait, here 10 units/s * 10 ms = 0.1 units.
		name: "input waited 10ms for its tick: over-rewound by 10ms, still a hit",
		seen: 150 * time.Millisecond, wait: 10 * time.Millisecond, lag: lagcomp.Lag{RTT: 100 * time.Millisecond, Interp: 100 * time.Millisecond},
		wantHit: true, wantBy: 150 * time.Millisecond,
	}, {
		name: "RTT beyond the window: rewind clamped to 500ms, shot misses",
		seen: 700 * time.Millisecond, lag: lagcomp.Lag{RTT: 1200 * time.Millisecond, Interp: 100 * time.Millisecond},
		wantHit: false, wantBy: 500 * time.Millisecond, wantClamped: true,
	}, {
		name: "rewind right at the window's edge is not clamped",
		seen: 500 * time.Millisecond, lag: lagcomp.Lag{RTT: 800 * time.Millisecond, Interp: 100 * time.Millisecond},
		wantHit: true, wantBy: 500 * time.Millisecond,
	}, {
		name: "history shorter than the rewind: clamped to the oldest frame",
		seen: 150 * time.Millisecond, lag: lagcomp.Lag{RTT: 100 * time.Millisecond, Interp: 100 * time.Millisecond},
		ticks: 5, wantHit: false, wantBy: 5 * step, wantClamped: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t, lagcomp.Options{TickRate: rate})
			ticks := tt.ticks
			if ticks == 0 {
				ticks = fireTick
			}
			record(t, h, ticks)
			now := tickTime(ticks)
			aim := targetAt(now.Add(-tt.wait - tt.seen).Sub(base)) // where the shooter drew the target
			from, to := shot(aim)

			v, err := h.Rewind(now, tt.lag)
			if err != nil {
				t.Fatalf("Rewind: %v", err)
			}
			if v.By != tt.wantBy || v.Clamped != tt.wantClamped || !v.At.Equal(now.Add(-v.By)) {
				t.Errorf("Rewind: By %v, Clamped %v, At now-%v; want By %v, Clamped %v",
					v.By, v.Clamped, now.Sub(v.At), tt.wantBy, tt.wantClamped)
			}
			hit, ok := v.Trace(from, to, shooter)
			if ok != tt.wantHit {
				b, _ := v.Body(target)
				t.Fatalf("Trace hit %v, want %v (aimed at x=%.3f, target at x=%.3f in the view)", ok, tt.wantHit, aim.X, b.Pos.X)
			}
			if ok {
				if hit.Body.ID != target {
					t.Errorf("hit body %d, want the target %d", hit.Body.ID, target)
				}
				// The shot was aimed at the centre of the target as drawn: the
				// rewound target is there, and the shot enters it one radius
				// before its centre.
				// With a wait, it is that much further back.
				off := speed * tt.wait.Seconds()
				if d := hit.Body.Pos.Sub(aim).Len(); math.Abs(d-off) > 1e-9 {
					t.Errorf("rewound target at %+v, %g from where the shooter saw it; want %g", hit.Body.Pos, d, off)
				}
				if want := aim.Sub(from).Len() - radius; tt.wait == 0 && math.Abs(hit.Dist-want) > 1e-9 {
					t.Errorf("hit at distance %g, want %g", hit.Dist, want)
				}
			}
		})
	}
}

func TestTraceIgnoresShooter(t *testing.T) {
	h := newHistory(t, lagcomp.Options{})
	record(t, h, 10)
	v, err := h.Rewind(tickTime(10), lagcomp.Lag{})
	if err != nil {
		t.Fatal(err)
	}
	from, to := shot(lagcomp.Vec{X: 1000, Y: 0}) // aimed far from the target
	if hit, ok := v.Trace(from, to); !ok || hit.Body.ID != shooter || hit.Dist != 0 {
		t.Errorf("a shot starting inside the shooter, not ignored: %+v %v; want the shooter at distance 0", hit, ok)
	}
	if hit, ok := v.Trace(from, to, shooter); ok {
		t.Errorf("with the shooter ignored, the shot hit %+v; want a miss", hit)
	}
}

func TestRewindErrors(t *testing.T) {
	t.Run("empty history", func(t *testing.T) {
		h := newHistory(t, lagcomp.Options{})
		if _, err := h.Rewind(base, lagcomp.Lag{}); !errors.Is(err, lagcomp.ErrEmpty) {
			t.Errorf("Rewind on an empty history: %v, want ErrEmpty", err)
		}
	})
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"now before the oldest frame", tickTime(-1), "before the oldest frame"},
		{"history stale beyond the window", tickTime(9).Add(600 * time.Millisecond), "beyond the 500ms window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t, lagcomp.Options{})
			record(t, h, 10)
			_, err := h.Rewind(tt.now, lagcomp.Lag{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Rewind: %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRewindLagBounds(t *testing.T) {
	tests := []struct {
		name        string
		lag         lagcomp.Lag
		wantWant    time.Duration
		wantBy      time.Duration
		wantClamped bool
	}{
		{"negative parts count as zero", lagcomp.Lag{RTT: -time.Second, Interp: -time.Second}, 0, step, false},
		{"huge values do not overflow", lagcomp.Lag{RTT: math.MaxInt64, Interp: math.MaxInt64}, time.Hour + time.Hour/2, 500 * time.Millisecond, true},
		{"smallest values", lagcomp.Lag{RTT: math.MinInt64, Interp: math.MinInt64}, 0, step, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(t, lagcomp.Options{})
			record(t, h, 60)
			v, err := h.Rewind(tickTime(60), tt.lag)
			if err != nil {
				t.Fatal(err)
			}
			if v.Want != tt.wantWant || v.By != tt.wantBy || v.Clamped != tt.wantClamped {
				t.Errorf("Rewind(%+v): Want %v By %v Clamped %v; want %v %v %v", tt.lag, v.Want, v.By, v.Clamped, tt.wantWant, tt.wantBy, tt.wantClamped)
			}
		})
	}
}

func TestBodyErrors(t *testing.T) {
	h := newHistory(t, lagcomp.Options{TickRate: rate})
	record(t, h, 10)
	v, err := h.Rewind(tickTime(10), lagcomp.Lag{RTT: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Body(target); err != nil {
		t.Errorf("Body(target): %v", err)
	}
	if _, err := v.Body(99); !errors.Is(err, lagcomp.ErrUnknownEntity) || !strings.Contains(err.Error(), "99") {
		t.Errorf("Body(99): %v; want ErrUnknownEntity naming 99", err)
	}
	if _, err := (lagcomp.View{}).Body(target); !errors.Is(err, lagcomp.ErrUnknownEntity) {
		t.Errorf("zero View's Body: %v; want ErrUnknownEntity", err)
	}
	if _, ok := (lagcomp.View{}).Trace(shooterPos, lagcomp.Vec{}); ok {
		t.Error("zero View's Trace hit something")
	}

	// Once the ring has recorded over the view's frames, the view expires.
	for i := 10; i < 10+2*rate; i++ {
		if err := h.Record(tickTime(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Body(target); !errors.Is(err, lagcomp.ErrExpired) {
		t.Errorf("Body after the ring wrapped: %v; want ErrExpired", err)
	}
	if hit, ok := v.Trace(shot(targetAt(0))); ok {
		t.Errorf("expired view's Trace hit %+v", hit)
	}
}

func TestRecordErrors(t *testing.T) {
	h := newHistory(t, lagcomp.Options{})
	record(t, h, 3)
	for _, now := range []time.Time{tickTime(2), tickTime(1)} {
		if err := h.Record(now, nil); err == nil || !strings.Contains(err.Error(), "not after the previous frame") {
			t.Errorf("Record(%v) after tick 2: %v; want an error", now, err)
		}
	}
	if h.Len() != 3 {
		t.Errorf("Len %d after refused Records, want 3", h.Len())
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		opts lagcomp.Options
		want string
	}{
		{lagcomp.Options{Window: -time.Second}, "Options.Window"},
		{lagcomp.Options{Window: 3 * time.Second}, "Options.Window"},
		{lagcomp.Options{TickRate: -1}, "Options.TickRate"},
		{lagcomp.Options{Bodies: -1}, "Options.Bodies"},
	}
	for _, tt := range tests {
		if _, err := lagcomp.New(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v): %v; want an error about %s", tt.opts, err, tt.want)
		}
	}
	h, err := lagcomp.New(lagcomp.Options{})
	if err != nil || h.Window() != lagcomp.DefaultWindow {
		t.Errorf("New(zero Options): window %v, err %v; want %v, nil", h.Window(), err, lagcomp.DefaultWindow)
	}
}

// Entities that appear or disappear between two frames are taken from the
// frame that has them.
func TestEntitiesComingAndGoing(t *testing.T) {
	h := newHistory(t, lagcomp.Options{})
	frames := [][]lagcomp.Body{
		{{ID: 1, Pos: lagcomp.Vec{X: 0}, Radius: 1}, {ID: 2, Pos: lagcomp.Vec{X: 10}, Radius: 1}},
		{{ID: 3, Pos: lagcomp.Vec{X: 30}, Radius: 1}, {ID: 1, Pos: lagcomp.Vec{X: 4}, Radius: 3}},
	}
	for i, f := range frames {
		if err := h.Record(base.Add(time.Duration(i)*40*time.Millisecond), f); err != nil {
			t.Fatal(err)
		}
	}
	// 3/4 of the way from frame 0 to frame 1.
	v, err := h.Rewind(base.Add(40*time.Millisecond), lagcomp.Lag{Interp: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]lagcomp.Body{
		1: {ID: 1, Pos: lagcomp.Vec{X: 3}, Radius: 2.5}, // interpolated
		2: {ID: 2, Pos: lagcomp.Vec{X: 10}, Radius: 1},  // gone from frame 1
		3: {ID: 3, Pos: lagcomp.Vec{X: 30}, Radius: 1},  // new in frame 1
	}
	got := v.Bodies(nil)
	if len(got) != len(want) {
		t.Fatalf("Bodies: %+v; want %d bodies", got, len(want))
	}
	for _, b := range got {
		w := want[b.ID]
		if b.Pos.Sub(w.Pos).Len() > 1e-9 || math.Abs(b.Radius-w.Radius) > 1e-9 {
			t.Errorf("body %d: %+v, want %+v", b.ID, b, w)
		}
		if one, err := v.Body(b.ID); err != nil || one != b {
			t.Errorf("Body(%d) = %+v, %v; want %+v as Bodies returned", b.ID, one, err, b)
		}
	}
}

// The ring grows to cover the window during the first Window of
// recording, then holds its size and allocates nothing.
func TestHistoryRing(t *testing.T) {
	for _, opts := range []lagcomp.Options{{}, {TickRate: rate, Bodies: 2}, {Window: 100 * time.Millisecond}} {
		h := newHistory(t, opts)
		record(t, h, 3*rate)
		n := h.Len()
		// The window, one step apart, plus the frame at or before its edge.
		w := h.Window()
		if min := int(w/step) + 1; n < min {
			t.Errorf("%+v: %d frames after 3s at %d Hz; want at least %d to cover %v", opts, n, rate, min, w)
		}
		v, err := h.Rewind(tickTime(3*rate), lagcomp.Lag{Interp: time.Hour})
		if err != nil || v.By != w || !v.Clamped {
			t.Errorf("%+v: a rewind past the window: By %v Clamped %v err %v; want By %v, clamped", opts, v.By, v.Clamped, err, w)
		}
		i := 3 * rate
		bodies := []lagcomp.Body{{ID: target, Radius: radius}, {ID: shooter, Radius: radius}}
		allocs := testing.AllocsPerRun(100, func() {
			if err := h.Record(tickTime(i), bodies); err != nil {
				t.Fatal(err)
			}
			i++
		})
		if allocs != 0 || h.Len() != n {
			t.Errorf("%+v: steady state: %v allocs per Record, %d frames (was %d); want 0 and unchanged", opts, allocs, h.Len(), n)
		}
	}
}

func TestRewindTraceAllocs(t *testing.T) {
	h := newHistory(t, lagcomp.Options{TickRate: rate})
	record(t, h, fireTick)
	from, to := shot(targetAt(tickTime(fireTick).Add(-150 * time.Millisecond).Sub(base)))
	lag := lagcomp.Lag{RTT: 100 * time.Millisecond, Interp: 100 * time.Millisecond}
	var hits int
	allocs := testing.AllocsPerRun(100, func() {
		v, err := h.Rewind(tickTime(fireTick), lag)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := v.Trace(from, to, shooter); ok {
			hits++
		}
		if _, err := v.Body(target); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || hits == 0 {
		t.Errorf("Rewind+Trace+Body: %v allocs, %d hits; want 0 allocs and hits", allocs, hits)
	}
}
