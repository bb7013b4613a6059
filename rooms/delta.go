package rooms

import (
	"fmt"
	"hash/maphash"
	"slices"
	"sync/atomic"

	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/tickwire/tickwire/tick"
)

// SnapshotStats describes a room's snapshot work, in RoomInfo.
type SnapshotStats struct {
	Rate int `json:"rate"` // batches per second (RoomOptions.SnapshotRate)

	// Encodings is how many distinct batches the last snapshot tick
	// encoded: one per distinct snapshot value, and for tables one per
	// distinct (acknowledged state, current state) pair. Players who
	// share one share its bytes.
	Encodings      int    `json:"encodings"`
	EncodingsTotal uint64 `json:"encodingsTotal"` // over the room's life

	Batches uint64 `json:"batches"` // batches queued for players
	Deltas  uint64 `json:"deltas"`  // table batches sent as deltas against an acknowledged state
	Full    uint64 `json:"full"`    // table batches sent whole: no acknowledged state in the history
	Bytes   uint64 `json:"bytes"`   // payload bytes of the batches queued, before any was superseded
}

// snapshotter is the room's table-snapshot machinery: per-tick caches
// that make every distinct state, view and delta computed once a tick,
// and counters for SnapshotStats.
type snapshotter struct {
	// Per snapshot tick, owned by the room goroutine.
	frozen  map[*snap.Table]frozenTable
	views   map[viewKey]*snap.State
	interns map[internKey]*snap.State // views by parent and the hash of their ids
	deltas  map[deltaKey]*netws.PreparedMessage
	seed    maphash.Seed
	ids     []snap.ID // scratch
	ids2    []snap.ID // scratch
	buf     []byte
	next    uint64 // the first tick at which the next snapshot is due

	// This tick's counts, published by end.
	count, batches, deltasN, fullN int
	bytes                          uint64

	// Read by Info from any goroutine.
	encodings                                         atomic.Int64
	encodingsTotal, batchesSent, deltasSent, fullSent atomic.Uint64
	bytesQueued                                       atomic.Uint64
}

type frozenTable struct {
	gen   uint64
	state *snap.State
}

type viewKey struct {
	state *snap.State
	area  snap.Rect
}

type internKey struct {
	parent *snap.State
	ids    uint64 // hash of the view's ids
}

// deltaKey identifies an encoding: players with the same acknowledged
// state and the same current state get the same bytes.
type deltaKey struct{ base, cur *snap.State }

// due reports whether tick n sends snapshots, every ticks apart: at the
// multiples of every, or at the first tick after one that was skipped.
func (s *snapshotter) due(n uint64, every uint64) bool {
	if n < s.next {
		return false
	}
	s.next = (n/every + 1) * every
	return true
}

// begin clears the per-tick caches.
func (s *snapshotter) begin() {
	if s.frozen == nil {
		s.frozen = make(map[*snap.Table]frozenTable)
		s.views = make(map[viewKey]*snap.State)
		s.interns = make(map[internKey]*snap.State)
		s.deltas = make(map[deltaKey]*netws.PreparedMessage)
		s.seed = maphash.MakeSeed()
	}
	clear(s.frozen)
	clear(s.views)
	clear(s.interns)
	clear(s.deltas)
	s.count, s.batches, s.deltasN, s.fullN, s.bytes = 0, 0, 0, 0, 0
}

// queued counts a batch of n bytes handed to a player's send queue.
func (s *snapshotter) queued(n int) {
	s.batches++
	s.bytes += uint64(n)
}

// end publishes the tick's counts.
func (s *snapshotter) end() {
	s.encodings.Store(int64(s.count))
	s.encodingsTotal.Add(uint64(s.count))
	s.batchesSent.Add(uint64(s.batches))
	s.deltasSent.Add(uint64(s.deltasN))
	s.fullSent.Add(uint64(s.fullN))
	s.bytesQueued.Add(s.bytes)
}

func (s *snapshotter) stats(rate int) SnapshotStats {
	return SnapshotStats{
		Rate:           rate,
		Encodings:      int(s.encodings.Load()),
		EncodingsTotal: s.encodingsTotal.Load(),
		Batches:        s.batchesSent.Load(),
		Deltas:         s.deltasSent.Load(),
		Full:           s.fullSent.Load(),
		Bytes:          s.bytesQueued.Load(),
	}
}

// tableState returns the state a table snapshot stands for at tick n, or
// nil if v is not a table snapshot (*snap.Table, snap.View or
// *snap.View). Each table is frozen once a tick (again if the game
// changes it between Snapshot calls), and each view computed once.
func (s *snapshotter) tableState(v any, n uint64) *snap.State {
	var t *snap.Table
	var area *snap.Rect
	switch v := v.(type) {
	case *snap.Table:
		t = v
	case snap.View:
		t, area = v.Table, &v.Area
	case *snap.View:
		if v != nil {
			t, area = v.Table, &v.Area
		}
	default:
		return nil
	}
	if t == nil {
		panic("Snapshot returned a snap.View without a Table")
	}
	f, ok := s.frozen[t]
	if !ok || f.gen != t.Generation() {
		st, err := t.Freeze(n)
		if err != nil {
			panic(fmt.Sprintf("Snapshot returned a table that cannot be encoded: %v", err))
		}
		f = frozenTable{t.Generation(), st}
		s.frozen[t] = f
	}
	if area == nil {
		return f.state
	}
	key := viewKey{f.state, *area}
	if st, ok := s.views[key]; ok {
		return st
	}
	st := s.intern(f.state, f.state.View(*area))
	s.views[key] = st
	return st
}

// intern returns a view of parent already computed this tick with the
// same entities as st, or st: players whose views hold the same entities
// share one state, and so one encoding. Views of one parent with the same
// ids have the same content.
func (s *snapshotter) intern(parent, st *snap.State) *snap.State {
	if st.Len() == parent.Len() {
		return parent // the view holds everything
	}
	s.ids = st.AppendIDs(s.ids[:0])
	var h maphash.Hash
	h.SetSeed(s.seed)
	for _, id := range s.ids {
		h.WriteByte(byte(id))
		h.WriteByte(byte(id >> 8))
		h.WriteByte(byte(id >> 16))
		h.WriteByte(byte(id >> 24))
	}
	key := internKey{parent, h.Sum64()}
	o, ok := s.interns[key]
	if !ok {
		s.interns[key] = st
		return st
	}
	if s.ids2 = o.AppendIDs(s.ids2[:0]); slices.Equal(s.ids2, s.ids) {
		return o
	}
	return st // a hash collision: correct, only not shared
}

// sendTable queues p's table batch for tick t: the delta from the state p
// acknowledged (or a full snapshot) to cur, encoded once for every player
// with the same pair, and records cur as a possible base.
func (r *Room) sendTable(p *Player, cur *snap.State, t tick.Tick, events func() []byte) {
	s := &r.snaps
	base := p.sent.base()
	key := deltaKey{base, cur}
	pm := s.deltas[key]
	if pm == nil {
		s.buf = snap.AppendDelta(s.buf[:0], base, cur)
		ev := events()
		data := make([]byte, 0, len(s.buf)+len(ev))
		data = append(append(data, s.buf...), ev...)
		var err error
		if pm, err = netws.NewPreparedMessage(netws.Binary, data, r.opts.FrameSize); err != nil {
			panic(err) // Binary is always a valid type
		}
		s.deltas[key] = pm
		s.count++
	}
	prefix := appendBatchPrefix(make([]byte, 0, 24), ServerTableBatch, t.N, t.Start.UnixMilli(), p.lastSeq)
	p.out.pushBatch(prefix, pm, t.Start)
	p.sent.record(t.N, cur, r.opts.SnapshotHistory)
	s.queued(len(prefix) + len(pm.Payload()))
	if base != nil {
		s.deltasN++
	} else {
		s.fullN++
	}
}
