package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/vmihailenco/msgpack/v5"
)

// sentRing remembers when recent inputs were sent, to time their acks.
const sentRing = 1024

// seat is the part of the matchmaking answer a bot needs.
type seat struct {
	Room string `json:"room"`
	Seat string `json:"seat"`
	URL  string `json:"url"`
}

// httpClient bounds matchmaking requests.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// bot plays one player until ctx ends.
func (r *run) bot(ctx context.Context, n int) {
	s, err := r.matchmake(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.fail(err.Error())
		}
		return
	}
	u, err := url.Parse(s.URL)
	if err != nil || !r.allowed(u.Host) {
		r.fail(fmt.Sprintf("matchmaking sent the bot to %q, not the server given; list its host with -allow to follow it", s.URL))
		return
	}
	c, err := netws.Dial(ctx, s.URL, &netws.DialOptions{ConnOptions: netws.ConnOptions{ReadLimit: 16 << 20}})
	if err != nil {
		if ctx.Err() == nil {
			r.fail("connecting: " + err.Error())
		}
		return
	}
	defer c.CloseNow()
	r.connected.Add(1)
	defer r.connected.Add(-1)

	b := &botConn{r: r, c: c, n: n}
	step, err := b.join(s, r.o.Name+"-"+strconv.Itoa(n))
	if err != nil {
		r.fail(err.Error())
		return
	}
	r.joined.Add(1)
	r.mu.Lock()
	r.rooms[s.Room] = true
	r.mu.Unlock()

	stop := context.AfterFunc(ctx, func() {
		b.send(rooms.ClientLeave)
		c.Close(netws.StatusNormalClosure, "load run over")
	})
	defer stop()
	var wg sync.WaitGroup
	if r.o.Rate > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.sendInputs(ctx)
		}()
	}
	err = b.read(step)
	if ctx.Err() == nil {
		r.fail("dropped: " + describeEnd(err))
		c.CloseNow()
	}
	wg.Wait()
}

// matchmake reserves a seat for one bot.
func (r *run) matchmake(ctx context.Context) (seat, error) {
	var s seat
	endpoint := r.o.URL + "/matchmake/" + url.PathEscape(r.o.Game)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return s, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return s, fmt.Errorf("matchmaking: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		return s, fmt.Errorf("matchmaking: %d %s", resp.StatusCode, e.Error)
	}
	if err := json.Unmarshal(body, &s); err != nil || s.URL == "" || s.Seat == "" {
		return s, fmt.Errorf("matchmaking: an answer without a seat and URL: %.200s", body)
	}
	return s, nil
}

// botConn is one bot's connection.
type botConn struct {
	r *run
	c *netws.Conn
	n int

	wmu sync.Mutex // one writer at a time: inputs, acks, leave

	mu      sync.Mutex // guards sent
	sent    [sentRing]sentInput
	lastSeq uint32
}

type sentInput struct {
	seq uint32
	at  time.Time
}

// send writes one message [kind, fields...].
func (b *botConn) send(kind int, fields ...any) error {
	msg, err := msgpack.Marshal(append([]any{kind}, fields...))
	if err != nil {
		return err
	}
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if err := b.c.WriteMessage(netws.Binary, msg); err != nil {
		return err
	}
	b.r.bytesOut.Add(uint64(len(msg)))
	return nil
}

// join sends the join and waits for the welcome; it returns the room's
// tick step.
func (b *botConn) join(s seat, name string) (time.Duration, error) {
	if err := b.send(rooms.ClientJoin, rooms.JoinRequest{Seat: s.Seat, Name: name}); err != nil {
		return 0, fmt.Errorf("joining: %v", err)
	}
	b.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer b.c.SetReadDeadline(time.Time{})
	_, msg, err := b.c.ReadMessage(nil)
	if err != nil {
		return 0, fmt.Errorf("waiting for the welcome: %s", describeEnd(err))
	}
	b.r.bytesIn.Add(uint64(len(msg)))
	var head []msgpack.RawMessage
	if err := msgpack.Unmarshal(msg, &head); err != nil || len(head) < 2 {
		return 0, errors.New("the server's first message is not a welcome")
	}
	var kind int
	msgpack.Unmarshal(head[0], &kind)
	switch kind {
	case rooms.ServerWelcome:
		var w rooms.Welcome
		if err := msgpack.Unmarshal(head[1], &w); err != nil || w.TickRate <= 0 {
			return 0, errors.New("the welcome has no tick rate")
		}
		return time.Second / time.Duration(w.TickRate), nil
	case rooms.ServerError:
		var text string
		if len(head) > 2 {
			msgpack.Unmarshal(head[2], &text)
		}
		return 0, fmt.Errorf("join refused: %s", text)
	}
	return 0, fmt.Errorf("the server's first message is of kind %d, not a welcome", kind)
}

// sendInputs sends inputs at the run's rate until ctx ends.
func (b *botConn) sendInputs(ctx context.Context) {
	t := time.NewTicker(time.Duration(float64(time.Second) / b.r.o.Rate))
	defer t.Stop()
	for seq := uint32(1); ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		b.mu.Lock()
		b.sent[seq%sentRing] = sentInput{seq: seq, at: now}
		b.mu.Unlock()
		if err := b.send(rooms.ClientInput, seq, b.r.o.Input(b.n, seq)); err != nil {
			return
		}
		b.r.inputs.Add(1)
	}
}

// read reads the server's messages until the connection ends, timing
// batches and acks.
func (b *botConn) read(step time.Duration) error {
	var (
		buf      []byte
		br       bytes.Reader
		d        = msgpack.NewDecoder(nil)
		lastAt   time.Time
		lastTick uint64
		lastAck  uint32
	)
	for {
		_, msg, err := b.c.ReadMessage(buf[:0])
		if err != nil {
			return err
		}
		now := time.Now()
		buf = msg
		b.r.bytesIn.Add(uint64(len(msg)))
		br.Reset(msg)
		d.Reset(&br)
		h, err := decodeHead(d)
		if err != nil {
			return fmt.Errorf("a message that is not a tickwire batch: %v", err)
		}
		switch h.kind {
		case rooms.ServerBatch, rooms.ServerTableBatch:
		case rooms.ServerError:
			return fmt.Errorf("error message: %s", h.text)
		default:
			continue
		}
		r := b.r
		r.batches.Add(1)
		r.delivery.add(now.Sub(time.UnixMilli(h.time)))
		if !lastAt.IsZero() {
			gap := now.Sub(lastAt)
			r.interarrival.add(gap)
			r.jitter.add(abs(gap - step))
			if h.tick > lastTick+1 {
				r.skipped.Add(h.tick - lastTick - 1)
			}
		}
		lastAt, lastTick = now, h.tick
		if h.ack > lastAck {
			// Every input up to ack waited until now, however many a
			// batch acknowledges at once (after a stall, many).
			from := lastAck + 1
			if h.ack-lastAck > sentRing {
				from = h.ack - sentRing + 1 // older send times are overwritten
			}
			b.mu.Lock()
			for seq := from; seq <= h.ack; seq++ {
				if s := b.sent[seq%sentRing]; s.seq == seq {
					r.rtt.add(now.Sub(s.at))
				}
			}
			b.mu.Unlock()
			r.acked.Add(uint64(h.ack - lastAck))
			lastAck = h.ack
		}
		if h.kind == rooms.ServerTableBatch {
			b.send(rooms.ClientAck, h.tick) // deltas then stay small, as with a real client
		}
	}
}

// head is the start of a server message.
type head struct {
	kind int
	tick uint64
	time int64  // ms since the Unix epoch
	ack  uint32 // last input applied
	text string // error messages
}

// decodeHead reads what a bot needs of a message: the kind, and the head
// of a batch or the text of an error.
func decodeHead(d *msgpack.Decoder) (head, error) {
	var h head
	n, err := d.DecodeArrayLen()
	if err != nil || n < 1 {
		return h, errors.New("not a msgpack array")
	}
	if h.kind, err = d.DecodeInt(); err != nil {
		return h, err
	}
	switch h.kind {
	case rooms.ServerBatch, rooms.ServerTableBatch:
		if n < 4 {
			return h, fmt.Errorf("a batch of %d fields", n)
		}
		if h.tick, err = d.DecodeUint64(); err == nil {
			if h.time, err = d.DecodeInt64(); err == nil {
				h.ack, err = d.DecodeUint32()
			}
		}
	case rooms.ServerError:
		if n >= 3 {
			if _, err = d.DecodeInt(); err == nil {
				h.text, err = d.DecodeString()
			}
		}
	}
	return h, err
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// describeEnd says how a connection ended.
func describeEnd(err error) string {
	var ce *netws.CloseError
	if errors.As(err, &ce) {
		if ce.Reason != "" {
			return fmt.Sprintf("%s (close %d)", ce.Reason, int(ce.Code))
		}
		return fmt.Sprintf("close %d", int(ce.Code))
	}
	return err.Error()
}
