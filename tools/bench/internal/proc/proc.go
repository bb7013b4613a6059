// Package proc runs the benchmark's child processes (servers, loads, a
// redis-server): each pinned to a CPU, talked to line by line over its
// standard input and output, measured by its PID, and stopped by it.
package proc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/sysx"
)

// Child is a running child process.
type Child struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at EOF
	stderr tail
	done   chan struct{} // closed once the process has exited
	err    error         // Wait's error, set before done is closed
}

// Start runs argv pinned to cpu with taskset (unless cpu < 0), in dir
// ("" for the current directory). name is how errors call it.
func Start(name string, cpu int, dir string, argv ...string) (*Child, error) {
	if cpu >= 0 {
		// taskset execs the program: the PID is the program's own.
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	// Should the driver die, the kernel kills its children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := &Child{name: name, cmd: cmd, lines: make(chan string, 64), done: make(chan struct{})}
	cmd.Stderr = &c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	live.Store(c, struct{}{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.err = cmd.Wait()
		live.Delete(c)
		close(c.done)
	}()
	return c, nil
}

// Name returns the child's name.
func (c *Child) Name() string { return c.name }

// PID returns the child's process id.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// Signal sends sig to the child.
func (c *Child) Signal(sig syscall.Signal) error { return c.cmd.Process.Signal(sig) }

// Done is closed once the child has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Err returns how the child exited (Wait's error); nil while it runs.
func (c *Child) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Stderr returns the last few KiB the child wrote to its standard error,
// prefixed "stderr: ", or "(no stderr)".
func (c *Child) Stderr() string { return c.stderr.String() }

// Discard reads and drops the child's standard output from now on, so
// that a child whose output nobody reads never blocks on a full pipe.
func (c *Child) Discard() {
	go func() {
		for range c.lines {
		}
	}()
}

// CPUTime returns the CPU time (user + system, all threads) the child has
// used so far; a nil Child has used none. A child that has just exited
// (a load exits right after its window) has no /proc entry left: then its
// total comes from the kernel's accounting at exit, the same clock.
func (c *Child) CPUTime() (time.Duration, error) {
	if c == nil {
		return 0, nil
	}
	d, err := sysx.CPUTime(c.PID())
	if err == nil {
		return d, nil
	}
	if c.Wait(5*time.Second) && c.cmd.ProcessState != nil {
		return c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime(), nil
	}
	return 0, fmt.Errorf("reading the CPU time of %s: %w (%s exited: %v; %s)", c.name, err, c.name, c.Err(), c.stderr.String())
}

// Expect waits up to timeout, or until ctx ends, for a stdout line
// starting with prefix and returns the rest of it; other lines are
// skipped.
func (c *Child) Expect(ctx context.Context, prefix string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				<-c.done
				return "", fmt.Errorf("%s exited before printing %q (%v): %s", c.name, strings.TrimSpace(prefix), c.err, c.stderr.String())
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest, nil
			}
		case <-t.C:
			return "", fmt.Errorf("%s printed no %q within %v: %s", c.name, strings.TrimSpace(prefix), timeout, c.stderr.String())
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %s: %w", c.name, ctx.Err())
		}
	}
}

// Send writes one line to the child's standard input.
func (c *Child) Send(line string) error {
	_, err := io.WriteString(c.stdin, line+"\n")
	return err
}

// Wait waits up to timeout for the child to exit on its own.
func (c *Child) Wait(timeout time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Stop ends the child by its PID: SIGTERM, then SIGKILL after 3 seconds.
func (c *Child) Stop() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	if c.Wait(3 * time.Second) {
		return
	}
	c.cmd.Process.Kill()
	c.Wait(5 * time.Second)
}

// live holds the children that have not exited yet, for StopAll.
var live sync.Map

// StopAll stops every child still running, each by its PID; for a driver
// that is interrupted.
func StopAll() {
	live.Range(func(k, _ any) bool {
		k.(*Child).Stop()
		return true
	})
}

// tail keeps the last few KiB written to it.
type tail struct {
	mu sync.Mutex
	b  []byte
}

const tailSize = 2048

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return "(no stderr)"
	}
	return "stderr: " + s
}
