package snap

import (
	"bytes"
	"fmt"
	"iter"
	"sort"
	"strings"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// A State is an immutable table of entities at one tick, sorted by ID:
// what Table.Freeze captures on the server and what an Applier rebuilds
// on a client. It is safe for concurrent use.
type State struct {
	tick uint64
	ents []ent    // sorted by id, no duplicates
	buf  []byte   // encoded fields; views share their parent's
	offs []uint32 // per entity n+1 offsets into buf: each field's start, then the end

	cell     float64 // grid cell size asked for; 0: choose at the first View
	gridOnce sync.Once
	grid     *grid
}

type ent struct {
	id   ID
	off  uint32 // index in offs of the first field's start
	n    uint32 // number of fields
	x, y float64
	at   bool // positioned
}

// Tick returns the tick the state belongs to.
func (s *State) Tick() uint64 { return s.tick }

// Len returns the number of entities.
func (s *State) Len() int { return len(s.ents) }

// field returns the encoded bytes of field j of entity i.
func (s *State) field(i, j int) []byte {
	e := &s.ents[i]
	k := int(e.off) + j
	return s.buf[s.offs[k]:s.offs[k+1]]
}

// fields returns all the encoded fields of entity i, back to back.
func (s *State) fields(i int) []byte {
	e := &s.ents[i]
	return s.buf[s.offs[e.off]:s.offs[int(e.off)+int(e.n)]]
}

// index returns the position of id in s.ents.
func (s *State) index(id ID) (int, bool) {
	i := sort.Search(len(s.ents), func(i int) bool { return s.ents[i].id >= id })
	return i, i < len(s.ents) && s.ents[i].id == id
}

// Get returns the fields of the entity id.
func (s *State) Get(id ID) (Fields, bool) {
	i, ok := s.index(id)
	if !ok {
		return Fields{}, false
	}
	return Fields{s, i}, true
}

// All yields every entity's id and fields, in increasing id order.
func (s *State) All() iter.Seq2[ID, Fields] {
	return func(yield func(ID, Fields) bool) {
		for i := range s.ents {
			if !yield(s.ents[i].id, Fields{s, i}) {
				return
			}
		}
	}
}

// AppendIDs appends the ids of s's entities, in increasing order, to dst
// and returns the extended slice.
func (s *State) AppendIDs(dst []ID) []ID {
	for i := range s.ents {
		dst = append(dst, s.ents[i].id)
	}
	return dst
}

// Equal reports whether a and b hold the same entities with the same
// encoded fields. Ticks and positions are not compared: positions are not
// sent, and a client's state has none.
func Equal(a, b *State) bool {
	if a.Len() != b.Len() {
		return false
	}
	for i := range a.ents {
		if a.ents[i].id != b.ents[i].id || a.ents[i].n != b.ents[i].n ||
			!bytes.Equal(a.fields(i), b.fields(i)) || !sameBounds(a, i, b, i) {
			return false
		}
	}
	return true
}

// String describes the state for tests and logs: each entity's id and
// fields, decoded.
func (s *State) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "tick %d:", s.tick)
	for id, f := range s.All() {
		fmt.Fprintf(&sb, " %d[", id)
		for j := range f.Len() {
			var v any
			msgpack.Unmarshal(f.Raw(j), &v)
			if j > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprint(&sb, v)
		}
		sb.WriteByte(']')
	}
	return sb.String()
}

// Fields are the fields of one entity of a State.
type Fields struct {
	s *State
	i int
}

// Len returns the number of fields.
func (f Fields) Len() int { return int(f.s.ents[f.i].n) }

// Raw returns field j as encoded msgpack. It must not be modified.
func (f Fields) Raw(j int) []byte { return f.s.field(f.i, j) }

// Int returns field j as an integer (msgpack int or uint).
func (f Fields) Int(j int) (int64, error) {
	var v int64
	err := f.Decode(j, &v)
	return v, err
}

// Float returns field j as a float64 (msgpack float or integer).
func (f Fields) Float(j int) (float64, error) {
	var v float64
	err := f.Decode(j, &v)
	return v, err
}

// Decode decodes field j into v with msgpack.
func (f Fields) Decode(j int, v any) error {
	if j < 0 || j >= f.Len() {
		return fmt.Errorf("snap: entity %d has %d fields, no field %d", f.s.ents[f.i].id, f.Len(), j)
	}
	return msgpack.Unmarshal(f.Raw(j), v)
}

// View returns the entities of s inside area (borders included) and those
// without a position, as a State of the same tick sharing s's memory. It
// finds them with a spatial grid built on the first call, so a view costs
// in proportion to the entities near area, not to all of them.
func (s *State) View(area Rect) *State {
	s.gridOnce.Do(func() { s.grid = newGrid(s, area) })
	return s.grid.view(s, area)
}

// subset returns the state made of the entities of s whose indices are set
// in the bitset, sharing s's memory.
func (s *State) subset(set []uint64, count int) *State {
	v := &State{tick: s.tick, buf: s.buf, offs: s.offs, ents: make([]ent, 0, count)}
	for w, bits := range set {
		for bits != 0 {
			b := bitsTrailingZeros(bits)
			v.ents = append(v.ents, s.ents[w*64+b])
			bits &= bits - 1
		}
	}
	return v
}
