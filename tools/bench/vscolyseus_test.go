package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requireOrSkip ends the test because something it needs is missing: a
// failure when TICKWIRE_REQUIRE_NODE is 1 (as in CI), a loud skip
// otherwise.
func requireOrSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("TICKWIRE_REQUIRE_NODE") == "1" {
		t.Fatalf("%s\n(TICKWIRE_REQUIRE_NODE=1 makes a missing dependency a failure)", msg)
	}
	t.Skipf("\n*** SKIPPING %s ***\n*** %s\n*** (set TICKWIRE_REQUIRE_NODE=1 to turn this skip into a failure)", t.Name(), msg)
}

// TestVsColyseusSmoke runs cmd/vscolyseus with a few clients for about
// two seconds a row: the Colyseus server and clients in node, the
// tickwire server and bots, and checks that the table comes out whole.
func TestVsColyseusSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three servers and their clients for about 15 seconds; skipped with -short")
	}
	if _, err := exec.LookPath("node"); err != nil {
		requireOrSkip(t, "node is not installed: the Colyseus side runs in Node.js 20 or later")
	}
	dir, err := filepath.Abs("colyseus")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@colyseus", "core")); err != nil {
		requireOrSkip(t, "the Colyseus packages are not installed: run npm ci --prefix tools/bench/colyseus from the repository root")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./cmd/vscolyseus")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	report := filepath.Join(t.TempDir(), "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "vscolyseus"), "--clients", "4", "--room-size", "2",
		"--entities", "20", "--view", "300", "--warmup", "300ms", "--duration", "2s",
		"--colyseus", dir, "--json", report)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vscolyseus: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	out := stdout.String()
	t.Logf("vscolyseus output:\n%s", out)
	for _, want := range []string{
		"| server | server CPU | CPU per snapshot | received per client |",
		"| Colyseus 0.16.",
		"| tickwire, whole room |",
		"| tickwire, interest 300x300 |",
		"tickwire, whole room / Colyseus: server CPU",
		"of the batches received were deltas",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table has no %q", want)
		}
	}
	if strings.Contains(out, "| error |") || strings.Contains(out, "failed:") {
		t.Errorf("a row failed")
	}

	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Rows []struct {
			Label     string
			ServerCPU float64
			Load      struct {
				Joined, Rooms    int
				Snapshots, Bytes uint64
				Deltas           uint64
				RTTCount         int
			}
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 3 {
		t.Fatalf("the report has %d rows, want 3", len(rep.Rows))
	}
	for i, r := range rep.Rows {
		l := r.Load
		if l.Joined != 4 || l.Rooms != 2 || l.Snapshots == 0 || l.Bytes == 0 || l.RTTCount == 0 || r.ServerCPU <= 0 {
			t.Errorf("%s: %+v, CPU %v: want 4 clients in 2 rooms, snapshots, bytes, RTTs and server CPU", r.Label, l, r.ServerCPU)
		}
		if i > 0 && l.Deltas == 0 {
			t.Errorf("%s: no delta received: the bots' acknowledgements did not reach the server", r.Label)
		}
	}
}
