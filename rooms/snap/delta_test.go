package snap

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// applyTo applies delta to base directly, as an Applier does.
func applyTo(base *State, tick uint64, delta []byte) (*State, error) {
	d, err := decodeDelta(delta)
	if err != nil {
		return nil, err
	}
	if base == nil || base.tick == 0 {
		base = &State{}
	}
	return d.apply(base, tick)
}

// TestDeltaTurnsAnyBaseIntoCur checks, for random worlds evolving over
// many ticks, random earlier bases and random views on both sides, that
// applying AppendDelta(base, cur) to base gives exactly cur.
func TestDeltaTurnsAnyBaseIntoCur(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 40 {
		w := newWorld(uint64(100+trial), rng.IntN(80))
		var tb Table
		var past []*State
		for tick := uint64(1); tick <= 60; tick++ {
			w.step()
			w.fill(&tb)
			s, err := tb.Freeze(tick)
			if err != nil {
				t.Fatal(err)
			}
			past = append(past, s)
			for range 5 {
				cur := s
				if rng.IntN(2) == 0 {
					cur = s.View(randomRect(rng))
				}
				var base *State
				if k := rng.IntN(len(past) + 1); k < len(past) {
					base = past[k]
					if rng.IntN(2) == 0 {
						base = base.View(randomRect(rng))
					}
				}
				delta := AppendDelta(nil, base, cur)
				got, err := applyTo(base, tick, delta)
				if err != nil {
					t.Fatalf("trial %d tick %d: applying the delta: %v", trial, tick, err)
				}
				if !Equal(got, cur) {
					t.Fatalf("trial %d tick %d: delta against %v\n got %v\nwant %v", trial, tick, base, got, cur)
				}
			}
		}
	}
}

// TestClientFollowsAckedBases plays a server and a client: the server
// takes each delta against the newest tick the client acknowledged (if it
// still has it, else sends a full snapshot), some deltas are never
// delivered (superseded), and acks arrive late, out of step with ticks.
// After every delta it applies, the client's state must equal what the
// server sent for that tick.
func TestClientFollowsAckedBases(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 30 {
		w := newWorld(uint64(200+trial), 30+rng.IntN(50))
		var tb Table
		const history = 8
		sent := map[uint64]*State{} // what the server sent, by tick
		var acked uint64            // the newest ack the server has read
		var inFlight []uint64       // acks on their way to the server
		var client Applier
		client.Keep = 16
		fulls, deltas := 0, 0
		area := Centered(500, 500, 400, 400)
		for tick := uint64(1); tick <= 300; tick++ {
			w.step()
			w.fill(&tb)
			s, _ := tb.Freeze(tick)
			if rng.IntN(4) == 0 {
				area = Centered(rng.Float64()*1000, rng.Float64()*1000, 400, 400) // the player moves
			}
			cur := s.View(area)
			sent[cur.tick] = cur
			delete(sent, tick-history)
			// Late acks: deliver a random number of those in flight.
			for n := rng.IntN(len(inFlight) + 1); n > 0; n-- {
				acked, inFlight = inFlight[0], inFlight[1:]
			}
			base := sent[acked]
			if base == nil {
				fulls++
			} else {
				deltas++
			}
			delta := AppendDelta(nil, base, cur)
			if rng.IntN(3) == 0 {
				continue // superseded: never delivered
			}
			got, err := client.Apply(tick, delta)
			if err != nil {
				t.Fatalf("trial %d tick %d: %v", trial, tick, err)
			}
			if !Equal(got, cur) {
				t.Fatalf("trial %d tick %d: client has\n%v\nserver sent\n%v", trial, tick, got, cur)
			}
			if rng.IntN(5) > 0 {
				inFlight = append(inFlight, client.Ack())
			}
		}
		if deltas == 0 || fulls == 0 {
			t.Fatalf("trial %d: %d deltas and %d full snapshots; want both exercised", trial, deltas, fulls)
		}
	}
}

func TestDeltaWireFormat(t *testing.T) {
	var tb Table
	tb.Add(1).Fixed(12.34, 0.01).Fixed(5, 0.01).String("ann")
	tb.Add(2).Int(7)
	tb.Add(3).Bool(true)
	base, _ := tb.Freeze(41)
	tb.Reset()
	tb.Add(1).Fixed(12.5, 0.01).Fixed(5, 0.01).String("ann") // x moved
	tb.Add(3).Bool(true)                                     // unchanged
	tb.Add(4).String("new")                                  // entered; 2 is gone
	cur, _ := tb.Freeze(42)

	full := AppendDelta(nil, nil, cur)
	wantFull := []any{0, []any{[]any{1, 1250, 500, "ann"}, []any{3, true}, []any{4, "new"}}, []any{}, []any{}}
	delta := AppendDelta(nil, base, cur)
	wantDelta := []any{41, []any{[]any{4, "new"}}, []any{[]any{1, 1, 1250}}, []any{2}}
	for _, tt := range []struct {
		name string
		got  []byte
		want any
	}{{"full", full, wantFull}, {"delta", delta, wantDelta}} {
		want, _ := msgpack.Marshal(tt.want)
		if !bytes.Equal(tt.got, want) {
			var got any
			msgpack.Unmarshal(tt.got, &got)
			t.Errorf("%s: encoded %v (% x), want %v (% x)", tt.name, got, tt.got, tt.want, want)
		}
	}
	// The bytes docs/protocol.md shows for this example.
	for _, tt := range []struct {
		name string
		got  []byte
		hex  string
	}{
		{"full", full, "94 00 93 94 01 cd 04 e2 cd 01 f4 a3 61 6e 6e 92 03 c3 92 04 a3 6e 65 77 90 90"},
		{"delta", delta, "94 29 91 92 04 a3 6e 65 77 91 93 01 01 cd 04 e2 91 02"},
	} {
		if got := fmt.Sprintf("% x", tt.got); got != tt.hex {
			t.Errorf("%s: % x, want the documented %s", tt.name, tt.got, tt.hex)
		}
	}
	if len(delta) >= len(full) {
		t.Errorf("delta of %d bytes is not smaller than the full snapshot of %d", len(delta), len(full))
	}
}

func TestDeltaOfAnUnchangedStateIsEmpty(t *testing.T) {
	w := newWorld(1, 50)
	var tb Table
	w.fill(&tb)
	a, _ := tb.Freeze(1)
	w.fill(&tb)
	b, _ := tb.Freeze(2)
	want := []byte{0x94, 1, 0x90, 0x90, 0x90}
	if got := AppendDelta(nil, a, b); !bytes.Equal(got, want) {
		t.Fatalf("delta between equal states: % x, want % x", got, want)
	}
}

func TestTickZeroIsNeverABase(t *testing.T) {
	var tb Table
	tb.Add(1).Int(1)
	zero, _ := tb.Freeze(0)
	one, _ := tb.Freeze(1)
	d := AppendDelta(nil, zero, one)
	if got, _ := applyTo(nil, 1, d); !Equal(got, one) {
		t.Fatalf("a delta against tick 0 must be a full snapshot; applied to nothing it gives %v", got)
	}
}

func TestApplierErrorsLeaveItUnchanged(t *testing.T) {
	var tb Table
	tb.Add(1).Int(1).Int(2)
	tb.Add(5).Int(5)
	s10, _ := tb.Freeze(10)
	enc := func(v any) []byte { b, _ := msgpack.Marshal(v); return b }
	tests := []struct {
		name  string
		tick  uint64
		delta []byte
		base  bool // the error is ErrUnknownBase
	}{
		{"not msgpack", 11, []byte{0xC1}, false},
		{"not an array", 11, enc(5), false},
		{"three elements", 11, enc([]any{10, []any{}, []any{}}), false},
		{"trailing bytes", 11, append(AppendDelta(nil, s10, s10), 0), false},
		{"unknown base", 11, enc([]any{9, []any{}, []any{}, []any{}}), true},
		{"tick not after the newest", 10, enc([]any{0, []any{}, []any{}, []any{}}), false},
		{"update of a missing entity", 11, enc([]any{10, []any{}, []any{[]any{2, 1, 0}}, []any{}}), false},
		{"remove of a missing entity", 11, enc([]any{10, []any{}, []any{}, []any{3}}), false},
		{"mask beyond the fields", 11, enc([]any{10, []any{}, []any{[]any{5, 2, 0}}, []any{}}), false},
		{"mask and values disagree", 11, enc([]any{10, []any{}, []any{[]any{1, 3, 0}}, []any{}}), false},
		{"empty mask", 11, enc([]any{10, []any{}, []any{[]any{1, 0}}, []any{}}), false},
		{"entity twice", 11, enc([]any{10, []any{[]any{7}}, []any{[]any{1, 1, 0}, []any{7, 1, 0}}, []any{}}), false},
		{"removed and sent", 11, enc([]any{10, []any{[]any{1}}, []any{}, []any{1}}), false},
		{"removed twice", 11, enc([]any{10, []any{}, []any{}, []any{1, 1}}), false},
		{"negative id", 11, enc([]any{0, []any{[]any{-1}}, []any{}, []any{}}), false},
		{"id over 32 bits", 11, enc([]any{0, []any{[]any{1 << 33}}, []any{}, []any{}}), false},
		{"record not an array", 11, enc([]any{0, []any{7}, []any{}, []any{}}), false},
		{"empty record", 11, enc([]any{0, []any{[]any{}}, []any{}, []any{}}), false},
		{"huge array header", 11, []byte{0x94, 0, 0xDD, 0xFF, 0xFF, 0xFF, 0xFF}, false},
		{"truncated", 11, AppendDelta(nil, nil, s10)[:6], false},
	}
	for _, tt := range tests {
		var a Applier
		if _, err := a.Apply(10, AppendDelta(nil, nil, s10)); err != nil {
			t.Fatal(err)
		}
		_, err := a.Apply(tt.tick, tt.delta)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if errors.Is(err, ErrUnknownBase) != tt.base {
			t.Errorf("%s: %v; ErrUnknownBase %v, want %v", tt.name, err, !tt.base, tt.base)
		}
		if a.Ack() != 10 || !Equal(a.Latest(), s10) {
			t.Errorf("%s: the applier changed after an error: ack %d, %v", tt.name, a.Ack(), a.Latest())
		}
	}
}

func TestApplierKeepsStatesFromTheNewestBase(t *testing.T) {
	var tb Table
	var a Applier
	a.Keep = 4
	states := map[uint64]*State{}
	for tick := uint64(1); tick <= 6; tick++ {
		tb.Reset()
		tb.Add(1).Uint(tick)
		states[tick], _ = tb.Freeze(tick)
	}
	apply := func(tick, base uint64) error {
		_, err := a.Apply(tick, AppendDelta(nil, states[base], states[tick]))
		return err
	}
	for _, step := range []struct{ tick, base uint64 }{{1, 0}, {2, 1}, {3, 1}, {4, 2}} {
		if err := apply(step.tick, step.base); err != nil {
			t.Fatalf("tick %d against %d: %v", step.tick, step.base, err)
		}
	}
	// The base of the delta of tick 4 was 2: tick 1 is no longer needed.
	if err := apply(5, 1); !errors.Is(err, ErrUnknownBase) {
		t.Fatalf("a base older than the newest base: %v, want ErrUnknownBase", err)
	}
	if err := apply(5, 3); err != nil {
		t.Fatalf("a base between the newest base and the newest state: %v", err)
	}
	a.Reset()
	if a.Ack() != 0 || a.Latest() != nil {
		t.Fatalf("after Reset: ack %d", a.Ack())
	}
	if err := apply(6, 5); !errors.Is(err, ErrUnknownBase) {
		t.Fatalf("after Reset, a delta: %v, want ErrUnknownBase", err)
	}
	if err := apply(6, 0); err != nil {
		t.Fatalf("after Reset, a full snapshot: %v", err)
	}
}

// FuzzApply feeds the applier arbitrary deltas: it must return an error
// or a well-formed state, never panic.
func FuzzApply(f *testing.F) {
	w := newWorld(3, 20)
	var tb Table
	w.fill(&tb)
	s1, _ := tb.Freeze(1)
	w.step()
	w.fill(&tb)
	s2, _ := tb.Freeze(2)
	f.Add(AppendDelta(nil, nil, s1))
	f.Add(AppendDelta(nil, s1, s2))
	f.Add([]byte{0x94, 1, 0x90, 0x90, 0x90})
	f.Fuzz(func(t *testing.T, delta []byte) {
		var a Applier
		if _, err := a.Apply(1, AppendDelta(nil, nil, s1)); err != nil {
			t.Fatal(err)
		}
		s, err := a.Apply(2, delta)
		if err != nil {
			return
		}
		got := ids(s)
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("ids not sorted and unique: %v", got)
		}
		// What was applied encodes back to an equivalent delta.
		again, err := applyTo(a.states[0], 3, AppendDelta(nil, a.states[0], s))
		if err != nil || !Equal(again, s) {
			t.Fatalf("re-encoding the applied state: %v", err)
		}
	})
}
