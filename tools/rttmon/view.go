package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickwire/tickwire/engine"
)

// historyLen is how many updates a player's sparkline shows.
const historyLen = 24

// filter selects and orders the players shown.
type filter struct {
	room  string        // a room id or a prefix of one; "" for all
	above time.Duration // only players whose smoothed RTT is at least this; 0 for all
	top   int           // at most this many rows; 0 for all
}

// view turns snapshots into rows, remembering each player's recent RTTs
// for its sparkline.
type view struct {
	f       filter
	history map[string][]float64 // player id -> smoothed RTTs in ms, oldest first
}

func newView(f filter) *view {
	return &view{f: f, history: make(map[string][]float64)}
}

// frame is what one update shows.
type frame struct {
	Time    time.Time
	Node    string
	Rooms   int // rooms matching the room filter
	Total   int // players in them, before the RTT filter
	Players []engine.MonitorPlayer
}

// update records s and returns the rows to show: the players of the
// matching rooms, above the threshold, slowest first.
func (v *view) update(s engine.MonitorSnapshot) frame {
	fr := frame{Time: s.Time, Node: s.Node}
	seen := make(map[string]bool)
	for _, r := range s.Rooms {
		if !strings.HasPrefix(r.ID, v.f.room) {
			continue
		}
		fr.Rooms++
		for _, p := range r.PlayerList {
			fr.Total++
			seen[p.ID] = true
			if p.Connected && p.RTT.PongsMatched > 0 {
				h := append(v.history[p.ID], p.RTT.SmoothedMs)
				v.history[p.ID] = h[max(0, len(h)-historyLen):]
			}
			if ms(v.f.above) > 0 && p.RTT.SmoothedMs < ms(v.f.above) {
				continue
			}
			fr.Players = append(fr.Players, p)
		}
	}
	for id := range v.history {
		if !seen[id] {
			delete(v.history, id)
		}
	}
	slices.SortStableFunc(fr.Players, func(a, b engine.MonitorPlayer) int {
		return cmp.Or(cmp.Compare(b.RTT.SmoothedMs, a.RTT.SmoothedMs), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	if v.f.top > 0 && len(fr.Players) > v.f.top {
		fr.Players = fr.Players[:v.f.top]
	}
	return fr
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ANSI sequences for refreshing in place.
const (
	ansiHome      = "\x1b[H"
	ansiClear     = "\x1b[2J"
	ansiClearLine = "\x1b[K"
	ansiClearDown = "\x1b[J"
	ansiHide      = "\x1b[?25l"
	ansiShow      = "\x1b[?25h"
	ansiRed       = "\x1b[31m"
	ansiYellow    = "\x1b[33m"
	ansiDim       = "\x1b[2m"
	ansiBold      = "\x1b[1m"
	ansiReset     = "\x1b[0m"
)

// render writes fr as a table. With ansi, it colours and ends each line
// with a clear-to-end-of-line, for redrawing in place.
func (v *view) render(w io.Writer, source string, fr frame, ansi bool) {
	eol := "\n"
	if ansi {
		eol = ansiClearLine + "\n"
	}
	paint := func(color, s string) string {
		if !ansi || color == "" {
			return s
		}
		return color + s + ansiReset
	}
	head := fmt.Sprintf("tickwire rttmon · %s · node %s · %s · %s in %s",
		source, fr.Node, fr.Time.Local().Format("15:04:05"), plural(fr.Total, "player"), plural(fr.Rooms, "room"))
	if v.f.room != "" {
		head += " matching room " + v.f.room
	}
	if v.f.above > 0 {
		head += fmt.Sprintf(" · %d at or above %v", len(fr.Players), v.f.above)
	}
	fmt.Fprint(w, paint(ansiBold, head), eol)
	fmt.Fprintf(w, "%-16s %-8s %8s %8s %8s %8s %8s %6s  %s%s", "PLAYER", "ROOM", "RTT", "LAST", "MIN", "P95", "JITTER", "LOSS", "RTT HISTORY", eol)
	if len(fr.Players) == 0 {
		fmt.Fprint(w, paint(ansiDim, "(no players to show)"), eol)
	}
	for _, p := range fr.Players {
		r := p.RTT
		name := p.Name
		if name == "" {
			name = p.ID
		}
		if !p.Connected {
			line := fmt.Sprintf("%-16s %-8s %8s", clip(name, 16), clip(p.Room, 8), "disconnected")
			fmt.Fprint(w, paint(ansiDim, line), eol)
			continue
		}
		loss := fmt.Sprintf("%5.1f%%", r.Loss*100)
		if r.PingsLost > 0 {
			loss = paint(ansiYellow, loss)
		}
		rtt := fmt.Sprintf("%8s", fmtMs(r.SmoothedMs))
		if v.f.above > 0 || r.SmoothedMs >= 100 {
			rtt = paint(ansiRed, rtt)
		}
		fmt.Fprintf(w, "%-16s %-8s %s %8s %8s %8s %8s %s  %s%s",
			clip(name, 16), clip(p.Room, 8), rtt, fmtMs(r.LastMs), fmtMs(r.MinMs), fmtMs(r.P95Ms), fmtMs(r.JitterMs),
			loss, sparkline(v.history[p.ID]), eol)
	}
}

// plural says "1 room" or "2 rooms".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// fmtMs formats milliseconds with about three significant digits.
func fmtMs(v float64) string {
	switch {
	case v == 0:
		return "0ms"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
}

// sparkline draws values as block characters, scaled from 0 to their
// maximum, so that a steady RTT is a level line and a spike stands out.
func sparkline(values []float64) string {
	const bars = "▁▂▃▄▅▆▇█"
	blocks := []rune(bars)
	top := slices.Max(append([]float64{0}, values...))
	var b strings.Builder
	for _, x := range values {
		i := 0
		if top > 0 {
			i = int(x / top * float64(len(blocks)-1))
		}
		b.WriteRune(blocks[min(max(i, 0), len(blocks)-1)])
	}
	return b.String()
}
