package rooms

import (
	"github.com/tickwire/tickwire/tick"
)

// Game is what a game author implements. A room calls its Game from one
// goroutine only, so a Game needs no locks; it never touches sockets,
// goroutines or timers. A panic in any method closes that room (its
// players are told why) and leaves every other room running.
//
// The order within a tick is: queued joins, leaves and inputs, in the
// order they arrived; then Tick; then Snapshot once per connected player.
type Game interface {
	// Init is called once, before the first tick. An error stops the room
	// before any player joins.
	Init(r *Room) error

	// Join asks the game to seat p, with the options the client sent (raw
	// msgpack, possibly empty). Return an error to refuse: its text is
	// sent to the client.
	Join(p *Player, opts []byte) error

	// Leave tells the game that p left, and why. p's seat is gone.
	Leave(p *Player, reason LeaveReason)

	// Input delivers one input of p: seq increases with every input, data
	// is the raw msgpack value the client sent. Inputs are applied at the
	// next tick, in order.
	Input(p *Player, seq uint32, data []byte)

	// Tick advances the simulation by one fixed step, t.Step.
	Tick(t tick.Tick)

	// Snapshot returns the state p should see this tick; it is encoded with
	// msgpack. Return the same pointer (or map or slice) for several
	// players to have it encoded once for all of them.
	Snapshot(p *Player) any
}

// LeaveReason says why a player left a room.
type LeaveReason int

// Reasons a player leaves.
const (
	// LeaveRequested: the client sent a leave message.
	LeaveRequested LeaveReason = iota + 1
	// LeaveDisconnected: the connection ended and no reconnect came within
	// the grace period (or there is none).
	LeaveDisconnected
	// LeaveTooSlow: the player's connection stayed behind for longer than
	// RoomOptions.SlowTimeout.
	LeaveTooSlow
	// LeaveKicked: the game removed the player with Room.Kick.
	LeaveKicked
	// LeaveRoomClosed: the room shut down.
	LeaveRoomClosed
)

func (r LeaveReason) String() string {
	switch r {
	case LeaveRequested:
		return "left"
	case LeaveDisconnected:
		return "disconnected"
	case LeaveTooSlow:
		return "too slow"
	case LeaveKicked:
		return "kicked"
	case LeaveRoomClosed:
		return "room closed"
	}
	return "unknown"
}
