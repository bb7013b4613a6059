// Package engine is the tickwire server a user starts: configuration, HTTP
// routes (the WebSocket endpoint, matchmaking, monitoring, metrics, health),
// sessions, logging and graceful shutdown.
//
// It is not where games live (see package rooms) nor where the WebSocket
// protocol is spoken (see package netws).
package engine
