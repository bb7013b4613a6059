package rooms

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/tick"
)

// sinkConn is an in-memory net.Conn: reads serve a WebSocket handshake
// request and then block until Close; writes are counted and discarded.
// It lets benchmarks run real netws connections without syscalls.
type sinkConn struct {
	req    *bytes.Reader
	closed chan struct{}
	once   sync.Once
	writes *atomic.Int64
}

const handshakeRequest = "GET / HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

func newSinkConn(writes *atomic.Int64) *sinkConn {
	return &sinkConn{req: bytes.NewReader([]byte(handshakeRequest)), closed: make(chan struct{}), writes: writes}
}

func (c *sinkConn) Read(p []byte) (int, error) {
	if c.req.Len() > 0 {
		return c.req.Read(p)
	}
	<-c.closed
	return 0, net.ErrClosed
}

// Write counts messages delivered: each starts with exactly one frame
// whose opcode is binary (later fragments are continuations).
func (c *sinkConn) Write(p []byte) (int, error) {
	if c.writes != nil && len(p) > 0 && p[0]&0x0F == 0x2 {
		c.writes.Add(1)
	}
	return len(p), nil
}
func (c *sinkConn) Close() error                       { c.once.Do(func() { close(c.closed) }); return nil }
func (c *sinkConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *sinkConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *sinkConn) SetDeadline(t time.Time) error      { return nil }
func (c *sinkConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *sinkConn) SetWriteDeadline(t time.Time) error { return nil }

// sinkPlayer returns a netws server connection over a sinkConn.
func sinkPlayer(tb testing.TB, writes *atomic.Int64) *netws.Conn {
	c, _, err := netws.AcceptConn(newSinkConn(writes), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// payloadGame sends every player the same payload each tick.
type payloadGame struct{ payload []byte }

func (g *payloadGame) Init(r *Room) error                       { return nil }
func (g *payloadGame) Join(p *Player, opts []byte) error        { return nil }
func (g *payloadGame) Leave(p *Player, reason LeaveReason)      {}
func (g *payloadGame) Input(p *Player, seq uint32, data []byte) {}
func (g *payloadGame) Tick(t tick.Tick)                         {}
func (g *payloadGame) Snapshot(p *Player) any                   { return g.payload }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runRooms runs rooms x players sink players at rate Hz with a payload of
// size bytes for wall time d and reports CPU, deliveries and lateness.
func runRooms(b *testing.B, nRooms, players, rate, size int, d time.Duration) {
	var writes atomic.Int64
	sched := tick.NewScheduler(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var all []*Room
	var conns []*netws.Conn
	for range nRooms {
		r, err := NewRoom("bench", &payloadGame{payload: make([]byte, size)},
			RoomOptions{TickRate: rate, Scheduler: sched, EmptyTimeout: -1})
		if err != nil {
			b.Fatal(err)
		}
		go r.Run(ctx)
		all = append(all, r)
		for range players {
			c := sinkPlayer(b, &writes)
			conns = append(conns, c)
			go r.Serve(c, JoinRequest{})
		}
	}
	for _, r := range all { // wait for every seat
		for r.Info().Players < players {
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond)
	b.ResetTimer()
	w0, c0, t0 := writes.Load(), cpuTime(), time.Now()
	time.Sleep(d)
	w1, c1, t1 := writes.Load(), cpuTime(), time.Now()
	b.StopTimer()
	var p99, maxLate time.Duration
	var skipped uint64
	for _, r := range all {
		st := r.Info().Ticks
		p99 = max(p99, st.Lateness.P99)
		maxLate = max(maxLate, st.Lateness.Max)
		skipped += st.Skipped
	}
	wall := t1.Sub(t0)
	deliveries := float64(w1 - w0)
	b.ReportMetric(float64(c1-c0)/float64(wall)*100, "cpu%")
	b.ReportMetric(deliveries/wall.Seconds(), "deliveries/s")
	b.ReportMetric((c1-c0).Seconds()/deliveries*1e6, "cpu-s/1M-deliveries")
	b.ReportMetric(float64(p99)/float64(time.Millisecond), "worst-room-lateness-p99-ms")
	b.ReportMetric(float64(skipped), "skipped-ticks")
	cancel()
	for _, c := range conns {
		c.CloseNow()
	}
	for _, r := range all {
		<-r.Done()
	}
}

// BenchmarkRoomsAtScale runs 1000 rooms of 8 players at 30 Hz with a
// 256-byte snapshot, over in-memory connections, for 5 s per iteration;
// run it with -benchtime 1x.
func BenchmarkRoomsAtScale(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("rooms=%d/players=8/30Hz", n), func(b *testing.B) {
			runRooms(b, n, 8, 30, 256, 5*time.Second)
		})
	}
}

// BenchmarkRoomFanout runs one room of 1000 players at 60 Hz with a 4 KiB
// snapshot, beside a plain netws loop writing the same prepared message to
// the same kind of connections, to show the framework's overhead.
func BenchmarkRoomFanout(b *testing.B) {
	b.Run("rooms", func(b *testing.B) { runRooms(b, 1, 1000, 60, 4096, 5*time.Second) })
	b.Run("plain-netws", func(b *testing.B) {
		var writes atomic.Int64
		conns := make([]*netws.Conn, 1000)
		for i := range conns {
			conns[i] = sinkPlayer(b, &writes)
		}
		loop, _ := tick.NewLoop(tick.Options{Rate: 60})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			payload := make([]byte, 4096)
			loop.Run(ctx, func(t tick.Tick) {
				pm, _ := netws.NewPreparedMessage(netws.Binary, payload, 0)
				for _, c := range conns {
					c.WritePrepared(pm)
				}
			})
		}()
		time.Sleep(200 * time.Millisecond)
		b.ResetTimer()
		w0, c0, t0 := writes.Load(), cpuTime(), time.Now()
		time.Sleep(5 * time.Second)
		w1, c1, t1 := writes.Load(), cpuTime(), time.Now()
		b.StopTimer()
		cancel()
		<-done
		wall, deliveries := t1.Sub(t0), float64(w1-w0)
		st := loop.Stats()
		b.ReportMetric(float64(c1-c0)/float64(wall)*100, "cpu%")
		b.ReportMetric(deliveries/wall.Seconds(), "deliveries/s")
		b.ReportMetric((c1-c0).Seconds()/deliveries*1e6, "cpu-s/1M-deliveries")
		b.ReportMetric(float64(st.Lateness.P99)/float64(time.Millisecond), "worst-room-lateness-p99-ms")
		b.ReportMetric(float64(st.Skipped), "skipped-ticks")
	})
}
