package main

import (
	"io"
	"math"
	"testing"
	"time"

	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/rooms/lagcomp"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// leadAim returns the aim of a ship at from that meets a target seen at
// seen and moving at vel: where the target will be when the bullet gets
// there. A bullet leaves the gun's tip and flies a whole step in the step
// that fires it.
func leadAim(cfg Config, from, seen, vel Vec, step time.Duration) float64 {
	tip := cfg.ShipRadius + cfg.BulletRadius + 1
	meet := seen
	for range 50 { // converges: bullets are faster than ships
		after := (dist(from, meet)-tip)/cfg.BulletSpeed - step.Seconds()
		meet = Vec{seen.X + vel.X*after, seen.Y + vel.Y*after}
	}
	return math.Atan2(meet.Y-from.Y, meet.X-from.X)
}

// TestLagCompensation is the scenario of docs/lag-compensation.md in the
// arena, tick by tick at 30 Hz: a target runs down the field at full
// speed, 300 units from a shooter who sees it lag = RTT/2 + interp late
// and leads it by what it sees. With lag compensation the bullet meets
// the target where the shooter saw it; without, the target is
// ShipSpeed*lag further on.
func TestLagCompensation(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name        string
		flags       []string
		rtt, interp time.Duration
		wantHit     bool
		wantRewind  float64 // ms, in the hit's event
	}{
		{"100 ms RTT, 100 ms interpolation", nil, 100 * ms, 100 * ms, true, 150},
		{"100 ms RTT, 100 ms interpolation, -lag-comp=false", []string{"-lag-comp=false"}, 100 * ms, 100 * ms, false, 0},
		{"no lag", nil, 0, 0, true, 0},
		{"no lag, -lag-comp=false", []string{"-lag-comp=false"}, 0, 0, true, 0},
		{"lag beyond the window: rewound 500 ms of 700", nil, time.Second, 200 * ms, false, 0},
		{"lag beyond the window, -lag-comp=false", []string{"-lag-comp=false"}, time.Second, 200 * ms, false, 0},
	}
	step := time.Second / 30
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const fireTick = 30
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, o, err := parseFlags(tt.flags, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			cfg := o.rules()
			cfg.Walls = nil
			w := NewWorld(cfg)
			shooter := w.AddShip("shooter", "shooter", false)
			target := w.AddShip("target", "target", false)
			shooter.Pos, target.Pos = Vec{200, 450}, Vec{500, 150}
			vel := Vec{0, cfg.ShipSpeed}
			lag := tt.rtt/2 + tt.interp
			var hits []Event
			for k := range 60 {
				w.ApplyInput(target, Input{MY: 1, DT: float64(step) / float64(ms)})
				// The shooter's input, made lag ago as the server's clock
				// goes: its screen shows the target where it was then.
				in := Input{Interp: float64(tt.interp / ms)}
				if k == fireTick {
					seen := Vec{target.Pos.X - vel.X*lag.Seconds(), target.Pos.Y - vel.Y*lag.Seconds()}
					in.Aim, in.Fire = leadAim(cfg, shooter.Pos, seen, vel, step), true
				}
				w.ApplyInput(shooter, in)
				shooter.Lag.RTT = tt.rtt // as Game.Tick sets it from the player's connection
				for _, ev := range w.StepAt(t0.Add(time.Duration(k)*step), step) {
					if ev.Victim == target.ID {
						hits = append(hits, ev)
					}
				}
			}
			if w.nextID != 1 {
				t.Fatalf("%d bullets fired, want 1", w.nextID)
			}
			if got := len(hits) > 0; got != tt.wantHit {
				t.Fatalf("hit %v, want %v (the target ran %.0f units in the shooter's %v of lag; a hit needs the bullet within %.0f of its centre)",
					got, tt.wantHit, cfg.ShipSpeed*lag.Seconds(), lag, cfg.ShipRadius+cfg.BulletRadius)
			}
			if tt.wantHit && (hits[0].Attacker != shooter.ID || hits[0].Rewind != tt.wantRewind) {
				t.Fatalf("hit %+v, want by %s, judged %v ms back", hits[0], shooter.ID, tt.wantRewind)
			}
			t.Logf("lag %v: the target ran %.0f units past where the shooter saw it; hit %v", lag, cfg.ShipSpeed*lag.Seconds(), len(hits) > 0)
		})
	}
}

// TestLagCompensationLivesAndRespawns: a rewind hits a ship only if it is
// alive now, and only in the life it has now. A shooter who sees the world
// 400 ms late fires at a ship 100 units away that was standing there
// until a moment ago.
func TestLagCompensationLivesAndRespawns(t *testing.T) {
	tests := []struct {
		name         string
		kill         bool
		respawnDelay time.Duration
		wantHit      bool
	}{
		{"alive", false, time.Second, true},
		{"dead now", true, time.Second, false},
		{"respawned elsewhere", true, 0, false},
	}
	step := time.Second / 30
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := openConfig()
			cfg.RespawnDelay = tt.respawnDelay
			w, a, b := duel(cfg, 100)
			a.Lag = lagcomp.Lag{Interp: 400 * time.Millisecond}
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			for range 20 { // a history of b standing in the line of fire
				at = at.Add(step)
				w.StepAt(at, step)
			}
			if tt.kill {
				b.HP = 1
				w.hit(&Bullet{Owner: "someone"}, b, 0)
			}
			w.ApplyInput(a, Input{Aim: 0, Fire: true, Interp: 400})
			hit := false
			for range 60 { // the bullet flies its range in 38 steps
				at = at.Add(step)
				for _, ev := range w.StepAt(at, step) {
					hit = hit || ev.Victim == b.ID
				}
				w.ApplyInput(a, Input{Aim: 0, Interp: 400})
			}
			if w.nextID != 1 || len(w.Bullets()) != 0 {
				t.Fatalf("%d bullets fired, %d in flight; want 1 fired and gone", w.nextID, len(w.Bullets()))
			}
			if tt.respawnDelay == 0 && (!b.Alive || dist(b.Pos, Vec{300, 450}) < 100) {
				t.Fatalf("b alive %v at %v: want it respawned elsewhere", b.Alive, b.Pos)
			}
			if hit != tt.wantHit {
				t.Fatalf("hit %v, want %v", hit, tt.wantHit)
			}
		})
	}
}

func TestStepAtTimes(t *testing.T) {
	w, _, _ := duel(openConfig(), 300)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w.StepAt(at, time.Millisecond)
	w.StepAt(at, time.Millisecond)                   // the same time: nothing recorded
	w.StepAt(at.Add(-time.Second), time.Millisecond) // earlier: nothing recorded
	w.Step(time.Millisecond)                         // 1 ms after the latest
	if n := w.past.Len(); n != 2 {
		t.Fatalf("history of %d frames, want 2", n)
	}
	if off := NewWorld(Config{}); off.past != nil {
		t.Fatal("Config.LagComp 0 kept a history")
	}
	long := openConfig()
	long.LagComp = time.Hour
	if w := NewWorld(long); w.past == nil || w.past.Window() != lagcomp.MaxWindow {
		t.Fatalf("Config.LagComp of an hour: window %v, want %v", w.past.Window(), lagcomp.MaxWindow)
	}
}

// TestGameLag: the game takes the delay each input reports and the
// player's RTT every tick, and steps the world at the tick's start.
func TestGameLag(t *testing.T) {
	tests := []struct {
		name   string
		interp any
		want   time.Duration
	}{
		{"whole ms", 120, 120 * time.Millisecond},
		{"fractions", 99.5, 99500 * time.Microsecond},
		{"negative counts as 0", -40, 0},
		{"past any window", 1e12, lagcomp.MaxWindow},
		{"absent", nil, 0},
		{"not finite: the input is ignored", math.Inf(1), 70 * time.Millisecond},
	}
	for _, flags := range [][]string{nil, {"-lag-comp=false"}} {
		_, o, err := parseFlags(flags, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		g := NewGame(o.rules(), 1)
		r, err := rooms.NewRoom("arena", g, rooms.RoomOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Init(r); err != nil {
			t.Fatal(err)
		}
		if (g.world.past != nil) != o.lagComp {
			t.Fatalf("%q: lag compensation %v, want %v", flags, g.world.past != nil, o.lagComp)
		}
		p := &rooms.Player{} // no connection: RTT 0
		if err := g.Join(p, nil); err != nil {
			t.Fatal(err)
		}
		s := p.Data.(*Ship)
		for i, tt := range tests {
			s.Lag = lagcomp.Lag{RTT: time.Second, Interp: 70 * time.Millisecond}
			in := map[string]any{"mx": 1, "dt": 16}
			if tt.interp != nil {
				in["interp"] = tt.interp
			}
			b, err := msgpack.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			g.Input(p, uint32(i+1), b)
			if s.Lag.Interp != tt.want {
				t.Errorf("%q: %s: Lag.Interp %v, want %v", flags, tt.name, s.Lag.Interp, tt.want)
			}
		}
		step := time.Second / 30
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		for n := range 3 {
			g.Tick(tick.Tick{N: uint64(n), Step: step, Start: t0.Add(time.Duration(n) * step)})
		}
		if s.Lag.RTT != 0 {
			t.Errorf("%q: after a tick, Lag.RTT %v, want the player's (0: no connection)", flags, s.Lag.RTT)
		}
		if g.world.past != nil && (g.world.past.Len() != 3 || !g.world.at.Equal(t0.Add(2*step))) {
			t.Errorf("%q: %d frames, the latest at %v; want 3, the third tick's start", flags, g.world.past.Len(), g.world.at)
		}
		if got := g.world.Config().Client().LagComp; got != o.lagComp {
			t.Errorf("%q: the rules the page gets say lagComp %v", flags, got)
		}
	}
}
