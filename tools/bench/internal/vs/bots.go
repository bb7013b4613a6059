package vs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/rooms/snap"
	"github.com/tickwire/tickwire/tools/bench/internal/crowd"
	"github.com/vmihailenco/msgpack/v5"
)

// Limits of LoadOptions, so that a mistake cannot start a flood.
const (
	MaxClients  = 5000
	MaxRate     = 120 // inputs a second per client: a room's default input limit
	MaxDuration = 5 * time.Minute
)

// LoadOptions configures RunLoad.
type LoadOptions struct {
	// URL is the tickwire server's HTTP address, http://host:port; bots
	// connect only to the host it names.
	URL string

	// Game is the game to matchmake into; "" means "crowd".
	Game string

	// Clients is how many bots join, one after the other.
	Clients int

	// Rate is how many inputs a second each bot sends; 0 means none.
	Rate float64

	// Warmup is how long the bots play after the last join before the
	// window; Duration is the window.
	Warmup, Duration time.Duration

	// Timeout bounds the whole run; 0 means the joins, warm-up and window
	// plus two minutes.
	Timeout time.Duration

	// Control makes the run wait for the line Go on In before its window.
	Control bool
	In      io.Reader

	// Out receives the control lines and the result (Ready, End,
	// ResultPrefix); nil means io.Discard.
	Out io.Writer
}

// Validate reports the first option out of its range.
func (o LoadOptions) Validate() error {
	u, err := url.Parse(o.URL)
	switch {
	case err != nil || u.Scheme != "http" || u.Host == "":
		return fmt.Errorf("load: URL %q: want the server's http://host:port", o.URL)
	case o.Clients < 1 || o.Clients > MaxClients:
		return fmt.Errorf("load: %d clients: want 1 to %d", o.Clients, MaxClients)
	case o.Rate < 0 || o.Rate > MaxRate:
		return fmt.Errorf("load: %v inputs a second: want 0 to %d", o.Rate, MaxRate)
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return fmt.Errorf("load: window %v: want more than 0 and at most %v", o.Duration, MaxDuration)
	case o.Warmup < 0 || o.Warmup > MaxDuration:
		return fmt.Errorf("load: warm-up %v: want 0 to %v", o.Warmup, MaxDuration)
	case o.Control && o.In == nil:
		return errors.New("load: Control needs an In to read the go line from")
	}
	return nil
}

// meter holds what the bots measure; only the window counts.
type meter struct {
	on atomic.Bool // the window is open

	messages, snapshots, deltas, full atomic.Uint64
	bytes, payloadBytes, upBytes      atomic.Uint64
	inputs, acked                     atomic.Uint64
	errors                            atomic.Uint64

	mu       sync.Mutex
	rtts     []time.Duration
	firstErr string
}

// fail counts an error, window or not: a bot that fails makes the whole
// run suspect.
func (m *meter) fail(format string, args ...any) {
	m.errors.Add(1)
	m.mu.Lock()
	if m.firstErr == "" {
		m.firstErr = fmt.Sprintf(format, args...)
	}
	m.mu.Unlock()
}

// RunLoad runs tickwire bots for the crowd workload and returns what they
// measured in the window. Each bot matchmakes (POST /matchmake/{game}),
// connects to the WebSocket it is given, joins with its seat, sends
// inputs at o.Rate, applies every table batch with a snap.Applier and
// acknowledges it, as a game client does, so that the server sends
// deltas. Errors of single bots are counted in the result; RunLoad
// returns an error for bad options or when the run times out.
func RunLoad(ctx context.Context, o LoadOptions) (LoadResult, error) {
	if o.Game == "" {
		o.Game = "crowd"
	}
	if err := o.Validate(); err != nil {
		return LoadResult{}, err
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = o.Warmup + o.Duration + 2*time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	botsCtx, stopBots := context.WithCancel(ctx)
	defer stopBots()

	u, _ := url.Parse(o.URL)
	m := &meter{}
	var wg sync.WaitGroup
	roomIDs := map[string]bool{}
	joined := 0
	for n := 1; n <= o.Clients && ctx.Err() == nil; n++ {
		b, err := joinBot(botsCtx, o, u.Host, n, m)
		if err != nil {
			m.fail("bot %d: %v", n, err)
			continue
		}
		joined++
		roomIDs[b.room] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.play(botsCtx, o.Rate)
		}()
	}
	if err := sleep(ctx, o.Warmup); err != nil {
		return LoadResult{}, fmt.Errorf("load: timed out after %v, in the warm-up", timeout)
	}
	fmt.Fprintln(o.Out, Ready)
	if o.Control {
		if err := waitLine(ctx, o.In, Go); err != nil {
			return LoadResult{}, fmt.Errorf("load: waiting for %q: %w", Go, err)
		}
	}
	t0 := time.Now()
	m.on.Store(true)
	err := sleep(ctx, o.Duration)
	m.on.Store(false)
	secs := time.Since(t0).Seconds()
	if err != nil {
		return LoadResult{}, fmt.Errorf("load: timed out after %v, in the window", timeout)
	}
	fmt.Fprintln(o.Out, End)

	stopBots()
	wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	slices.Sort(m.rtts)
	res := LoadResult{
		Impl: "tickwire", Clients: o.Clients, Joined: joined, Rooms: len(roomIDs), Seconds: secs,
		Messages: m.messages.Load(), Snapshots: m.snapshots.Load(), Deltas: m.deltas.Load(), Full: m.full.Load(),
		Bytes: m.bytes.Load(), PayloadBytes: m.payloadBytes.Load(), UpBytes: m.upBytes.Load(),
		Inputs: m.inputs.Load(), Acked: m.acked.Load(),
		RTTCount: len(m.rtts), RTTP50Us: micros(percentile(m.rtts, 0.5)), RTTP99Us: micros(percentile(m.rtts, 0.99)),
		Errors: m.errors.Load(), FirstError: m.firstErr,
	}
	b, err := json.Marshal(res)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(o.Out, "%s%s\n", ResultPrefix, b)
	return res, nil
}

// sentRing remembers when a bot's recent inputs were sent.
const sentRing = 1024

// bot is one joined client.
type bot struct {
	n    int
	c    *netws.Conn
	room string
	m    *meter

	mu      sync.Mutex // guards sent
	sent    [sentRing]sentInput
	lastAck uint32
}

type sentInput struct {
	seq uint32
	at  time.Time
}

// seat is the part of the matchmaking answer a bot needs.
type seat struct {
	Room string `json:"room"`
	Seat string `json:"seat"`
	URL  string `json:"url"`
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// joinBot matchmakes, connects and joins, and returns the bot once it
// has its welcome.
func joinBot(ctx context.Context, o LoadOptions, host string, n int, m *meter) (*bot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.URL+"/matchmake/"+url.PathEscape(o.Game), nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("matchmaking: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	var s seat
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &s) != nil || s.Seat == "" {
		return nil, fmt.Errorf("matchmaking: %s: %.200s", resp.Status, body)
	}
	if wu, err := url.Parse(s.URL); err != nil || wu.Host != host {
		return nil, fmt.Errorf("matchmaking sent the bot to %q, not to the server measured (%s)", s.URL, host)
	}
	c, err := netws.Dial(ctx, s.URL, &netws.DialOptions{ConnOptions: netws.ConnOptions{ReadLimit: 16 << 20}})
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	b := &bot{n: n, c: c, room: s.Room, m: m}
	if err := b.send(rooms.ClientJoin, rooms.JoinRequest{Seat: s.Seat, Name: "bot-" + strconv.Itoa(n)}); err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("joining: %w", err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := c.ReadMessage(nil)
	c.SetReadDeadline(time.Time{})
	if err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("waiting for the welcome: %w", err)
	}
	if kind, err := messageKind(msg); err != nil || kind != rooms.ServerWelcome {
		c.CloseNow()
		return nil, fmt.Errorf("the server's answer to the join is not a welcome: % x", msg[:min(len(msg), 32)])
	}
	return b, nil
}

// send writes the message [kind, fields...].
func (b *bot) send(kind int, fields ...any) error {
	msg, err := msgpack.Marshal(append([]any{kind}, fields...))
	if err != nil {
		return err
	}
	if err := b.c.WriteMessage(netws.Binary, msg); err != nil {
		return err
	}
	if b.m.on.Load() {
		b.m.upBytes.Add(uint64(wireSize(len(msg), netws.DefaultMaxFrameSize, true)))
	}
	return nil
}

// play sends inputs and reads batches until ctx ends, then leaves.
func (b *bot) play(ctx context.Context, rate float64) {
	defer b.c.CloseNow()
	stop := context.AfterFunc(ctx, func() {
		b.send(rooms.ClientLeave)
		b.c.Close(netws.StatusNormalClosure, "load run over")
	})
	defer stop()
	var wg sync.WaitGroup
	if rate > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.sendInputs(ctx, rate)
		}()
	}
	if err := b.read(); err != nil && ctx.Err() == nil {
		b.m.fail("bot %d: %v", b.n, err)
	}
	wg.Wait()
}

// sendInputs sends an input every 1/rate seconds, starting at a random
// phase so that the bots do not all send at once.
func (b *bot) sendInputs(ctx context.Context, rate float64) {
	period := time.Duration(float64(time.Second) / rate)
	if sleep(ctx, time.Duration(b.n*7919)%period) != nil {
		return
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for seq := uint32(1); ; seq++ {
		b.mu.Lock()
		b.sent[seq%sentRing] = sentInput{seq: seq, at: time.Now()}
		b.mu.Unlock()
		if b.send(rooms.ClientInput, seq, crowd.Input{Turn: crowd.Turn(seq)}) != nil {
			return
		}
		if b.m.on.Load() {
			b.m.inputs.Add(1)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// read reads the server's messages until the connection ends: it applies
// every table batch and acknowledges it, and times the inputs each batch
// acknowledges.
func (b *bot) read() error {
	var (
		app snap.Applier
		buf []byte
		br  bytes.Reader
		d   = msgpack.NewDecoder(nil)
	)
	for {
		_, msg, err := b.c.ReadMessage(buf[:0])
		if err != nil {
			return err
		}
		now := time.Now()
		buf = msg
		m := b.m
		on := m.on.Load()
		if on {
			m.messages.Add(1)
			m.payloadBytes.Add(uint64(len(msg)))
			m.bytes.Add(uint64(wireSize(len(msg), netws.DefaultMaxFrameSize, false)))
		}
		br.Reset(msg)
		d.Reset(&br)
		n, err := d.DecodeArrayLen()
		if err != nil || n < 1 {
			return fmt.Errorf("a message that is not a msgpack array: % x", msg[:min(len(msg), 16)])
		}
		kind, err := d.DecodeInt()
		if err != nil {
			return err
		}
		switch kind {
		case rooms.ServerTableBatch:
		case rooms.ServerError:
			var code int
			var text string
			if n >= 3 {
				code, _ = d.DecodeInt()
				text, _ = d.DecodeString()
			}
			return fmt.Errorf("error message %d: %s", code, text)
		default:
			continue
		}
		if n < 5 {
			return fmt.Errorf("a table batch of %d fields", n)
		}
		tick, err1 := d.DecodeUint64()
		_, err2 := d.DecodeInt64()
		ack, err3 := d.DecodeUint32()
		delta, err4 := d.DecodeRaw()
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return fmt.Errorf("a malformed table batch: %w", err)
		}
		if on {
			m.snapshots.Add(1)
			if len(delta) > 1 && delta[1] == 0 { // [0, ...]: base 0, a full snapshot
				m.full.Add(1)
			} else {
				m.deltas.Add(1)
			}
		}
		b.acked(ack, now, on)
		if _, err := app.Apply(tick, delta); err != nil {
			m.fail("bot %d: applying the batch of tick %d: %v", b.n, tick, err)
			app.Reset()
		}
		if err := b.send(rooms.ClientAck, app.Ack()); err != nil {
			return err
		}
	}
}

// acked times every input up to ack not timed yet.
func (b *bot) acked(ack uint32, now time.Time, on bool) {
	if ack <= b.lastAck {
		return
	}
	from := b.lastAck + 1
	if ack-b.lastAck > sentRing {
		from = ack - sentRing + 1
	}
	b.lastAck = ack
	if !on {
		return
	}
	var rtts [16]time.Duration
	got := rtts[:0]
	b.mu.Lock()
	for seq := from; seq <= ack; seq++ {
		if s := b.sent[seq%sentRing]; s.seq == seq {
			got = append(got, now.Sub(s.at))
		}
	}
	b.mu.Unlock()
	b.m.mu.Lock()
	b.m.rtts = append(b.m.rtts, got...)
	b.m.mu.Unlock()
	b.m.acked.Add(uint64(len(got)))
}

// messageKind returns the kind of a server message, its first element.
func messageKind(msg []byte) (int, error) {
	d := msgpack.NewDecoder(bytes.NewReader(msg))
	if n, err := d.DecodeArrayLen(); err != nil || n < 1 {
		return 0, errors.New("not a msgpack array")
	}
	return d.DecodeInt()
}

// waitLine waits for the line want on r, or for ctx to end.
func waitLine(ctx context.Context, r io.Reader, want string) error {
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if string(bytes.TrimSpace(sc.Bytes())) == want {
				found <- nil
				return
			}
		}
		found <- fmt.Errorf("input ended (%v)", sc.Err())
	}()
	select {
	case err := <-found:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sleep waits for d, or returns ctx's error if it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// percentile returns the value below which a fraction q of the sorted
// values fall (nearest rank), or 0 for none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := min(max(int(q*float64(len(sorted))+0.5), 1), len(sorted))
	return sorted[rank-1]
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
