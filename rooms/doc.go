// Package rooms runs games: the Game interface that game authors implement,
// a room's life (create, join, leave, reconnect, dispose) and its per-tick
// cycle of inputs, simulation and snapshot broadcast.
//
// It talks to connections through a small interface, so it can be tested
// without sockets. It does not serve HTTP; package engine does.
package rooms
