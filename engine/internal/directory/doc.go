// Package directory is the room directory that the nodes of a tickwire
// cluster share through Redis: which nodes are alive and where players
// reach them, which rooms each node hosts, and the seats in those rooms.
//
// Every entry carries an expiry that the owning node refreshes with its
// heartbeat, so a node that dies disappears, with its rooms, within that
// expiry. Every change that has to be atomic across nodes (claiming the
// last seat of a room, taking a reserved seat, choosing the node that
// creates a room) is one Lua script.
//
// The same code serves one node and many: Open with no URL starts an
// embedded in-process Redis (miniredis) and talks to it with the same
// client and scripts as to a real server.
//
// It is not a general Redis wrapper, and it knows nothing of games,
// connections or rooms.Room: the engine owns those and tells the directory
// what it hosts.
package directory
