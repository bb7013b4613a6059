package lagcomp

import (
	"errors"
	"fmt"
	"time"
)

// Lag is how far behind the server a player saw the world when acting.
type Lag struct {
	// RTT is the player's smoothed round-trip time,
	// rooms.Player.RTT().Smoothed; half of it is taken as the one-way
	// latency of the player's input.
	RTT time.Duration

	// Interp is the interpolation delay the client reported with its
	// input: how far behind its estimate of the server's clock it draws
	// entities.
	Interp time.Duration
}

// maxLag bounds each part of a Lag, so that absurd reported values cannot
// overflow; any rewind that long is clamped to the window anyway.
const maxLag = time.Hour

// Rewind returns the world as a player with the given lag saw it when the
// action being applied now was taken: the history at
//
//	now - lag.RTT/2 - lag.Interp
//
// clamped to the window and to the frames recorded, and interpolated
// linearly between the two frames around that instant. Negative parts of
// lag count as zero. now is the time the action is applied, usually the
// current tick's start.
//
// The View says what was done. It reads the history's frames, so use it
// within the tick that made it: once Record has written over its frames
// (a window later), it expires.
//
// Rewind returns ErrEmpty before the first Record, and an error when now
// is before the oldest frame or the newest frame is older than the window.
func (h *History) Rewind(now time.Time, lag Lag) (View, error) {
	if h.n == 0 {
		return View{}, ErrEmpty
	}
	nowAt := now.Sub(h.base)
	oldest, newest := h.at(0), h.at(h.n-1)
	if nowAt < oldest.at {
		return View{}, fmt.Errorf("lagcomp: Rewind at %v, %v before the oldest frame; pass the current tick's time",
			now.Format(time.RFC3339Nano), oldest.at-nowAt)
	}
	low := max(nowAt-h.window, oldest.at)
	if low > newest.at {
		return View{}, fmt.Errorf("lagcomp: the newest frame is %v old, beyond the %v window; call Record every tick", nowAt-newest.at, h.window)
	}
	want := min(max(lag.RTT, 0), maxLag)/2 + min(max(lag.Interp, 0), maxLag)
	v := View{h: h, Want: want}
	target := nowAt - want
	if target < low {
		target, v.Clamped = low, true
	}
	target = min(target, newest.at)
	v.By = nowAt - target
	v.At = h.base.Add(target)

	// The last frame at or before target; frames are in time order.
	lo, hi := 0, h.n-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if h.at(mid).at <= target {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	a := h.at(lo)
	v.seqA, v.seqB = a.seq, a.seq
	if a.at < target {
		b := h.at(lo + 1)
		v.seqB = b.seq
		v.frac = float64(target-a.at) / float64(b.at-a.at)
	}
	return v, nil
}

// View is the world at one past instant, as Rewind found it. Its fields
// say what the rewind did; its methods read the bodies. The zero View
// holds no bodies.
type View struct {
	At      time.Time     // the instant the view shows
	Want    time.Duration // the rewind asked for: RTT/2 + Interp
	By      time.Duration // the rewind applied: now - At
	Clamped bool          // the window or the frames recorded cut the rewind short of Want

	h          *History
	seqA, seqB uint64  // the frames around At; the same frame when At is on one
	frac       float64 // how far At is from frame seqA to frame seqB, 0 to 1
}

// ErrUnknownEntity is returned by View.Body for an ID that is in neither
// of the frames around the view's instant.
var ErrUnknownEntity = errors.New("lagcomp: unknown entity")

// ErrExpired is returned by View.Body when the frames the view read were
// overwritten by later Records.
var ErrExpired = errors.New("lagcomp: view expired: the history recorded over its frames; rewind again after Record")

// frames returns the frames around the view's instant, or false when the
// view is empty or they were overwritten.
func (v *View) frames() (a, b *frame, ok bool) {
	if v.h == nil || v.h.n == 0 {
		return nil, nil, false
	}
	a, b = v.h.bySeq(v.seqA), v.h.bySeq(v.seqB)
	return a, b, a != nil && b != nil
}

// Body returns the body of the entity id at the view's instant,
// interpolated between the frames around it. An entity present in only
// one of them (it appeared or disappeared in between) is taken as it was
// in that one.
func (v View) Body(id uint64) (Body, error) {
	fa, fb, ok := v.frames()
	if !ok {
		if v.h == nil {
			return Body{}, fmt.Errorf("%w %d: the view is empty; get one from History.Rewind", ErrUnknownEntity, id)
		}
		return Body{}, ErrExpired
	}
	ia := find(fa.bodies, id, 0)
	ib := find(fb.bodies, id, max(ia, 0))
	switch {
	case ia >= 0 && ib >= 0:
		return lerp(fa.bodies[ia], fb.bodies[ib], v.frac), nil
	case ia >= 0:
		return fa.bodies[ia], nil
	case ib >= 0:
		return fb.bodies[ib], nil
	}
	return Body{}, fmt.Errorf("%w %d: not recorded in the frames around %v", ErrUnknownEntity, id, v.At.Format(time.RFC3339Nano))
}

// Bodies appends to dst every body at the view's instant, as Body returns
// them, and returns the extended slice.
func (v View) Bodies(dst []Body) []Body {
	v.each(func(b Body) bool { dst = append(dst, b); return true })
	return dst
}

// Trace tests a shot along the segment from from to to against the
// bodies at the view's instant, skipping those whose IDs are in ignore
// (the shooter's own), and returns the first body it meets. A segment
// that starts inside a body meets it at from. An expired view meets
// nothing.
func (v View) Trace(from, to Vec, ignore ...uint64) (Hit, bool) {
	d := to.Sub(from)
	best, found := 0.0, false
	var hit Body
	v.each(func(b Body) bool {
		for _, id := range ignore {
			if b.ID == id {
				return true
			}
		}
		if t, ok := segmentSphere(from, d, b.Pos, b.Radius); ok && (!found || t < best) {
			best, found, hit = t, true, b
		}
		return true
	})
	if !found {
		return Hit{}, false
	}
	return Hit{Body: hit, Point: from.Add(d.Scale(best)), Dist: d.Len() * best}, true
}

// each calls fn with every body at the view's instant until fn returns
// false: the entities of frame a, interpolated towards b where b has them
// too, then those only in b.
func (v *View) each(fn func(Body) bool) {
	fa, fb, ok := v.frames()
	if !ok {
		return
	}
	a, b := fa.bodies, fb.bodies
	if fa == fb {
		for _, x := range a {
			if !fn(x) {
				return
			}
		}
		return
	}
	for i, x := range a {
		if j := find(b, x.ID, i); j >= 0 {
			x = lerp(x, b[j], v.frac)
		}
		if !fn(x) {
			return
		}
	}
	for j, y := range b {
		if find(a, y.ID, j) < 0 && !fn(y) {
			return
		}
	}
}

// find returns the index of the body with the given id, or -1. Games
// usually record their entities in the same order every tick, so the
// search starts at hint, the entity's index in another frame.
func find(bodies []Body, id uint64, hint int) int {
	if hint < len(bodies) && bodies[hint].ID == id {
		return hint
	}
	for i := range bodies {
		if bodies[i].ID == id {
			return i
		}
	}
	return -1
}
