package snap

import (
	"fmt"
	"math"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
)

// ID identifies an entity: the same thing keeps the same ID for as long
// as it exists, so deltas can say what changed about it.
type ID uint32

// A Table is a game's state as a table of entities, each an ID, an
// optional position (used only to decide who sees it, never sent) and an
// ordered list of fields (sent). A game rebuilds it from its own plain Go
// state once a tick, in Tick:
//
//	g.world.Reset()
//	for _, s := range g.ships {
//		g.world.Add(snap.ID(s.id)).At(s.X, s.Y).
//			Fixed(s.X, 0.01).Fixed(s.Y, 0.01).Angle(s.Heading, 8).String(s.Name)
//	}
//
// and returns it from Snapshot, as is (every player sees every entity) or
// through View (a player sees the entities inside an area). The room then
// sends each player only what changed since the state that player last
// acknowledged.
//
// Fields are compared as encoded bytes, so a field that is recomputed to
// the same value costs nothing on the wire. Quantize numbers (Fixed,
// Angle) so that jitter below the precision a client needs does not count
// as change.
//
// A Table is not safe for concurrent use. Its zero value is an empty table.
type Table struct {
	// CellSize is the side of the square cells of the spatial grid that
	// finds the entities inside a view, in the units of At. About the
	// side of a typical view is a good choice. 0 means the larger side of
	// the first view asked for after a change.
	CellSize float64

	ents []*Entity // reused across Reset; the first n are live
	n    int
	gen  uint64 // changes with every modification
	err  error
}

// Reset empties the table, keeping its memory for the next tick. Entities
// returned by Add before the reset must not be used after it.
func (t *Table) Reset() {
	t.n = 0
	t.err = nil
	t.gen++
}

// Len returns the number of entities added since the last Reset.
func (t *Table) Len() int { return t.n }

// Add adds an entity with the given id and no fields, and returns it for
// its position and fields to be set. Adding an id twice before a Reset
// replaces the first entity with the second.
func (t *Table) Add(id ID) *Entity {
	t.gen++
	if t.n == len(t.ents) {
		t.ents = append(t.ents, &Entity{})
	}
	e := t.ents[t.n]
	t.n++
	*e = Entity{t: t, id: id, buf: e.buf[:0], offs: e.offs[:0]}
	return e
}

// Err returns the first error met while adding fields since the last
// Reset (a Value msgpack could not encode), or nil.
func (t *Table) Err() error { return t.err }

// View returns the part of the table inside area, for Snapshot to return
// for one player: the entities positioned inside it (borders included)
// and those without a position.
func (t *Table) View(area Rect) View { return View{Table: t, Area: area} }

// View is what a player sees of a table: the entities positioned inside
// Area and those without a position. Games return it from Snapshot.
type View struct {
	Table *Table
	Area  Rect
}

// Rect is an axis-aligned rectangle, borders included.
type Rect struct {
	MinX, MinY, MaxX, MaxY float64
}

// Centered returns the rectangle of the given width and height centered
// on (x, y).
func Centered(x, y, width, height float64) Rect {
	return Rect{MinX: x - width/2, MinY: y - height/2, MaxX: x + width/2, MaxY: y + height/2}
}

// Contains reports whether (x, y) is inside r, borders included.
func (r Rect) Contains(x, y float64) bool {
	return r.MinX <= x && x <= r.MaxX && r.MinY <= y && y <= r.MaxY
}

// An Entity is one row of a Table, being built. Each method appends one
// field (or sets the position) and returns the entity, so calls chain.
// An Entity is valid until its table's next Reset.
type Entity struct {
	t    *Table
	id   ID
	x, y float64
	at   bool
	buf  []byte   // the encoded fields, back to back
	offs []uint32 // where each field starts in buf
}

// ID returns the entity's id.
func (e *Entity) ID() ID { return e.id }

// At sets the entity's position, in the game's units. Views include the
// entity when the position is inside their area; an entity without a
// position is in every view, and one at a NaN or infinite position in
// none. The position is not sent: add it as fields for clients to see it.
func (e *Entity) At(x, y float64) *Entity {
	e.t.gen++
	e.x, e.y, e.at = x, y, true
	return e
}

func (e *Entity) field() {
	e.t.gen++
	e.offs = append(e.offs, uint32(len(e.buf)))
}

// Int appends an integer field.
func (e *Entity) Int(v int64) *Entity {
	e.field()
	e.buf = appendInt(e.buf, v)
	return e
}

// Uint appends an unsigned integer field.
func (e *Entity) Uint(v uint64) *Entity {
	e.field()
	e.buf = appendUint(e.buf, v)
	return e
}

// Float appends a float64 field (9 bytes on the wire; see Fixed).
func (e *Entity) Float(v float64) *Entity {
	e.field()
	e.buf = appendFloat64(e.buf, v)
	return e
}

// Float32 appends a float32 field (5 bytes on the wire).
func (e *Entity) Float32(v float32) *Entity {
	e.field()
	e.buf = appendFloat32(e.buf, v)
	return e
}

// Fixed appends v quantized to precision p, as the integer
// p.Quantize(v); a client multiplies it by p. See Precision for the
// error bound.
func (e *Entity) Fixed(v float64, p Precision) *Entity { return e.Int(p.Quantize(v)) }

// Angle appends an angle in radians quantized to bits bits, as the
// integer QuantizeAngle(rad, bits); a client multiplies it by 2π/2^bits.
func (e *Entity) Angle(rad float64, bits int) *Entity {
	return e.Uint(uint64(QuantizeAngle(rad, bits)))
}

// Bool appends a boolean field.
func (e *Entity) Bool(v bool) *Entity {
	e.field()
	e.buf = appendBool(e.buf, v)
	return e
}

// String appends a string field.
func (e *Entity) String(s string) *Entity {
	e.field()
	e.buf = appendString(e.buf, s)
	return e
}

// Value appends any msgpack-encodable value as one field. If v cannot be
// encoded, the field is nil and the table's Err reports why; the room
// then closes with that error.
func (e *Entity) Value(v any) *Entity {
	e.field()
	b, err := msgpack.Marshal(v)
	if err != nil {
		if e.t.err == nil {
			e.t.err = fmt.Errorf("snap: entity %d field %d: %w", e.id, len(e.offs)-1, err)
		}
		b = []byte{0xC0}
	}
	e.buf = append(e.buf, b...)
	return e
}

// Freeze returns the table's current content as an immutable State of the
// given tick, or the table's Err. The table may be reset and rebuilt
// afterwards without affecting the State.
func (t *Table) Freeze(tick uint64) (*State, error) {
	if t.err != nil {
		return nil, t.err
	}
	live := t.ents[:t.n]
	order := make([]int, 0, len(live))
	sorted := true
	for i, e := range live {
		if i > 0 && e.id <= live[i-1].id {
			sorted = false
		}
		order = append(order, i)
	}
	if !sorted {
		// Stable, so that among duplicates the last added comes last.
		slices.SortStableFunc(order, func(a, b int) int {
			return cmpID(live[a].id, live[b].id)
		})
		// Keep the last of each run of equal ids.
		w := 0
		for i, o := range order {
			if i+1 < len(order) && live[order[i+1]].id == live[o].id {
				continue
			}
			order[w] = o
			w++
		}
		order = order[:w]
	}
	size, nf := 0, 0
	for _, o := range order {
		size += len(live[o].buf)
		nf += len(live[o].offs) + 1
	}
	if size > math.MaxUint32 {
		return nil, fmt.Errorf("snap: table of %d bytes is over the 4 GiB limit", size)
	}
	s := &State{
		tick: tick,
		ents: make([]ent, len(order)),
		buf:  make([]byte, 0, size),
		offs: make([]uint32, 0, nf),
		cell: t.CellSize,
	}
	for i, o := range order {
		e := live[o]
		base := uint32(len(s.buf))
		s.ents[i] = ent{id: e.id, off: uint32(len(s.offs)), n: uint32(len(e.offs)), x: e.x, y: e.y, at: e.at}
		for _, f := range e.offs {
			s.offs = append(s.offs, base+f)
		}
		s.buf = append(s.buf, e.buf...)
		s.offs = append(s.offs, uint32(len(s.buf)))
	}
	return s, nil
}

// Generation returns a number that changes whenever the table does, so
// that a caller holding a frozen State can tell whether it is current.
func (t *Table) Generation() uint64 { return t.gen }

func cmpID(a, b ID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// finite reports whether both coordinates are finite numbers.
func finite(x, y float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0) && !math.IsNaN(y) && !math.IsInf(y, 0)
}
