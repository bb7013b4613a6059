// Package browsertest drives Debian's headless Chromium from the examples'
// Go tests, through the Chrome DevTools Protocol (github.com/chromedp):
// pages in isolated browser contexts (one per player), JavaScript to read
// what a page knows, key presses, and screenshots kept as test artifacts.
//
// Without a browser the tests skip with a loud message, unless
// TICKWIRE_REQUIRE_BROWSER=1 (as CI sets), which makes its absence a
// failure. It is for tests only.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// RequireEnv is the environment variable that turns a missing browser
// from a skip into a failure.
const RequireEnv = "TICKWIRE_REQUIRE_BROWSER"

// ArtifactsEnv names a directory where screenshots are written; without
// it they go to the test's temporary directory.
const ArtifactsEnv = "TICKWIRE_ARTIFACTS"

// Timeout bounds one wait for a condition in a page. It is generous: a
// loaded two-core machine starts Chromium and runs two pages slowly.
const Timeout = 90 * time.Second

// Browser is one headless Chromium process.
type Browser struct {
	t   testing.TB
	ctx context.Context // the browser's first chromedp context
}

// FindChromium returns the browser's path: /usr/bin/chromium (Debian's
// package), else chromium or chromium-browser on the PATH, else "".
func FindChromium() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start starts a headless Chromium that stops when the test ends, or ends
// the test: a skip when there is none, a failure when RequireEnv is 1.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := FindChromium()
	if path == "" {
		msg := "no Chromium found (looked for /usr/bin/chromium, chromium and chromium-browser on the PATH); install it with `apt-get install chromium`"
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("browsertest: %s\n(%s=1 makes a missing browser a failure)", msg, RequireEnv)
		}
		t.Skipf("\n*** SKIPPING BROWSER TEST %s ***\n*** %s\n*** (set %s=1 to turn this skip into a failure)", t.Name(), msg, RequireEnv)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 720),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("mute-audio", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; its context must have no deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	return &Browser{t: t, ctx: ctx}
}

// Page is a tab in a browser context of its own: no cookies or storage
// shared with other pages, as with two separate people.
type Page struct {
	t    testing.TB
	Name string // for messages
	ctx  context.Context
}

// NewPage opens an isolated page, logging its console messages and
// uncaught exceptions to the test log with the page's name.
func (b *Browser) NewPage(name string) *Page {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("browsertest: opening page %s: %v", name, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.t.Logf("[%s console %s] %s", name, m.Type, m.Text)
		}
	}()
	return &Page{t: b.t, Name: name, ctx: ctx}
}

// Navigate loads url and waits for the document to load.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("%s: loading %s: %v", p.Name, url, err)
	}
}

// Eval evaluates a JavaScript expression and decodes its JSON value into
// out (which may be nil).
func (p *Page) Eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// MustEval is Eval that ends the test on an error.
func (p *Page) MustEval(expr string, out any) {
	p.t.Helper()
	if err := p.Eval(expr, out); err != nil {
		p.t.Fatalf("%s: evaluating %s: %v", p.Name, expr, err)
	}
}

// WaitFor polls the JavaScript expression every 100 ms until it is true,
// or ends the test after Timeout, showing what describe (an expression,
// may be "") says about the page's state at that point.
func (p *Page) WaitFor(what, expr, describe string) {
	p.t.Helper()
	deadline := time.Now().Add(Timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		var ok bool
		if lastErr = p.Eval("Boolean("+expr+")", &ok); lastErr == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	state := ""
	if describe != "" {
		var v any
		if err := p.Eval(describe, &v); err == nil {
			b, _ := json.Marshal(v)
			state = "; state: " + string(b)
		}
	}
	p.t.Fatalf("%s: gave up after %v waiting for %s (%s)%s; last error: %v", p.Name, Timeout, what, expr, state, lastErr)
}

// Key is a key as the DOM names it (KeyboardEvent.code) with its virtual
// key code.
type Key struct {
	Code    string // "KeyD", "ArrowUp", "Space"
	Key     string // "d", "ArrowUp", " "
	KeyCode int64  // Windows virtual key code: 68, 38, 32
}

// Keys the examples use.
var (
	KeyW      = Key{"KeyW", "w", 87}
	KeyA      = Key{"KeyA", "a", 65}
	KeyS      = Key{"KeyS", "s", 83}
	KeyD      = Key{"KeyD", "d", 68}
	ArrowUp   = Key{"ArrowUp", "ArrowUp", 38}
	ArrowDown = Key{"ArrowDown", "ArrowDown", 40}
	Space     = Key{"Space", " ", 32}
)

// KeyDown presses k and holds it until KeyUp.
func (p *Page) KeyDown(k Key) { p.key(input.DispatchKeyEventTypeKeyDown, k) }

// KeyUp releases k.
func (p *Page) KeyUp(k Key) { p.key(input.DispatchKeyEventTypeKeyUp, k) }

func (p *Page) key(typ input.DispatchKeyEventType, k Key) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	params := input.DispatchKeyEventParams{Type: typ, Code: k.Code, Key: k.Key, WindowsVirtualKeyCode: k.KeyCode, NativeVirtualKeyCode: k.KeyCode}
	err := chromedp.Do(ctx, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, params)
		return chromedp.Void{}, err
	})
	if err != nil {
		p.t.Fatalf("%s: %s %s: %v", p.Name, typ, k.Code, err)
	}
}

// Screenshot saves the visible page as a PNG named name (".png" added)
// in the artifacts directory, and returns its path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("%s: screenshot: %v", p.Name, err)
	}
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = p.t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatalf("artifacts directory %s (from %s): %v", dir, ArtifactsEnv, err)
	}
	path := filepath.Join(dir, sanitize(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot of %s: %s (%d bytes)", p.Name, path, len(png))
	return path
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, name)
}

// Quote returns s as a JavaScript string literal.
func Quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
