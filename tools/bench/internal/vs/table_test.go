package vs

import (
	"bytes"
	"strings"
	"testing"
)

func testReport() *Report {
	load := func(bytes, snaps uint64) LoadResult {
		return LoadResult{Clients: 10, Joined: 10, Rooms: 1, Seconds: 2, Bytes: bytes, Snapshots: snaps, Deltas: snaps,
			RTTCount: 5, RTTP50Us: 30000, RTTP99Us: 150000}
	}
	return &Report{
		Clients: 10, RoomSize: 10, Entities: 100, InputRate: 10, Warmup: "1s", Duration: "2s",
		Pinned: true, ServerCPU: 1, LoadCPU: 0,
		Versions: map[string]string{"@colyseus/core": "0.16.26"},
		Rows: []*Row{
			{Label: "Colyseus 0.16.26", Impl: "colyseus", ServerCPU: 0.30, Load: load(400000, 400)},
			{Label: "tickwire, whole room", Impl: "tickwire", ServerCPU: 0.09, Load: load(300000, 400)},
			{Label: "tickwire, interest 400x400", Impl: "tickwire", Interest: true, ServerCPU: 0.12, Load: load(80000, 400)},
			{Label: "tickwire, broken", Impl: "tickwire", Err: "the server did not start"},
		},
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, testReport())
	out := b.String()
	for _, want := range []string{
		"| Colyseus 0.16.26 | 30.0% | 1500.0 µs | 19.5 KiB/s | 1000 B | 20.0 | 30.0 ms | 150 ms |",
		"| tickwire, whole room | 9.0% | 450.0 µs | 14.6 KiB/s | 750 B |",
		"| tickwire, broken | error |",
		"tickwire, whole room / Colyseus: server CPU 0.30 (target 0.33 or less: met), bytes per client 0.75 (target 0.50 or less: NOT met); per snapshot: CPU 0.30, bytes 0.75",
		"tickwire, interest 400x400 / Colyseus: server CPU 0.40, bytes per client 0.20; per snapshot: CPU 0.40, bytes 0.20 (a smaller view",
		"tickwire, broken failed: the server did not start",
		"100.0% of the batches received were deltas",
		"Servers pinned to CPU 1, clients to CPU 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table has no %q:\n%s", want, out)
		}
	}
}

func TestWriteTableWithoutColyseus(t *testing.T) {
	rep := testReport()
	rep.Rows[0].Err = "node failed"
	var b bytes.Buffer
	writeTable(&b, rep)
	if out := b.String(); strings.Contains(out, "/ Colyseus") {
		t.Errorf("ratios printed against a failed Colyseus row:\n%s", out)
	}
}
