package vs

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/crowd"
)

// serve starts a tickwire crowd server for the test and returns its
// http:// address and a function that asks it for its stats.
func serve(t *testing.T, o ServerOptions) (string, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	o.In, o.Out = inR, outW
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		go io.Copy(io.Discard, outR)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	lines := bufio.NewScanner(outR)
	if !lines.Scan() {
		t.Fatalf("the server printed nothing")
	}
	addr, ok := strings.CutPrefix(lines.Text(), ListeningPrefix)
	if !ok {
		t.Fatalf("the server's first line is %q, want %q and an address", lines.Text(), ListeningPrefix)
	}
	stats := func() string {
		io.WriteString(inW, StatsCmd+"\n")
		lines.Scan()
		return lines.Text()
	}
	return "http://" + addr, stats
}

// TestLoadOnTickwire runs a few bots against the tickwire crowd server
// and checks that they measured what the table needs, with deltas.
func TestLoadOnTickwire(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and bots for about two seconds; skipped with -short")
	}
	tests := []struct {
		name string
		view float64
	}{
		{"whole room", 0},
		{"interest", 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, stats := serve(t, ServerOptions{RoomSize: 3, Crowd: crowd.Options{Entities: 30, View: tt.view}})
			var out strings.Builder
			res, err := RunLoad(context.Background(), LoadOptions{
				URL: url, Clients: 5, Rate: 10, Warmup: 300 * time.Millisecond, Duration: time.Second,
				Timeout: time.Minute, Out: &out,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Joined != 5 || res.Rooms != 2 || res.Errors != 0 {
				t.Fatalf("joined %d in %d rooms with %d errors (%s); want 5 in 2 rooms, no error", res.Joined, res.Rooms, res.Errors, res.FirstError)
			}
			if res.Snapshots == 0 || res.Deltas == 0 {
				t.Errorf("%d snapshots, %d deltas: want deltas, since the bots acknowledge", res.Snapshots, res.Deltas)
			}
			if res.Bytes <= res.PayloadBytes || res.UpBytes == 0 {
				t.Errorf("bytes %d (payload %d), up %d: want frame headers counted and bytes sent", res.Bytes, res.PayloadBytes, res.UpBytes)
			}
			if res.Inputs == 0 || res.RTTCount == 0 || res.RTTP50Us <= 0 || res.RTTP99Us < res.RTTP50Us {
				t.Errorf("inputs %d, RTT samples %d, p50 %vµs, p99 %vµs: want RTTs measured", res.Inputs, res.RTTCount, res.RTTP50Us, res.RTTP99Us)
			}
			for _, want := range []string{Ready + "\n", End + "\n", ResultPrefix + "{"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the load's output has no %q:\n%s", want, out.String())
				}
			}
			if st := stats(); !strings.HasPrefix(st, StatsPrefix+`{"ticks":`) {
				t.Errorf("stats answer %q", st)
			}
		})
	}
}

func TestLoadOptionsValidate(t *testing.T) {
	good := LoadOptions{URL: "http://127.0.0.1:1", Clients: 1, Duration: time.Second}
	tests := []struct {
		name string
		edit func(*LoadOptions)
		want string // in the error; "" for none
	}{
		{"good", func(*LoadOptions) {}, ""},
		{"ws URL", func(o *LoadOptions) { o.URL = "ws://127.0.0.1:1" }, "want the server's http://host:port"},
		{"no clients", func(o *LoadOptions) { o.Clients = 0 }, "0 clients"},
		{"too many clients", func(o *LoadOptions) { o.Clients = MaxClients + 1 }, "clients: want 1 to"},
		{"rate", func(o *LoadOptions) { o.Rate = 1000 }, "inputs a second"},
		{"no window", func(o *LoadOptions) { o.Duration = 0 }, "window 0s"},
		{"control without input", func(o *LoadOptions) { o.Control = true }, "Control needs an In"},
	}
	for _, tt := range tests {
		o := good
		tt.edit(&o)
		err := o.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.want)
		}
	}
}
