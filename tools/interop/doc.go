// Package interop holds interoperability tests of tickwire's WebSocket
// package, netws, against a mature Go WebSocket library
// (github.com/gorilla/websocket), in both directions: gorilla client to
// netws server and netws client to gorilla server.
//
// It is a separate module so that tickwire's own go.mod stays free of it.
// Run the tests from this directory:
//
//	cd tools/interop && go test ./...
package interop
