package snap

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
)

// DefaultKeep is how many states an Applier keeps when Keep is 0.
const DefaultKeep = 128

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
	d, err := decodeDelta(delta)
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

// record is one entity of a delta: whole (enter) or changed fields.
type record struct {
	id     ID
	whole  bool
	mask   uint32
	fields [][]byte
}

type decoded struct {
	base    uint64
	records []record // enter and update records, sorted by id
	remove  []ID     // sorted
}

func decodeDelta(b []byte) (*decoded, error) {
	r := bytes.NewReader(b)
	dec := msgpack.NewDecoder(r)
	if n, err := dec.DecodeArrayLen(); err != nil || n != 4 {
		return nil, fmt.Errorf("want an array [base, enter, update, remove]")
	}
	d := &decoded{}
	var err error
	if d.base, err = decodeUnsigned(dec); err != nil {
		return nil, fmt.Errorf("base: %v", err)
	}
	for list, whole := range []bool{true, false} {
		n, err := arrayLen(dec, r)
		if err != nil {
			return nil, fmt.Errorf("list %d: %v", list+1, err)
		}
		for range n {
			rec, err := decodeRecord(dec, r, whole)
			if err != nil {
				return nil, fmt.Errorf("list %d: %v", list+1, err)
			}
			d.records = append(d.records, rec)
		}
	}
	n, err := arrayLen(dec, r)
	if err != nil {
		return nil, fmt.Errorf("remove: %v", err)
	}
	for range n {
		id, err := decodeID(dec)
		if err != nil {
			return nil, fmt.Errorf("remove: %v", err)
		}
		d.remove = append(d.remove, id)
	}
	if r.Len() > 0 {
		return nil, fmt.Errorf("%d bytes after the delta", r.Len())
	}
	slices.SortFunc(d.records, func(a, b record) int { return cmpID(a.id, b.id) })
	slices.Sort(d.remove)
	for i := 1; i < len(d.records); i++ {
		if d.records[i].id == d.records[i-1].id {
			return nil, fmt.Errorf("entity %d appears twice", d.records[i].id)
		}
	}
	for i, id := range d.remove {
		if i > 0 && id == d.remove[i-1] {
			return nil, fmt.Errorf("entity %d removed twice", id)
		}
		if _, found := slices.BinarySearchFunc(d.records, id, func(r record, id ID) int { return cmpID(r.id, id) }); found {
			return nil, fmt.Errorf("entity %d both removed and sent", id)
		}
	}
	return d, nil
}

// arrayLen decodes an array header, refusing lengths the rest of the input
// cannot hold (each element takes at least a byte).
func arrayLen(dec *msgpack.Decoder, r *bytes.Reader) (int, error) {
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return 0, err
	}
	if n < 0 || n > r.Len() {
		return 0, fmt.Errorf("array of %d elements in %d bytes", n, r.Len())
	}
	return n, nil
}

func decodeID(dec *msgpack.Decoder) (ID, error) {
	v, err := decodeUnsigned(dec)
	if err != nil {
		return 0, fmt.Errorf("entity id: %v", err)
	}
	if v > math.MaxUint32 {
		return 0, fmt.Errorf("entity id %d over 32 bits", v)
	}
	return ID(v), nil
}

// decodeUnsigned decodes a non-negative integer in any of msgpack's
// integer forms.
func decodeUnsigned(dec *msgpack.Decoder) (uint64, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return 0, err
	}
	if c == 0xC0 {
		return 0, fmt.Errorf("nil, not an integer")
	}
	if c >= 0xE0 || (c >= 0xD0 && c <= 0xD3) { // signed forms
		v, err := dec.DecodeInt64()
		if err != nil {
			return 0, err
		}
		if v < 0 {
			return 0, fmt.Errorf("negative: %d", v)
		}
		return uint64(v), nil
	}
	return dec.DecodeUint64()
}

func decodeRecord(dec *msgpack.Decoder, r *bytes.Reader, whole bool) (record, error) {
	n, err := arrayLen(dec, r)
	if err != nil {
		return record{}, err
	}
	rec := record{whole: whole}
	if n < 1 || (!whole && n < 2) {
		return rec, fmt.Errorf("record of %d elements is too short", n)
	}
	if rec.id, err = decodeID(dec); err != nil {
		return rec, err
	}
	n--
	if !whole {
		m, err := decodeUnsigned(dec)
		if err != nil || m > math.MaxUint32 {
			return rec, fmt.Errorf("entity %d: mask: want a 32-bit unsigned integer", rec.id)
		}
		rec.mask = uint32(m)
		n--
		if bits.OnesCount32(rec.mask) != n || n == 0 {
			return rec, fmt.Errorf("entity %d: mask %#x with %d values", rec.id, m, n)
		}
	}
	rec.fields = make([][]byte, n)
	for j := range n {
		if rec.fields[j], err = dec.DecodeRaw(); err != nil {
			return rec, fmt.Errorf("entity %d: field: %v", rec.id, err)
		}
	}
	return rec, nil
}

// apply builds the state of tick from base and the delta.
func (d *decoded) apply(base *State, tick uint64) (*State, error) {
	s := &State{tick: tick, ents: make([]ent, 0, base.Len()+len(d.records))}
	ri, rm := 0, 0
	add := func(id ID, fields func(j int) []byte, n int) {
		e := ent{id: id, off: uint32(len(s.offs)), n: uint32(n)}
		for j := range n {
			s.offs = append(s.offs, uint32(len(s.buf)))
			s.buf = append(s.buf, fields(j)...)
		}
		s.offs = append(s.offs, uint32(len(s.buf)))
		s.ents = append(s.ents, e)
	}
	addRecord := func(rec *record) {
		add(rec.id, func(j int) []byte { return rec.fields[j] }, len(rec.fields))
	}
	for bi := range base.ents {
		id := base.ents[bi].id
		for ri < len(d.records) && d.records[ri].id < id {
			if !d.records[ri].whole {
				return nil, fmt.Errorf("update of entity %d, which the base lacks", d.records[ri].id)
			}
			addRecord(&d.records[ri])
			ri++
		}
		for rm < len(d.remove) && d.remove[rm] < id {
			return nil, fmt.Errorf("removal of entity %d, which the base lacks", d.remove[rm])
		}
		if rm < len(d.remove) && d.remove[rm] == id {
			rm++
			continue
		}
		if ri < len(d.records) && d.records[ri].id == id {
			rec := &d.records[ri]
			ri++
			if rec.whole {
				addRecord(rec)
				continue
			}
			n := int(base.ents[bi].n)
			if rec.mask>>min(n, 32) != 0 {
				return nil, fmt.Errorf("entity %d: mask %#x for %d fields", id, rec.mask, n)
			}
			k := 0
			add(id, func(j int) []byte {
				if rec.mask&(1<<j) != 0 {
					k++
					return rec.fields[k-1]
				}
				return base.field(bi, j)
			}, n)
			continue
		}
		add(id, func(j int) []byte { return base.field(bi, j) }, int(base.ents[bi].n))
	}
	for ; ri < len(d.records); ri++ {
		if !d.records[ri].whole {
			return nil, fmt.Errorf("update of entity %d, which the base lacks", d.records[ri].id)
		}
		addRecord(&d.records[ri])
	}
	if rm < len(d.remove) {
		return nil, fmt.Errorf("removal of entity %d, which the base lacks", d.remove[rm])
	}
	if len(s.buf) > math.MaxUint32 {
		return nil, fmt.Errorf("state of %d bytes is over the 4 GiB limit", len(s.buf))
	}
	return s, nil
}
