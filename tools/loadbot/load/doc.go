// Package load runs headless bots against a tickwire server, the way
// players would use it: each bot matchmakes into a room of a game
// (POST /matchmake/{game}), connects to the WebSocket it is given, joins
// with its seat, sends inputs at a steady rate and reads every batch. It
// measures what a player would feel:
//
//   - RTT: from sending an input to the first batch that acknowledges it
//     (this includes the wait for the next tick), for every input;
//   - delivery delay: from the server time a batch carries (when its tick
//     started) to its arrival, meaningful when bots and server share a
//     clock, as on one host;
//   - inter-arrival time of batches, and its jitter: how far each
//     interval is from the room's tick step;
//   - bytes a second each way (message payloads).
//
// Distributions are kept in log-scale histograms with about 2% precision,
// so memory stays constant however long a run lasts. Runs are bounded:
// at most MaxBots bots, MaxDuration long, and bots connect only to the
// server given and to hosts listed in Options.AllowHosts.
//
// The loadbot command (go run ./tools/loadbot) wraps it; tests use it to
// put players on a server.
package load
