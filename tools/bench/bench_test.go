package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuickRun builds the three programs and runs benchrun --quick with
// two libraries and tiny numbers, proving the harness works end to end:
// servers start and stop, loads connect and measure, the table and the
// JSON report come out.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and load generators for about 20 seconds; skipped with -short")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./cmd/benchserver", "./cmd/benchload", "./cmd/benchrun")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	report := filepath.Join(t.TempDir(), "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "benchrun"), "--quick",
		"--libs", "netws,gorilla", "--conns", "20", "--duration", "1s", "--warmup", "200ms",
		"--room-conns", "20", "--idle-conns", "100", "--bin", bin, "--json", report)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("benchrun: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	out := stdout.String()
	t.Logf("benchrun output:\n%s", out)
	for _, want := range []string{"echo 1KiB msgs/s", "room CPU-s per 1M msgs", "idle RSS per conn", "netws", "gorilla", "targets"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table has no %q", want)
		}
	}
	if strings.Contains(out, "\nerrors:") {
		t.Errorf("some measurements failed")
	}
	if !strings.Contains(stderr.String(), "[ 1/10]") || !strings.Contains(stderr.String(), "measurements in") {
		t.Errorf("no progress lines on stderr:\n%s", &stderr)
	}

	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Libs []struct {
			Lib  string
			Echo []struct {
				Size int
				Load struct{ Messages uint64 }
			}
			Room *struct {
				Load          struct{ Messages uint64 }
				CPUPerMillion float64 `json:"cpu_s_per_1m"`
			}
			Idle *struct {
				Conns    int
				RSSAfter uint64 `json:"rss_after"`
			}
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Libs) != 2 {
		t.Fatalf("report has %d libraries, want 2", len(rep.Libs))
	}
	for _, l := range rep.Libs {
		if len(l.Echo) != 3 {
			t.Errorf("%s: %d echo sizes, want 3", l.Lib, len(l.Echo))
		}
		for _, e := range l.Echo {
			if e.Load.Messages == 0 {
				t.Errorf("%s echo %d: no message measured", l.Lib, e.Size)
			}
		}
		if l.Room == nil || l.Room.Load.Messages == 0 {
			t.Errorf("%s: no room message measured", l.Lib)
		}
		if l.Idle == nil || l.Idle.Conns != 100 || l.Idle.RSSAfter == 0 {
			t.Errorf("%s: idle not measured: %+v", l.Lib, l.Idle)
		}
	}
}
