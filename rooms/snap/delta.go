package snap

import (
	"bytes"
	"math/bits"
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
	var nEnter, nUpdate, nRemove int
	merge(base, cur, func(bi, ci int) {
		switch {
		case ci < 0:
			nRemove++
		case bi < 0:
			nEnter++
		default:
			if whole, mask := compare(base, bi, cur, ci); whole {
				nEnter++
			} else if mask != 0 {
				nUpdate++
			}
		}
	})
	dst = append(dst, 0x94)
	dst = appendUint(dst, base.tick)

	dst = appendArrayLen(dst, nEnter)
	if nEnter > 0 {
		merge(base, cur, func(bi, ci int) {
			if ci < 0 {
				return
			}
			if bi >= 0 {
				if whole, _ := compare(base, bi, cur, ci); !whole {
					return
				}
			}
			dst = appendArrayLen(dst, 1+int(cur.ents[ci].n))
			dst = appendUint(dst, uint64(cur.ents[ci].id))
			dst = append(dst, cur.fields(ci)...)
		})
	}

	dst = appendArrayLen(dst, nUpdate)
	if nUpdate > 0 {
		merge(base, cur, func(bi, ci int) {
			if bi < 0 || ci < 0 {
				return
			}
			whole, mask := compare(base, bi, cur, ci)
			if whole || mask == 0 {
				return
			}
			dst = appendArrayLen(dst, 2+bits.OnesCount32(mask))
			dst = appendUint(dst, uint64(cur.ents[ci].id))
			dst = appendUint(dst, uint64(mask))
			for m := mask; m != 0; m &= m - 1 {
				dst = append(dst, cur.field(ci, bits.TrailingZeros32(m))...)
			}
		})
	}

	dst = appendArrayLen(dst, nRemove)
	if nRemove > 0 {
		merge(base, cur, func(bi, ci int) {
			if ci < 0 {
				dst = appendUint(dst, uint64(base.ents[bi].id))
			}
		})
	}
	return dst
}

// merge walks the entities of a and b in id order, calling fn with the
// index of the entity in each, or -1 where one lacks it.
func merge(a, b *State, fn func(ai, bi int)) {
	i, j := 0, 0
	for i < len(a.ents) || j < len(b.ents) {
		switch {
		case j == len(b.ents) || (i < len(a.ents) && a.ents[i].id < b.ents[j].id):
			fn(i, -1)
			i++
		case i == len(a.ents) || b.ents[j].id < a.ents[i].id:
			fn(-1, j)
			j++
		default:
			fn(i, j)
			i++
			j++
		}
	}
}

// compare compares entity ai of a with entity bi of b, which have the same
// id. whole reports that b's entity must be sent whole; otherwise mask
// has a bit set for each field that differs.
func compare(a *State, ai int, b *State, bi int) (whole bool, mask uint32) {
	n := a.ents[ai].n
	if n != b.ents[bi].n {
		return true, 0
	}
	if bytes.Equal(a.fields(ai), b.fields(bi)) && sameBounds(a, ai, b, bi) {
		return false, 0
	}
	if n > MaxMaskFields {
		return true, 0
	}
	for j := range int(n) {
		if !bytes.Equal(a.field(ai, j), b.field(bi, j)) {
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
