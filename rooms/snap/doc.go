// Package snap is the entity-table form of a game snapshot: a game
// describes its state as a Table of entities (stable IDs, an optional
// position, ordered fields), and tickwire sends each player only what
// changed since the snapshot that player acknowledged, and only the
// entities inside the player's view.
//
// A game keeps its own plain Go state and rebuilds a Table from it once a
// tick; it returns the Table (or a View of it) from rooms.Game.Snapshot.
// Package rooms freezes the table into a State, keeps a short history of
// the States it sent each player, and encodes each distinct delta once per
// tick with AppendDelta. On the client side an Applier turns the deltas
// back into States; docs/protocol.md describes the format for clients in
// other languages.
//
// Precision, QuantizeAngle and the Entity methods Fixed and Angle turn
// numbers into small integers with documented error bounds, so that
// positions cost a few bytes and sub-precision jitter is not sent as
// change.
//
// Package snap knows nothing about rooms, players or connections.
package snap
