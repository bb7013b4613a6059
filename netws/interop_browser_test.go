//go:build unix

package netws

// Interoperability with a real browser: headless Chromium loads
// testdata/interop/browser.html from a test server, whose page round-trips
// the message list through netws echo endpoints with the browser's own
// WebSocket and POSTs the results back. No Go dependency is involved: the
// browser is a subprocess.
//
//	apt-get install chromium    # or have chromium-browser / google-chrome
//	go test -run 'Interop.*Browser' -v ./netws/
//
// Without a browser the test skips, unless TICKWIRE_REQUIRE_BROWSER=1.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// browserResult is what browser.html POSTs to /result.
type browserResult struct {
	OK        bool   `json:"ok"`
	UserAgent string `json:"userAgent"`
	Error     string `json:"error"`
	Endpoints []struct {
		Path       string `json:"path"`
		Protocol   string `json:"protocol"`
		Extensions string `json:"extensions"`
		Error      string `json:"error"`
		Cases      []struct {
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"cases"`
		Close *struct {
			Code     int    `json:"code"`
			Reason   string `json:"reason"`
			WasClean bool   `json:"wasClean"`
		} `json:"close"`
	} `json:"endpoints"`
}

// browserCloseReason is the reason browser.html closes with.
const browserCloseReason = "browser done: ünïcødé ✓"

// findBrowser returns the path of a Chromium-family browser or ends the test.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	interopRequireOrSkip(t, "TICKWIRE_REQUIRE_BROWSER",
		"no browser found (looked for chromium, chromium-browser and google-chrome in PATH); install one, e.g. `apt-get install chromium`")
	return ""
}

// lockedBuffer is a bytes.Buffer safe for the exec package's copying
// goroutine and the test reading it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // keep memory bounded; the tail is what matters
		tail := append([]byte(nil), l.b.Bytes()[l.b.Len()-64<<10:]...)
		l.b.Reset()
		l.b.Write(tail)
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return interopTail(l.b.Bytes(), n)
}

func TestInteropBrowser(t *testing.T) {
	browser := findBrowser(t)
	page, err := os.ReadFile(filepath.Join("testdata", "interop", "browser.html"))
	if err != nil {
		t.Fatal(err)
	}

	// Two echo endpoints: one writes each echo as a single frame (every
	// length encoding), one fragments it into 1000-byte frames.
	endpoints := []struct {
		path     string
		maxFrame int
		ended    chan error
	}{
		{"/echo", 4 << 20, make(chan error, 1)},
		{"/echo-fragmented", 1000, make(chan error, 1)},
	}
	results := make(chan []byte, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(page)
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		body, err := readAllLimited(w, r, 4<<20)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case results <- body:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	for _, ep := range endpoints {
		mux.Handle("GET "+ep.path, interopEchoHandler(interopEchoOptions(ep.maxFrame), ep.ended))
	}
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	defer srv.Close()
	url := srv.URL + "/"
	sep := "?"
	for _, ep := range endpoints {
		url += sep + "ws=" + ep.path
		sep = "&"
	}

	cmd := exec.Command(browser,
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--disable-quic",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(),
		url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var output lockedBuffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waited, stopped := false, false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		pgid := cmd.Process.Pid // Setpgid: the group id is the browser's pid
		syscall.Kill(-pgid, syscall.SIGKILL)
		if !waited {
			select {
			case <-exited:
				waited = true
			case <-time.After(10 * time.Second):
				t.Errorf("%s (pid %d) did not exit after SIGKILL", browser, pgid)
			}
		}
		// Give the rest of the group (zygote, renderers) a moment to go,
		// so the profile directory can be removed.
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
				break
			}
		}
	}
	defer stop()

	const timeout = 60 * time.Second
	var body []byte
	select {
	case body = <-results:
		stop()
	case err := <-exited:
		waited = true
		stop()
		t.Fatalf("%s exited (%v) before the page posted its result\nbrowser output:\n%s", browser, err, output.tail(4000))
	case <-time.After(timeout):
		stop()
		t.Fatalf("the page at %s posted no result within %v\nbrowser output:\n%s", url, timeout, output.tail(4000))
	}

	var res browserResult
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("the page posted an unparsable result (%v): %s", err, interopTail(body, 2000))
	}
	t.Logf("browser: %s", res.UserAgent)
	if res.Error != "" {
		t.Errorf("page error: %s", res.Error)
	}
	if len(res.Endpoints) != len(endpoints) {
		t.Fatalf("the page reported %d endpoints, want %d", len(res.Endpoints), len(endpoints))
	}
	wantCases := 2 * len(interopCases())
	for i, ep := range res.Endpoints {
		who := fmt.Sprintf("endpoint %s", ep.Path)
		if ep.Path != endpoints[i].path {
			t.Errorf("%s: reported in place of %s", who, endpoints[i].path)
		}
		if ep.Error != "" {
			t.Errorf("%s: %s", who, ep.Error)
		}
		if ep.Protocol != interopSubprotocol {
			t.Errorf("%s: negotiated subprotocol %q, want %q", who, ep.Protocol, interopSubprotocol)
		}
		if ep.Extensions != "" {
			t.Errorf("%s: extensions %q were negotiated; netws supports none", who, ep.Extensions)
		}
		passed := 0
		for _, c := range ep.Cases {
			if c.OK {
				passed++
			} else {
				t.Errorf("%s: case %s: %s", who, c.Name, c.Detail)
			}
		}
		if len(ep.Cases) != wantCases {
			t.Errorf("%s: %d cases reported, want %d", who, len(ep.Cases), wantCases)
		}
		switch {
		case ep.Close == nil:
			t.Errorf("%s: close handshake did not complete", who)
		case ep.Close.Code != int(StatusNormalClosure) || !ep.Close.WasClean:
			t.Errorf("%s: browser close event: code %d reason %q wasClean %v; want code 1000, wasClean true",
				who, ep.Close.Code, ep.Close.Reason, ep.Close.WasClean)
		}
		if ep.Error == "" {
			interopCheckPeerClose(t, who, endpoints[i].ended, browserCloseReason)
		}
		t.Logf("%s: %d/%d cases passed", who, passed, len(ep.Cases))
	}
	if !res.OK && !t.Failed() {
		t.Errorf("the page reported failure without detail: %s", interopTail(body, 2000))
	}
}

// readAllLimited reads a request body of at most limit bytes.
func readAllLimited(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	var b bytes.Buffer
	n, err := b.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("reading the result after %d bytes: %w", n, err)
	}
	return b.Bytes(), nil
}
