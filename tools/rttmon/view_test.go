package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tickwire/tickwire/engine"
)

func player(id, name, room string, smoothed float64) engine.MonitorPlayer {
	return engine.MonitorPlayer{
		ID: id, Name: name, Room: room, Connected: true,
		RTT: engine.MonitorRTT{SmoothedMs: smoothed, LastMs: smoothed, MinMs: smoothed / 2, P95Ms: smoothed * 1.5, PongsMatched: 5},
	}
}

func snapshot() engine.MonitorSnapshot {
	return engine.MonitorSnapshot{
		Time: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), Node: "n1",
		Rooms: []engine.MonitorRoom{
			{ID: "aaaa1111", PlayerList: []engine.MonitorPlayer{player("p1", "ana", "aaaa1111", 20), player("p2", "bo", "aaaa1111", 95)}},
			{ID: "bbbb2222", PlayerList: []engine.MonitorPlayer{player("p3", "cy", "bbbb2222", 60), player("p4", "di", "bbbb2222", 95)}},
		},
	}
}

func names(fr frame) string {
	var n []string
	for _, p := range fr.Players {
		n = append(n, p.Name)
	}
	return strings.Join(n, ",")
}

func TestViewFiltersAndSorts(t *testing.T) {
	tests := []struct {
		f          filter
		want       string
		rooms, all int
	}{
		{filter{}, "bo,di,cy,ana", 2, 4}, // slowest first; ties by name
		{filter{room: "bbbb"}, "di,cy", 1, 2},
		{filter{room: "aaaa1111"}, "bo,ana", 1, 2},
		{filter{room: "zz"}, "", 0, 0},
		{filter{above: 60 * time.Millisecond}, "bo,di,cy", 2, 4},
		{filter{above: 80 * time.Millisecond, room: "aaaa"}, "bo", 1, 2},
		{filter{top: 2}, "bo,di", 2, 4},
	}
	for _, tt := range tests {
		fr := newView(tt.f).update(snapshot())
		if got := names(fr); got != tt.want || fr.Rooms != tt.rooms || fr.Total != tt.all {
			t.Errorf("%+v: players %q in %d rooms of %d players, want %q in %d of %d", tt.f, got, fr.Rooms, fr.Total, tt.want, tt.rooms, tt.all)
		}
	}
}

func TestViewKeepsHistoryOfPresentPlayers(t *testing.T) {
	v := newView(filter{})
	for i := range historyLen + 5 {
		s := snapshot()
		s.Rooms[0].PlayerList[0].RTT.SmoothedMs = float64(i)
		v.update(s)
	}
	if h := v.history["p1"]; len(h) != historyLen || h[0] != 5 || h[len(h)-1] != historyLen+4 {
		t.Errorf("p1's history %v: want the last %d values, 5 to %d", h, historyLen, historyLen+4)
	}
	s := snapshot()
	s.Rooms = s.Rooms[:1] // room bbbb2222 is gone
	v.update(s)
	if _, ok := v.history["p3"]; ok {
		t.Error("the history of a player whose room is gone was kept")
	}
	v.update(snapshot())
	if h := v.history["p3"]; len(h) != 1 {
		t.Errorf("p3's history after it came back: %v, want one new value", h)
	}
}

func TestRender(t *testing.T) {
	v := newView(filter{above: 50 * time.Millisecond})
	s := snapshot()
	s.Rooms[1].PlayerList[0].RTT.PingsLost = 2
	s.Rooms[1].PlayerList[0].RTT.Loss = 0.25
	s.Rooms[0].PlayerList = append(s.Rooms[0].PlayerList, engine.MonitorPlayer{ID: "p5", Name: "ed", Room: "aaaa1111"})
	fr := v.update(s)
	var plain bytes.Buffer
	v.render(&plain, "http://x", fr, false)
	out := plain.String()
	for _, want := range []string{
		"tickwire rttmon · http://x · node n1 ·", "5 players in 2 rooms", "3 at or above 50ms",
		"PLAYER", "RTT HISTORY", "bo ", "95.0ms", "47.5ms", "25.0%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("plain output has ANSI sequences:\n%q", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[2], "bo") || !strings.HasPrefix(lines[4], "cy") {
		t.Errorf("want a header, column names and bo, di, cy slowest first:\n%s", out)
	}

	var ansi bytes.Buffer
	v.render(&ansi, "http://x", fr, true)
	if !strings.Contains(ansi.String(), ansiClearLine+"\n") || !strings.Contains(ansi.String(), ansiRed) || !strings.Contains(ansi.String(), ansiYellow) {
		t.Errorf("terminal output lacks line clears or colours:\n%q", ansi.String())
	}

	var none bytes.Buffer
	v2 := newView(filter{room: "zz"})
	v2.render(&none, "http://x", v2.update(s), false)
	if !strings.Contains(none.String(), "(no players to show)") || !strings.Contains(none.String(), "matching room zz") {
		t.Errorf("empty table:\n%s", none.String())
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		in   []float64
		want string
	}{
		{nil, ""},
		{[]float64{0, 0}, "▁▁"},
		{[]float64{60, 60, 60}, "███"},
		{[]float64{0, 50, 100}, "▁▄█"},
		{[]float64{10, 80, 10}, "▁█▁"},
	}
	for _, tt := range tests {
		if got := sparkline(tt.in); got != tt.want {
			t.Errorf("sparkline(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{{0, "0ms"}, {0.123, "0.12ms"}, {9.999, "10.00ms"}, {61.24, "61.2ms"}, {250.4, "250ms"}} {
		if got := fmtMs(tt.v); got != tt.want {
			t.Errorf("fmtMs(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	if got := clip("ünïcödé-name-long", 5); got != "ünïcö" {
		t.Errorf("clip = %q", got)
	}
}
