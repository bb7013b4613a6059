package engine

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/vmihailenco/msgpack/v5"
)

// scrape GETs /metrics and parses the text exposition format.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not in the Prometheus text format: %v", err)
	}
	return fams
}

// value returns the value of the series of family name whose labels
// include want (label=value pairs), and whether there is one. For a
// histogram it is the sample count.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
series:
	for _, m := range f.Metric {
		labels := make(map[string]string)
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if labels[k] != v {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// sendRaw opens a WebSocket by hand and sends frame, bytes no conforming
// client would send.
func sendRaw(t *testing.T, addr string, frame []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	c.Write(frame)
	// The server answers with a close frame and hangs up.
	for {
		if _, err := br.ReadByte(); err != nil {
			return
		}
	}
}

func TestMetricsScrape(t *testing.T) {
	e, addr := startEngine(t, Config{Conn: fastPings})
	_, pa := seatPlayer(t, addr, "ana")
	seatPlayer(t, addr, "bo")
	in, _ := msgpack.Marshal([]any{rooms.ClientInput, 1, 0})
	pa.c.WriteMessage(netws.Binary, in)

	var fams map[string]*dto.MetricFamily
	eventually(t, "RTT samples, ticks and traffic in /metrics", func() bool {
		fams = scrape(t, addr)
		rtt, _ := value(fams, "tickwire_player_rtt_seconds", "game=tag")
		ticks, _ := value(fams, "tickwire_tick_duration_seconds", "game=tag")
		msgsIn, _ := value(fams, "tickwire_messages_received_total")
		return rtt >= 2 && ticks > 0 && msgsIn >= 3 // two joins and an input
	})
	for _, tt := range []struct {
		name   string
		labels []string
		min    float64
		max    float64
	}{
		{"tickwire_rooms", []string{"game=tag"}, 1, 1},
		{"tickwire_players", []string{"game=tag"}, 2, 2},
		{"tickwire_connections", nil, 2, 2},
		{"tickwire_connections_accepted_total", nil, 2, 2},
		{"tickwire_tick_lateness_seconds", []string{"game=tag"}, 1, 1e9},
		{"tickwire_messages_sent_total", nil, 4, 1e9}, // two welcomes and batches
		{"tickwire_sent_bytes_total", nil, 1, 1e12},
		{"tickwire_received_bytes_total", nil, float64(len(in)), 1e9},
		{"go_goroutines", nil, 1, 1e9},
	} {
		v, ok := value(fams, tt.name, tt.labels...)
		if !ok || v < tt.min || v > tt.max {
			t.Errorf("%s%v = %v (present %v), want %v to %v", tt.name, tt.labels, v, ok, tt.min, tt.max)
		}
	}
	if f := fams["tickwire_player_rtt_seconds"]; f.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("tickwire_player_rtt_seconds is a %v, want a histogram", f.GetType())
	}
	if got := fams["tickwire_player_rtt_seconds"].Metric[0].Histogram.GetSampleSum(); got <= 0 || got > 10 {
		t.Errorf("RTT histogram sum %v s, want a small positive number on loopback", got)
	}
	// Every message the rooms sent their players went through the
	// metered connections, whichever way the room wrote it. A connection
	// counts a message just before the room does, so the counters lie
	// between the rooms' figures read before and after the scrape.
	roomsSent := func() (msgs, bytes float64) {
		for _, r := range e.monitoredRooms() {
			for _, p := range r.Roster() {
				msgs += float64(p.MessagesOut)
				bytes += float64(p.BytesOut)
			}
		}
		return msgs, bytes
	}
	eventually(t, "the sent counters to match what the rooms' players were sent", func() bool {
		m1, b1 := roomsSent()
		fams := scrape(t, addr)
		msgs, _ := value(fams, "tickwire_messages_sent_total")
		bytes, _ := value(fams, "tickwire_sent_bytes_total")
		m2, b2 := roomsSent()
		return m1 > 0 && m1 <= msgs && msgs <= m2 && b1 <= bytes && bytes <= b2
	})
	// A batch still unsent when the next is queued is superseded and
	// counted as dropped, which a loaded machine does now and then even
	// for clients that read everything. Whatever the count, the counter
	// reports the rooms' drops, once each tick.
	eventually(t, "the drop counter to equal the rooms' drops", func() bool {
		drops, _ := value(scrape(t, addr), "tickwire_send_queue_drops_total", "game=tag")
		var want uint64
		for _, r := range e.monitoredRooms() {
			want += r.Info().Dropped
		}
		return drops == float64(want)
	})

	// A client that leaves closes with 1000; one that breaks the protocol
	// is closed by the server with 1002 (an unmasked frame) or 1007 (text
	// that is not UTF-8).
	pa.c.Close(netws.StatusNormalClosure, "bye")
	sendRaw(t, addr, []byte{0x82, 0x01, 0x00})                 // unmasked binary frame
	sendRaw(t, addr, []byte{0x81, 0x81, 1, 2, 3, 4, 0xff ^ 1}) // masked text frame: 0xff
	eventually(t, "the closes to be counted", func() bool {
		fams = scrape(t, addr)
		p1002, _ := value(fams, "tickwire_protocol_errors_total", "code=1002")
		p1007, _ := value(fams, "tickwire_protocol_errors_total", "code=1007")
		left, _ := value(fams, "tickwire_connections_closed_total", "code=1000")
		return p1002 == 1 && p1007 == 1 && left >= 1
	})
	if v, _ := value(fams, "tickwire_connections_closed_total", "code=1002", "by=server"); v != 1 {
		t.Errorf("connections closed by the server with 1002: %v, want 1", v)
	}
	if v, _ := value(fams, "tickwire_connections"); v != 1 {
		t.Errorf("tickwire_connections = %v after ana left, want 1", v)
	}
}

func TestMetricsCountDrops(t *testing.T) {
	e, err := New(Config{Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(t.Context())
	hook := e.mon.metrics.observeTicks("g", nil)
	hook(rooms.TickReport{Duration: time.Millisecond, Dropped: 3})
	hook(rooms.TickReport{Duration: time.Millisecond})
	fams, err := e.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]*dto.MetricFamily)
	for _, f := range fams {
		got[f.GetName()] = f
	}
	if v, _ := value(got, "tickwire_send_queue_drops_total", "game=g"); v != 3 {
		t.Errorf("drops = %v, want 3", v)
	}
	if v, _ := value(got, "tickwire_tick_duration_seconds", "game=g"); v != 2 {
		t.Errorf("tick duration samples = %v, want 2", v)
	}
}
