package rooms

import (
	"sync"
	"testing"
	"time"

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
	var reports tickReports
	r, url := startRoom(t, &counterGame{}, RoomOptions{TickRate: 50, OnTick: reports.add})
	cl, w := dialRoom(t, url, JoinRequest{Name: "ana"})
	var inBytes uint64
	for seq := uint32(1); seq <= 3; seq++ {
		b, _ := msgpack.Marshal([]any{ClientInput, seq, 1})
		inBytes += uint64(len(b))
		cl.send(ClientInput, seq, 1)
	}
	for b := cl.nextBatch(); b.ack != 3; b = cl.nextBatch() {
	}
	find := func() (PlayerInfo, bool) {
		for _, p := range r.Roster() {
			if p.ID == w.Player {
				return p, true
			}
		}
		return PlayerInfo{}, false
	}
	eventually(t, "the roster to count the three inputs", func() bool {
		p, ok := find()
		return ok && p.MessagesIn == 3
	})
	p, _ := find()
	if p.BytesIn != inBytes {
		t.Errorf("BytesIn = %d, want %d (the three input messages)", p.BytesIn, inBytes)
	}
	// The welcome and at least the batches read so far went out.
	if p.MessagesOut < 2 || p.BytesOut == 0 {
		t.Errorf("MessagesOut = %d, BytesOut = %d: want the welcome and batches counted", p.MessagesOut, p.BytesOut)
	}
	if !p.Connected || p.ConnectedAt.IsZero() || p.ConnectedAt.Before(p.Joined) {
		t.Errorf("Connected %v, ConnectedAt %v, Joined %v: want a connected player with its connection time", p.Connected, p.ConnectedAt, p.Joined)
	}
	if p.Dropped != 0 {
		t.Errorf("Dropped = %d for a client that reads everything", p.Dropped)
	}

	eventually(t, "tick reports", func() bool { return len(reports.get()) >= 5 })
	list := reports.get()
	for i, rep := range list {
		if rep.Duration < 0 || rep.Tick.Start.Before(rep.Tick.Due) {
			t.Errorf("report %d: %+v: a negative duration or a tick that started before it was due", i, rep)
		}
		if i > 0 && rep.Tick.N <= list[i-1].Tick.N {
			t.Errorf("report %d: tick %d after tick %d", i, rep.Tick.N, list[i-1].Tick.N)
		}
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
