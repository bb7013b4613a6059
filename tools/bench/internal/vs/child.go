package vs

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

// child is a server or load process started by the driver, pinned to a
// CPU, talked to line by line, and stopped by its PID.
type child struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line; closed at EOF
	stderr tail
	done   chan struct{} // closed once the process has exited
	err    error         // Wait's error, set before done is closed
}

// start runs argv pinned to cpu with taskset (unless cpu < 0), in dir
// ("" for the current directory).
func start(name string, cpu int, dir string, argv ...string) (*child, error) {
	if cpu >= 0 {
		// taskset execs the program: the PID is the program's own.
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
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
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// cpuTime returns the CPU time (user + system, all threads) the child has
// used so far; a nil child has used none.
func (c *child) cpuTime() (time.Duration, error) {
	if c == nil {
		return 0, nil
	}
	d, err := sysx.CPUTime(c.pid())
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of %s: %w (%s)", c.name, err, c.stderr.String())
	}
	return d, nil
}

// expect waits up to timeout for a stdout line starting with prefix and
// returns the rest of it; other lines are skipped.
func (c *child) expect(ctx context.Context, prefix string, timeout time.Duration) (string, error) {
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

// send writes one line to the child's standard input.
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
