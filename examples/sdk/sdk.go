package sdk

import (
	"embed"
	"net/http"
	"strings"
)

// Files holds the SDK's modules: tickwire.js (the one to import), and
// client.js, msgpack.js, interpolation.js, prediction.js, clocksync.js
// and snapshots.js beside it.
//
//go:embed tickwire.js client.js msgpack.js interpolation.js prediction.js clocksync.js snapshots.js
var Files embed.FS

// Prefix is where the examples mount the SDK.
const Prefix = "/sdk"

// Handler serves the SDK's files by name ("/tickwire.js"). Mount it under
// a prefix with http.StripPrefix. Answers carry a JavaScript content type
// and ask browsers to revalidate, so a page never runs a stale SDK against
// a newer server.
func Handler() http.Handler {
	files := http.FileServerFS(Files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
