package vs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/proc"
	"github.com/tickwire/tickwire/tools/bench/internal/sysx"
)

// Report is what a run measured, with what it ran on.
type Report struct {
	Command   string            `json:"command"`
	Started   string            `json:"started"`
	CPU       string            `json:"cpu"`
	Kernel    string            `json:"kernel"`
	GoVersion string            `json:"go"`
	Node      string            `json:"node"`
	Versions  map[string]string `json:"versions"`  // npm packages of the Colyseus side
	Tickwire  string            `json:"tickwire"`  // git revision
	Directory string            `json:"directory"` // the tickwire server's room directory: redis or embedded
	Pinned    bool              `json:"pinned"`
	ServerCPU int               `json:"serverCpu"`
	LoadCPU   int               `json:"loadCpu"`

	Clients   int     `json:"clients"`
	RoomSize  int     `json:"roomSize"`
	Entities  int     `json:"entities"`
	InputRate float64 `json:"inputRate"`
	View      float64 `json:"view"`
	Warmup    string  `json:"warmup"`
	Duration  string  `json:"duration"`

	Rows  []*Row   `json:"rows"`
	Notes []string `json:"notes,omitempty"`
}

// Row is one server's measurement.
type Row struct {
	Label    string `json:"label"`
	Impl     string `json:"impl"`     // colyseus or tickwire
	Interest bool   `json:"interest"` // players see only a view of the room

	ServerCPU float64 `json:"serverCpu"`    // cores: CPU time over wall time in the window, the directory's included
	DirCPU    float64 `json:"directoryCpu"` // cores: the tickwire server's redis-server, if any
	LoadCPU   float64 `json:"loadCpu"`
	OtherCPU  float64 `json:"otherCpu"` // cores used by every other process on the machine

	// Per room and second, from the server's counters over the window.
	TicksPerRoom   float64 `json:"ticksPerRoom"`
	PatchesPerRoom float64 `json:"patchesPerRoom"`

	Load LoadResult `json:"load"`
	Err  string     `json:"error,omitempty"`
}

// perClient divides a window count by the clients joined and the window.
func (r *Row) perClient(n uint64) float64 {
	if r.Load.Joined == 0 || r.Load.Seconds <= 0 {
		return 0
	}
	return float64(n) / float64(r.Load.Joined) / r.Load.Seconds
}

// DownPerClient is the bytes a second each client received.
func (r *Row) DownPerClient() float64 { return r.perClient(r.Load.Bytes) }

// UpPerClient is the bytes a second each client sent.
func (r *Row) UpPerClient() float64 { return r.perClient(r.Load.UpBytes) }

// SnapshotsPerClient is the snapshots a second each client received.
func (r *Row) SnapshotsPerClient() float64 { return r.perClient(r.Load.Snapshots) }

// BytesPerSnapshot is the bytes received per snapshot received, the
// other messages (acknowledgements, pings excepted) included: a measure
// of the encoding that does not depend on how many snapshots a server
// managed to send.
func (r *Row) BytesPerSnapshot() float64 {
	if r.Load.Snapshots == 0 {
		return 0
	}
	return float64(r.Load.Bytes) / float64(r.Load.Snapshots)
}

// CPUPerSnapshot is the server's CPU time per snapshot its clients
// received, in microseconds: its cost per unit of work, whatever rate it
// kept up.
func (r *Row) CPUPerSnapshot() float64 {
	if r.Load.Snapshots == 0 {
		return 0
	}
	return r.ServerCPU * r.Load.Seconds * 1e6 / float64(r.Load.Snapshots)
}

// Run measures Colyseus, tickwire with every player seeing the whole
// room, and (unless cfg.View < 0) tickwire with interest management, one
// after the other, and writes the table to cfg.Out. A row that fails
// says so in the table and in its Err; Run returns an error only for a
// bad configuration, a missing Colyseus installation, or ctx's end.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rep := &Report{
		Command: cfg.Command, Started: time.Now().Format(time.RFC3339),
		CPU: cpuModel(), Kernel: readTrim("/proc/sys/kernel/osrelease"),
		GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Tickwire:  revision(), ServerCPU: cfg.ServerCPU, LoadCPU: cfg.LoadCPU,
		Clients: cfg.Clients, RoomSize: cfg.RoomSize, Entities: cfg.Entities, InputRate: cfg.InputRate,
		View: max(cfg.View, 0), Warmup: cfg.Warmup.String(), Duration: cfg.Duration.String(),
	}
	var err error
	if rep.Node, rep.Versions, err = checkColyseus(cfg.Node, cfg.ColyseusDir); err != nil {
		return nil, err
	}
	rep.Pinned = checkPinning(&cfg, rep)
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return nil, err
		}
		rep.Notes = append(rep.Notes, "CPU profiles of the tickwire servers were taken in the windows ("+cfg.ProfileDir+"); profiling costs them a little CPU")
	}
	if err := checkDirectory(&cfg, rep); err != nil {
		return nil, err
	}

	rows := []*Row{
		{Label: "Colyseus " + rep.Versions["@colyseus/core"], Impl: "colyseus"},
		{Label: "tickwire, whole room", Impl: "tickwire"},
	}
	if cfg.View > 0 {
		rows = append(rows, &Row{Label: fmt.Sprintf("tickwire, interest %gx%g", cfg.View, cfg.View), Impl: "tickwire", Interest: true})
	}
	for i, row := range rows {
		fmt.Fprintf(cfg.Progress, "[%d/%d] %s: %d clients, %v warm-up, %v window\n", i+1, len(rows), row.Label, cfg.Clients, cfg.Warmup, cfg.Duration)
		if err := measure(ctx, &cfg, row); err != nil {
			row.Err = err.Error()
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	writeTable(cfg.Out, rep)
	return rep, nil
}

// measure runs one row: its server, its load, and the window.
func measure(ctx context.Context, cfg *Config, row *Row) error {
	sec := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
	timeout := cfg.Warmup + cfg.Duration + time.Duration(cfg.Clients)*200*time.Millisecond + 2*time.Minute
	var srvArgv, loadArgv []string
	dir := ""
	switch row.Impl {
	case "colyseus":
		dir = cfg.ColyseusDir
		srvArgv = []string{cfg.Node, "server.mjs", "--room-size", strconv.Itoa(cfg.RoomSize),
			"--entities", strconv.Itoa(cfg.Entities), "--tick-rate", strconv.Itoa(TickRate),
			"--patch-ms", strconv.Itoa(1000 / SnapshotRate), "--max-lifetime", sec(timeout + time.Minute)}
		loadArgv = []string{cfg.Node, "load.mjs", "--clients", strconv.Itoa(cfg.Clients),
			"--rate", strconv.FormatFloat(cfg.InputRate, 'f', -1, 64),
			"--warmup", sec(cfg.Warmup), "--duration", sec(cfg.Duration), "--timeout", sec(timeout), "--control", "1", "--url"}
	default:
		view := 0.0
		if row.Interest {
			view = cfg.View
		}
		srvArgv = []string{cfg.Self, "-role", "server", "-room-size", strconv.Itoa(cfg.RoomSize),
			"-entities", strconv.Itoa(cfg.Entities), "-view", strconv.FormatFloat(view, 'f', -1, 64),
			"-max-lifetime", (timeout + time.Minute).String()}
		loadArgv = []string{cfg.Self, "-role", "load", "-clients", strconv.Itoa(cfg.Clients),
			"-rate", strconv.FormatFloat(cfg.InputRate, 'f', -1, 64),
			"-warmup", cfg.Warmup.String(), "-duration", cfg.Duration.String(), "-timeout", timeout.String(), "-url"}
	}

	var rdb *proc.Child // the tickwire server's room directory, if in a redis-server
	if row.Impl == "tickwire" && cfg.Directory == "redis" {
		url, c, cleanup, err := startRedis(ctx, cfg.ServerCPU)
		if err != nil {
			return err
		}
		defer cleanup()
		rdb = c
		srvArgv = append(srvArgv, "-redis", url)
	}
	srv, err := proc.Start(row.Label+" server", cfg.ServerCPU, dir, srvArgv...)
	if err != nil {
		return err
	}
	defer srv.Stop()
	addr, err := srv.Expect(ctx, ListeningPrefix, 30*time.Second)
	if err != nil {
		return err
	}
	ld, err := proc.Start(row.Label+" load", cfg.LoadCPU, dir, append(loadArgv, "http://"+strings.TrimSpace(addr))...)
	if err != nil {
		return err
	}
	defer ld.Stop()
	if _, err := ld.Expect(ctx, Ready, timeout); err != nil {
		return err
	}

	st0, err := stats(ctx, srv)
	if err != nil {
		return err
	}
	profiling := row.Impl == "tickwire" && cfg.ProfileDir != ""
	if profiling {
		if err := startProfile(ctx, srv, filepath.Join(cfg.ProfileDir, profileName(row.Label))); err != nil {
			return err
		}
	}
	s0, err1 := srv.CPUTime()
	l0, err2 := ld.CPUTime()
	r0, err3 := rdb.CPUTime()
	b0, errBusy0 := sysx.BusyCPU()
	t0 := time.Now()
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	if err := ld.Send(Go); err != nil {
		return fmt.Errorf("telling the load to go: %w", err)
	}
	if _, err := ld.Expect(ctx, End, cfg.Duration+30*time.Second); err != nil {
		return err
	}
	s1, err1 := srv.CPUTime()
	l1, err2 := ld.CPUTime()
	r1, err3 := rdb.CPUTime()
	b1, errBusy1 := sysx.BusyCPU()
	wall := time.Since(t0)
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	if profiling {
		if err := srv.Send(StopProfileCmd); err != nil {
			return err
		}
		if _, err := srv.Expect(ctx, Profiled, 30*time.Second); err != nil {
			return err
		}
	}
	st1, err := stats(ctx, srv)
	if err != nil {
		return err
	}
	line, err := ld.Expect(ctx, ResultPrefix, 30*time.Second)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(line), &row.Load); err != nil {
		return fmt.Errorf("the load's result: %w", err)
	}
	row.DirCPU = (r1 - r0).Seconds() / wall.Seconds()
	row.ServerCPU = (s1-s0).Seconds()/wall.Seconds() + row.DirCPU
	row.LoadCPU = (l1 - l0).Seconds() / wall.Seconds()
	if errBusy0 == nil && errBusy1 == nil {
		row.OtherCPU = max(0, (b1-b0)-(s1-s0)-(l1-l0)-(r1-r0)).Seconds() / wall.Seconds()
	}
	if n := float64(row.Load.Rooms) * wall.Seconds(); n > 0 {
		row.TicksPerRoom = float64(st1.Ticks-st0.Ticks) / n
		row.PatchesPerRoom = float64(st1.Patches-st0.Patches) / n
	}
	switch {
	case row.Load.Joined < row.Load.Clients:
		return fmt.Errorf("%d of %d clients joined; first error: %s", row.Load.Joined, row.Load.Clients, row.Load.FirstError)
	case row.Load.Errors > 0:
		return fmt.Errorf("%d client errors, the first: %s", row.Load.Errors, row.Load.FirstError)
	case row.Load.Snapshots == 0:
		return errors.New("the clients received no snapshot in the window")
	}
	return nil
}

// stats asks a server for its counters.
func stats(ctx context.Context, srv *proc.Child) (ServerStats, error) {
	var st ServerStats
	if err := srv.Send(StatsCmd); err != nil {
		return st, fmt.Errorf("asking %s for its stats: %w", srv.Name(), err)
	}
	line, err := srv.Expect(ctx, StatsPrefix, 10*time.Second)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(line), &st)
}

// startProfile has a tickwire server start a CPU profile into file.
func startProfile(ctx context.Context, srv *proc.Child, file string) error {
	if err := srv.Send(ProfileCmd + file); err != nil {
		return err
	}
	for {
		line, err := srv.Expect(ctx, "", 10*time.Second)
		if err != nil {
			return err
		}
		if line == Profiling {
			return nil
		}
		if msg, ok := strings.CutPrefix(line, ProfileErrorPrefix); ok {
			return fmt.Errorf("profiling %s: %s", srv.Name(), msg)
		}
	}
}

// profileName turns a row's label into a file name: "tickwire, whole
// room" into tickwire-whole-room.pprof.
func profileName(label string) string {
	f := strings.FieldsFunc(strings.ToLower(label), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.')
	})
	return strings.Join(f, "-") + ".pprof"
}

// checkColyseus finds node and the Colyseus side's installed packages,
// and returns node's version and theirs.
func checkColyseus(node, dir string) (string, map[string]string, error) {
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return "", nil, fmt.Errorf("running %s --version: %v: the Colyseus side needs Node.js 20 or later", node, err)
	}
	vers := map[string]string{}
	for _, pkg := range []string{"@colyseus/core", "@colyseus/schema", "@colyseus/ws-transport", "colyseus.js", "ws"} {
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json"))
		if err != nil {
			return "", nil, fmt.Errorf("%s is not installed in %s (%v): run npm ci --prefix tools/bench/colyseus from the repository root", pkg, dir, err)
		}
		var p struct{ Version string }
		if err := json.Unmarshal(b, &p); err != nil || p.Version == "" {
			return "", nil, fmt.Errorf("%s/node_modules/%s/package.json: no version", dir, pkg)
		}
		vers[pkg] = p.Version
	}
	return strings.TrimSpace(string(out)), vers, nil
}

// checkDirectory settles where the tickwire server keeps its room
// directory.
func checkDirectory(cfg *Config, rep *Report) error {
	_, err := exec.LookPath("redis-server")
	switch {
	case cfg.Directory == "redis" && err != nil:
		return fmt.Errorf("--directory redis: redis-server is not installed (%v): install it (Debian: apt-get install redis-server) or use --directory embedded", err)
	case cfg.Directory == "" && err == nil:
		cfg.Directory = "redis"
	case cfg.Directory == "":
		cfg.Directory = "embedded"
		rep.Notes = append(rep.Notes, "redis-server not found: the tickwire server uses its embedded room directory")
	}
	rep.Directory = cfg.Directory
	return nil
}

// startRedis starts a redis-server for a tickwire server's room
// directory, pinned to cpu, listening on a Unix socket in a new
// temporary directory only. It returns the socket's URL, the process and
// a function that stops it and removes the directory.
func startRedis(ctx context.Context, cpu int) (string, *proc.Child, func(), error) {
	tmp, err := os.MkdirTemp("", "vscolyseus-redis-")
	if err != nil {
		return "", nil, nil, err
	}
	sock := filepath.Join(tmp, "redis.sock")
	c, err := proc.Start("redis-server", cpu, tmp, "redis-server", "--port", "0", "--unixsocket", sock,
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err != nil {
		os.RemoveAll(tmp)
		return "", nil, nil, err
	}
	cleanup := func() {
		c.Stop()
		os.RemoveAll(tmp)
	}
	c.Discard() // its log: it must never block on a full pipe
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return "unix://" + sock, c, cleanup, nil
		}
		select {
		case <-c.Done():
			cleanup()
			return "", nil, nil, fmt.Errorf("redis-server exited (%v): %s", c.Err(), c.Stderr())
		case <-ctx.Done():
			cleanup()
			return "", nil, nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cleanup()
			return "", nil, nil, fmt.Errorf("redis-server made no socket at %s within 10s: %s", sock, c.Stderr())
		}
	}
}

// checkPinning falls back to unpinned processes where taskset or a second
// CPU is missing, and says so in the report.
func checkPinning(cfg *Config, rep *Report) bool {
	switch {
	case cfg.ServerCPU < 0 && cfg.LoadCPU < 0:
		rep.Notes = append(rep.Notes, "processes not pinned (--no-pin): servers and clients share the CPUs")
		return false
	case runtime.NumCPU() < 2:
		cfg.ServerCPU, cfg.LoadCPU = -1, -1
		rep.Notes = append(rep.Notes, "one CPU only: processes NOT pinned, servers and clients share it")
		return false
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		cfg.ServerCPU, cfg.LoadCPU = -1, -1
		rep.Notes = append(rep.Notes, "taskset not found: processes NOT pinned, servers and clients share the CPUs")
		return false
	}
	if cfg.ServerCPU == cfg.LoadCPU {
		rep.Notes = append(rep.Notes, "servers and clients pinned to the same CPU: the CPU figures measure both together")
	}
	return true
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

// revision describes the git commit of the working directory, noting
// uncommitted changes to the packages the tickwire rows measure.
func revision() string {
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
	st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--",
		"netws", "rooms", "tick", "engine").Output()
	if err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += " + uncommitted changes in netws/rooms/tick/engine"
	}
	return rev
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
