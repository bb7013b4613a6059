package driver

import (
	"bufio"
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

// child is a benchmark process (server or load) started by the driver,
// pinned to a CPU, and stopped by its own PID.
type child struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at EOF
	stderr tail
	done   chan struct{} // closed once the process has exited
	err    error         // Wait's error, set before done is closed
}

// start runs path with args, pinned to cpu with taskset unless cpu < 0.
func start(name string, cpu int, path string, args ...string) (*child, error) {
	argv := append([]string{path}, args...)
	if cpu >= 0 {
		// taskset execs the program: the PID is the benchmark program's.
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	// Should the driver die, the kernel kills its children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := &child{name: name, cmd: cmd, lines: make(chan string, 64), done: make(chan struct{})}
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

func (c *child) pid() int { return c.cmd.Process.Pid }

// cpuTime returns the CPU time (user + system) the child has used. A
// child that has just exited (benchload exits right after its window)
// has no /proc entry left: then its total comes from the kernel's
// accounting at exit, which is the same clock.
func (c *child) cpuTime() (time.Duration, error) {
	d, err := sysx.CPUTime(c.pid())
	if err == nil {
		return d, nil
	}
	if !c.wait(5*time.Second) || c.cmd.ProcessState == nil {
		return 0, err
	}
	return c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime(), nil
}

// expect waits up to timeout for a stdout line starting with prefix and
// returns the rest of it; other lines are skipped.
func (c *child) expect(prefix string, timeout time.Duration) (string, error) {
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
		}
	}
}

// send writes one line to the child's stdin.
func (c *child) send(line string) error {
	_, err := io.WriteString(c.stdin, line+"\n")
	return err
}

// wait waits up to timeout for the child to exit on its own.
func (c *child) wait(timeout time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// stop ends the child by its PID: SIGTERM, then SIGKILL after 3 seconds.
func (c *child) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	if c.wait(3 * time.Second) {
		return
	}
	c.cmd.Process.Kill()
	c.wait(5 * time.Second)
}

// live holds the children that have not exited yet.
var live sync.Map

// StopAll stops every child still running, each by its PID.
func StopAll() {
	live.Range(func(k, _ any) bool {
		k.(*child).stop()
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
