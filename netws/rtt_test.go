package netws

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRTTTrackerMath(t *testing.T) {
	var tr rttTracker
	tr.init(8, time.Second)
	t0 := tr.epoch
	samples := []time.Duration{100, 80, 120, 100} // milliseconds
	now := t0
	for _, s := range samples {
		p := tr.newPing(now)
		now = now.Add(s * time.Millisecond)
		tr.onPong(p[:], now)
	}
	got := tr.snapshot(now)
	// RFC 6298: first sample R: SRTT=R, RTTVAR=R/2; then
	// RTTVAR = 3/4 RTTVAR + 1/4 |SRTT-R|, SRTT = 7/8 SRTT + 1/8 R.
	srtt, rttvar := 100.0, 50.0
	jitter, last := 0.0, 100.0
	for _, s := range samples[1:] {
		r := float64(s)
		rttvar = 0.75*rttvar + 0.25*abs(srtt-r)
		srtt = 0.875*srtt + 0.125*r
		jitter += (abs(last-r) - jitter) / 16
		last = r
	}
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	checks := []struct {
		name      string
		got, want time.Duration
	}{
		{"Last", got.Last, 100 * time.Millisecond},
		{"Min", got.Min, 80 * time.Millisecond},
		{"Smoothed", got.Smoothed, ms(srtt)},
		{"Variation", got.Variation, ms(rttvar)},
		{"Jitter", got.Jitter, ms(jitter)},
		{"P50", got.P50, 100 * time.Millisecond},
		{"P99", got.P99, 120 * time.Millisecond},
	}
	for _, c := range checks {
		if d := c.got - c.want; d > time.Microsecond || d < -time.Microsecond {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got.PingsSent != 4 || got.PongsMatched != 4 || got.PingsLost != 0 || got.Window != 4 {
		t.Errorf("counters = sent %d matched %d lost %d window %d, want 4 4 0 4", got.PingsSent, got.PongsMatched, got.PingsLost, got.Window)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestRTTTrackerRejectsBadPongs(t *testing.T) {
	var tr rttTracker
	tr.init(8, time.Second)
	now := tr.epoch
	p := tr.newPing(now)
	forged := p
	forged[15]++ // right sequence, wrong send time
	other := p
	other[7] += 9 // a sequence never sent
	pongs := [][]byte{nil, []byte("hello"), forged[:], other[:], make([]byte, 16)}
	for _, q := range pongs {
		tr.onPong(q, now.Add(time.Millisecond))
	}
	s := tr.snapshot(now.Add(time.Millisecond))
	if s.PongsMatched != 0 || s.Unsolicited != uint64(len(pongs)) {
		t.Fatalf("after bad pongs: matched %d unsolicited %d, want 0 and %d", s.PongsMatched, s.Unsolicited, len(pongs))
	}
	tr.onPong(p[:], now.Add(5*time.Millisecond))
	tr.onPong(p[:], now.Add(6*time.Millisecond)) // duplicate
	s = tr.snapshot(now.Add(6 * time.Millisecond))
	if s.PongsMatched != 1 || s.Last != 5*time.Millisecond || s.Unsolicited != uint64(len(pongs))+1 {
		t.Fatalf("matched %d last %v unsolicited %d; want 1, 5ms, %d", s.PongsMatched, s.Last, s.Unsolicited, len(pongs)+1)
	}
}

func TestRTTTrackerLoss(t *testing.T) {
	var tr rttTracker
	tr.init(8, 100*time.Millisecond)
	now := tr.epoch
	late := tr.newPing(now)
	tr.newPing(now.Add(10 * time.Millisecond))
	s := tr.snapshot(now.Add(50 * time.Millisecond))
	if s.PingsLost != 0 {
		t.Fatalf("lost %d before the timeout", s.PingsLost)
	}
	s = tr.snapshot(now.Add(200 * time.Millisecond))
	if s.PingsLost != 2 || s.Loss() != 1 {
		t.Fatalf("lost %d (loss %.2f) after the timeout, want 2 (1.00)", s.PingsLost, s.Loss())
	}
	// The late pong arrives: it must not become a sample.
	tr.onPong(late[:], now.Add(250*time.Millisecond))
	s = tr.snapshot(now.Add(250 * time.Millisecond))
	if s.PongsMatched != 0 || s.Unsolicited != 1 {
		t.Fatalf("late pong: matched %d unsolicited %d, want 0 and 1", s.PongsMatched, s.Unsolicited)
	}
}

func TestPercentile(t *testing.T) {
	var sorted []time.Duration
	for i := 1; i <= 100; i++ {
		sorted = append(sorted, time.Duration(i))
	}
	for _, tc := range []struct{ p, want int }{{50, 50}, {95, 95}, {99, 99}, {100, 100}} {
		if got := percentile(sorted, tc.p); got != time.Duration(tc.want) {
			t.Errorf("p%d = %d, want %d", tc.p, got, tc.want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one sample = %d, want 7", got)
	}
}

// delayProxy forwards TCP connections to target, delaying every chunk by
// delay in each direction. While stalled, client-to-server bytes are held
// back and released when the stall ends, as a stalled network would.
type delayProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	stall  atomic.Bool
	done   atomic.Bool
	wg     sync.WaitGroup
}

func newDelayProxy(t *testing.T, target string, delay time.Duration) *delayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{ln: ln, target: target, delay: delay}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { p.done.Store(true); ln.Close(); p.wg.Wait() })
	return p
}

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.wg.Add(2)
		go p.pump(server, client, true)
		go p.pump(client, server, false)
	}
}

type chunk struct {
	at   time.Time
	data []byte
}

// pump copies src to dst, each chunk delayed; upstream pumps honour stall.
func (p *delayProxy) pump(dst, src net.Conn, upstream bool) {
	defer p.wg.Done()
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 {
				q <- chunk{time.Now().Add(p.delay), b[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	defer dst.Close()
	defer src.Close()
	for c := range q {
		time.Sleep(time.Until(c.at))
		for upstream && p.stall.Load() && !p.done.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// rttServer starts a server whose connections ping every interval and
// hands each one to the test; the handler reads until the connection ends
// and reports how.
func rttServer(t *testing.T, opts ConnOptions) (addr string, conns <-chan *Conn, ended <-chan error) {
	t.Helper()
	ch := make(chan *Conn, 4)
	errs := make(chan error, 4)
	url := testServer(t, &UpgradeOptions{ConnOptions: opts}, func(c *Conn) {
		ch <- c
		for {
			if _, _, err := c.ReadMessage(nil); err != nil {
				errs <- err
				return
			}
		}
	})
	return url[len("ws://"):], ch, errs
}

// readForever keeps a client reading, so it answers pings, until it fails.
func readForever(c *Conn) {
	go func() {
		for {
			if _, _, err := c.ReadMessage(nil); err != nil {
				return
			}
		}
	}()
}

// waitFor polls cond until it holds; the limit is only a hang guard.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRTTThroughDelayingProxy(t *testing.T) {
	addr, conns, _ := rttServer(t, ConnOptions{PingInterval: 50 * time.Millisecond, PongTimeout: 2 * time.Second})
	proxy := newDelayProxy(t, addr, 25*time.Millisecond)
	c := dialTest(t, "ws://"+proxy.ln.Addr().String()+"/", nil)
	readForever(c)
	sc := <-conns
	waitFor(t, "10 RTT samples", func() bool { return sc.RTT().PongsMatched >= 10 })
	s := sc.RTT()
	t.Logf("through a 25 ms-each-way proxy: %+v", s)
	// 25 ms each way is a physical floor of 50 ms; the ceiling is generous
	// for a loaded machine.
	if s.Min < 50*time.Millisecond {
		t.Errorf("Min = %v, below the 50 ms the proxy imposes", s.Min)
	}
	if s.Smoothed < 50*time.Millisecond || s.Smoothed > 120*time.Millisecond {
		t.Errorf("Smoothed = %v, want about 50 ms", s.Smoothed)
	}
	if s.P50 < 50*time.Millisecond || s.P50 > 120*time.Millisecond {
		t.Errorf("P50 = %v, want about 50 ms", s.P50)
	}
	if s.PingsLost != 0 {
		t.Errorf("PingsLost = %d on a healthy link", s.PingsLost)
	}
}

func TestRTTCountsLossWhenPongsAreWithheld(t *testing.T) {
	addr, conns, _ := rttServer(t, ConnOptions{
		PingInterval:     20 * time.Millisecond,
		PongTimeout:      100 * time.Millisecond,
		KeepAliveTimeout: -1,
	})
	proxy := newDelayProxy(t, addr, 0)
	c := dialTest(t, "ws://"+proxy.ln.Addr().String()+"/", nil)
	readForever(c)
	sc := <-conns
	waitFor(t, "first samples", func() bool { return sc.RTT().PongsMatched >= 3 })
	before := sc.RTT()
	proxy.stall.Store(true)
	waitFor(t, "lost pings", func() bool { return sc.RTT().PingsLost >= 3 })
	proxy.stall.Store(false)
	// The withheld pongs now arrive late: they must be counted as
	// unsolicited, never as (huge) samples.
	waitFor(t, "late pongs", func() bool { return sc.RTT().Unsolicited >= 1 })
	waitFor(t, "new samples", func() bool { return sc.RTT().PongsMatched >= before.PongsMatched+3 })
	s := sc.RTT()
	t.Logf("after a stall: %+v loss=%.2f", s, s.Loss())
	if s.Loss() <= 0 {
		t.Errorf("Loss() = %v after a stall, want > 0", s.Loss())
	}
	if s.P99 > 100*time.Millisecond {
		t.Errorf("P99 = %v: a late pong became a sample", s.P99)
	}
}

func TestKeepAliveClosesWhenPongsStop(t *testing.T) {
	addr, _, ended := rttServer(t, ConnOptions{
		PingInterval:     20 * time.Millisecond,
		PongTimeout:      50 * time.Millisecond,
		KeepAliveTimeout: 200 * time.Millisecond,
	})
	proxy := newDelayProxy(t, addr, 0)
	c := dialTest(t, "ws://"+proxy.ln.Addr().String()+"/", nil)
	readForever(c)
	proxy.stall.Store(true)
	select {
	case err := <-ended:
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != StatusGoingAway || !ce.Local {
			t.Fatalf("server read ended with %v, want a local 1001 keepalive close", err)
		}
		t.Logf("server: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("keepalive did not close a connection whose pongs stopped")
	}
}

func TestUnsolicitedPongsDoNotCorruptStats(t *testing.T) {
	addr, conns, _ := rttServer(t, ConnOptions{})
	c := dialTest(t, "ws://"+addr+"/", nil)
	readForever(c)
	sc := <-conns
	for i := range 20 {
		payload := []byte{'t', 'w', 'r', 't', 0, 0, 0, byte(i), 1, 2, 3, 4, 5, 6, 7, 8}
		if err := c.writeControl(opPong, payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := sc.Ping(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the real pong", func() bool { return sc.RTT().PongsMatched == 1 })
	s := sc.RTT()
	if s.Unsolicited != 20 || s.Last > time.Second {
		t.Fatalf("unsolicited %d last %v; want 20 and a sane sample", s.Unsolicited, s.Last)
	}
}

// TestKeepAliveJudgesOnlyReading leaves a server connection unread for
// several keepalive timeouts while its peer answers every ping: the pongs
// wait in the socket, and the connection must not be taken for dead. Once
// the application reads again, the pongs are seen and the message behind
// them arrives.
func TestKeepAliveJudgesOnlyReading(t *testing.T) {
	sc, client := acceptPair(t, &UpgradeOptions{ConnOptions: ConnOptions{
		PingInterval:     10 * time.Millisecond,
		PongTimeout:      30 * time.Millisecond,
		KeepAliveTimeout: 60 * time.Millisecond,
	}})
	cc := newConn(client, true, ConnOptions{}, nil)
	readForever(cc)
	time.Sleep(300 * time.Millisecond) // five keepalive timeouts, unread
	if err := cc.WriteMessage(Binary, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	_, got, err := sc.ReadMessage(nil)
	if err != nil || string(got) != "still here" {
		t.Fatalf("after an unread while: ReadMessage = %q, %v", got, err)
	}
	if s := sc.RTT(); s.PongsMatched == 0 {
		t.Fatalf("no pong was seen once reading resumed: %+v", s)
	}
}
