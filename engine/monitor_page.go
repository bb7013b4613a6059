package engine

import (
	"embed"
	"net/http"
	"path"
)

// web holds the monitoring dashboard: a page, its script and its styles,
// with no build step and nothing fetched from elsewhere.
//
//go:embed web
var web embed.FS

// monitorCSP keeps the dashboard to its own files and its own server.
const monitorCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// serveMonitorPage answers GET /monitor: the dashboard.
func serveMonitorPage(w http.ResponseWriter, r *http.Request) {
	serveWebFile(w, r, "monitor.html")
}

// serveMonitorAsset answers GET /monitor/{file}: the dashboard's script
// and styles. They hold no data, so they need no token.
func serveMonitorAsset(w http.ResponseWriter, r *http.Request) {
	serveWebFile(w, r, r.PathValue("file"))
}

func serveWebFile(w http.ResponseWriter, r *http.Request, name string) {
	b, err := web.ReadFile(path.Join("web", path.Clean("/" + name)[1:]))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	types := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
	}
	ct, ok := types[path.Ext(name)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Security-Policy", monitorCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.Write(b)
}
