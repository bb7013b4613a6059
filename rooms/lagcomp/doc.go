// Package lagcomp gives a game server fair hits under latency: it keeps a
// short history of every entity's hit volume, tick by tick, and evaluates a
// player's action against the world as that player saw it when acting.
//
// A player sees the world late. A snapshot needs half a round trip to
// reach the client, and the client draws entities an interpolation delay
// behind its estimate of the server's clock, so that it always has two
// snapshots to draw between. When the player's action reaches the server,
// the world it was aimed at is further behind again. Following the model of
// Valve's Source engine, the server rewinds to
//
//	command time = server time - one-way latency - interpolation delay
//
// where the one-way latency is half the player's smoothed round-trip time
// (rooms.Player.RTT().Smoothed / 2) and the interpolation delay is the one
// the client reports with its input. Rewinds are clamped to a window
// (Options.Window, 500 ms by default), so a player with a very slow link
// cannot reach arbitrarily far into the past.
//
// A game records one frame per tick, after moving its entities, with the
// time the room stamps on that tick's batch (tick.Tick.Start):
//
//	g.bodies = append(g.bodies[:0], lagcomp.Body{ID: 7, Pos: pos, Radius: 0.5})
//	if err := g.hist.Record(t.Start, g.bodies); err != nil { ... }
//
// and, when a player shoots, rewinds by the player's lag (interp is the
// delay the client sent with its input) and tests the shot:
//
//	v, err := g.hist.Rewind(t.Start, lagcomp.Lag{RTT: p.RTT().Smoothed, Interp: interp})
//	if err != nil { ... }
//	if hit, ok := v.Trace(from, to, shooterID); ok { ... }
//
// Recording, rewinding and tracing allocate nothing once the history has
// filled its window. A History is not safe for concurrent use; a room's
// game, which runs on one goroutine, needs no locking.
//
// The package does not predict or simulate anything, decide what an
// action does, or measure latency: rooms measures round-trip times, and
// the game owns its rules. docs/lag-compensation.md describes the model,
// the wire convention for the interpolation delay and the trade-offs.
package lagcomp
