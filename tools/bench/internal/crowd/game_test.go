package crowd

import (
	"testing"
	"time"

	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// state freezes what Snapshot returned.
func state(t *testing.T, v any) *snap.State {
	t.Helper()
	var st *snap.State
	var err error
	switch v := v.(type) {
	case *snap.Table:
		st, err = v.Freeze(1)
	case snap.View:
		if st, err = v.Table.Freeze(1); err == nil {
			st = st.View(v.Area)
		}
	default:
		t.Fatalf("Snapshot returned a %T, not a table", v)
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSnapshotIsTheWorldQuantized(t *testing.T) {
	st := new(Stats)
	g := New(Options{Entities: 50, Stats: st})
	if err := g.Init(nil); err != nil {
		t.Fatal(err)
	}
	g.Tick(tick.Tick{N: 1, Step: time.Second / 60})
	s := state(t, g.Snapshot(nil))
	g.Snapshot(nil) // a second player: the same table, not rebuilt
	if s.Len() != 50 {
		t.Fatalf("the snapshot has %d entities, want 50", s.Len())
	}
	for i := range 50 {
		f, ok := s.Get(snap.ID(i + 1))
		if !ok {
			t.Fatalf("entity %d missing", i+1)
		}
		x, err1 := f.Int(0)
		y, err2 := f.Int(1)
		if err1 != nil || err2 != nil || f.Len() != 2 {
			t.Fatalf("entity %d: fields %v, want two integers", i+1, s)
		}
		if x != Precision.Quantize(g.world.X[i]) || y != Precision.Quantize(g.world.Y[i]) {
			t.Errorf("entity %d at (%d, %d), want the world's (%v, %v) to 0.01", i+1, x, y, g.world.X[i], g.world.Y[i])
		}
	}
	if n := st.Snapshots.Load(); n != 1 {
		t.Errorf("%d tables built for one tick, want 1", n)
	}
	g.Tick(tick.Tick{N: 2, Step: time.Second / 60})
	g.Snapshot(nil)
	if n, ticks := st.Snapshots.Load(), st.Ticks.Load(); n != 2 || ticks != 2 {
		t.Errorf("after two ticks: %d tables, %d ticks; want 2 and 2", n, ticks)
	}
}

func TestSnapshotView(t *testing.T) {
	g := New(Options{Entities: 200, View: 200})
	g.Init(nil)
	if err := g.Join(nil, nil); err != nil { // seat 0: entity 1
		t.Fatal(err)
	}
	s := state(t, g.Snapshot(nil))
	if s.Len() == 0 || s.Len() >= 200 {
		t.Fatalf("a 200x200 view of a 1000x1000 world holds %d of 200 entities", s.Len())
	}
	if _, ok := s.Get(1); !ok {
		t.Errorf("the view does not hold the player's own entity")
	}
	area := snap.Centered(g.world.X[0], g.world.Y[0], 200, 200)
	for i := range g.world.X {
		_, in := s.Get(snap.ID(i + 1))
		if want := area.Contains(g.world.X[i], g.world.Y[i]); in != want {
			t.Errorf("entity %d at (%v, %v): in the view %v, want %v", i+1, g.world.X[i], g.world.Y[i], in, want)
		}
	}
}

func TestInput(t *testing.T) {
	st := new(Stats)
	g := New(Options{Entities: 3, Stats: st})
	g.Init(nil)
	g.Join(nil, nil)
	vx := g.world.VX[0]
	good, _ := msgpack.Marshal(Input{Turn: 0.1})
	tests := []struct {
		name    string
		data    []byte
		applied bool
	}{
		{"an input", good, true},
		{"not msgpack", []byte{0xc1}, false},
		{"not a map", []byte{0x01}, false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		before := st.Inputs.Load()
		g.Input(nil, 1, tt.data)
		if got := st.Inputs.Load() - before; (got == 1) != tt.applied {
			t.Errorf("%s: applied %d inputs, want applied=%v", tt.name, got, tt.applied)
		}
	}
	if g.world.VX[0] == vx {
		t.Errorf("the input did not steer the player's entity")
	}
	g.Leave(nil, 0)
	if n := st.Players.Load(); n != 0 {
		t.Errorf("%d players after the only one left", n)
	}
}
