// Package crowd is the workload of tickwire's side-by-side comparison with
// Colyseus (cmd/vscolyseus): rooms of players watching a crowd of entities
// that all move every tick, in a square world whose walls they bounce
// off. Players steer the entity of their seat with small inputs.
//
// World is the simulation, written to match colyseus/crowd.mjs line for
// line: the same generator, start positions, speeds, motion and steering,
// so both servers do the same work. Game runs a World as a rooms.Game and
// sends it as an entity table (package rooms/snap), positions quantized to
// 0.01 units, so that players get deltas against the snapshots they
// acknowledged.
//
// It is not a game to play: nothing collides and nothing is scored.
package crowd
