// Package bench is tickwire's WebSocket benchmark suite: it measures
// tickwire's netws package side by side with the well-known Go WebSocket
// libraries (gorilla/websocket, lxzan/gws, gobwas/ws, coder/websocket), and
// the rooms package on top of netws, in one run on one machine.
//
// It is a separate module so that tickwire's own go.mod stays free of the
// peer libraries. It has three programs:
//
//   - cmd/benchserver serves one library (-lib) on /echo (echo every
//     message with its type) and /room (one broadcast room: every client
//     gets one S-byte binary message at R Hz, encoded once per tick and
//     sent with the library's best broadcast path);
//   - cmd/benchload is the load generator: N connections doing
//     write-then-read echo, N room clients recording delivery latency, or
//     N idle connections;
//   - cmd/benchrun drives both, pinned to different CPUs, for every
//     library and prints one comparison table.
//
// Run the whole suite from this directory (about 5 minutes with the
// defaults; on a shared or noisy machine prefer the median of 3 runs,
// about 10 minutes):
//
//	cd tools/bench && go run ./cmd/benchrun
//	cd tools/bench && go run ./cmd/benchrun --repeat 3 --duration 5s
//
// or a short smoke run (under a minute), or a subset:
//
//	cd tools/bench && go run ./cmd/benchrun --quick
//	cd tools/bench && go run ./cmd/benchrun --libs netws,gws --only room
//
// The server runs on CPU 1 and the load on CPU 0 (taskset), so each gets
// GOMAXPROCS 1. The idle measurement needs about 10,000 file descriptors
// in each process: both raise their soft RLIMIT_NOFILE to the hard limit,
// and benchrun lowers the connection count (and says so) when the hard
// limit is lower. --profile DIR saves a CPU profile of every server
// window; --json FILE saves the raw results. See --help for the flags and
// the table's conventions. netws's own micro-benchmarks (no sockets) are
// in netws/bench_test.go:
//
//	go test -run '^$' -bench . -benchmem ./netws
//
// A fourth program, cmd/vscolyseus, compares tickwire with Colyseus 0.16
// on a game workload (rooms of players watching a crowd of moving
// entities): see package internal/vs and docs/performance.md. Its
// Colyseus side is the node project in colyseus/:
//
//	npm ci --prefix tools/bench/colyseus        # from the repository root
//	cd tools/bench && go run ./cmd/vscolyseus
//
// # Fairness rules
//
// The load generator (cmd/benchload) is the same for every library: a
// gobwas/ws dialer for the handshake and framing of its own, one Write
// per message and buffered reads, with no allocation per message; room
// clients record latency into fixed-bucket histograms. On loopback an echo
// costs the load the same system calls as the server, so in echo both run
// near 100% of their CPU: the table adds the server's CPU time per
// message, which measures the server alone.
//
// Every library runs in the same http.Server, with permessage-deflate off,
// on the same routes. Each connection is upgraded in the HTTP handler and
// then served by a fresh goroutine (the handler returns, so net/http's own
// per-request state can be collected). Echo reads into a reused buffer with
// each library's allocation-free or cheapest read API and writes with its
// plain write call.
//
// In the room, a tick stamps the send time (unix nanoseconds, little-endian)
// in the payload's first 8 bytes, encodes the message once with the
// library's broadcast path and offers it to every connection. The policy is
// the same for every library: a connection never blocks the tick, and a
// connection still busy writing keeps only the most recent tick (a 1-slot
// "latest" mailbox drained by a per-connection writer goroutine). For gws,
// whose Broadcaster writes through its own per-connection asynchronous
// queue, a per-connection busy flag gives the same one-in-flight bound;
// a tick that finds the connection busy is dropped for it.
//
//   - gorilla: websocket.PreparedMessage and WritePreparedMessage
//   - gws: gws.Broadcaster on its asynchronous write queue
//   - gobwas: the frame compiled once (ws.CompileFrame), written with
//     net.Conn.Write
//   - coder: a plain Conn.Write per connection: coder/websocket has no
//     prepared-message path, so it frames the payload for every connection
//   - netws: netws.PreparedMessage and WritePrepared
//   - tickwire-rooms: a rooms.Room whose Game's Snapshot returns the same
//     S-byte []byte for every player; rooms encodes it once per tick and
//     sends each player WritePreparedPrefixed(prefix, pm)
package bench
