package rooms

import (
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/tickwire/tickwire/netws"
)

// eventKind says what a roomEvent carries.
type eventKind int

const (
	evJoin eventKind = iota + 1
	evInput
	evLeave
	evMessage
	evDisconnect
	evShutdown
)

// roomEvent is something that happened outside the room's goroutine, to
// be applied at the next tick, in arrival order.
type roomEvent struct {
	kind   eventKind
	player *Player
	conn   Conn // evJoin: the new connection; evDisconnect: the one that ended
	req    JoinRequest
	seq    uint32
	text   string
	data   []byte
	reply  chan joinResult
}

type joinResult struct {
	player *Player
	err    error
}

// MessageHandler is implemented by games that accept custom client
// messages ([4, type, data]). It is called from the room's goroutine.
type MessageHandler interface {
	Message(p *Player, typ string, data []byte)
}

// enqueue adds an event for the next tick. It reports false when the room
// has stopped.
func (r *Room) enqueue(ev roomEvent) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return false
	}
	r.inbox = append(r.inbox, ev)
	return true
}

// drainInbox applies the queued events in arrival order.
func (r *Room) drainInbox(now time.Time) {
	r.mu.Lock()
	events := r.inbox
	r.inbox = nil
	r.mu.Unlock()
	for _, ev := range events {
		switch ev.kind {
		case evJoin:
			p, err := r.join(ev.conn, ev.req, now)
			ev.reply <- joinResult{p, err}
		case evInput:
			if ev.player.connected && ev.seq > ev.player.lastSeq {
				ev.player.lastSeq = ev.seq
				r.game.Input(ev.player, ev.seq, ev.data)
			}
		case evMessage:
			if h, ok := r.game.(MessageHandler); ok && ev.player.connected {
				h.Message(ev.player, ev.text, ev.data)
			}
		case evLeave:
			r.removePlayer(ev.player, LeaveRequested, netws.StatusNormalClosure, "left the room")
		case evDisconnect:
			p := ev.player
			if p.conn != ev.conn || !p.connected {
				continue // an old connection, already replaced or dropped
			}
			if r.opts.ReconnectGrace < 0 {
				r.removePlayer(p, LeaveDisconnected, 0, "")
			} else {
				r.disconnect(p, 0, "", now)
			}
		case evShutdown:
			r.closeCode, r.closeMsg = netws.StatusGoingAway, ev.text
			r.cancel()
		}
	}
}

// join seats a new player, or gives a reconnecting one its seat back.
func (r *Room) join(c Conn, req JoinRequest, now time.Time) (*Player, error) {
	if req.Reconnect != "" {
		for _, p := range r.players {
			if p.token == req.Reconnect {
				if p.connected {
					r.dropConn(p, 4000, "replaced by a new connection")
				}
				r.attach(p, c, now, true)
				r.log.Debug("player reconnected", "player", p.id)
				return p, nil
			}
		}
		return nil, Errorf(ErrBadReconnect, "reconnect token unknown or expired; join again")
	}
	if r.opts.MaxPlayers > 0 && len(r.players) >= r.opts.MaxPlayers {
		return nil, Errorf(ErrRoomFull, "room is full (%d players)", r.opts.MaxPlayers)
	}
	p := &Player{id: uuid.NewString(), name: req.Name, token: uuid.NewString(), room: r, joined: now}
	p.traffic.roomDropped = &r.dropped
	if err := r.game.Join(p, req.Options); err != nil {
		return nil, Errorf(ErrJoinRefused, "%s", err.Error())
	}
	r.players = append(r.players, p)
	r.count.Store(int32(len(r.players)))
	r.attach(p, c, now, false)
	r.log.Debug("player joined", "player", p.id, "name", p.name)
	return p, nil
}

// attach gives p the connection c and queues the welcome.
func (r *Room) attach(p *Player, c Conn, now time.Time, resumed bool) {
	p.conn = c
	p.out = newOutbox(c, &p.traffic)
	p.connected = true
	p.connectedAt = now
	p.sent.reset() // the new client has no state to take deltas against
	w := Welcome{
		Player: p.id, Room: r.id, Game: r.name, TickRate: r.opts.TickRate,
		Tick: r.tickN, Time: now.UnixMilli(), Reconnect: p.token, Resumed: resumed,
		SnapshotRate: r.opts.SnapshotRate,
	}
	// Publish before the welcome goes out: a client that has its welcome
	// finds itself in the roster, even while this tick is still running.
	r.publishRoster(now)
	b, _ := encodeServerMsg(ServerWelcome, w)
	p.out.pushMsg(b)
}

// Serve seats the player behind c (a new join, or a reconnect when
// req.Reconnect is set) and serves it: it reads the player's messages
// until the connection ends or the player leaves. The room must be
// running. A refused join returns an *Error after telling the client;
// the caller then closes c.
func (r *Room) Serve(c Conn, req JoinRequest) error {
	reply := make(chan joinResult, 1)
	if !r.enqueue(roomEvent{kind: evJoin, conn: c, req: req, reply: reply}) {
		err := Errorf(ErrRoomNotFound, "room %s has closed", r.id)
		c.WriteMessage(netws.Binary, EncodeError(err.Code, err.Message))
		return err
	}
	var res joinResult
	select {
	case res = <-reply:
	case <-r.done:
		res.err = Errorf(ErrRoomNotFound, "room %s has closed", r.id)
	}
	if res.err != nil {
		code, msg := ErrInternal, res.err.Error()
		if e, ok := res.err.(*Error); ok {
			code, msg = e.Code, e.Message
		}
		c.WriteMessage(netws.Binary, EncodeError(code, msg))
		return res.err
	}
	r.read(res.player, c)
	return nil
}

// read is the player's reader: it decodes messages, enforces the input
// size and rate limits, and queues what is valid for the next tick.
func (r *Room) read(p *Player, c Conn) {
	limiter := newRateLimiter(r.opts.InputRate, time.Now())
	var lastSeq uint32
	var buf []byte
	for {
		typ, b, err := c.ReadMessage(buf[:0])
		if err != nil {
			r.enqueue(roomEvent{kind: evDisconnect, player: p, conn: c})
			return
		}
		buf = b
		p.traffic.messagesIn.Add(1)
		p.traffic.bytesIn.Add(uint64(len(b)))
		if typ != netws.Binary {
			p.out.pushMsg(EncodeError(ErrBadMessage, "messages must be binary msgpack"))
			continue
		}
		m, err := DecodeClientMsg(b)
		if err != nil {
			p.out.pushMsg(EncodeError(ErrBadMessage, err.Error()))
			continue
		}
		if m.HasAck {
			p.sent.ack(m.Ack)
		}
		switch m.Kind {
		case ClientInput:
			if len(m.Data) > r.opts.MaxInputSize {
				p.out.pushMsg(EncodeError(ErrInputTooLarge, "input larger than "+strconv.Itoa(r.opts.MaxInputSize)+" bytes dropped"))
				continue
			}
			if !limiter.allow(time.Now()) {
				p.out.pushMsg(EncodeError(ErrRateLimited, "more than "+strconv.Itoa(r.opts.InputRate)+" inputs a second; input dropped"))
				continue
			}
			if m.Seq <= lastSeq {
				continue // a duplicate or reordered input
			}
			lastSeq = m.Seq
			r.enqueue(roomEvent{kind: evInput, player: p, seq: m.Seq, data: append([]byte(nil), m.Data...)})
		case ClientMessage:
			if !limiter.allow(time.Now()) {
				p.out.pushMsg(EncodeError(ErrRateLimited, "too many messages; message dropped"))
				continue
			}
			r.enqueue(roomEvent{kind: evMessage, player: p, text: m.Type, data: append([]byte(nil), m.Data...)})
		case ClientLeave:
			r.enqueue(roomEvent{kind: evLeave, player: p})
		case ClientJoin:
			p.out.pushMsg(EncodeError(ErrBadMessage, "already joined; open a new connection to join another room"))
		}
	}
}
