// Package vs runs tickwire and Colyseus side by side on the same workload
// (package crowd, and colyseus/crowd.mjs for the Colyseus side) and prints
// one table: server CPU, bytes and snapshots each client receives, and
// input round-trip times. cmd/vscolyseus is its command.
//
// For each row the driver starts a server pinned to one CPU and a load
// process pinned to another (taskset), both stopped by their PIDs: the
// Colyseus 0.16 server (colyseus/server.mjs) with colyseus.js clients
// (colyseus/load.mjs) run by node, or a tickwire engine serving the crowd
// game with the Go bots of RunLoad. The load joins its clients one after
// the other, warms up, then measures a window that the driver opens and
// closes; the driver reads the server's CPU time from /proc/PID/stat at
// both ends of the window.
//
// The tickwire server keeps its room directory in a redis-server of the
// run's own, on a Unix socket, pinned to the server's CPU; its CPU time
// counts as the server's, like the rest of the server's work.
// --directory embedded uses the engine's built-in directory instead.
//
// Both loads count bytes the same way: every WebSocket message received,
// its payload plus the header of the frame it arrives in (2, 4 or 10
// bytes, or several for a message split into frames); control frames are
// not counted. RTT is from sending an input to the message that
// acknowledges it, which both servers send with the first snapshot after
// the tick that applied the input.
package vs
