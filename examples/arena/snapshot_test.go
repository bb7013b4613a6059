package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/vmihailenco/msgpack/v5"
)

// arenaView is a player's table, decoded as arena.js decodes it.
type arenaView struct {
	ships   map[uint32]shipRow  // by ship number
	pilots  map[uint32]pilotRow // by ship number
	bullets map[uint32]Vec      // by bullet id
}

type shipRow struct {
	Pos     Vec
	Aim     float64 // radians
	HP      int
	Alive   bool
	Life    int
	Respawn time.Duration
}

type pilotRow struct {
	ID, Name      string
	Bot           bool
	Score, Deaths int
	Ping          float64 // ms
}

// pilot returns the number and row of the pilot of the ship with the
// given id.
func (v arenaView) pilot(id string) (uint32, pilotRow, bool) {
	for n, p := range v.pilots {
		if p.ID == id {
			return n, p, true
		}
	}
	return 0, pilotRow{}, false
}

// decodeFields decodes an entity's fields into dst, one pointer a field.
func decodeFields(t testing.TB, id snap.ID, f snap.Fields, dst ...any) {
	t.Helper()
	if f.Len() != len(dst) {
		t.Fatalf("entity %d has %d fields, want %d", id, f.Len(), len(dst))
	}
	for j, d := range dst {
		if err := f.Decode(j, d); err != nil {
			t.Fatalf("entity %d field %d: %v", id, j, err)
		}
	}
}

// decodeView decodes the arena's entity table (see snapshot.go).
func decodeView(t testing.TB, st *snap.State) arenaView {
	t.Helper()
	v := arenaView{ships: map[uint32]shipRow{}, pilots: map[uint32]pilotRow{}, bullets: map[uint32]Vec{}}
	for id, f := range st.All() {
		n := uint32(id) >> 2
		switch id & 3 {
		case entShip:
			var x, y, respawn int64
			var aim uint32
			var r shipRow
			decodeFields(t, id, f, &x, &y, &aim, &r.HP, &r.Alive, &r.Life, &respawn)
			r.Pos = Vec{posPrecision.Dequantize(x), posPrecision.Dequantize(y)}
			r.Aim = snap.DequantizeAngle(aim, aimBits)
			r.Respawn = time.Duration(respawn) * respawnStep
			v.ships[n] = r
		case entPilot:
			var r pilotRow
			var ping int64
			decodeFields(t, id, f, &r.ID, &r.Name, &r.Bot, &r.Score, &r.Deaths, &ping)
			r.Ping = pingPrecision.Dequantize(ping)
			v.pilots[n] = r
		case entBullet:
			var x, y int64
			decodeFields(t, id, f, &x, &y)
			v.bullets[n] = Vec{posPrecision.Dequantize(x), posPrecision.Dequantize(y)}
		default:
			t.Fatalf("entity %d: the low bits say no kind the arena sends", id)
		}
	}
	return v
}

// TestTable checks the table one player receives: every pilot, the ships
// and bullets in its sight only, numbers within their quantization's
// bounds.
func TestTable(t *testing.T) {
	g := NewGame(DefaultConfig(), 0)
	if err := g.Init(nil); err != nil {
		t.Fatal(err)
	}
	w := g.world
	me := w.AddShip("me", "Me", false)
	near := w.AddShip("near", "Near", false)
	far := w.AddShip("far", "Far", true)
	me.Pos, me.Aim = Vec{400.123, 300.987}, 1.2345
	near.Pos = Vec{me.Pos.X + g.sight.Width/2 - 1, me.Pos.Y - g.sight.Height/2 + 1}
	far.Pos = Vec{me.Pos.X + g.sight.Width/2 + 1, me.Pos.Y}
	near.Alive, near.respawnAt = false, w.now+1234*time.Millisecond
	far.Score, far.Deaths = 3, 2
	w.ApplyInput(me, Input{Aim: me.Aim, Fire: true})
	w.Step(time.Millisecond) // me fires
	w.ApplyInput(me, Input{Aim: me.Aim})
	if len(w.Bullets()) != 1 {
		t.Fatalf("%d bullets, want 1", len(w.Bullets()))
	}
	g.publish()
	full, err := g.table.Freeze(1)
	if err != nil {
		t.Fatal(err)
	}
	v := decodeView(t, full.View(g.sight.Area(me.Pos)))

	if len(v.pilots) != 3 {
		t.Fatalf("pilots %v: want all three, far ones too", v.pilots)
	}
	nMe, pMe, _ := v.pilot("me")
	nNear, _, _ := v.pilot("near")
	nFar, pFar, ok := v.pilot("far")
	if !ok || pFar != (pilotRow{ID: "far", Name: "Far", Bot: true, Score: 3, Deaths: 2}) || pMe.Name != "Me" {
		t.Errorf("pilots: me %+v, far %+v", pMe, pFar)
	}
	if _, ok := v.ships[nFar]; ok {
		t.Errorf("the ship 1 unit outside the sight was sent: %+v", v.ships[nFar])
	}
	if len(v.ships) != 2 {
		t.Fatalf("ships %v: want mine and the near one", v.ships)
	}
	s := v.ships[nMe]
	if math.Abs(s.Pos.X-me.Pos.X) > 0.05+1e-9 || math.Abs(s.Pos.Y-me.Pos.Y) > 0.05+1e-9 {
		t.Errorf("position %v, server %v: more than 0.05 apart", s.Pos, me.Pos)
	}
	if d := math.Abs(math.Remainder(s.Aim-me.Aim, 2*math.Pi)); d > math.Pi/256 {
		t.Errorf("aim %v, server %v: %v apart, more than π/256", s.Aim, me.Aim, d)
	}
	if !s.Alive || s.HP != me.HP || s.Life != 1 || s.Respawn != 0 {
		t.Errorf("own ship %+v", s)
	}
	if n := v.ships[nNear]; n.Alive || n.Respawn != 1300*time.Millisecond {
		t.Errorf("dead ship %+v: want dead, respawn 1.3 s (1.234 s, rounded up to 0.1 s)", n)
	}
	if len(v.bullets) != 1 {
		t.Fatalf("bullets %v, want 1", v.bullets)
	}
	for id, p := range v.bullets {
		b := w.Bullets()[0]
		if id != b.ID || math.Abs(p.X-b.Pos.X) > 0.05+1e-9 || math.Abs(p.Y-b.Pos.Y) > 0.05+1e-9 {
			t.Errorf("bullet %d at %v, server %d at %v", id, p, b.ID, b.Pos)
		}
	}

	// A player without a ship (none in the arena) would see everything.
	if got := decodeView(t, full); len(got.ships) != 3 {
		t.Errorf("the whole table has %d ships, want 3", len(got.ships))
	}
}

// tablePlayer is a player over WebSocket that applies table batches and
// acknowledges each, as the browser SDK does.
type tablePlayer struct {
	*wsPlayer
	welcome rooms.Welcome
	app     snap.Applier
	seq     uint32
	full    int // table batches without a base
	deltas  int
	refull  int // full snapshots after a delta
}

// joinTable matchmakes into the arena at url and joins.
func joinTable(t *testing.T, url, name string) *tablePlayer {
	t.Helper()
	resp, err := http.Post(url+"matchmake/arena", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var m engine.MatchmakeResponse
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || m.Seat == "" {
		t.Fatalf("matchmake: %s %+v", resp.Status, m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, m.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	p := &tablePlayer{wsPlayer: &wsPlayer{t: t, c: c}}
	p.send(rooms.ClientJoin, rooms.JoinRequest{Seat: m.Seat, Name: name})
	kind, f := p.read()
	if kind != rooms.ServerWelcome {
		t.Fatalf("answer to join: kind %d, want welcome", kind)
	}
	msgpack.Unmarshal(f[0], &p.welcome)
	return p
}

// next reads up to the next table batch, applies and acknowledges it, and
// returns its tick, the input it acknowledges and the view decoded.
func (p *tablePlayer) next() (uint64, uint32, arenaView) {
	p.t.Helper()
	for {
		kind, f := p.read()
		switch kind {
		case rooms.ServerTableBatch:
		case rooms.ServerBatch:
			p.t.Fatal("a plain batch: the arena sends table batches")
		case rooms.ServerError:
			var msg string
			msgpack.Unmarshal(f[1], &msg)
			p.t.Fatalf("error message: %s", msg)
		default:
			continue
		}
		var tick uint64
		var ack uint32
		var delta []msgpack.RawMessage
		var base uint64
		msgpack.Unmarshal(f[0], &tick)
		msgpack.Unmarshal(f[2], &ack)
		if err := msgpack.Unmarshal(f[3], &delta); err != nil || len(delta) != 4 || msgpack.Unmarshal(delta[0], &base) != nil {
			p.t.Fatalf("tick %d: not a delta: %x", tick, f[3])
		}
		st, err := p.app.Apply(tick, f[3])
		if err != nil {
			p.t.Fatal(err)
		}
		if base == 0 {
			p.full++
			if p.deltas > 0 {
				p.refull++
			}
		} else {
			p.deltas++
		}
		p.send(rooms.ClientAck, tick)
		return tick, ack, decodeView(p.t, st)
	}
}

// input sends the next input.
func (p *tablePlayer) input(in Input) {
	p.seq++
	p.send(rooms.ClientInput, p.seq, in)
}

// own returns the player's own ship in v.
func (p *tablePlayer) own(v arenaView) shipRow {
	p.t.Helper()
	n, _, ok := v.pilot(p.welcome.Player)
	s, seen := v.ships[n]
	if !ok || !seen {
		p.t.Fatalf("no own ship in the view: %+v", v)
	}
	return s
}

// TestFarShipsAreNotSent plays two players over WebSocket in an arena
// without bots: they spawn at opposite corners, out of each other's
// sight. One walks down, the other toward it until it is seen, then back
// until it is gone again. At every tick, a player receives the other's
// ship exactly when it is inside its sight; it always receives the other
// pilot; every batch after the first delta is a delta.
func TestFarShipsAreNotSent(t *testing.T) {
	url := startArena(t, "-bots", "0")
	near, far := joinTable(t, url, "near"), joinTable(t, url, "far")
	if near.welcome.Room != far.welcome.Room {
		t.Fatalf("two players in rooms %s and %s: matchmaking should fill one", near.welcome.Room, far.welcome.Room)
	}
	// near's first batches may come before far joined.
	for i := 0; ; i++ {
		if _, _, v := near.next(); len(v.pilots) == 2 {
			break
		}
		if i == 300 {
			t.Fatal("near never received far's pilot")
		}
	}
	sight := DefaultSight()
	type seen struct {
		own   Vec
		other bool // the other's ship was in the view
	}
	nearAt := map[uint64]seen{}
	farAt := map[uint64]Vec{}
	checked, inSight := 0, 0
	// step reads both players' next batches and checks every tick both
	// have seen: near has far's ship exactly when it is in near's sight.
	step := func() (nearView, farView arenaView) {
		tick, _, nv := near.next()
		n, _, ok := nv.pilot(far.welcome.Player)
		if !ok || len(nv.pilots) != 2 {
			t.Fatalf("tick %d: pilots %v: want both, far or not", tick, nv.pilots)
		}
		_, other := nv.ships[n]
		nearAt[tick] = seen{near.own(nv).Pos, other}
		ftick, _, fv := far.next()
		farAt[ftick] = far.own(fv).Pos
		for tk, s := range nearAt {
			fp, ok := farAt[tk]
			if !ok {
				continue
			}
			delete(nearAt, tk)
			dx, dy := math.Abs(fp.X-s.own.X), math.Abs(fp.Y-s.own.Y)
			if math.Abs(dx-sight.Width/2) < 0.1 || math.Abs(dy-sight.Height/2) < 0.1 {
				continue // within quantization of the edge
			}
			want := dx < sight.Width/2 && dy < sight.Height/2
			if s.other != want {
				t.Fatalf("tick %d: near at %v received far's ship: %v; far at %v, %.1f by %.1f away, sight %v by %v",
					tk, s.own, s.other, fp, dx, dy, sight.Width, sight.Height)
			}
			checked++
			if want {
				inSight++
			}
		}
		return nv, fv
	}
	farShip := func(v arenaView) bool {
		n, _, _ := v.pilot(far.welcome.Player)
		_, ok := v.ships[n]
		return ok
	}
	if nv, _ := step(); farShip(nv) {
		t.Fatalf("the far player's ship arrived at spawn: %+v", nv)
	}

	const limit = 900 // batches per phase: 30 s at 30 a second, plenty for 700 units at 260 a second
	phase := func(what string, move func(), done func(nv, fv arenaView) bool) {
		t.Helper()
		for range limit {
			move()
			if nv, fv := step(); done(nv, fv) {
				return
			}
		}
		t.Fatalf("%s: not done after %d batches", what, limit)
	}
	phase("near walks down", func() { near.input(Input{MY: 1, DT: 100}) },
		func(nv, _ arenaView) bool { return near.own(nv).Pos.Y >= 700 })
	seenFor := 0
	phase("far walks left into near's sight, and on for 10 batches", func() { far.input(Input{MX: -1, DT: 100}) },
		func(nv, _ arenaView) bool {
			if farShip(nv) {
				seenFor++
			}
			return seenFor == 10
		})
	phase("far walks back right out of it", func() { far.input(Input{MX: 1, DT: 100}) },
		func(nv, _ arenaView) bool { return !farShip(nv) })
	if checked < 30 || inSight == 0 || inSight == checked {
		t.Errorf("%d ticks checked, far in sight at %d: want both cases", checked, inSight)
	}
	for _, p := range []*tablePlayer{near, far} {
		if p.full == 0 || p.deltas < 30 || p.refull > 0 {
			t.Errorf("%s: %d full snapshots, %d deltas, %d full after a delta: want deltas after the first",
				p.welcome.Player, p.full, p.deltas, p.refull)
		}
	}
	t.Logf("%d ticks checked, far in near's sight at %d; near got %d full snapshots and %d deltas", checked, inSight, near.full, near.deltas)
}
