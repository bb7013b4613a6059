package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/engine"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/tickwire/tickwire/tools/loadbot/load"
)

type quiet struct{}

func (quiet) Init(*rooms.Room) error                 { return nil }
func (quiet) Join(*rooms.Player, []byte) error       { return nil }
func (quiet) Leave(*rooms.Player, rooms.LeaveReason) {}
func (quiet) Input(*rooms.Player, uint32, []byte)    {}
func (quiet) Tick(tick.Tick)                         {}
func (quiet) Snapshot(*rooms.Player) any             { return 0 }

func serve(t *testing.T) string {
	t.Helper()
	e, err := engine.New(engine.Config{Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	e.Register("quiet", func() rooms.Game { return quiet{} }, &rooms.RoomOptions{TickRate: 30})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

func TestLoadbotSummaryAndJSON(t *testing.T) {
	url := serve(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-url", url + "/", "-game", "quiet", "-bots", "3", "-rate", "10", "-duration", "1500ms"}, &out, &errOut, false)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"bots      3 joined of 3, 0 failed", "rtt (input to ack)", "inter-arrival jitter"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "bots 3 connected") {
		t.Errorf("progress lines lack the connected bots:\n%s", errOut.String())
	}

	out.Reset()
	if err := run(context.Background(), []string{"-url", url, "-game", "quiet", "-bots", "1", "-duration", "1s", "-json"}, &out, &errOut, false); err != nil {
		t.Fatal(err)
	}
	var rep load.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Joined != 1 || rep.Batches == 0 {
		t.Errorf("-json: %v %+v\n%s", err, rep, out.String())
	}
}

func TestLoadbotErrors(t *testing.T) {
	url := serve(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "-game is required"},
		{[]string{"-game", "quiet", "-bots", "0"}, "-bots 0"},
		{[]string{"-game", "quiet", "-bots", "20000"}, "want 1 to 10000"},
		{[]string{"-game", "quiet", "-duration", "2h"}, "duration"},
		{[]string{"-game", "quiet", "-ramp", "20s"}, "ramp"},
		{[]string{"-game", "quiet", "stray"}, "unexpected arguments"},
		{[]string{"-url", url, "-game", "chess", "-duration", "1s"}, "no bot could join"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tt.args, &out, &errOut, false)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}
