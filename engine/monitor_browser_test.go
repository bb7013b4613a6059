package engine

// The dashboard in a real browser: headless Chromium, driven through the
// Chrome DevTools Protocol (github.com/chromedp), loads /monitor from a
// running engine and must show its rooms and players and keep updating.
//
//	apt-get install chromium
//	go test -run MonitorPageInBrowser -v ./engine/
//
// Without Chromium the test skips, unless TICKWIRE_REQUIRE_BROWSER=1.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium returns the path of Chromium or ends the test: a loud skip, or
// a failure when TICKWIRE_REQUIRE_BROWSER is 1.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for /usr/bin/chromium, chromium and chromium-browser); install it with `apt-get install chromium`"
	if os.Getenv("TICKWIRE_REQUIRE_BROWSER") == "1" {
		t.Fatalf("%s\n(TICKWIRE_REQUIRE_BROWSER=1 makes a missing browser a failure)", msg)
	}
	t.Skipf("\n*** SKIPPING BROWSER TEST %s ***\n*** %s\n*** (set TICKWIRE_REQUIRE_BROWSER=1 to turn this skip into a failure)", t.Name(), msg)
	return ""
}

// page is a headless Chromium tab.
type page struct {
	t   *testing.T
	ctx context.Context
}

func openPage(t *testing.T) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			t.Logf("[console %s] %s", m.Type, m.Text)
		}
	}()
	return &page{t: t, ctx: ctx}
}

func (p *page) navigate(url string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("loading %s: %v", url, err)
	}
}

// eval evaluates a JavaScript expression into out.
func (p *page) eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// waitFor polls expr until it is true; the limit only guards against a
// hang on a loaded machine. describe is evaluated for the failure message.
func (p *page) waitFor(what, expr, describe string) {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		if err := p.eval("Boolean("+expr+")", &ok); err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	var state any
	p.eval(describe, &state)
	b, _ := json.Marshal(state)
	p.t.Fatalf("gave up waiting for %s (%s); page state: %s", what, expr, b)
}

// screenshot saves the page as a PNG at path.
func (p *page) screenshot(path string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(path, png, 0o644)
	}
	if err != nil {
		p.t.Errorf("screenshot: %v", err)
		return
	}
	p.t.Logf("screenshot: %s", path)
}

func TestMonitorPageInBrowser(t *testing.T) {
	p := openPage(t)
	_, addr := startEngine(t, Config{Conn: fastPings, Monitor: MonitorConfig{Token: "tok", Interval: 200 * time.Millisecond}})
	ana, _ := seatPlayer(t, addr, "ana")
	bo, _ := seatPlayer(t, addr, "bo")

	// above=0.001: every player with an RTT sample is above the threshold.
	p.navigate("http://" + addr + "/monitor?token=tok&above=0.001")
	const rows = `[...document.querySelectorAll("#players tbody tr")].map(r => ({id: r.dataset.playerId, name: r.querySelector(".name").textContent, cls: r.className, rtt: r.querySelector(".rtt").textContent}))`
	const describe = `({status: document.querySelector("#status").textContent, count: document.querySelector("#count").textContent, players: ` + rows + `, rooms: document.querySelector("#rooms tbody").innerText})`
	has := func(w string) string { return `document.querySelector('#players tr[data-player-id="` + w + `"]')` }
	p.waitFor("both players in the table", has(ana.Player)+" && "+has(bo.Player), describe)
	p.waitFor("the stream to be live", `document.querySelector("#status").textContent === "live"`, describe)

	var got []struct{ ID, Name, Cls, RTT string }
	if err := p.eval(rows, &got); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, r := range got {
		names[r.ID] = r.Name
	}
	if names[ana.Player] != "ana" || names[bo.Player] != "bo" {
		t.Errorf("player rows %+v, want ana and bo by id", got)
	}
	p.waitFor("players above the threshold to be highlighted",
		has(ana.Player)+`.classList.contains("hot") && `+has(bo.Player)+`.classList.contains("hot")`, describe)
	p.waitFor("the room's tick lateness",
		`(c => c && / ms$/.test(c.textContent))(document.querySelector('#rooms tr[data-room-id="`+ana.Room+`"] td.lateness'))`, describe)
	p.waitFor("a line per player in the chart's legend", `document.querySelectorAll("#legend > span").length === 2`, describe)

	// The page keeps updating: more snapshots arrive, and a player who
	// joins later appears without a reload.
	var count string
	p.eval(`document.querySelector("#count").textContent`, &count)
	p.waitFor("more updates", `Number(document.querySelector("#count").textContent) >= `+count+` + 3`, describe)
	cy, _ := seatPlayer(t, addr, "cy")
	p.waitFor("a player who joined later", has(cy.Player), describe)

	var drawn bool
	err := p.eval(`(() => {
		const c = document.querySelector("#chart");
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
		return false;
	})()`, &drawn)
	if err != nil || !drawn {
		t.Errorf("the RTT chart is blank (%v)", err)
	}
	if dir := os.Getenv("TICKWIRE_ARTIFACTS"); dir != "" {
		p.screenshot(filepath.Join(dir, "monitor.png"))
	}

	// Without the token the page says why it shows nothing.
	p.navigate("http://" + addr + "/monitor")
	var body string
	p.eval(`document.body.innerText`, &body)
	if !strings.Contains(body, "token") {
		t.Errorf("/monitor without the token shows %q, want a message about the token", body)
	}
}
