package driver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/sysx"
)

// runner carries a run's state.
type runner struct {
	cfg       Config
	serverCPU int
	loadCPU   int
	idleConns int
	steps     int
	step      int
	started   time.Time
	tty       bool
	report    Report
}

// Run runs the benchmark and writes the table to cfg.Out. It returns the
// report, also when some measurements failed (their cells say "error").
func Run(cfg Config) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	r := &runner{cfg: cfg, serverCPU: cfg.ServerCPU, loadCPU: cfg.LoadCPU, idleConns: cfg.IdleConns, started: time.Now()}
	if f, ok := cfg.Progress.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			r.tty = true
		}
	}
	rep := &r.report
	rep.Command = cfg.Command
	rep.Started = r.started.Format(time.RFC3339)
	rep.GoVersion = runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	rep.CPU = cpuModel()
	rep.Kernel = readTrim("/proc/sys/kernel/osrelease")
	rep.Versions = versions(filepath.Join(cfg.BinDir, "benchserver"))
	rep.Tickwire = tickwireRevision()
	r.checkPinning()
	r.checkFileLimit()
	rep.Config.Duration, rep.Config.Warmup = cfg.Duration.String(), cfg.Warmup.String()
	rep.Config.Repeat = cfg.Repeat
	rep.Config.EchoConns, rep.Config.EchoSizes = cfg.EchoConns, cfg.EchoSizes
	rep.Config.RoomConns, rep.Config.RoomSize, rep.Config.RoomRate = cfg.RoomConns, cfg.RoomSize, cfg.RoomRate
	rep.Config.IdleConns = r.idleConns
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
		rep.Notes = append(rep.Notes, "CPU profiles of the servers were taken during the windows ("+cfg.ProfileDir+"); profiling costs the servers a little CPU")
	}

	for _, lib := range cfg.Libs {
		if cfg.Echo && lib != "tickwire-rooms" {
			r.steps += len(cfg.EchoSizes)
		}
		if cfg.Room {
			r.steps++
		}
		if cfg.Idle && lib != "tickwire-rooms" {
			r.steps++
		}
	}
	for _, lib := range cfg.Libs {
		lr := &LibResult{Lib: lib}
		rep.Libs = append(rep.Libs, lr)
		// tickwire-rooms's echo and idle connections are netws's own.
		if cfg.Echo && lib != "tickwire-rooms" {
			lr.Echo = r.runEcho(lib)
		}
		if cfg.Room {
			lr.Room = r.runRoom(lib)
		}
		if cfg.Idle && lib != "tickwire-rooms" {
			lr.Idle = r.runIdle(lib)
		}
	}
	r.progressDone()
	writeTable(cfg.Out, rep)
	return rep, nil
}

// checkPinning falls back to unpinned processes where taskset or a second
// CPU is missing.
func (r *runner) checkPinning() {
	if r.serverCPU < 0 && r.loadCPU < 0 {
		r.report.Notes = append(r.report.Notes, "processes not pinned (--no-pin): server and load share the CPUs")
		return
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		r.serverCPU, r.loadCPU = -1, -1
		r.report.Notes = append(r.report.Notes, "taskset not found: processes NOT pinned, server and load share the CPUs")
		return
	}
	if runtime.NumCPU() < 2 || r.serverCPU == r.loadCPU {
		r.report.Notes = append(r.report.Notes, "server and load pinned to the same CPU: results measure both together")
	}
	r.report.Pinned = true
}

// checkFileLimit lowers the idle connection count to what the file
// descriptor limit allows (each process holds one descriptor per
// connection, plus a few).
func (r *runner) checkFileLimit() {
	if !r.cfg.Idle {
		return
	}
	_, hard, err := sysx.RaiseNoFile()
	if err != nil {
		r.report.Notes = append(r.report.Notes, "could not read RLIMIT_NOFILE: "+err.Error())
		return
	}
	const reserve = 256
	if uint64(r.idleConns)+reserve > hard {
		was := r.idleConns
		r.idleConns = max(1, int(hard)-reserve)
		r.report.Notes = append(r.report.Notes, fmt.Sprintf(
			"idle: %d connections asked, but the hard RLIMIT_NOFILE (ulimit -Hn) is %d: measured with %d, the most possible here",
			was, hard, r.idleConns))
	}
}

// progress shows which step runs now.
func (r *runner) progress(lib, what string, d time.Duration) {
	eta := ""
	if d > 0 {
		eta = fmt.Sprintf(" (~%s)", d.Round(time.Second))
	}
	line := fmt.Sprintf("[%2d/%d] %-15s %-22s%s  elapsed %s", r.step+1, r.steps, lib, what, eta,
		time.Since(r.started).Round(time.Second))
	if r.tty {
		fmt.Fprintf(r.cfg.Progress, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(r.cfg.Progress, line)
	}
}

func (r *runner) progressDone() {
	msg := fmt.Sprintf("done: %d measurements in %s", r.steps, time.Since(r.started).Round(time.Second))
	if r.tty {
		fmt.Fprintf(r.cfg.Progress, "\r\033[K%s\n", msg)
	} else {
		fmt.Fprintln(r.cfg.Progress, msg)
	}
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return fmt.Sprintf("%s, %d CPUs", strings.TrimSpace(v), runtime.NumCPU())
		}
	}
	return fmt.Sprintf("%d CPUs", runtime.NumCPU())
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// versions asks benchserver which library versions it was built with.
func versions(bin string) map[string]string {
	out, err := exec.Command(bin, "-versions").Output()
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for line := range bytes.Lines(out) {
		if k, v, ok := strings.Cut(strings.TrimSpace(string(line)), " "); ok {
			m[k] = v
		}
	}
	return m
}

// tickwireRevision describes the tickwire commit in the current directory's
// git work tree, noting uncommitted changes to the measured packages.
func tickwireRevision() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return rev
	}
	root := strings.TrimSpace(string(top))
	st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", "netws", "rooms", "tick").Output()
	if err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += " + uncommitted changes in netws/rooms/tick"
	}
	return rev
}
