package proxy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options describes the impairments a Proxy adds. The zero value forwards
// traffic unchanged.
type Options struct {
	// Delay is added to every chunk of bytes, in each direction: a 30 ms
	// Delay adds 60 ms to a round trip.
	Delay time.Duration

	// Jitter varies each chunk's delay uniformly within Delay ± Jitter
	// (never below zero). Bytes stay in order, so a chunk never leaves
	// before the one read before it.
	Jitter time.Duration

	// StallEvery and StallFor stall each connection periodically: every
	// StallEvery of its life, its traffic is held in both directions for
	// StallFor, as in a brief outage. Both zero means no stalls.
	StallEvery time.Duration
	StallFor   time.Duration

	// Seed seeds the jitter of the first connection (each next one adds 1),
	// for runs that repeat. 0 means a random seed.
	Seed uint64
}

// Validate reports the first option out of its range.
func (o Options) Validate() error {
	switch {
	case o.Delay < 0:
		return fmt.Errorf("delay %v is negative", o.Delay)
	case o.Jitter < 0:
		return fmt.Errorf("jitter %v is negative", o.Jitter)
	case o.StallEvery < 0 || o.StallFor < 0:
		return fmt.Errorf("stall every %v for %v: want durations of 0 or more", o.StallEvery, o.StallFor)
	case (o.StallEvery == 0) != (o.StallFor == 0):
		return fmt.Errorf("stall every %v for %v: set both, or neither", o.StallEvery, o.StallFor)
	case o.StallFor > 0 && o.StallFor >= o.StallEvery:
		return fmt.Errorf("stall for %v every %v: a stall must be shorter than its period, or no traffic would ever pass", o.StallFor, o.StallEvery)
	}
	return nil
}

// chunkSize is the most bytes one read takes; queueLen is how many chunks
// a direction holds before it stops reading from its sender.
const (
	chunkSize = 32 << 10
	queueLen  = 64
)

// Stats counts what a Proxy has forwarded.
type Stats struct {
	Connections uint64 // connections accepted
	Active      int    // connections open now
	BytesUp     uint64 // client to target
	BytesDown   uint64 // target to client
}

// A Proxy accepts connections and forwards each to the target, impaired.
// Its methods are safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string
	opts   Options
	seed   uint64

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	released chan struct{} // closed while traffic flows; open while held
	closed   bool

	done      chan struct{} // closed by Close
	wg        sync.WaitGroup
	accepted  atomic.Uint64
	active    atomic.Int64
	bytesUp   atomic.Uint64
	bytesDown atomic.Uint64
}

// Listen listens on addr (such as "127.0.0.1:0") and forwards every
// connection to target, impaired as opts says, until Close.
func Listen(addr, target string, opts Options) (*Proxy, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("proxy: target %q: want host:port: %w", target, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &Proxy{
		ln: ln, target: target, opts: opts, seed: opts.Seed,
		conns:    make(map[net.Conn]struct{}),
		released: make(chan struct{}),
		done:     make(chan struct{}),
	}
	if p.seed == 0 {
		p.seed = rand.Uint64()
	}
	close(p.released)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address the proxy listens on.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Stats returns what the proxy has forwarded so far.
func (p *Proxy) Stats() Stats {
	return Stats{Connections: p.accepted.Load(), Active: int(p.active.Load()), BytesUp: p.bytesUp.Load(), BytesDown: p.bytesDown.Load()}
}

// Hold stops all traffic through the proxy, in both directions, until
// Release: bytes already read wait in the proxy, and once its queues are
// full the senders' own buffers fill. Connections stay open.
func (p *Proxy) Hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.released:
		p.released = make(chan struct{})
	default: // already held
	}
}

// Release lets traffic held by Hold flow again.
func (p *Proxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.released:
	default:
		close(p.released)
	}
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	err := p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		n := p.accepted.Add(1)
		p.wg.Add(1)
		go p.serve(client, p.seed+n-1)
	}
}

// track adds c to the open connections; it reports false after Close.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// serve forwards one client connection to the target.
func (p *Proxy) serve(client net.Conn, seed uint64) {
	defer p.wg.Done()
	defer client.Close()
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	p.active.Add(1)
	defer p.active.Add(-1)
	d := net.Dialer{Timeout: 10 * time.Second}
	target, err := d.Dial("tcp", p.target)
	if err != nil {
		return // the client sees its connection close
	}
	defer target.Close()
	if !p.track(target) {
		return
	}
	defer p.untrack(target)
	start := time.Now()
	rng := rand.New(rand.NewPCG(seed, 0x7469636b77697265)) // "tickwire"
	var mu sync.Mutex                                      // guards rng, shared by both directions
	delay := func() time.Duration {
		if p.opts.Jitter == 0 {
			return p.opts.Delay
		}
		mu.Lock()
		j := time.Duration(rng.Int64N(int64(2*p.opts.Jitter)+1)) - p.opts.Jitter
		mu.Unlock()
		return max(0, p.opts.Delay+j)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(target, client, start, delay, &p.bytesUp) }()
	go func() { defer wg.Done(); p.pipe(client, target, start, delay, &p.bytesDown) }()
	wg.Wait()
}

// chunk is bytes read and the time they may be written.
type chunk struct {
	b   []byte
	due time.Time
}

// pipe forwards src to dst: a reader stamps each chunk with its due time,
// and this goroutine writes it once due and not stalled. When src ends,
// dst's write side is closed after the last chunk; when a write fails,
// both connections are closed.
func (p *Proxy) pipe(dst, src net.Conn, start time.Time, delay func() time.Duration, count *atomic.Uint64) {
	q := make(chan chunk, queueLen)
	go func() {
		defer close(q)
		var last time.Time
		for {
			buf := make([]byte, chunkSize)
			n, err := src.Read(buf)
			if n > 0 {
				due := time.Now().Add(delay())
				if due.Before(last) {
					due = last // bytes stay in order
				}
				last = due
				select {
				case q <- chunk{buf[:n], due}:
				case <-p.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		if !p.wait(c.due, start) {
			break
		}
		if _, err := dst.Write(c.b); err != nil {
			src.Close()
			dst.Close()
			break
		}
		count.Add(uint64(len(c.b)))
	}
	if tc, ok := dst.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
	for range q { // let the reader finish
	}
}

// wait sleeps until due, then while the connection (started at start) is
// in a stall or the proxy is held. It reports false when the proxy closed.
func (p *Proxy) wait(due, start time.Time) bool {
	for {
		now := time.Now()
		until := due
		if end, ok := p.stallEnd(now, start); ok && end.After(until) {
			until = end
		}
		if until.After(now) {
			t := time.NewTimer(until.Sub(now))
			select {
			case <-t.C:
			case <-p.done:
				t.Stop()
				return false
			}
			continue
		}
		p.mu.Lock()
		released := p.released
		p.mu.Unlock()
		select {
		case <-released:
			return true
		default:
		}
		select {
		case <-released: // check the stalls again
		case <-p.done:
			return false
		}
	}
}

// stallEnd returns the end of the periodic stall that now falls in, for a
// connection started at start.
func (p *Proxy) stallEnd(now, start time.Time) (time.Time, bool) {
	every, stall := p.opts.StallEvery, p.opts.StallFor
	if every <= 0 || stall <= 0 {
		return time.Time{}, false
	}
	age := now.Sub(start)
	k := age / every
	if k == 0 || age-k*every >= stall {
		return time.Time{}, false
	}
	return start.Add(k*every + stall), true
}
