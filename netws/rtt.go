package netws

import (
	"encoding/binary"
	"slices"
	"sync"
	"time"
)

// RTT pings carry a 16-byte payload: a 4-byte tag, a 4-byte sequence number
// and the 8-byte send time in nanoseconds since the connection started, all
// big-endian. Pongs that do not echo a ping this connection sent and has not
// yet settled are counted as unsolicited and never become samples.
const (
	rttPayloadSize = 16
	maxRTTWindow   = 1024
	maxPending     = 16
)

var rttTag = [4]byte{'t', 'w', 'r', 't'}

// RTTStats is a snapshot of a connection's round-trip time measurements.
// Durations are zero until the first sample.
type RTTStats struct {
	Last      time.Duration // the most recent sample
	Min       time.Duration // the smallest sample seen
	Smoothed  time.Duration // SRTT, RFC 6298: 7/8 old + 1/8 sample
	Variation time.Duration // RTTVAR, RFC 6298: 3/4 old + 1/4 |SRTT - sample|
	Jitter    time.Duration // RFC 3550 interarrival jitter of consecutive samples
	P50       time.Duration // percentiles over the last Window samples
	P95       time.Duration
	P99       time.Duration
	Window    int // samples the percentiles are computed over

	PingsSent    uint64 // RTT pings written
	PongsMatched uint64 // pongs that answered a ping in time: the samples
	PingsLost    uint64 // pings unanswered within ConnOptions.PongTimeout
	Unsolicited  uint64 // pongs that matched no outstanding ping (late ones included)
	LastPong     time.Time
}

// Loss returns the fraction of settled pings (answered or lost) that were
// lost, from 0 to 1.
func (s RTTStats) Loss() float64 {
	settled := s.PongsMatched + s.PingsLost
	if settled == 0 {
		return 0
	}
	return float64(s.PingsLost) / float64(settled)
}

type pendingPing struct {
	sent   int64 // nanoseconds since epoch
	seq    uint32
	active bool
}

// rttTracker matches pongs to pings and keeps the statistics. It is safe
// for concurrent use: pings are sent by the keepalive timer or the
// application, pongs are seen by the reader, stats are read by anyone.
type rttTracker struct {
	mu          sync.Mutex
	epoch       time.Time
	pongTimeout time.Duration
	seq         uint32
	pending     [maxPending]pendingPing
	window      int
	samples     []time.Duration // ring of the last window samples, allocated on first use
	next        int
	count       int
	stats       RTTStats
	lastPong    time.Time
}

func (t *rttTracker) init(window int, pongTimeout time.Duration) {
	t.epoch = time.Now()
	t.pongTimeout = pongTimeout
	t.window = window
}

// newPing returns the payload of the next RTT ping, sent at now.
func (t *rttTracker) newPing(now time.Time) [rttPayloadSize]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	t.seq++
	sent := int64(now.Sub(t.epoch))
	slot := &t.pending[t.seq%maxPending]
	if slot.active {
		t.stats.PingsLost++
	}
	*slot = pendingPing{seq: t.seq, sent: sent, active: true}
	t.stats.PingsSent++
	var p [rttPayloadSize]byte
	copy(p[:4], rttTag[:])
	binary.BigEndian.PutUint32(p[4:], t.seq)
	binary.BigEndian.PutUint64(p[8:], uint64(sent))
	return p
}

// expire counts pings unanswered for longer than the pong timeout as lost.
func (t *rttTracker) expire(now time.Time) {
	cutoff := int64(now.Sub(t.epoch) - t.pongTimeout)
	for i := range t.pending {
		if p := &t.pending[i]; p.active && p.sent < cutoff {
			p.active = false
			t.stats.PingsLost++
		}
	}
}

// onPong records the pong payload p received at now.
func (t *rttTracker) onPong(p []byte, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	if len(p) != rttPayloadSize || [4]byte(p[:4]) != rttTag {
		t.stats.Unsolicited++
		return
	}
	seq := binary.BigEndian.Uint32(p[4:])
	sent := int64(binary.BigEndian.Uint64(p[8:]))
	slot := &t.pending[seq%maxPending]
	if !slot.active || slot.seq != seq || slot.sent != sent {
		t.stats.Unsolicited++
		return
	}
	slot.active = false
	t.add(time.Duration(int64(now.Sub(t.epoch)) - sent))
	t.stats.LastPong = now
	t.lastPong = now
}

// add folds one sample into the statistics.
func (t *rttTracker) add(r time.Duration) {
	s := &t.stats
	if s.PongsMatched == 0 {
		s.Min = r
		s.Smoothed = r
		s.Variation = r / 2
	} else {
		s.Min = min(s.Min, r)
		d := s.Last - r
		if d < 0 {
			d = -d
		}
		s.Jitter += (d - s.Jitter) / 16
		e := s.Smoothed - r
		if e < 0 {
			e = -e
		}
		s.Variation = (3*s.Variation + e) / 4
		s.Smoothed = (7*s.Smoothed + r) / 8
	}
	s.Last = r
	s.PongsMatched++
	if t.samples == nil {
		t.samples = make([]time.Duration, t.window)
	}
	t.samples[t.next] = r
	t.next = (t.next + 1) % len(t.samples)
	t.count = min(t.count+1, len(t.samples))
}

// snapshot returns the statistics with percentiles computed now.
func (t *rttTracker) snapshot(now time.Time) RTTStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	s := t.stats
	s.Window = t.count
	if t.count > 0 {
		var buf [maxRTTWindow]time.Duration
		w := buf[:t.count]
		copy(w, t.samples[:t.count])
		slices.Sort(w)
		s.P50 = percentile(w, 50)
		s.P95 = percentile(w, 95)
		s.P99 = percentile(w, 99)
	}
	return s
}

// lastHeard returns when the last pong arrived, or the connection's start.
func (t *rttTracker) lastHeard() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lastPong.IsZero() {
		return t.epoch
	}
	return t.lastPong
}

// percentile returns the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

// RTT returns the connection's round-trip time statistics.
func (c *Conn) RTT() RTTStats {
	t := c.rtt.Load()
	if t == nil {
		return RTTStats{}
	}
	return t.snapshot(time.Now())
}

// rttState returns the connection's RTT tracker, making it on first use:
// a connection that never pings holds no RTT state.
func (c *Conn) rttState() *rttTracker {
	if t := c.rtt.Load(); t != nil {
		return t
	}
	t := new(rttTracker)
	t.init(c.opts.RTTWindow, c.opts.PongTimeout)
	if c.rtt.CompareAndSwap(nil, t) {
		return t
	}
	return c.rtt.Load()
}

// Ping sends an RTT ping now. Its pong, seen by the reader, becomes a
// sample in RTT. With ConnOptions.PingInterval set, pings are sent
// automatically and Ping is rarely needed.
func (c *Conn) Ping() error { return c.ping(false) }

// ping sends an RTT ping; with try set it skips the ping (returning
// errWriteBusy) when a frame is being written.
func (c *Conn) ping(try bool) error {
	if err := c.lockWrite(opPing, try); err != nil {
		return err
	}
	p := c.rttState().newPing(time.Now())
	return c.unlockWrite(c.writeLocked(true, opPing, p[:]))
}

// beginRead and endRead bracket a ReadMessage or NextReader call for the
// keepalive, which judges only time spent reading.
func (c *Conn) beginRead() {
	if c.keepalive != nil {
		c.readSince.Store(time.Now().UnixNano())
	}
}

func (c *Conn) endRead() {
	if c.keepalive != nil {
		c.readSince.Store(0)
	}
	c.reading.Store(false)
}

// silentFor returns how long the connection has been reading without
// hearing a pong: from the later of the last pong and the start of the
// read in progress; 0 when no read is in progress.
func (c *Conn) silentFor(now time.Time) time.Duration {
	since := c.readSince.Load()
	if since == 0 {
		return 0
	}
	from := c.rttState().lastHeard()
	if t := time.Unix(0, since); t.After(from) {
		from = t
	}
	return now.Sub(from)
}

// keepaliveTick sends the periodic RTT ping and closes the connection with
// 1001 when no pong has arrived for KeepAliveTimeout. It never waits for a
// writer blocked on a slow peer, so the keepalive check keeps running.
func (c *Conn) keepaliveTick() {
	select {
	case <-c.tcpClosed:
		return
	default:
	}
	if c.closing.Load() {
		return
	}
	now := time.Now()
	if kt := c.opts.KeepAliveTimeout; kt > 0 && c.silentFor(now) > kt {
		reason := "keepalive timeout: no pong for " + kt.String()
		c.nc.SetWriteDeadline(now.Add(time.Second))
		c.writeFrame(true, opClose, closePayload(StatusGoingAway, reason), true)
		c.fail(localClose(StatusGoingAway, reason))
		return
	}
	c.ping(true)
	c.keepalive.Reset(c.opts.PingInterval)
}
