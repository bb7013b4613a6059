// Package sdk serves tickwire's browser client SDK: JavaScript ES modules
// that speak the wire protocol of docs/protocol.md (matchmaking, join,
// inputs with sequence numbers, batches, reconnection), with an estimate
// of the server's clock that inputs report their interpolation delay
// against (for lag compensation, package rooms/lagcomp), delta snapshots
// of entity tables applied and acknowledged (package rooms/snap), snapshot
// interpolation, client-side prediction and a small msgpack codec.
//
// The files are embedded in the Go binary, so a game server serves them
// with no build step and no network access:
//
//	mux.Handle("GET /sdk/", http.StripPrefix("/sdk", sdk.Handler()))
//
// and a page imports them:
//
//	import { connect, Interpolator, Predictor } from "/sdk/tickwire.js";
//
// It is not a game engine for the browser: drawing, input devices and
// game rules stay with each game's own page.
package sdk
