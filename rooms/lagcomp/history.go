package lagcomp

import (
	"errors"
	"fmt"
	"time"
)

// Limits and defaults of Options.
const (
	DefaultWindow = 500 * time.Millisecond // Options.Window when it is 0
	MaxWindow     = 2 * time.Second        // the longest Options.Window accepted
)

// maxFrames bounds the ring: MaxWindow at tick.MaxRate (1000 a second)
// needs 2002 frames. A game that records faster than that keeps a shorter
// history, and rewinds past it are clamped.
const maxFrames = 4096

// Options configures a History. The zero value keeps 500 ms of history and
// sizes its storage during the first 500 ms of recording.
type Options struct {
	// Window is the longest rewind, and how much history is kept:
	// 1 ns to MaxWindow; 0 means DefaultWindow.
	Window time.Duration

	// TickRate, if set, is how many frames a second the game records (the
	// room's TickRate); the history then allocates its storage up front
	// instead of growing it during the first Window of recording.
	TickRate int

	// Bodies, if set, is how many bodies a frame usually holds, for the
	// same purpose. Frames with more are accepted.
	Bodies int
}

// History is a bounded record of entities' hit volumes, one frame per
// tick, kept in a ring that covers the last Options.Window. Its zero value
// is not usable; call New.
//
// A History is not safe for concurrent use. Use it from the game's
// methods, which a room calls from one goroutine.
type History struct {
	window time.Duration
	bodies int // storage hint for a new frame's bodies

	base   time.Time // the first frame's time; frames keep offsets from it
	frames []frame   // ring, oldest at head
	head   int
	n      int    // frames in use
	seq    uint64 // frames recorded so far
}

// frame is one recorded tick.
type frame struct {
	at     time.Duration // since History.base
	seq    uint64        // which Record wrote it, from 1
	bodies []Body
}

// ErrEmpty is returned by Rewind before the first Record.
var ErrEmpty = errors.New("lagcomp: nothing recorded yet; call Record once a tick, after moving the entities")

// New returns an empty History configured by opts.
func New(opts Options) (*History, error) {
	w := opts.Window
	switch {
	case w == 0:
		w = DefaultWindow
	case w < 0 || w > MaxWindow:
		return nil, fmt.Errorf("lagcomp: Options.Window is %v; want 1ns to %v, or 0 for %v", opts.Window, MaxWindow, DefaultWindow)
	}
	if opts.TickRate < 0 {
		return nil, fmt.Errorf("lagcomp: Options.TickRate is %d; want the room's tick rate, or 0 to size the history as it records", opts.TickRate)
	}
	if opts.Bodies < 0 {
		return nil, fmt.Errorf("lagcomp: Options.Bodies is %d; want how many bodies a frame usually holds, or 0", opts.Bodies)
	}
	h := &History{window: w, bodies: opts.Bodies}
	if opts.TickRate > 0 {
		// Frames one step apart covering the window, plus the one just
		// outside it that a rewind to the window's edge interpolates from.
		need := int((int64(w)*int64(opts.TickRate)+int64(time.Second)-1)/int64(time.Second)) + 2
		h.resize(min(need, maxFrames))
	}
	return h, nil
}

// Window returns the longest rewind the history allows.
func (h *History) Window() time.Duration { return h.window }

// Len returns how many frames the history holds.
func (h *History) Len() int { return h.n }

// Record adds the frame of one tick: the bodies of every entity that can
// be hit, as they are at now. Call it once a tick after moving the
// entities, with the time stamped on the tick's batch (tick.Tick.Start),
// so that rewinds line up with what clients draw. The bodies are copied;
// the caller may reuse the slice.
//
// now must be later than the previous frame's time. Frames older than the
// window are overwritten; once the ring covers the window, Record
// allocates only when a frame holds more bodies than any before it.
func (h *History) Record(now time.Time, bodies []Body) error {
	if h.seq == 0 {
		h.base = now
	}
	at := now.Sub(h.base)
	if h.n > 0 {
		if newest := h.at(h.n - 1); at <= newest.at {
			return fmt.Errorf("lagcomp: Record at %v, not after the previous frame (%v earlier); record once a tick with the tick's start time",
				now.Format(time.RFC3339Nano), newest.at-at)
		}
	}
	if h.n == len(h.frames) {
		// Full. Drop the oldest frame if the next one still reaches back
		// to the window's edge; otherwise the ring is too short: grow it.
		if h.n >= 2 && h.at(1).at <= at-h.window || h.n == maxFrames {
			h.head = (h.head + 1) % len(h.frames)
			h.n--
		} else {
			h.resize(min(max(2*len(h.frames), 8), maxFrames))
		}
	}
	f := &h.frames[(h.head+h.n)%len(h.frames)]
	h.seq++
	h.n++
	f.at, f.seq = at, h.seq
	if f.bodies == nil && h.bodies > 0 {
		f.bodies = make([]Body, 0, max(h.bodies, len(bodies)))
	}
	f.bodies = append(f.bodies[:0], bodies...)
	return nil
}

// at returns the i-th oldest frame.
func (h *History) at(i int) *frame { return &h.frames[(h.head+i)%len(h.frames)] }

// bySeq returns the frame written by Record number seq, or nil if it has
// been overwritten. Frames hold consecutive seqs, the newest h.seq.
func (h *History) bySeq(seq uint64) *frame {
	back := h.seq - seq
	if seq == 0 || back >= uint64(h.n) {
		return nil
	}
	return h.at(h.n - 1 - int(back))
}

// resize moves the frames into a ring of n slots, oldest first.
func (h *History) resize(n int) {
	frames := make([]frame, n)
	for i := 0; i < h.n; i++ {
		frames[i] = *h.at(i)
	}
	h.frames, h.head = frames, 0
}
