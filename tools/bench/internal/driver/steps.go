package driver

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/proc"
	"github.com/tickwire/tickwire/tools/bench/internal/sysx"
	"github.com/tickwire/tickwire/tools/bench/internal/wire"
)

// server is a running benchserver.
type server struct {
	*proc.Child
	addr      string
	pprofAddr string
}

func (r *runner) startServer(lib string) (*server, error) {
	args := []string{"-lib", lib, "-addr", "127.0.0.1:0",
		"-size", strconv.Itoa(r.cfg.RoomSize), "-rate", strconv.Itoa(r.cfg.RoomRate),
		"-max-lifetime", "20m"}
	if r.cfg.ProfileDir != "" {
		args = append(args, "-pprof", "127.0.0.1:0")
	}
	c, err := proc.Start("benchserver "+lib, r.serverCPU, "", append([]string{filepath.Join(r.cfg.BinDir, "benchserver")}, args...)...)
	if err != nil {
		return nil, err
	}
	s := &server{Child: c}
	if s.addr, err = c.Expect(context.Background(), "", 15*time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	if r.cfg.ProfileDir != "" {
		if s.pprofAddr, err = c.Expect(context.Background(), "pprof ", 5*time.Second); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return s, nil
}

// stats asks the server for its statistics (after a GC).
func (s *server) stats() (wire.ServerStats, error) {
	var st wire.ServerStats
	if err := s.Signal(syscall.SIGUSR1); err != nil {
		return st, err
	}
	line, err := s.Expect(context.Background(), wire.StatsPrefix, 20*time.Second)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(line), &st)
}

// profile fetches a CPU profile of the server for secs seconds into file,
// in the background; the returned channel closes when it is done.
func (s *server) profile(file string, d time.Duration) <-chan struct{} {
	done := make(chan struct{})
	if s.pprofAddr == "" {
		close(done)
		return done
	}
	secs := max(1, int(math.Round(d.Seconds())))
	go func() {
		defer close(done)
		cl := http.Client{Timeout: time.Duration(secs)*time.Second + 30*time.Second}
		resp, err := cl.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.pprofAddr, secs))
		if err != nil {
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(file)
		if err != nil {
			return
		}
		io.Copy(f, resp.Body)
		f.Close()
	}()
	return done
}

func (r *runner) startLoad(args ...string) (*proc.Child, error) {
	return proc.Start("benchload", r.loadCPU, "", append([]string{filepath.Join(r.cfg.BinDir, "benchload")}, args...)...)
}

// window is one measured window: the load is told to go, and the CPU time
// of both processes is read at its start and end.
type window struct {
	serverCPU, loadCPU time.Duration
	otherCPU           time.Duration // CPU time used by other processes on the machine
	wall               time.Duration
	result             wire.Result
}

// measure drives a load started with -control through its window.
func (r *runner) measure(srv *server, ld *proc.Child, readyTimeout time.Duration, profile string) (window, error) {
	var w window
	if _, err := ld.Expect(context.Background(), wire.Ready, readyTimeout); err != nil {
		return w, err
	}
	s0, err1 := srv.CPUTime()
	l0, err2 := ld.CPUTime()
	b0, err5 := sysx.BusyCPU()
	t0 := time.Now()
	if err := ld.Send(wire.Go); err != nil {
		return w, fmt.Errorf("telling the load to go: %w", err)
	}
	var profDone <-chan struct{}
	if profile != "" && srv.pprofAddr != "" {
		profDone = srv.profile(filepath.Join(r.cfg.ProfileDir, profile+".pprof"), r.cfg.Duration)
	}
	if _, err := ld.Expect(context.Background(), wire.End, r.cfg.Duration+30*time.Second); err != nil {
		return w, err
	}
	s1, err3 := srv.CPUTime()
	l1, err4 := ld.CPUTime()
	b1, err6 := sysx.BusyCPU()
	w.wall = time.Since(t0)
	if err5 == nil && err6 == nil {
		w.otherCPU = max(0, (b1-b0)-(s1-s0)-(l1-l0))
	}
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return w, err
	}
	w.serverCPU, w.loadCPU = s1-s0, l1-l0
	line, err := ld.Expect(context.Background(), wire.ResultPrefix, 30*time.Second)
	if err != nil {
		return w, err
	}
	if err := json.Unmarshal([]byte(line), &w.result); err != nil {
		return w, fmt.Errorf("load result: %w", err)
	}
	if !ld.Wait(30 * time.Second) {
		return w, fmt.Errorf("benchload did not exit after its result")
	}
	if profDone != nil {
		<-profDone
	}
	return w, nil
}

// runEcho measures echo at every size against one server.
func (r *runner) runEcho(lib string) []EchoResult {
	var out []EchoResult
	srv, err := r.startServer(lib)
	if err != nil {
		for _, size := range r.cfg.EchoSizes {
			out = append(out, EchoResult{Size: size, Err: err.Error()})
		}
		return out
	}
	defer srv.Stop()
	for _, size := range r.cfg.EchoSizes {
		r.progress(lib, "echo "+sizeName(size), time.Duration(r.cfg.Repeat)*(r.cfg.Warmup+r.cfg.Duration))
		var runs []EchoResult
		for i := range r.cfg.Repeat {
			runs = append(runs, r.echoOnce(srv, lib, size, i))
		}
		res := median(runs, func(e EchoResult) (float64, bool) { return e.Load.Rate, e.Err == "" })
		out = append(out, res)
		r.step++
	}
	return out
}

// echoOnce measures echo at one size once.
func (r *runner) echoOnce(srv *server, lib string, size, run int) EchoResult {
	res := EchoResult{Size: size}
	ld, err := r.startLoad("-mode", "echo", "-url", "ws://"+srv.addr+"/echo",
		"-conns", strconv.Itoa(r.cfg.EchoConns), "-size", strconv.Itoa(size),
		"-warmup", r.cfg.Warmup.String(), "-duration", r.cfg.Duration.String(),
		"-timeout", (r.cfg.Warmup + r.cfg.Duration + 3*time.Minute).String(), "-control")
	if err == nil {
		var w window
		w, err = r.measure(srv, ld, r.cfg.Warmup+2*time.Minute, profileName(lib+"-echo-"+sizeName(size), run))
		ld.Stop()
		res.Load = w.result
		res.ServerCPU = frac(w.serverCPU, w.wall)
		res.LoadCPU = frac(w.loadCPU, w.wall)
		res.OtherCPU = frac(w.otherCPU, w.wall)
		if err == nil && w.result.Errors > 0 {
			err = fmt.Errorf("%d load errors, first: %s", w.result.Errors, w.result.FirstError)
		}
	}
	if err != nil {
		res.Err = err.Error()
	}
	return res
}

// runRoom measures the broadcast room, cfg.Repeat times.
func (r *runner) runRoom(lib string) *RoomResult {
	r.progress(lib, fmt.Sprintf("room %d clients", r.cfg.RoomConns), time.Duration(r.cfg.Repeat)*(r.cfg.Warmup+r.cfg.Duration))
	defer func() { r.step++ }()
	var runs []RoomResult
	for i := range r.cfg.Repeat {
		runs = append(runs, *r.roomOnce(lib, i))
	}
	res := median(runs, func(x RoomResult) (float64, bool) { return x.CPUPerMillion, x.Err == "" })
	return &res
}

// roomOnce measures the room once, with a server of its own.
func (r *runner) roomOnce(lib string, run int) *RoomResult {
	res := &RoomResult{ConnsRequested: r.cfg.RoomConns}
	srv, err := r.startServer(lib)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer srv.Stop()
	format := "raw"
	if lib == "tickwire-rooms" {
		format = "rooms"
	}
	ld, err := r.startLoad("-mode", "room", "-url", "ws://"+srv.addr+"/room", "-format", format,
		"-conns", strconv.Itoa(r.cfg.RoomConns),
		"-warmup", r.cfg.Warmup.String(), "-duration", r.cfg.Duration.String(),
		"-timeout", (r.cfg.Warmup + r.cfg.Duration + 4*time.Minute).String(), "-control")
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer ld.Stop()
	w, err := r.measure(srv, ld, r.cfg.Warmup+3*time.Minute, profileName(lib+"-room", run))
	res.Load = w.result
	if err == nil && w.result.Errors > 0 {
		err = fmt.Errorf("%d load errors, first: %s", w.result.Errors, w.result.FirstError)
	}
	if err != nil {
		res.Err = err.Error()
		return res
	}
	res.ServerCPUSec = w.serverCPU.Seconds()
	res.ServerCPU = frac(w.serverCPU, w.wall)
	res.LoadCPU = frac(w.loadCPU, w.wall)
	res.OtherCPU = frac(w.otherCPU, w.wall)
	if w.result.Messages > 0 {
		res.CPUPerMillion = res.ServerCPUSec / float64(w.result.Messages) * 1e6
	}
	if want := float64(w.result.Conns) * float64(r.cfg.RoomRate) * w.result.Seconds; want > 0 {
		res.Delivered = float64(w.result.Messages) / want
	}
	if st, err := srv.stats(); err == nil {
		res.Server = st
	}
	return res
}

// runIdle measures the server's memory growth per idle connection,
// cfg.Repeat times.
func (r *runner) runIdle(lib string) *IdleResult {
	r.progress(lib, fmt.Sprintf("idle %d connections", r.idleConns), 0)
	defer func() { r.step++ }()
	var runs []IdleResult
	for range r.cfg.Repeat {
		runs = append(runs, *r.idleOnce(lib))
	}
	res := median(runs, func(x IdleResult) (float64, bool) { return x.RSSPerConn, x.Err == "" })
	return &res
}

// idleOnce measures idle memory once, with a server of its own.
func (r *runner) idleOnce(lib string) *IdleResult {
	res := &IdleResult{Conns: r.idleConns}
	fail := func(err error) *IdleResult { res.Err = err.Error(); return res }
	srv, err := r.startServer(lib)
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	time.Sleep(300 * time.Millisecond)
	if res.Before, err = srv.stats(); err != nil {
		return fail(err)
	}
	if res.RSSBefore, err = sysx.RSS(srv.PID()); err != nil {
		return fail(err)
	}
	ld, err := r.startLoad("-mode", "idle", "-url", "ws://"+srv.addr+"/echo",
		"-conns", strconv.Itoa(r.idleConns), "-warmup", "0s", "-dialers", "64",
		"-timeout", "5m", "-control")
	if err != nil {
		return fail(err)
	}
	defer ld.Stop()
	if _, err := ld.Expect(context.Background(), wire.Ready, 4*time.Minute); err != nil {
		return fail(err)
	}
	// Wait until the server has every connection in its read loop.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if res.After, err = srv.stats(); err != nil {
			return fail(err)
		}
		if res.After.Conns >= int64(r.idleConns) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if res.After, err = srv.stats(); err != nil {
		return fail(err)
	}
	if res.RSSAfter, err = sysx.RSS(srv.PID()); err != nil {
		return fail(err)
	}
	if res.After.Conns < int64(r.idleConns) {
		return fail(fmt.Errorf("server holds %d of %d connections", res.After.Conns, r.idleConns))
	}
	n := float64(r.idleConns)
	res.RSSPerConn = (float64(res.RSSAfter) - float64(res.RSSBefore)) / n
	res.HeapStackPerCon = (float64(res.After.HeapInuse+res.After.StackInuse) - float64(res.Before.HeapInuse+res.Before.StackInuse)) / n
	ld.Send(wire.Go)
	ld.Wait(30 * time.Second)
	return res
}

func frac(d, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return d.Seconds() / wall.Seconds()
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// median returns the run whose key is the median of the successful runs
// (the lower middle one for an even count), with the keys of all the runs
// recorded in it; if every run failed, the first.
func median[T any](runs []T, key func(T) (float64, bool)) T {
	type kv struct {
		k float64
		i int
	}
	var ok []kv
	for i, x := range runs {
		if k, good := key(x); good {
			ok = append(ok, kv{k, i})
		}
	}
	if len(ok) == 0 {
		return runs[0]
	}
	slices.SortFunc(ok, func(a, b kv) int { return cmp.Compare(a.k, b.k) })
	m := runs[ok[(len(ok)-1)/2].i]
	if rk, isRec := any(&m).(interface{ setRuns([]float64) }); isRec && len(runs) > 1 {
		keys := make([]float64, len(ok))
		for i, x := range ok {
			keys[i] = x.k
		}
		rk.setRuns(keys)
	}
	return m
}

// profileName names the CPU profile of a run; repeated runs get a suffix.
func profileName(base string, run int) string {
	if run == 0 {
		return base
	}
	return fmt.Sprintf("%s-%d", base, run+1)
}
