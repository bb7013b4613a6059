package snap

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// DefaultKeep is how many states an Applier keeps when Keep is 0: more
// than a room's default history at snapshot rates up to 64 a second, so
// a base the server still has is never dropped.
const DefaultKeep = 64

// An Applier rebuilds a player's table on the client side from the deltas
// the server sends (AppendDelta's format), for Go bots and tests; a
// client in another language follows docs/protocol.md.
//
// The server takes each delta against the newest tick the client
// acknowledged, so a delta may refer to a state older than the newest one
// applied: an Applier keeps the states it applied, from the base of the
// newest delta on (at most Keep of them), and looks the base up by tick.
//
// Use it like this: for every table batch, Apply(tick, delta), then
// acknowledge Ack() to the server. If Apply fails, call Reset and
// acknowledge 0: the server then sends a full snapshot.
//
// The zero value is ready to use. An Applier is not safe for concurrent
// use.
type Applier struct {
	// Keep is the most states kept as possible bases; 0 means DefaultKeep.
	Keep int

	states []*State // increasing ticks
	d      decoded  // scratch, reused by every Apply
}

// ErrUnknownBase is returned (wrapped) by Apply when a delta's base is
// not among the states kept.
var ErrUnknownBase = errors.New("snap: the delta's base state is not kept")

// Latest returns the newest state applied, or nil.
func (a *Applier) Latest() *State {
	if len(a.states) == 0 {
		return nil
	}
	return a.states[len(a.states)-1]
}

// Ack returns the tick to acknowledge: the newest applied, 0 if none.
func (a *Applier) Ack() uint64 {
	if s := a.Latest(); s != nil {
		return s.tick
	}
	return 0
}

// Reset forgets every state, as after a reconnect.
func (a *Applier) Reset() { a.states = nil }

// Apply applies the delta of the given tick to the state it was taken
// against and returns the new state, which it keeps as a possible base.
// On error (a malformed delta, an unknown base, a tick not after the
// newest) it changes nothing.
func (a *Applier) Apply(tick uint64, delta []byte) (*State, error) {
	if tick <= a.Ack() && len(a.states) > 0 {
		return nil, fmt.Errorf("snap: tick %d is not after the newest applied, %d", tick, a.Ack())
	}
	d := &a.d
	err := d.decode(delta)
	defer d.clear()
	if err != nil {
		return nil, fmt.Errorf("snap: malformed delta for tick %d: %w", tick, err)
	}
	base := &State{}
	if d.base != 0 {
		i := slices.IndexFunc(a.states, func(s *State) bool { return s.tick == d.base })
		if i < 0 {
			return nil, fmt.Errorf("%w: tick %d, for the delta of tick %d", ErrUnknownBase, d.base, tick)
		}
		base = a.states[i]
	}
	s, err := d.apply(base, tick)
	if err != nil {
		return nil, fmt.Errorf("snap: delta for tick %d against %d: %w", tick, d.base, err)
	}
	if d.base != 0 {
		// The server never again takes a base older than this one.
		a.states = slices.DeleteFunc(a.states, func(s *State) bool { return s.tick < d.base })
	}
	a.states = append(a.states, s)
	keep := a.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	if n := len(a.states) - keep; n > 0 {
		a.states = slices.Delete(a.states, 0, n)
	}
	return s, nil
}

// record is one entity of a delta: whole (enter) or changed fields, each
// field a slice of the delta.
type record struct {
	id     ID
	whole  bool
	mask   uint32
	fields [][]byte
}

// decoded is a delta, decoded: its slices point into the delta's bytes
// and are reused from one delta to the next.
type decoded struct {
	base    uint64
	records []record // enter and update records, sorted by id
	remove  []ID     // sorted
	fields  [][]byte // the records' fields, back to back
}

// clear drops the references into the last delta, keeping the memory.
func (d *decoded) clear() {
	clear(d.fields)
	d.records, d.remove, d.fields = d.records[:0], d.remove[:0], d.fields[:0]
}

// decodeDelta decodes a delta into a new decoded.
func decodeDelta(b []byte) (*decoded, error) {
	d := &decoded{}
	return d, d.decode(b)
}

func (d *decoded) decode(b []byte) error {
	d.clear()
	r := &reader{b: b}
	if n, err := r.arrayLen(); err != nil || n != 4 {
		return fmt.Errorf("want an array [base, enter, update, remove]")
	}
	var err error
	if d.base, err = r.unsigned(); err != nil {
		return fmt.Errorf("base: %v", err)
	}
	for list, whole := range []bool{true, false} {
		n, err := r.arrayLen()
		if err != nil {
			return fmt.Errorf("list %d: %v", list+1, err)
		}
		for range n {
			var rec record
			rec, d.fields, err = decodeRecord(r, whole, d.fields)
			if err != nil {
				return fmt.Errorf("list %d: %v", list+1, err)
			}
			d.records = append(d.records, rec)
		}
	}
	n, err := r.arrayLen()
	if err != nil {
		return fmt.Errorf("remove: %v", err)
	}
	for range n {
		id, err := decodeID(r)
		if err != nil {
			return fmt.Errorf("remove: %v", err)
		}
		d.remove = append(d.remove, id)
	}
	if r.left() > 0 {
		return fmt.Errorf("%d bytes after the delta", r.left())
	}
	byID := func(a, b record) int { return cmpID(a.id, b.id) }
	if !slices.IsSortedFunc(d.records, byID) {
		slices.SortFunc(d.records, byID)
	}
	if !slices.IsSorted(d.remove) {
		slices.Sort(d.remove)
	}
	for i := 1; i < len(d.records); i++ {
		if d.records[i].id == d.records[i-1].id {
			return fmt.Errorf("entity %d appears twice", d.records[i].id)
		}
	}
	for i, id := range d.remove {
		if i > 0 && id == d.remove[i-1] {
			return fmt.Errorf("entity %d removed twice", id)
		}
		if _, found := slices.BinarySearchFunc(d.records, id, func(r record, id ID) int { return cmpID(r.id, id) }); found {
			return fmt.Errorf("entity %d both removed and sent", id)
		}
	}
	return nil
}

func decodeID(r *reader) (ID, error) {
	v, err := r.unsigned()
	if err != nil {
		return 0, fmt.Errorf("entity id: %v", err)
	}
	if v > math.MaxUint32 {
		return 0, fmt.Errorf("entity id %d over 32 bits", v)
	}
	return ID(v), nil
}

// decodeRecord decodes one enter (whole) or update record, appending its
// fields to buf, whose tail it returns as the record's fields.
func decodeRecord(r *reader, whole bool, buf [][]byte) (record, [][]byte, error) {
	n, err := r.arrayLen()
	if err != nil {
		return record{}, buf, err
	}
	rec := record{whole: whole}
	if n < 1 || (!whole && n < 2) {
		return rec, buf, fmt.Errorf("record of %d elements is too short", n)
	}
	if rec.id, err = decodeID(r); err != nil {
		return rec, buf, err
	}
	n--
	if !whole {
		m, err := r.unsigned()
		if err != nil || m > math.MaxUint32 {
			return rec, buf, fmt.Errorf("entity %d: mask: want a 32-bit unsigned integer", rec.id)
		}
		rec.mask = uint32(m)
		n--
		if bits.OnesCount32(rec.mask) != n || n == 0 {
			return rec, buf, fmt.Errorf("entity %d: mask %#x with %d values", rec.id, m, n)
		}
	}
	start := len(buf)
	for range n {
		f, err := r.raw()
		if err != nil {
			return rec, buf, fmt.Errorf("entity %d: field: %v", rec.id, err)
		}
		buf = append(buf, f)
	}
	rec.fields = buf[start:len(buf):len(buf)]
	return rec, buf, nil
}

// apply builds the state of tick from base and the delta.
func (d *decoded) apply(base *State, tick uint64) (*State, error) {
	nf := len(base.offs)
	for i := range d.records {
		nf += len(d.records[i].fields) + 1
	}
	s := &State{
		tick: tick,
		ents: make([]ent, 0, base.Len()+len(d.records)),
		offs: make([]uint32, 0, nf),
		buf:  make([]byte, 0, len(base.buf)+len(d.records)*16),
	}
	ri, rm := 0, 0
	for bi := range base.ents {
		id := base.ents[bi].id
		for ri < len(d.records) && d.records[ri].id < id {
			if !d.records[ri].whole {
				return nil, fmt.Errorf("update of entity %d, which the base lacks", d.records[ri].id)
			}
			s.addRecord(&d.records[ri])
			ri++
		}
		if rm < len(d.remove) && d.remove[rm] < id {
			return nil, fmt.Errorf("removal of entity %d, which the base lacks", d.remove[rm])
		}
		if rm < len(d.remove) && d.remove[rm] == id {
			rm++
			continue
		}
		if ri == len(d.records) || d.records[ri].id != id {
			s.copyEntity(base, bi)
			continue
		}
		rec := &d.records[ri]
		ri++
		if rec.whole {
			s.addRecord(rec)
			continue
		}
		n := int(base.ents[bi].n)
		if rec.mask>>min(n, 32) != 0 {
			return nil, fmt.Errorf("entity %d: mask %#x for %d fields", id, rec.mask, n)
		}
		s.beginEntity(id, n)
		k := 0
		for j := range n {
			if rec.mask&(1<<j) != 0 {
				s.addField(rec.fields[k])
				k++
			} else {
				s.addField(base.field(bi, j))
			}
		}
		s.endEntity()
	}
	for ; ri < len(d.records); ri++ {
		if !d.records[ri].whole {
			return nil, fmt.Errorf("update of entity %d, which the base lacks", d.records[ri].id)
		}
		s.addRecord(&d.records[ri])
	}
	if rm < len(d.remove) {
		return nil, fmt.Errorf("removal of entity %d, which the base lacks", d.remove[rm])
	}
	if len(s.buf) > math.MaxUint32 {
		return nil, fmt.Errorf("state of %d bytes is over the 4 GiB limit", len(s.buf))
	}
	return s, nil
}

// beginEntity, addField and endEntity append an entity to a State being
// built: its id and n fields, then the offset ending the last field.
func (s *State) beginEntity(id ID, n int) {
	s.ents = append(s.ents, ent{id: id, off: uint32(len(s.offs)), n: uint32(n)})
}

func (s *State) addField(f []byte) {
	s.offs = append(s.offs, uint32(len(s.buf)))
	s.buf = append(s.buf, f...)
}

func (s *State) endEntity() { s.offs = append(s.offs, uint32(len(s.buf))) }

func (s *State) addRecord(rec *record) {
	s.beginEntity(rec.id, len(rec.fields))
	for _, f := range rec.fields {
		s.addField(f)
	}
	s.endEntity()
}

// copyEntity appends entity bi of base, unchanged.
func (s *State) copyEntity(base *State, bi int) {
	e := &base.ents[bi]
	s.beginEntity(e.id, int(e.n))
	o := base.offs[e.off : e.off+e.n+1]
	shift := uint32(len(s.buf)) - o[0]
	for _, off := range o[:e.n] {
		s.offs = append(s.offs, off+shift)
	}
	s.buf = append(s.buf, base.buf[o[0]:o[e.n]]...)
	s.endEntity()
}
