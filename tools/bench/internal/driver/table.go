package driver

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// row is one line of the table: a figure for every library.
type row struct {
	label  string
	value  func(*LibResult) (float64, bool) // the figure, if measured
	format func(float64) string
	higher bool                    // higher is better (throughput)
	text   func(*LibResult) string // informational rows: no ratio
}

const reference = "netws"

func rows(rep *Report) []row {
	var rs []row
	for i, size := range rep.Config.EchoSizes {
		name := "echo " + sizeName(size)
		echo := func(l *LibResult) (*EchoResult, bool) {
			if i >= len(l.Echo) || l.Echo[i].Err != "" {
				return nil, false
			}
			return &l.Echo[i], true
		}
		rs = append(rs,
			row{label: name + " msgs/s", higher: true, format: fmtRate, value: func(l *LibResult) (float64, bool) {
				e, ok := echo(l)
				return okv(e, ok, func(e *EchoResult) float64 { return e.Load.Rate })
			}},
			row{label: name + " p50", format: fmtUs, value: func(l *LibResult) (float64, bool) {
				e, ok := echo(l)
				return okv(e, ok, func(e *EchoResult) float64 { return e.Load.P50Us })
			}},
			row{label: name + " p99", format: fmtUs, value: func(l *LibResult) (float64, bool) {
				e, ok := echo(l)
				return okv(e, ok, func(e *EchoResult) float64 { return e.Load.P99Us })
			}},
			row{label: name + " srv CPU-µs/msg", format: fmtF2, value: func(l *LibResult) (float64, bool) {
				e, ok := echo(l)
				return okv(e, ok, func(e *EchoResult) float64 { return e.ServerCPUPerMsg() })
			}},
			row{label: name + " CPU% srv/load/other", text: func(l *LibResult) string {
				if e, ok := echo(l); ok {
					return fmt.Sprintf("%.0f/%.0f/%.0f", 100*e.ServerCPU, 100*e.LoadCPU, 100*e.OtherCPU)
				}
				return errOrBlank(l, i < len(l.Echo))
			}},
		)
	}
	if hasRoom(rep) {
		room := func(l *LibResult) (*RoomResult, bool) { return l.Room, l.Room != nil && l.Room.Err == "" }
		rs = append(rs,
			row{label: "room CPU-s per 1M msgs", format: fmtSec, value: func(l *LibResult) (float64, bool) {
				r, ok := room(l)
				return okv(r, ok, func(r *RoomResult) float64 { return r.CPUPerMillion })
			}},
			row{label: "room delivery p50", format: fmtUs, value: func(l *LibResult) (float64, bool) {
				r, ok := room(l)
				return okv(r, ok, func(r *RoomResult) float64 { return r.Load.P50Us })
			}},
			row{label: "room delivery p99", format: fmtUs, value: func(l *LibResult) (float64, bool) {
				r, ok := room(l)
				return okv(r, ok, func(r *RoomResult) float64 { return r.Load.P99Us })
			}},
			row{label: "room delivered", text: func(l *LibResult) string {
				if r, ok := room(l); ok {
					return fmt.Sprintf("%.1f%%", 100*r.Delivered)
				}
				return errOrBlank(l, l.Room != nil)
			}},
			row{label: "room CPU% srv/load/other", text: func(l *LibResult) string {
				if r, ok := room(l); ok {
					return fmt.Sprintf("%.0f/%.0f/%.0f", 100*r.ServerCPU, 100*r.LoadCPU, 100*r.OtherCPU)
				}
				return errOrBlank(l, l.Room != nil)
			}},
		)
	}
	if hasIdle(rep) {
		idle := func(l *LibResult) (*IdleResult, bool) { return l.Idle, l.Idle != nil && l.Idle.Err == "" }
		rs = append(rs,
			row{label: "idle RSS per conn", format: fmtKiB, value: func(l *LibResult) (float64, bool) {
				r, ok := idle(l)
				return okv(r, ok, func(r *IdleResult) float64 { return r.RSSPerConn })
			}},
			row{label: "idle heap+stack per conn", format: fmtKiB, value: func(l *LibResult) (float64, bool) {
				r, ok := idle(l)
				return okv(r, ok, func(r *IdleResult) float64 { return r.HeapStackPerCon })
			}},
		)
	}
	return rs
}

func okv[T any](v *T, ok bool, f func(*T) float64) (float64, bool) {
	if !ok {
		return 0, false
	}
	return f(v), true
}

func errOrBlank(l *LibResult, measured bool) string {
	if measured {
		return "error"
	}
	return "-"
}

func hasRoom(rep *Report) bool {
	return slices.ContainsFunc(rep.Libs, func(l *LibResult) bool { return l.Room != nil })
}

func hasIdle(rep *Report) bool {
	return slices.ContainsFunc(rep.Libs, func(l *LibResult) bool { return l.Idle != nil })
}

// ratio returns netws's figure relative to a peer's, > 1 when netws is
// better: netws/peer for throughput, peer/netws for the rest.
func ratio(ref, peer float64, higher bool) (float64, bool) {
	if ref <= 0 || peer <= 0 {
		return 0, false
	}
	if higher {
		return ref / peer, true
	}
	return peer / ref, true
}

func findLib(rep *Report, name string) *LibResult {
	for _, l := range rep.Libs {
		if l.Lib == name {
			return l
		}
	}
	return nil
}

// cell renders one library's figure in row r.
func cell(r row, l, ref *LibResult) string {
	if r.text != nil {
		return r.text(l)
	}
	v, ok := r.value(l)
	if !ok {
		measured := l.Echo != nil && strings.HasPrefix(r.label, "echo") ||
			l.Room != nil && strings.HasPrefix(r.label, "room") ||
			l.Idle != nil && strings.HasPrefix(r.label, "idle")
		return errOrBlank(l, measured)
	}
	s := r.format(v)
	if ref != nil && l != ref {
		if rv, ok := r.value(ref); ok {
			if x, ok := ratio(rv, v, r.higher); ok {
				s += fmt.Sprintf(" [%.2f]", x)
			}
		}
	}
	return s
}

// writeTable prints the header, the table, the targets and any errors.
func writeTable(w io.Writer, rep *Report) {
	c := rep.Config
	fmt.Fprintf(w, "tickwire WebSocket benchmark, %s\n", rep.Started)
	fmt.Fprintf(w, "  command:  %s\n", rep.Command)
	fmt.Fprintf(w, "  machine:  %s; Linux %s; %s\n", rep.CPU, rep.Kernel, rep.GoVersion)
	if rep.Tickwire != "" {
		fmt.Fprintf(w, "  tickwire: %s\n", rep.Tickwire)
	}
	if len(rep.Versions) > 0 {
		var vs []string
		for _, k := range []string{"github.com/gorilla/websocket", "github.com/lxzan/gws", "github.com/gobwas/ws", "github.com/coder/websocket"} {
			if v, ok := rep.Versions[k]; ok {
				vs = append(vs, strings.TrimPrefix(k, "github.com/")+" "+v)
			}
		}
		fmt.Fprintf(w, "  peers:    %s\n", strings.Join(vs, ", "))
	}
	pin := "server and load NOT pinned"
	if rep.Pinned {
		pin = "server pinned to one CPU, load to another (taskset; GOMAXPROCS follows: 1 each)"
	}
	reps := ""
	if c.Repeat > 1 {
		reps = fmt.Sprintf("; every figure is the median of %d runs (median by msgs/s, room CPU, idle RSS)", c.Repeat)
	}
	fmt.Fprintf(w, "  setup:    %s; %s windows after %s warm-up%s\n", pin, c.Duration, c.Warmup, reps)
	fmt.Fprintf(w, "            echo: %d connections, one message in flight each; room: %d clients, %d B at %d Hz; idle: %d connections\n",
		c.EchoConns, c.RoomConns, c.RoomSize, c.RoomRate, c.IdleConns)
	fmt.Fprintf(w, "  ratios:   [x] after a figure compares netws with that library; x > 1 means netws is better:\n")
	fmt.Fprintf(w, "            msgs/s: netws / peer; latency, CPU and memory: peer / netws\n")
	fmt.Fprintf(w, "  CPU%%:     busy share of one CPU over the window: server / load / other processes on the machine\n")
	fmt.Fprintf(w, "            (Go's scheduler spins while waiting, so ~100%% does not prove saturation; 'other' above ~5%% means a noisy machine)\n")
	fmt.Fprintf(w, "  srv CPU-µs/msg: server CPU time per echoed message, its efficiency whichever side limited msgs/s\n")
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  note:     %s\n", n)
	}
	fmt.Fprintln(w)

	ref := findLib(rep, reference)
	header := []string{"metric"}
	for _, l := range rep.Libs {
		header = append(header, l.Lib)
	}
	table := [][]string{header}
	for _, r := range rows(rep) {
		line := []string{r.label}
		for _, l := range rep.Libs {
			line = append(line, cell(r, l, ref))
		}
		table = append(table, line)
	}
	widths := make([]int, len(header))
	for _, line := range table {
		for i, s := range line {
			widths[i] = max(widths[i], len([]rune(s)))
		}
	}
	for n, line := range table {
		var b strings.Builder
		for i, s := range line {
			pad := widths[i] - len([]rune(s))
			if i == 0 {
				b.WriteString(s + strings.Repeat(" ", pad))
			} else {
				b.WriteString("  " + strings.Repeat(" ", pad) + s)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			fmt.Fprintln(w, strings.Repeat("-", len([]rune(b.String()))))
		}
	}
	writeTargets(w, rep)
	writeErrors(w, rep)
}

// writeErrors lists every failed measurement.
func writeErrors(w io.Writer, rep *Report) {
	var errs []string
	for _, l := range rep.Libs {
		for _, e := range l.Echo {
			if e.Err != "" {
				errs = append(errs, fmt.Sprintf("%s echo %s: %s", l.Lib, sizeName(e.Size), e.Err))
			}
		}
		if l.Room != nil && l.Room.Err != "" {
			errs = append(errs, fmt.Sprintf("%s room: %s", l.Lib, l.Room.Err))
		}
		if l.Idle != nil && l.Idle.Err != "" {
			errs = append(errs, fmt.Sprintf("%s idle: %s", l.Lib, l.Idle.Err))
		}
	}
	if len(errs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nerrors:")
	for _, e := range errs {
		fmt.Fprintln(w, "  "+e)
	}
}

func fmtRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtUs(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fs", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2fms", v/1e3)
	}
	return fmt.Sprintf("%.0fµs", v)
}

func fmtF2(v float64) string { return fmt.Sprintf("%.2f", v) }

func fmtSec(v float64) string { return fmt.Sprintf("%.2fs", v) }

func fmtKiB(v float64) string { return fmt.Sprintf("%.1fKiB", v/1024) }
