package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// A node asks another to create a room by publishing a CreateRequest on
// the other node's channel; the other node creates the room, registers it
// with the requester's seat reserved in it (AddRoom), and pushes the seat
// onto the request's reply list, which the requester waits on. A node that
// is not subscribed (dead, or cut off from Redis) makes the publish reach
// no one, and the requester knows at once.

// CreateRequest asks a node to create a room and reserve a first seat in it.
type CreateRequest struct {
	ID       string            `json:"id"` // names the reply list
	Game     string            `json:"game"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Private  bool              `json:"private,omitempty"`
	SeatTTL  time.Duration     `json:"seatTTL"`
	Deadline time.Time         `json:"deadline"` // the requester has given up after this
	// Placement is the token PickNode gave the requester, for the
	// created room's HostedRoom.Placement.
	Placement string `json:"placement,omitempty"`
}

type createReply struct {
	Seat  Seat   `json:"seat"`
	Error string `json:"error,omitempty"`
}

// RequestRoom asks node to create a room for req and waits for the seat
// in it until ctx ends (ctx must have a deadline). It fails at once if the
// node is not listening.
func (d *Directory) RequestRoom(ctx context.Context, node string, req CreateRequest) (Seat, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return Seat{}, errors.New("directory: RequestRoom needs a context with a deadline")
	}
	req.ID = uuid.NewString()
	req.Deadline = deadline
	b, err := json.Marshal(req)
	if err != nil {
		return Seat{}, fmt.Errorf("directory: encoding a creation request: %w", err)
	}
	n, err := d.rdb.Publish(ctx, d.prefix+"create:"+node, b).Result()
	if err != nil {
		return Seat{}, d.wrap(err)
	}
	if n == 0 {
		return Seat{}, fmt.Errorf("directory: node %s is not listening for room creation requests", node)
	}
	start := time.Now()
	wait := max(time.Until(deadline).Round(time.Second), time.Second)
	v, err := d.rdb.BLPop(ctx, wait, d.prefix+"reply:"+req.ID).Result()
	if timeout(err) {
		return Seat{}, fmt.Errorf("directory: node %s did not create a room within %v", node, time.Since(start).Round(time.Millisecond))
	}
	if err != nil {
		return Seat{}, d.wrap(err)
	}
	var rep createReply
	if len(v) != 2 || json.Unmarshal([]byte(v[1]), &rep) != nil {
		return Seat{}, fmt.Errorf("directory: node %s answered a creation request with %q", node, v)
	}
	if rep.Error != "" {
		return Seat{}, fmt.Errorf("directory: node %s could not create a room: %s", node, rep.Error)
	}
	return rep.Seat, nil
}

// ServeRequests receives the creation requests sent to node and calls
// handle with each, on a goroutine of its own, until ctx ends. A failure
// to receive (Redis unreachable) is reported to onErr and retried after
// backoff. Requests whose requester has given up are dropped.
func (d *Directory) ServeRequests(ctx context.Context, node string, backoff time.Duration, handle func(CreateRequest), onErr func(error)) {
	ps := d.rdb.Subscribe(ctx, d.prefix+"create:"+node)
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if timeout(err) {
				continue
			}
			onErr(d.wrap(err))
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			continue
		}
		m, ok := msg.(*redis.Message)
		if !ok {
			continue // subscription confirmations, pongs
		}
		var req CreateRequest
		if err := json.Unmarshal([]byte(m.Payload), &req); err != nil || req.ID == "" {
			onErr(fmt.Errorf("directory: a malformed creation request: %q", m.Payload))
			continue
		}
		if time.Now().After(req.Deadline) {
			continue
		}
		go handle(req)
	}
}

// Answer sends the requester of req the seat in the room created for it,
// or the error that prevented it.
func (d *Directory) Answer(ctx context.Context, req CreateRequest, seat Seat, failure error) error {
	rep := createReply{Seat: seat}
	if failure != nil {
		rep.Error = failure.Error()
	}
	b, _ := json.Marshal(rep)
	k := d.prefix + "reply:" + req.ID
	_, err := d.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, k, b)
		p.PExpire(ctx, k, 30*time.Second)
		return nil
	})
	return d.wrap(err)
}

// timeout reports whether err says that a wait ran out.
func timeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, redis.Nil) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
