package main

// The arena in a real browser: two people in headless Chromium, each in a
// browser context of its own, see each other on the scoreboard; snapshots
// arrive as deltas after the first; one flies with the keys into the
// other's sight and the other sees the ship move; a dropped connection
// gets its seat back. The page's window.tickwireDebug says what it knows,
// so nothing depends on reading pixels; a screenshot is kept.
//
//	go test -run Browser -v ./examples/arena
//
// Without Chromium the test skips, unless TICKWIRE_REQUIRE_BROWSER=1.
// TICKWIRE_ARTIFACTS=dir keeps the screenshot there.

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/tickwire/tickwire/examples/internal/browsertest"
)

func TestBrowserTwoPlayersSeeEachOtherMove(t *testing.T) {
	b := browsertest.Start(t)
	url := startArena(t, "-bots", "3")
	alice, bob := b.NewPage("alice"), b.NewPage("bob")
	alice.Navigate(url + "?name=alice")
	bob.Navigate(url + "?name=bob")

	ids := map[*browsertest.Page]string{}
	for _, p := range []*browsertest.Page{alice, bob} {
		p.WaitFor("the page to join and show its own ship",
			`window.tickwireDebug && tickwireDebug.connected && tickwireDebug.own() !== null`,
			`document.getElementById("banner").textContent`)
		var id string
		p.MustEval(`tickwireDebug.playerId`, &id)
		ids[p] = id
	}
	var roomA, roomB string
	alice.MustEval(`tickwireDebug.roomId`, &roomA)
	bob.MustEval(`tickwireDebug.roomId`, &roomB)
	if roomA != roomB {
		t.Fatalf("alice in room %s, bob in %s: matchmaking should fill one room", roomA, roomB)
	}
	// Each sees the other, by id and by name, and the three bots.
	for _, pair := range [][2]*browsertest.Page{{alice, bob}, {bob, alice}} {
		viewer, other := pair[0], pair[1]
		viewer.WaitFor(viewer.Name+" to see "+other.Name,
			fmt.Sprintf(`tickwireDebug.ships().some(s => s.id === %s && s.name === %s) && tickwireDebug.ships().filter(s => s.bot).length === 3`,
				browsertest.Quote(ids[other]), browsertest.Quote(other.Name)),
			`tickwireDebug.ships()`)
	}
	// The HUD's numbers: the room's tick rate, frames drawn, an RTT from
	// input acks (the page sends inputs all the time).
	alice.WaitFor("the tick rate, FPS and RTT",
		`tickwireDebug.tickRate === 30 && tickwireDebug.fps > 0 && tickwireDebug.rtt > 0 && /Hz/.test(document.getElementById("hud").textContent)`,
		`document.getElementById("hud").textContent`)
	// The SDK's estimate of the server's clock: browser and server share
	// this machine's clock, so it agrees with Date.now() but for the
	// estimate's error (a few ms on loopback; the bound only catches a
	// wrong unit or origin). Inputs report the view's delay, at least the
	// 100 ms the page draws behind.
	alice.WaitFor("the server's clock and the view's delay",
		`Math.abs(tickwireDebug.serverNow() - Date.now()) < 250 && tickwireDebug.interpDelay >= 100 && tickwireDebug.lagComp === true && /lag comp on/.test(document.getElementById("hud").textContent)`,
		`[tickwireDebug.serverNow() - Date.now(), tickwireDebug.interpDelay, tickwireDebug.lagComp, document.getElementById("hud").textContent]`)

	// Snapshots are entity tables sent as deltas: after the first full
	// one (or the few sent before the first acknowledgement arrived),
	// every batch is a delta against a state the page acknowledged.
	snapshotsOK := `(() => { const s = tickwireDebug.snapshots();
		return s.batches === 0 && s.full >= 1 && s.deltas >= 60 && s.fullAfterDelta === 0 && s.failed === 0 && s.bytes > 0; })()`
	for _, p := range []*browsertest.Page{alice, bob} {
		p.WaitFor(p.Name+"'s batches to be deltas after the first", snapshotsOK, `tickwireDebug.snapshots()`)
	}

	// Alice flies toward Bob until Bob sees her ship move. Ships out of
	// a player's sight are not sent, so she must first come into his: she
	// holds the keys toward him (and, when a wall stops her, one across),
	// read again every 100 ms since the bots may shoot either of them. A
	// baseline is taken again whenever her ship is out of his sight or
	// respawns.
	bob.MustEval(`window.__base = null`, nil)
	moved := fmt.Sprintf(`(() => {
		const s = tickwireDebug.ships().find(s => s.id === %s);
		if (!s || !s.visible || !s.alive) { window.__base = null; return false; }
		const b = window.__base;
		if (!b || b.life !== s.life) { window.__base = { x: s.x, y: s.y, life: s.life }; return false; }
		return Math.hypot(s.x - b.x, s.y - b.y) > 60;
	})()`, browsertest.Quote(ids[alice]))
	flyTowardBob(t, alice, bob, func() bool {
		var ok bool
		bob.MustEval(moved, &ok)
		return ok
	})

	// Alice's own view agrees once her inputs are acknowledged.
	alice.WaitFor("alice's inputs to be acknowledged", `tickwireDebug.pendingInputs() < 30`, `tickwireDebug.pendingInputs()`)
	alice.Screenshot("arena-alice")
	bob.Screenshot("arena-bob")

	// A dropped connection: the SDK joins again with the reconnect token
	// and gets the same seat back, starts again from a full snapshot, and
	// deltas follow; Bob keeps Alice on his scoreboard.
	var deltas int
	alice.MustEval(`tickwireDebug.snapshots().deltas`, &deltas)
	alice.MustEval(`tickwireDebug.dropConnection()`, nil)
	alice.WaitFor("alice to get her seat back",
		fmt.Sprintf(`tickwireDebug.reconnects === 1 && tickwireDebug.connected && tickwireDebug.playerId === %s`, browsertest.Quote(ids[alice])),
		`[tickwireDebug.reconnects, tickwireDebug.connected, document.getElementById("banner").textContent]`)
	alice.WaitFor("alice's inputs to be acknowledged again", `tickwireDebug.pendingInputs() < 30`, `tickwireDebug.pendingInputs()`)
	bob.WaitFor("bob to still see alice", fmt.Sprintf(`tickwireDebug.ships().some(s => s.id === %s)`, browsertest.Quote(ids[alice])), `tickwireDebug.ships()`)
	alice.WaitFor("a full snapshot after the reconnect, and deltas again",
		fmt.Sprintf(`(() => { const s = tickwireDebug.snapshots(); return s.full >= 2 && s.deltas > %d + 30 && s.fullAfterDelta === 0 && s.failed === 0; })()`, deltas),
		`tickwireDebug.snapshots()`)
}

// flyTowardBob steers alice's ship toward bob's with the keys until done
// reports true, or fails the test after browsertest.Timeout. Near bob it
// heads for the arena's middle instead, so that she keeps moving.
func flyTowardBob(t *testing.T, alice, bob *browsertest.Page, done func() bool) {
	t.Helper()
	held := map[browsertest.Key]bool{}
	hold := func(k browsertest.Key, on bool) {
		if held[k] == on {
			return
		}
		if on {
			alice.KeyDown(k)
		} else {
			alice.KeyUp(k)
		}
		held[k] = on
	}
	defer func() {
		for k := range held {
			hold(k, false)
		}
	}()
	type pos struct{ X, Y float64 }
	var last pos
	still, across := 0, 0
	deadline := time.Now().Add(browsertest.Timeout)
	for !done() {
		if time.Now().After(deadline) {
			var state any
			bob.Eval(`[window.__base, tickwireDebug.ships()]`, &state)
			t.Fatalf("bob did not see alice move within %v; bob's view: %v", browsertest.Timeout, state)
		}
		var a, b pos
		alice.MustEval(`tickwireDebug.own()`, &a)
		bob.MustEval(`tickwireDebug.own()`, &b)
		dx, dy := b.X-a.X, b.Y-a.Y
		if math.Abs(dx) < 150 && math.Abs(dy) < 150 {
			dx, dy = DefaultConfig().Width/2-a.X, DefaultConfig().Height/2-a.Y
		}
		// Stopped for half a second with a key down: a wall is in the
		// way. Hold a key across for a second to slide past it.
		if math.Hypot(a.X-last.X, a.Y-last.Y) < 1 {
			still++
		} else {
			still = 0
		}
		last = a
		if still >= 5 {
			across, still = 10, 0
		}
		if across > 0 {
			across--
			if math.Abs(dx) >= math.Abs(dy) {
				dy = DefaultConfig().Height/2 - a.Y
			} else {
				dx = DefaultConfig().Width/2 - a.X
			}
		}
		hold(browsertest.KeyD, dx > 40)
		hold(browsertest.KeyA, dx < -40)
		hold(browsertest.KeyS, dy > 40)
		hold(browsertest.KeyW, dy < -40)
		time.Sleep(100 * time.Millisecond)
	}
}
