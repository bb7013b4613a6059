package rooms

import (
	"strings"
	"testing"

	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// eventGame broadcasts the tick number as an event on every tick and
// sends a plain (not table) snapshot.
type eventGame struct{ room *Room }

func (g *eventGame) Init(r *Room) error                       { g.room = r; return nil }
func (g *eventGame) Join(p *Player, opts []byte) error        { return nil }
func (g *eventGame) Leave(p *Player, reason LeaveReason)      {}
func (g *eventGame) Input(p *Player, seq uint32, data []byte) {}
func (g *eventGame) Tick(t tick.Tick)                         { g.room.Broadcast(t.N) }
func (g *eventGame) Snapshot(p *Player) any                   { return g.room.Tick() }

func TestSnapshotRateSendsEveryNthTickWithTheEventsBetween(t *testing.T) {
	sr := startStepped(t, &eventGame{}, RoomOptions{TickRate: 60, SnapshotRate: 20})
	c, w := sr.join(JoinRequest{})
	if w.SnapshotRate != 20 || w.TickRate != 60 {
		t.Fatalf("welcome: tick rate %d, snapshot rate %d; want 60 and 20", w.TickRate, w.SnapshotRate)
	}
	var last uint64
	for range 12 {
		n := sr.step()
		if n%3 != 0 {
			continue
		}
		c.waitBatch(t, n)
		for _, m := range c.take(t) {
			tickN, ok := m.batchTick()
			if !ok {
				continue
			}
			if tickN%3 != 0 {
				t.Fatalf("a batch at tick %d, not a multiple of 60/20", tickN)
			}
			var events []uint64
			msgpack.Unmarshal(m.fields[4], &events)
			if last != 0 {
				// The events of every tick since the previous batch.
				want := []uint64{last + 1, last + 2, last + 3}
				if len(events) != 3 || events[0] != want[0] || events[2] != want[2] {
					t.Fatalf("batch of tick %d has events %v, want %v", tickN, events, want)
				}
			}
			last = tickN
		}
	}
	if last == 0 {
		t.Fatal("no batch received")
	}
}

func TestSnapshotRateMustDivideTheTickRate(t *testing.T) {
	tests := []struct {
		tick, snapshot int
		ok             bool
	}{
		{60, 0, true},
		{60, 60, true},
		{60, 20, true},
		{60, 1, true},
		{60, 25, false},
		{60, 120, false},
		{30, -1, false},
	}
	for _, tt := range tests {
		_, err := NewRoom("g", &eventGame{}, RoomOptions{TickRate: tt.tick, SnapshotRate: tt.snapshot})
		if (err == nil) != tt.ok {
			t.Errorf("TickRate %d SnapshotRate %d: error %v, want ok=%v", tt.tick, tt.snapshot, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "SnapshotRate") {
			t.Errorf("error %q does not name SnapshotRate", err)
		}
	}
}
