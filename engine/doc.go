// Package engine is the tickwire server a user starts: configuration, HTTP
// routes (the WebSocket endpoint, matchmaking, monitoring, metrics, health),
// sessions, logging and graceful shutdown.
//
// Nodes that share one Redis (Config.Redis) form a cluster: each announces
// itself and its rooms in a room directory there, with heartbeats, and
// matchmaking on any node seats players on whichever node has room. With
// no Redis the directory is embedded, and the same code serves one node.
//
// It is not where games live (see package rooms) nor where the WebSocket
// protocol is spoken (see package netws).
package engine
