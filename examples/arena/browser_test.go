package main

// The arena in a real browser: two people in headless Chromium, each in a
// browser context of its own, see each other; one presses a key and the
// other sees the ship move; a dropped connection gets its seat back. The
// page's window.tickwireDebug says what it knows, so nothing depends on
// reading pixels; a screenshot is kept.
//
//	go test -run Browser -v ./examples/arena
//
// Without Chromium the test skips, unless TICKWIRE_REQUIRE_BROWSER=1.
// TICKWIRE_ARTIFACTS=dir keeps the screenshot there.

import (
	"fmt"
	"testing"

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

	// Alice moves toward the middle; Bob must see it. A baseline is taken
	// again whenever Alice's ship respawns (the bots shoot).
	var own struct{ X float64 }
	alice.MustEval(`tickwireDebug.own()`, &own)
	key, sign := browsertest.KeyD, 1
	if own.X > DefaultConfig().Width/2 {
		key, sign = browsertest.KeyA, -1
	}
	bob.MustEval(`window.__base = null`, nil)
	moved := fmt.Sprintf(`(() => {
		const s = tickwireDebug.ships().find(s => s.id === %s);
		if (!s || !s.alive) return false;
		const b = window.__base;
		if (!b || b.life !== s.life) { window.__base = { x: s.x, life: s.life }; return false; }
		return (s.x - b.x) * %d > 60;
	})()`, browsertest.Quote(ids[alice]), sign)
	bob.MustEval(moved, nil) // take the baseline before the key goes down
	alice.KeyDown(key)
	bob.WaitFor("bob to see alice move", moved, `[window.__base, tickwireDebug.ships()]`)
	alice.KeyUp(key)

	// Alice's own view agrees once her inputs are acknowledged.
	alice.WaitFor("alice's inputs to be acknowledged", `tickwireDebug.pendingInputs() < 30`, `tickwireDebug.pendingInputs()`)
	alice.Screenshot("arena-alice")
	bob.Screenshot("arena-bob")

	// A dropped connection: the SDK joins again with the reconnect token
	// and gets the same seat back; Bob never loses sight of Alice.
	alice.MustEval(`tickwireDebug.dropConnection()`, nil)
	alice.WaitFor("alice to get her seat back",
		fmt.Sprintf(`tickwireDebug.reconnects === 1 && tickwireDebug.connected && tickwireDebug.playerId === %s`, browsertest.Quote(ids[alice])),
		`[tickwireDebug.reconnects, tickwireDebug.connected, document.getElementById("banner").textContent]`)
	alice.WaitFor("alice's inputs to be acknowledged again", `tickwireDebug.pendingInputs() < 30`, `tickwireDebug.pendingInputs()`)
	bob.WaitFor("bob to still see alice", fmt.Sprintf(`tickwireDebug.ships().some(s => s.id === %s)`, browsertest.Quote(ids[alice])), `tickwireDebug.ships()`)
}
