package driver

import (
	"fmt"
	"io"
)

// The goals netws is held to, against the best peer of the same run.
const (
	targetEcho1K = 1.2 // echo 1 KiB msgs/s >= 1.2x the best peer
	targetRoom   = 0.8 // room CPU per 1M deliveries <= 0.8x the best peer
	targetIdle   = 0.5 // idle memory per connection <= 0.5x gorilla's
)

// peers returns the libraries netws is compared with: all but netws and
// tickwire-rooms (which is built on netws).
func peers(rep *Report) []*LibResult {
	var ps []*LibResult
	for _, l := range rep.Libs {
		if l.Lib != reference && l.Lib != "tickwire-rooms" {
			ps = append(ps, l)
		}
	}
	return ps
}

// best returns the peer with the best figure (highest or lowest).
func best(ps []*LibResult, value func(*LibResult) (float64, bool), higher bool) (*LibResult, float64) {
	var b *LibResult
	var bv float64
	for _, p := range ps {
		v, ok := value(p)
		if !ok || v <= 0 {
			continue
		}
		if b == nil || higher && v > bv || !higher && v < bv {
			b, bv = p, v
		}
	}
	return b, bv
}

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "MISSED"
}

// writeTargets checks netws against its goals.
func writeTargets(w io.Writer, rep *Report) {
	ref := findLib(rep, reference)
	ps := peers(rep)
	if ref == nil || len(ps) == 0 {
		return
	}
	fmt.Fprintln(w, "\ntargets (netws against the best peer of this run):")
	line := func(goal, detail string, ok bool) {
		fmt.Fprintf(w, "  %-40s %-46s %s\n", goal, detail, verdict(ok))
	}
	for i, size := range rep.Config.EchoSizes {
		if size != 1024 {
			continue
		}
		rate := func(l *LibResult) (float64, bool) {
			if i < len(l.Echo) && l.Echo[i].Err == "" {
				return l.Echo[i].Load.Rate, true
			}
			return 0, false
		}
		nv, ok := rate(ref)
		if b, bv := best(ps, rate, true); ok && b != nil {
			line(fmt.Sprintf("echo 1KiB msgs/s >= %.1fx best peer", targetEcho1K),
				fmt.Sprintf("netws %s, %s %s: %.2fx", fmtRate(nv), b.Lib, fmtRate(bv), nv/bv), nv/bv >= targetEcho1K)
		}
	}
	cpu := func(l *LibResult) (float64, bool) {
		if l.Room != nil && l.Room.Err == "" {
			return l.Room.CPUPerMillion, true
		}
		return 0, false
	}
	if nv, ok := cpu(ref); ok {
		if b, bv := best(ps, cpu, false); b != nil {
			line(fmt.Sprintf("room CPU per 1M msgs <= %.1fx best peer", targetRoom),
				fmt.Sprintf("netws %s, %s %s: %.2fx", fmtSec(nv), b.Lib, fmtSec(bv), nv/bv), nv/bv <= targetRoom)
			np, bp := ref.Room.Load.P99Us, b.Room.Load.P99Us
			line("room p99 no worse than that peer's",
				fmt.Sprintf("netws %s, %s %s", fmtUs(np), b.Lib, fmtUs(bp)), np <= bp)
		}
	}
	if g := findLib(rep, "gorilla"); g != nil && ref.Idle != nil && ref.Idle.Err == "" && g.Idle != nil && g.Idle.Err == "" && g.Idle.RSSPerConn > 0 {
		nv, gv := ref.Idle.RSSPerConn, g.Idle.RSSPerConn
		line(fmt.Sprintf("idle RSS per conn <= %.1fx gorilla's", targetIdle),
			fmt.Sprintf("netws %s, gorilla %s: %.2fx", fmtKiB(nv), fmtKiB(gv), nv/gv), nv/gv <= targetIdle)
	}
	fmt.Fprintf(w, "  %-40s %s\n", "0 allocs per message (read and write)", "not measured here: from the repository root run")
	fmt.Fprintf(w, "  %-40s %s\n", "", "go test -run '^$' -bench . -benchmem ./netws")
}
