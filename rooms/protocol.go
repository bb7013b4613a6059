package rooms

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// Every wire message is one binary WebSocket message holding a msgpack
// array whose first element is the message kind. docs/protocol.md
// describes each one.

// Kinds of messages a client sends.
const (
	ClientJoin    = 1 // [1, JoinRequest]
	ClientInput   = 2 // [2, seq uint32, data any] or [2, seq uint32, data any, ack tick]
	ClientLeave   = 3 // [3]
	ClientMessage = 4 // [4, type string, data any]
	ClientAck     = 5 // [5, tick]: the newest table snapshot applied
)

// Kinds of messages the server sends.
const (
	ServerWelcome    = 1 // [1, Welcome]
	ServerBatch      = 2 // [2, tick, server time ms, last input seq, snapshot, events]
	ServerError      = 3 // [3, code, message]
	ServerMessage    = 5 // [5, type string, data any]
	ServerTableBatch = 6 // [6, tick, server time ms, last input seq, delta, events]
)

// ErrorCode classifies an error message sent to a client.
type ErrorCode int

// Error codes of the error message.
const (
	ErrBadMessage     ErrorCode = 1  // malformed msgpack or unknown message kind
	ErrInputTooLarge  ErrorCode = 2  // an input over RoomOptions.MaxInputSize
	ErrRateLimited    ErrorCode = 3  // inputs over RoomOptions.InputRate
	ErrJoinRefused    ErrorCode = 4  // the game refused the join
	ErrRoomFull       ErrorCode = 5  // no seat left
	ErrRoomNotFound   ErrorCode = 6  // no such room, or it closed
	ErrRoomClosed     ErrorCode = 7  // the room shut down (the text says why)
	ErrUnauthorized   ErrorCode = 8  // the authentication hook refused
	ErrBadReconnect   ErrorCode = 9  // unknown or expired reconnect token
	ErrInternal       ErrorCode = 10 // the server failed; the text says how
	ErrBadSeat        ErrorCode = 11 // unknown or expired seat token
	ErrNotJoined      ErrorCode = 12 // a message that needs a seat before join
	ErrGameNotFound   ErrorCode = 13 // no game registered under that name
	ErrInvalidRequest ErrorCode = 14 // a join request missing what it needs
)

// Error is an error with a code, as sent to clients in the error message.
type Error struct {
	Code    ErrorCode
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, int(e.Code)) }

// Errorf returns an *Error with the given code.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// JoinRequest is the body of a join message.
type JoinRequest struct {
	Game      string             `msgpack:"game,omitempty"`      // game name
	Room      string             `msgpack:"room,omitempty"`      // room id; empty: matchmake
	Seat      string             `msgpack:"seat,omitempty"`      // seat token from matchmaking
	Reconnect string             `msgpack:"reconnect,omitempty"` // reconnect token from a welcome
	Name      string             `msgpack:"name,omitempty"`      // display name
	Token     string             `msgpack:"token,omitempty"`     // credential for the auth hook
	Options   msgpack.RawMessage `msgpack:"options,omitempty"`   // passed to Game.Join
}

// Welcome is the body of a welcome message.
type Welcome struct {
	Player    string `msgpack:"player"`    // the player's id
	Room      string `msgpack:"room"`      // the room's id
	Game      string `msgpack:"game"`      // the game's name
	TickRate  int    `msgpack:"tickRate"`  // ticks per second
	Tick      uint64 `msgpack:"tick"`      // the room's current tick
	Time      int64  `msgpack:"time"`      // server time, ms since the Unix epoch
	Reconnect string `msgpack:"reconnect"` // token to reclaim the seat after a drop
	Resumed   bool   `msgpack:"resumed"`   // true when this welcome follows a reconnect

	SnapshotRate int `msgpack:"snapshotRate"` // batches per second: every TickRate/SnapshotRate ticks
}

// ClientMsg is a decoded client message.
type ClientMsg struct {
	Kind int
	Join JoinRequest // ClientJoin
	Seq  uint32      // ClientInput
	Type string      // ClientMessage
	Data []byte      // ClientInput, ClientMessage: the raw msgpack value

	// Ack is the tick of the newest table snapshot the client applied
	// (ClientAck, or ClientInput with four elements); HasAck says whether
	// the message carried one. Ack 0 asks for a full snapshot.
	Ack    uint64
	HasAck bool
}

var errTrailing = errors.New("trailing bytes after the message")

// DecodeClientMsg decodes one client message. Errors describe what was
// wrong, for the error message sent back.
func DecodeClientMsg(b []byte) (ClientMsg, error) {
	var m ClientMsg
	r := bytes.NewReader(b)
	d := msgpack.NewDecoder(r) // reads r byte by byte, no read-ahead
	n, err := d.DecodeArrayLen()
	if err != nil || n < 1 {
		return m, fmt.Errorf("want a msgpack array [kind, ...]")
	}
	if m.Kind, err = d.DecodeInt(); err != nil {
		return m, fmt.Errorf("message kind: %v", err)
	}
	want := map[int]int{ClientJoin: 2, ClientInput: 3, ClientLeave: 1, ClientMessage: 3, ClientAck: 2}[m.Kind]
	if want == 0 {
		return m, fmt.Errorf("unknown message kind %d", m.Kind)
	}
	if n != want && !(m.Kind == ClientInput && n == 4) {
		return m, fmt.Errorf("message kind %d wants %d elements, got %d", m.Kind, want, n)
	}
	switch m.Kind {
	case ClientJoin:
		err = d.Decode(&m.Join)
	case ClientInput:
		if m.Seq, err = d.DecodeUint32(); err == nil {
			m.Data, err = d.DecodeRaw()
		}
		if err == nil && n == 4 {
			m.Ack, err = decodeAck(d)
			m.HasAck = err == nil
		}
	case ClientAck:
		m.Ack, err = decodeAck(d)
		m.HasAck = err == nil
	case ClientMessage:
		if m.Type, err = d.DecodeString(); err == nil {
			m.Data, err = d.DecodeRaw()
		}
	}
	if err != nil {
		return m, fmt.Errorf("message kind %d: %v", m.Kind, err)
	}
	if r.Len() > 0 {
		return m, errTrailing
	}
	return m, nil
}

// decodeAck decodes the tick of an acknowledgement: a non-negative
// integer, in any of msgpack's integer forms.
func decodeAck(d *msgpack.Decoder) (uint64, error) {
	c, err := d.PeekCode()
	if err != nil {
		return 0, err
	}
	if c == 0xC0 {
		return 0, errors.New("ack: want a tick, a non-negative integer, not nil")
	}
	if c >= 0xE0 || (c >= 0xD0 && c <= 0xD3) { // signed forms
		v, err := d.DecodeInt64()
		if err != nil || v < 0 {
			return 0, errors.New("ack: want a tick, a non-negative integer")
		}
		return uint64(v), nil
	}
	v, err := d.DecodeUint64()
	if err != nil {
		return 0, fmt.Errorf("ack: want a tick, a non-negative integer: %v", err)
	}
	return v, nil
}

// encodeServerMsg encodes [kind, fields...].
func encodeServerMsg(kind int, fields ...any) ([]byte, error) {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	if err := e.EncodeArrayLen(1 + len(fields)); err != nil {
		return nil, err
	}
	if err := e.EncodeInt(int64(kind)); err != nil {
		return nil, err
	}
	for _, f := range fields {
		if err := e.Encode(f); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// EncodeError encodes an error message.
func EncodeError(code ErrorCode, message string) []byte {
	b, _ := encodeServerMsg(ServerError, int(code), message)
	return b
}

// appendBatchPrefix appends the per-player head of a batch message
// (kind ServerBatch or ServerTableBatch): the array header, kind, tick,
// server time and input ack. The snapshot and events, encoded once for
// many players, follow it.
func appendBatchPrefix(b []byte, kind byte, tickN uint64, timeMs int64, ack uint32) []byte {
	b = append(b, 0x96, kind)
	b = appendUint(b, tickN)
	b = appendInt(b, timeMs)
	return appendUint(b, uint64(ack))
}

// appendUint appends v in msgpack's shortest unsigned form.
func appendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 0x7F:
		return append(b, byte(v))
	case v <= 0xFF:
		return append(b, 0xCC, byte(v))
	case v <= 0xFFFF:
		return append(b, 0xCD, byte(v>>8), byte(v))
	case v <= 0xFFFFFFFF:
		return append(b, 0xCE, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 0xCF, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// appendInt appends a non-negative v as unsigned, a negative one as int64.
func appendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return appendUint(b, uint64(v))
	}
	u := uint64(v)
	return append(b, 0xD3, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32), byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}
