package vs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickwire/tickwire/tools/bench/internal/crowd"
)

func TestServeCommands(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.pprof")
	stats := new(crowd.Stats)
	stats.Ticks.Store(7)
	in := strings.Join([]string{
		StatsCmd,
		"  " + StatsCmd + "  ",
		ProfileCmd + filepath.Join(dir, "no", "such", "dir", "x.pprof"),
		ProfileCmd + prof,
		ProfileCmd + prof,
		StopProfileCmd,
		StopProfileCmd,
		"something else",
	}, "\n") + "\n"
	var out strings.Builder
	serveCommands(strings.NewReader(in), &out, stats)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		StatsPrefix + `{"ticks":7,"patches":0,"inputs":0,"clients":0}`,
		StatsPrefix + `{"ticks":7,"patches":0,"inputs":0,"clients":0}`,
		ProfileErrorPrefix,
		Profiling,
		ProfileErrorPrefix + "a profile is already being taken",
		Profiled,
		Profiled,
	}
	if len(got) != len(want) {
		t.Fatalf("answers:\n%s\nwant %d lines", out.String(), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("answer %d: %q, want %q", i, got[i], want[i])
		}
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("no profile written: %v", err)
	}
}

func TestProfileName(t *testing.T) {
	tests := map[string]string{
		"tickwire, whole room":       "tickwire-whole-room.pprof",
		"tickwire, interest 400x400": "tickwire-interest-400x400.pprof",
		"Colyseus 0.16.26":           "colyseus-0.16.26.pprof",
	}
	for label, want := range tests {
		if got := profileName(label); got != want {
			t.Errorf("profileName(%q) = %q, want %q", label, got, want)
		}
	}
}
