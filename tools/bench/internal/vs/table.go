package vs

import (
	"fmt"
	"io"
)

// Targets of the comparison: tickwire's server CPU and bytes per client
// as fractions of Colyseus's, on the same workload with every player
// seeing every entity.
const (
	TargetCPU   = 1.0 / 3
	TargetBytes = 0.5
)

// writeTable writes the report as a Markdown table, the ratios of each
// tickwire row to Colyseus, and notes.
func writeTable(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "tickwire and Colyseus, the crowd workload: %d clients in rooms of %d, %d entities a room all moving every tick,\n",
		rep.Clients, rep.RoomSize, rep.Entities)
	fmt.Fprintf(w, "%d Hz simulation, %d snapshots a second, %g inputs a second per client; %s measured after %s of warm-up.\n",
		TickRate, SnapshotRate, rep.InputRate, rep.Duration, rep.Warmup)
	fmt.Fprintln(w, "Positions to 0.01 units on both: Colyseus float32 fields rounded to 0.01, tickwire snap.Precision(0.01).")
	if rep.Pinned {
		fmt.Fprintf(w, "Servers pinned to CPU %d, clients to CPU %d (taskset).\n", rep.ServerCPU, rep.LoadCPU)
	}
	fmt.Fprintf(w, "%s; %s; node %s; Colyseus: @colyseus/core %s, @colyseus/schema %s, colyseus.js %s; tickwire %s.\n\n",
		rep.CPU, rep.GoVersion, rep.Node, rep.Versions["@colyseus/core"], rep.Versions["@colyseus/schema"],
		rep.Versions["colyseus.js"], rep.Tickwire)

	fmt.Fprintln(w, "| server | server CPU | CPU per snapshot | received per client | bytes per snapshot | snapshots/s per client | RTT p50 | RTT p99 | sent per client | clients' CPU | rooms |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rep.Rows {
		if r.Err != "" && r.Load.Snapshots == 0 {
			fmt.Fprintf(w, "| %s | error | | | | | | | | | |\n", r.Label)
			continue
		}
		fmt.Fprintf(w, "| %s | %.1f%% | %.1f µs | %s/s | %.0f B | %.1f | %s | %s | %s/s | %.0f%% | %d |\n",
			r.Label, 100*r.ServerCPU, r.CPUPerSnapshot(), kib(r.DownPerClient()), r.BytesPerSnapshot(), r.SnapshotsPerClient(),
			ms(r.Load.RTTP50Us), ms(r.Load.RTTP99Us), kib(r.UpPerClient()), 100*r.LoadCPU, r.Load.Rooms)
	}

	var base *Row
	for _, r := range rep.Rows {
		if r.Impl == "colyseus" && r.Err == "" {
			base = r
		}
	}
	if base != nil {
		fmt.Fprintln(w)
		for _, r := range rep.Rows {
			if r.Impl != "tickwire" || r.Err != "" {
				continue
			}
			cpu := r.ServerCPU / base.ServerCPU
			by := r.DownPerClient() / base.DownPerClient()
			perSnap := fmt.Sprintf("per snapshot: CPU %.2f, bytes %.2f",
				r.CPUPerSnapshot()/base.CPUPerSnapshot(), r.BytesPerSnapshot()/base.BytesPerSnapshot())
			if r.Interest {
				fmt.Fprintf(w, "%s / Colyseus: server CPU %.2f, bytes per client %.2f; %s (a smaller view: not the targets' workload)\n",
					r.Label, cpu, by, perSnap)
				continue
			}
			fmt.Fprintf(w, "%s / Colyseus: server CPU %.2f (target %.2f or less: %s), bytes per client %.2f (target %.2f or less: %s); %s\n",
				r.Label, cpu, TargetCPU, met(cpu <= TargetCPU), by, TargetBytes, met(by <= TargetBytes), perSnap)
		}
	}

	var notes []string
	for _, r := range rep.Rows {
		if r.Err != "" {
			notes = append(notes, fmt.Sprintf("%s failed: %s", r.Label, r.Err))
			continue
		}
		n := fmt.Sprintf("%s: %.1f simulation ticks and %.1f snapshots a second per room", r.Label, r.TicksPerRoom, r.PatchesPerRoom)
		if r.Impl == "tickwire" && rep.Directory == "redis" {
			n += fmt.Sprintf("; server CPU includes its room directory's redis-server, %.1f%%", 100*r.DirCPU)
		}
		if r.Impl == "tickwire" && r.Load.Snapshots > 0 {
			n += fmt.Sprintf("; %.1f%% of the batches received were deltas (%d full)", 100*float64(r.Load.Deltas)/float64(r.Load.Snapshots), r.Load.Full)
		}
		notes = append(notes, n+fmt.Sprintf("; %d RTT samples; other processes used %.0f%% of a CPU", r.Load.RTTCount, 100*r.OtherCPU))
	}
	notes = append(notes, rep.Notes...)
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range notes {
			fmt.Fprintln(w, "  - "+n)
		}
	}
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// kib formats bytes as B or KiB.
func kib(b float64) string {
	if b < 1024 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f KiB", b/1024)
}

// ms formats microseconds as milliseconds.
func ms(us float64) string {
	if us >= 100e3 {
		return fmt.Sprintf("%.0f ms", us/1e3)
	}
	return fmt.Sprintf("%.1f ms", us/1e3)
}
