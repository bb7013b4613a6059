package rooms

import (
	"sync"
	"testing"
	"time"

	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// eventually polls cond until it holds; the limit only guards against a hang.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tickReports collects what a room's OnTick hook reports.
type tickReports struct {
	mu   sync.Mutex
	list []TickReport
}

func (tr *tickReports) add(r TickReport) {
	tr.mu.Lock()
	tr.list = append(tr.list, r)
	tr.mu.Unlock()
}

func (tr *tickReports) get() []TickReport {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]TickReport(nil), tr.list...)
}

func TestRosterCountsTrafficAndOnTickReportsTicks(t *testing.T) {
	// The room runs on a fake clock and the test waits for each batch to
	// be written before it runs the next tick, so no batch is ever
	// superseded: a client that keeps up has nothing dropped, whatever
	// the machine's load.
	var reports tickReports
	sr := startStepped(t, &counterGame{}, RoomOptions{TickRate: 50, OnTick: reports.add})
	c, w := sr.join(JoinRequest{Name: "ana"})
	seated := sr.clock.Now()
	c.waitBatch(t, sr.tick)
	var inBytes uint64
	for seq := uint32(1); seq <= 3; seq++ {
		b, _ := msgpack.Marshal([]any{ClientInput, seq, 1})
		inBytes += uint64(len(b))
		c.send(t, ClientInput, seq, 1)
	}
	for range 5 {
		c.waitBatch(t, sr.step())
	}
	var acks []uint32
	for _, m := range c.take(t) {
		if _, ok := m.batchTick(); ok {
			var ack uint32
			msgpack.Unmarshal(m.fields[2], &ack)
			acks = append(acks, ack)
		}
	}
	if len(acks) != 6 || acks[len(acks)-1] != 3 {
		t.Fatalf("batch acks %v, want 6 batches, the last acknowledging input 3", acks)
	}

	// What the connection carried: the welcome and the six batches out,
	// the three inputs in.
	var outMsgs, outBytes uint64
	waitUntil(t, "the writer to count what it wrote", func() bool {
		c.mu.Lock()
		outMsgs, outBytes = uint64(len(c.out)), 0
		for _, b := range c.out {
			outBytes += uint64(len(b))
		}
		c.mu.Unlock()
		l := sr.r.Roster()
		return len(l) == 1 && l[0].MessagesOut == outMsgs
	})
	p := sr.r.Roster()[0]
	if p.ID != w.Player || p.Name != "ana" {
		t.Errorf("roster entry %s %q, want %s \"ana\"", p.ID, p.Name, w.Player)
	}
	if p.MessagesIn != 3 || p.BytesIn != inBytes {
		t.Errorf("in: %d messages, %d bytes; want 3 and %d (the three inputs)", p.MessagesIn, p.BytesIn, inBytes)
	}
	if p.MessagesOut != 7 || p.BytesOut != outBytes {
		t.Errorf("out: %d messages, %d bytes; want 7 (the welcome and six batches) and %d", p.MessagesOut, p.BytesOut, outBytes)
	}
	if !p.Connected || !p.ConnectedAt.Equal(seated) || !p.Joined.Equal(seated) {
		t.Errorf("Connected %v, ConnectedAt %v, Joined %v: want a player connected at %v", p.Connected, p.ConnectedAt, p.Joined, seated)
	}
	if p.Dropped != 0 || sr.r.Info().Dropped != 0 {
		t.Errorf("dropped: player %d, room %d; want none for a client that kept up", p.Dropped, sr.r.Info().Dropped)
	}

	list := reports.get()
	if len(list) != 7 {
		t.Fatalf("%d tick reports, want 7 (ticks 0 to 6)", len(list))
	}
	for i, rep := range list {
		if rep.Tick.N != uint64(i) || rep.Duration < 0 || rep.Tick.Start.Before(rep.Tick.Due) || rep.Dropped != 0 {
			t.Errorf("report %d: %+v: want tick %d, a duration not negative, started when due or later, nothing dropped", i, rep, i)
		}
	}
}

// pausedTickGame is a counterGame whose tick 1 waits, once inside the
// game's Tick, until the test lets it go on.
type pausedTickGame struct {
	counterGame
	inside chan struct{}
	goOn   chan struct{}
}

func (g *pausedTickGame) Tick(t tick.Tick) {
	if t.N == 1 {
		close(g.inside)
		<-g.goOn
	}
	g.counterGame.Tick(t)
}

func TestRosterListsAPlayerBeforeItsWelcome(t *testing.T) {
	// The welcome goes out while the tick that seats the player is still
	// running; a client that has it must find itself in the roster (and
	// so in the monitoring API) at once, not at the end of the tick.
	g := &pausedTickGame{inside: make(chan struct{}), goOn: make(chan struct{})}
	sr := startStepped(t, g, RoomOptions{TickRate: 50})
	goOn := sync.OnceFunc(func() { close(g.goOn) })
	t.Cleanup(goOn) // before the room is stopped
	c := newMemConn()
	t.Cleanup(func() { c.CloseNow() })
	go sr.r.Serve(c, JoinRequest{Name: "ana"})
	waitUntil(t, "the join to be queued", func() bool { return sr.queued() == 1 })
	sr.clock.Advance(sr.r.loop.Step())
	select {
	case <-g.inside:
	case <-time.After(10 * time.Second):
		t.Fatal("tick 1 did not run")
	}
	waitUntil(t, "the welcome", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.out) > 0
	})
	l := sr.r.Roster()
	if len(l) != 1 || l[0].Name != "ana" || !l[0].Connected {
		t.Errorf("roster %+v once the welcome was sent, want ana, connected", l)
	}
	if n := sr.r.Info().Players; n != 1 {
		t.Errorf("Info().Players = %d, want 1", n)
	}
	goOn()
	select {
	case <-sr.ticks: // tick 1's report
	case <-time.After(10 * time.Second):
		t.Fatal("tick 1 did not end")
	}
	if n := sr.step(); n != 2 {
		t.Errorf("tick %d after the paused one, want 2", n)
	}
}

func TestDropsAreCountedPerPlayerRoomAndTickReport(t *testing.T) {
	var reports tickReports
	r, url := startRoom(t, &counterGame{snapSize: 64 << 10}, RoomOptions{
		TickRate: 50, SlowTimeout: time.Minute, OnTick: reports.add,
	})
	_, w := dialRoom(t, url, JoinRequest{Name: "stuck"}) // never reads again
	eventually(t, "the stuck player's batches to be dropped", func() bool {
		for _, p := range r.Roster() {
			if p.ID == w.Player && p.Dropped >= 10 {
				return true
			}
		}
		return false
	})
	eventually(t, "the tick reports to add up to the room's drops", func() bool {
		var sum uint64
		for _, rep := range reports.get() {
			sum += rep.Dropped
		}
		return sum > 0 && sum == r.Info().Dropped
	})
	eventually(t, "the room and its only player to count the same drops", func() bool {
		room := r.Info().Dropped
		l := r.Roster()
		return len(l) == 1 && l[0].Dropped == room
	})
}
