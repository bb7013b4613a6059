package snap

import (
	"bytes"
	"math/bits"
	"sync"
)

// MaxMaskFields is the most fields an entity may have for a delta to
// send only its changed fields: the update record's mask has one bit per
// field. A changed entity with more fields is sent whole.
const MaxMaskFields = 32

// AppendDelta appends to dst the msgpack encoding of the delta that turns
// base into cur, and returns the extended slice. The delta is the msgpack
// array [baseTick, enter, update, remove]:
//
//   - baseTick: base.Tick(), or 0 when base is nil or of tick 0: then the
//     delta is a full snapshot, to apply to an empty table.
//   - enter: [[id, field0, field1, ...], ...] the entities of cur that are
//     not in base, or whose number of fields changed, or that changed and
//     have more than MaxMaskFields fields: whole, replacing any entity of
//     that id.
//   - update: [[id, mask, value, ...], ...] the entities in both whose
//     fields changed: bit j of mask (the least significant is field 0) is
//     set when field j changed, and the new values of the set bits follow
//     in increasing field order.
//   - remove: [id, ...] the entities of base that are not in cur.
//
// Each list is in increasing id order and an id appears in at most one.
// Entities that did not change are not mentioned. docs/protocol.md
// describes the same format for client authors.
func AppendDelta(dst []byte, base, cur *State) []byte {
	if base != nil && base.tick == 0 {
		base = nil // tick 0 on the wire means "no base"
	}
	if base == nil {
		base = &State{}
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.enter, sc.update, sc.remove = sc.enter[:0], sc.update[:0], sc.remove[:0]
	i, j := 0, 0
	for i < len(base.ents) || j < len(cur.ents) {
		switch {
		case j == len(cur.ents) || (i < len(base.ents) && base.ents[i].id < cur.ents[j].id):
			sc.remove = append(sc.remove, base.ents[i].id)
			i++
		case i == len(base.ents) || cur.ents[j].id < base.ents[i].id:
			sc.enter = append(sc.enter, int32(j))
			j++
		default:
			if whole, mask := compare(base, i, cur, j); whole {
				sc.enter = append(sc.enter, int32(j))
			} else if mask != 0 {
				sc.update = append(sc.update, change{int32(j), mask})
			}
			i++
			j++
		}
	}
	dst = append(dst, 0x94)
	dst = appendUint(dst, base.tick)
	dst = appendArrayLen(dst, len(sc.enter))
	for _, ci := range sc.enter {
		dst = appendArrayLen(dst, 1+int(cur.ents[ci].n))
		dst = appendUint(dst, uint64(cur.ents[ci].id))
		dst = append(dst, cur.fields(int(ci))...)
	}
	dst = appendArrayLen(dst, len(sc.update))
	for _, u := range sc.update {
		dst = appendArrayLen(dst, 2+bits.OnesCount32(u.mask))
		dst = appendUint(dst, uint64(cur.ents[u.ci].id))
		dst = appendUint(dst, uint64(u.mask))
		for m := u.mask; m != 0; m &= m - 1 {
			dst = append(dst, cur.field(int(u.ci), bits.TrailingZeros32(m))...)
		}
	}
	dst = appendArrayLen(dst, len(sc.remove))
	for _, id := range sc.remove {
		dst = appendUint(dst, uint64(id))
	}
	return dst
}

// scratch holds AppendDelta's lists between its two passes.
type scratch struct {
	enter  []int32 // indices in cur
	update []change
	remove []ID
}

type change struct {
	ci   int32 // index in cur
	mask uint32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// compare compares entity ai of a with entity bi of b, which have the same
// id. whole reports that b's entity must be sent whole; otherwise mask
// has a bit set for each field that differs.
func compare(a *State, ai int, b *State, bi int) (whole bool, mask uint32) {
	ea, eb := &a.ents[ai], &b.ents[bi]
	n := ea.n
	if n != eb.n {
		return true, 0
	}
	oa, ob := a.offs[ea.off:ea.off+n+1], b.offs[eb.off:eb.off+n+1]
	if bytes.Equal(a.buf[oa[0]:oa[n]], b.buf[ob[0]:ob[n]]) && sameBounds(a, ai, b, bi) {
		return false, 0
	}
	if n > MaxMaskFields {
		return true, 0
	}
	for j := range n {
		if !bytes.Equal(a.buf[oa[j]:oa[j+1]], b.buf[ob[j]:ob[j+1]]) {
			mask |= 1 << j
		}
	}
	return false, mask
}

// sameBounds reports whether two entities' fields, whose bytes are equal
// back to back, also split at the same places.
func sameBounds(a *State, ai int, b *State, bi int) bool {
	ea, eb := &a.ents[ai], &b.ents[bi]
	oa, ob := a.offs[ea.off:ea.off+ea.n+1], b.offs[eb.off:eb.off+eb.n+1]
	for j := 1; j < len(oa)-1; j++ {
		if oa[j]-oa[0] != ob[j]-ob[0] {
			return false
		}
	}
	return true
}
