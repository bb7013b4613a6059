package rooms

import (
	"slices"
	"testing"

	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// fieldGame is a table game the test moves by hand between ticks: a fixed
// set of entities and, for each player (by join order), where it looks.
type fieldGame struct {
	room  *Room
	table snap.Table
	ents  map[snap.ID]*[2]float64 // positions; each entity also sends its tick-varying hp
	hp    int
	eyes  []snap.Rect // view of the i-th player to join; an empty one means the whole table
	order map[*Player]int
}

func (g *fieldGame) Init(r *Room) error { g.room = r; g.order = map[*Player]int{}; return nil }
func (g *fieldGame) Join(p *Player, opts []byte) error {
	g.order[p] = len(g.order)
	return nil
}
func (g *fieldGame) Leave(p *Player, reason LeaveReason)      {}
func (g *fieldGame) Input(p *Player, seq uint32, data []byte) {}
func (g *fieldGame) Tick(t tick.Tick) {
	g.hp++
	g.table.Reset()
	ids := make([]snap.ID, 0, len(g.ents))
	for id := range g.ents {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		pos := g.ents[id]
		g.table.Add(id).At(pos[0], pos[1]).Fixed(pos[0], 1).Fixed(pos[1], 1).Int(int64(g.hp)).String("static")
	}
	g.table.Add(1000).String("scoreboard") // no position: everyone sees it
}
func (g *fieldGame) Snapshot(p *Player) any {
	if eye := g.eyes[g.order[p]]; eye != (snap.Rect{}) {
		return g.table.View(eye)
	}
	return &g.table
}

// delta is a decoded table batch.
type delta struct {
	tick   uint64
	base   uint64
	enter  map[snap.ID][]any
	update map[snap.ID][]any // [mask, values...]
	remove []snap.ID
	raw    []byte
}

// batches returns the table batches c received since the last call.
func batches(t *testing.T, c *memConn) []delta {
	t.Helper()
	var out []delta
	for _, m := range c.take(t) {
		if m.kind != ServerTableBatch {
			continue
		}
		d := delta{enter: map[snap.ID][]any{}, update: map[snap.ID][]any{}, raw: m.fields[3]}
		msgpack.Unmarshal(m.fields[0], &d.tick)
		var body struct {
			_msgpack struct{} `msgpack:",as_array"`
			Base     uint64
			Enter    [][]any
			Update   [][]any
			Remove   []snap.ID
		}
		if err := msgpack.Unmarshal(m.fields[3], &body); err != nil {
			t.Fatalf("delta of tick %d: %v", d.tick, err)
		}
		d.base, d.remove = body.Base, body.Remove
		for _, e := range body.Enter {
			d.enter[toID(e[0])] = e[1:]
		}
		for _, u := range body.Update {
			d.update[toID(u[0])] = u[1:]
		}
		out = append(out, d)
	}
	return out
}

func toID(v any) snap.ID {
	switch v := v.(type) {
	case int8:
		return snap.ID(v)
	case uint8:
		return snap.ID(v)
	case int16:
		return snap.ID(v)
	case uint16:
		return snap.ID(v)
	case int32:
		return snap.ID(v)
	case uint32:
		return snap.ID(v)
	case int64:
		return snap.ID(v)
	case uint64:
		return snap.ID(v)
	}
	panic("not an integer id")
}

// mentions reports whether the delta says anything about id.
func (d delta) mentions(id snap.ID) bool {
	_, e := d.enter[id]
	_, u := d.update[id]
	return e || u || slices.Contains(d.remove, id)
}

func TestInterestEnterUpdateLeave(t *testing.T) {
	g := &fieldGame{
		ents: map[snap.ID]*[2]float64{7: {0, 0}, 8: {40, 0}},
		eyes: []snap.Rect{snap.Centered(0, 0, 200, 200), snap.Centered(5000, 0, 200, 200)},
	}
	sr := startStepped(t, g, RoomOptions{TickRate: 30})
	near, _ := sr.join(JoinRequest{Name: "near"})
	far, _ := sr.join(JoinRequest{Name: "far"})
	ack := func(c *memConn, ds []delta) {
		if len(ds) > 0 {
			c.send(t, ClientAck, ds[len(ds)-1].tick)
		}
	}
	step := func() (n []delta, f []delta) {
		tickN := sr.step()
		near.waitBatch(t, tickN)
		far.waitBatch(t, tickN)
		n, f = batches(t, near), batches(t, far)
		ack(near, n)
		ack(far, f)
		return n, f
	}
	step()
	// Entity 7 changes every tick (hp): the near player gets its updates,
	// the far one none of them.
	for range 10 {
		n, f := step()
		for _, d := range n {
			if d.base == 0 {
				continue
			}
			if u, ok := d.update[7]; !ok || len(u) != 2 {
				t.Fatalf("tick %d: the near player's delta against %d has no hp update for entity 7: %+v", d.tick, d.base, d)
			}
		}
		for _, d := range f {
			if d.mentions(7) || d.mentions(8) {
				t.Fatalf("tick %d: the far player heard of an entity out of its view: %+v", d.tick, d)
			}
		}
	}
	// The far player walks toward entity 8 until it sees it: that delta
	// brings the whole entity, and none mentions 7 until it too is in view.
	var entered delta
	for x := 5000.0; entered.raw == nil; x -= 100 {
		if x < 0 {
			t.Fatal("walked past entity 8 without seeing it enter")
		}
		g.eyes[1] = snap.Centered(x, 0, 200, 200)
		_, f := step()
		for _, d := range f {
			if d.mentions(7) && x > 100 {
				t.Fatalf("at x=%v the far player heard of entity 7: %+v", x, d)
			}
			if e, ok := d.enter[8]; ok {
				entered = d
				if len(e) != 4 || e[3] != "static" {
					t.Fatalf("entity 8 entered with fields %v, want the whole entity (x, y, hp, name)", e)
				}
			} else if d.mentions(8) {
				t.Fatalf("entity 8 came into view as %+v, not as an enter record", d)
			}
		}
	}
	// Walking away again removes it.
	g.eyes[1] = snap.Centered(5000, 0, 200, 200)
	_, f := step()
	if len(f) != 1 || !slices.Contains(f[0].remove, 8) {
		t.Fatalf("after walking out of view: %+v, want entity 8 removed", f)
	}
	for _, d := range f {
		if len(d.enter) != 0 || len(d.update) != 0 {
			t.Fatalf("walking out of view also sent %+v", d)
		}
	}
}

func TestPlayersShareEncodings(t *testing.T) {
	g := &fieldGame{
		ents: map[snap.ID]*[2]float64{1: {0, 0}, 2: {10, 10}, 3: {200, 0}},
		eyes: []snap.Rect{
			{}, {}, // whole table
			snap.Centered(0, 0, 100, 100), snap.Centered(0, 0, 100, 100), // the same area
			snap.Centered(5000, 5000, 100, 100), snap.Centered(-5000, 0, 100, 100), // different areas, same (empty) content
		},
	}
	sr := startStepped(t, g, RoomOptions{TickRate: 30})
	var cs []*memConn
	for range len(g.eyes) {
		c, _ := sr.join(JoinRequest{})
		cs = append(cs, c)
	}
	step := func() (uint64, SnapshotStats, [][]delta) {
		n := sr.step()
		var all [][]delta
		for _, c := range cs {
			c.waitBatch(t, n)
			all = append(all, batches(t, c))
		}
		return n, sr.r.Info().Snapshots, all
	}
	// Nobody acknowledges: full snapshots, one per distinct view content.
	n, st, all := step()
	if st.Encodings != 3 {
		t.Fatalf("no acks: %d encodings, want 3 (whole, the area, the empty areas)", st.Encodings)
	}
	for i, ds := range all {
		if ds[len(ds)-1].base != 0 {
			t.Fatalf("player %d acknowledged nothing but got a delta against %d", i, ds[len(ds)-1].base)
		}
	}
	// Everyone acknowledges the same tick: one delta per view content.
	for _, c := range cs {
		c.send(t, ClientAck, n)
	}
	n2, st, all := step()
	if st.Encodings != 3 {
		t.Fatalf("one ack for all: %d encodings, want 3", st.Encodings)
	}
	for i, ds := range all {
		if d := ds[len(ds)-1]; d.base != n {
			t.Fatalf("player %d: delta against %d, want %d", i, d.base, n)
		}
	}
	// Half move on to the newer tick: bases differ, so encodings double.
	for i, c := range cs {
		if i%2 == 0 {
			c.send(t, ClientAck, n2)
		}
	}
	_, st, _ = step()
	if st.Encodings != 6 {
		t.Fatalf("two acks per view: %d encodings, want 6", st.Encodings)
	}
	if st.Deltas == 0 || st.Full == 0 || st.EncodingsTotal < 12 || st.Bytes == 0 || st.Rate != 30 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAckOfZeroOrUnknownTickGetsAFullSnapshot(t *testing.T) {
	g := &fieldGame{ents: map[snap.ID]*[2]float64{1: {0, 0}}, eyes: []snap.Rect{{}}}
	sr := startStepped(t, g, RoomOptions{TickRate: 30, SnapshotHistory: 3})
	c, _ := sr.join(JoinRequest{})
	next := func() delta {
		n := sr.step()
		c.waitBatch(t, n)
		ds := batches(t, c)
		return ds[len(ds)-1]
	}
	d := next()
	c.send(t, ClientAck, d.tick)
	if got := next(); got.base != d.tick {
		t.Fatalf("after acking %d: delta against %d", d.tick, got.base)
	}
	tests := []struct {
		name string
		ack  []any
	}{
		{"ack 0", []any{ClientAck, 0}},
		{"a tick never sent", []any{ClientAck, 1 << 40}},
		{"an ack on an input", []any{ClientInput, 1, nil, 0}},
	}
	for _, tt := range tests {
		c.send(t, tt.ack...)
		if got := next(); got.base != 0 || len(got.enter) != 2 {
			t.Fatalf("%s: delta against %d with %d entities, want a full snapshot of 2", tt.name, got.base, len(got.enter))
		}
	}
	// An ack falls out of a history of 3 once three more states were sent.
	d = next()
	c.send(t, ClientAck, d.tick)
	for i := range 3 {
		if got := next(); got.base != d.tick {
			t.Fatalf("batch %d after the ack: delta against %d, want %d", i+1, got.base, d.tick)
		}
	}
	if got := next(); got.base != 0 {
		t.Fatalf("an ack older than the history: delta against %d, want a full snapshot", got.base)
	}
}

// teamGame gives each team its own table, with the same ids.
type teamGame struct {
	tables [2]snap.Table
	n      int
	team   map[*Player]int
}

func (g *teamGame) Init(r *Room) error                       { g.team = map[*Player]int{}; return nil }
func (g *teamGame) Join(p *Player, opts []byte) error        { g.team[p] = len(g.team) % 2; return nil }
func (g *teamGame) Leave(p *Player, reason LeaveReason)      {}
func (g *teamGame) Input(p *Player, seq uint32, data []byte) {}
func (g *teamGame) Tick(t tick.Tick) {
	for i, name := range []string{"red", "blue"} {
		g.tables[i].Reset()
		g.tables[i].Add(1).At(0, 0).String(name)
		g.tables[i].Add(2).At(5000, 0).String(name)
	}
}
func (g *teamGame) Snapshot(p *Player) any {
	return g.tables[g.team[p]].View(snap.Centered(0, 0, 100, 100))
}

func TestViewsOfDifferentTablesAreNotShared(t *testing.T) {
	g := &teamGame{}
	sr := startStepped(t, g, RoomOptions{TickRate: 30})
	red, _ := sr.join(JoinRequest{})
	blue, _ := sr.join(JoinRequest{})
	n := sr.step()
	for i, c := range []*memConn{red, blue} {
		c.waitBatch(t, n)
		ds := batches(t, c)
		d := ds[len(ds)-1]
		want := []string{"red", "blue"}[i]
		if e := d.enter[1]; len(e) != 1 || e[0] != want || len(d.enter) != 1 {
			t.Fatalf("player of team %s got %v", want, d.enter)
		}
	}
	if st := sr.r.Info().Snapshots; st.Encodings != 2 {
		t.Fatalf("%d encodings for two teams' tables, want 2", st.Encodings)
	}
}
