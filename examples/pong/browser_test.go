package main

// Pong in a real browser: two headless Chromium pages are matched into one
// room and see the ball move; a third page gets a room of its own; when
// one of the pair leaves, the other is told.
//
//	go test -run Browser -v ./examples/pong
//
// Without Chromium the test skips, unless TICKWIRE_REQUIRE_BROWSER=1.

import (
	"testing"

	"github.com/tickwire/tickwire/examples/internal/browsertest"
)

func TestBrowserMatchmakingBallAndLeaving(t *testing.T) {
	b := browsertest.Start(t)
	url := startPong(t)
	left, right, third := b.NewPage("left"), b.NewPage("right"), b.NewPage("third")
	joined := `window.tickwireDebug && tickwireDebug.connected && tickwireDebug.snapshot() !== null`
	status := `document.getElementById("status").textContent`
	// One after the other, so that matchmaking order is known.
	for _, p := range []*browsertest.Page{left, right, third} {
		p.Navigate(url + "?name=" + p.Name)
		p.WaitFor(p.Name+" to join", joined, status)
	}
	var roomL, roomR, room3 string
	left.MustEval(`tickwireDebug.roomId`, &roomL)
	right.MustEval(`tickwireDebug.roomId`, &roomR)
	third.MustEval(`tickwireDebug.roomId`, &room3)
	if roomL != roomR || room3 == roomL {
		t.Fatalf("rooms: left %s, right %s, third %s; want the first two together and the third apart", roomL, roomR, room3)
	}

	// The pair plays: both see the ball leave the centre and keep moving.
	for _, p := range []*browsertest.Page{left, right} {
		p.WaitFor(p.Name+" to see the match start", `tickwireDebug.snapshot().phase === "playing"`, `tickwireDebug.snapshot()`)
		p.MustEval(`window.__ball = null`, nil)
		p.WaitFor(p.Name+" to see the ball move", `(() => {
			const b = tickwireDebug.snapshot().ball;
			if (window.__ball === null) { window.__ball = { x: b.x, y: b.y }; return false; }
			return Math.hypot(b.x - window.__ball.x, b.y - window.__ball.y) > 50;
		})()`, `[window.__ball, tickwireDebug.snapshot().ball]`)
	}
	third.WaitFor("the third page to wait for an opponent",
		`tickwireDebug.snapshot().phase === "waiting" && /Waiting/.test(document.getElementById("status").textContent)`, status)
	right.Screenshot("pong-right")

	// The right player leaves the page: the left one is told.
	right.Navigate("about:blank")
	left.WaitFor("left to be told the opponent left",
		`/right left the game/.test(tickwireDebug.ended) && !tickwireDebug.connected && /right left the game/.test(document.getElementById("status").textContent)`,
		`[tickwireDebug.ended, document.getElementById("status").textContent]`)
	third.WaitFor("the third page to be unaffected", `tickwireDebug.connected && tickwireDebug.snapshot().phase === "waiting"`, status)
}
