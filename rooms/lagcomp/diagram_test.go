package lagcomp_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tickwire/tickwire/rooms/lagcomp"
)

var update = flag.Bool("update", false, "rewrite docs/lag-compensation.svg")

// diagramPath is the diagram of docs/lag-compensation.md.
var diagramPath = filepath.Join("..", "..", "docs", "lag-compensation.svg")

// TestDiagram draws the scenario of TestShotUnderLatency (a 100 ms round
// trip, a 100 ms interpolation delay) from what the History computes, and
// checks that docs/lag-compensation.svg is that drawing. After changing
// the package or the drawing, rewrite it with
//
//	go test ./rooms/lagcomp -run TestDiagram -update
func TestDiagram(t *testing.T) {
	got := drawDiagram(t)
	if *update {
		if err := os.WriteFile(diagramPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(diagramPath)
	if err != nil {
		t.Fatalf("%v; create it with: go test ./rooms/lagcomp -run TestDiagram -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not the drawing of the current scenario; rewrite it with: go test ./rooms/lagcomp -run TestDiagram -update", diagramPath)
	}
}

func drawDiagram(t *testing.T) []byte {
	const (
		rtt    = 100 * time.Millisecond
		interp = 100 * time.Millisecond
	)
	h := newHistory(t, lagcomp.Options{TickRate: rate})
	record(t, h, fireTick)
	now := tickTime(fireTick)
	seen := now.Add(-rtt/2 - interp)
	aim := targetAt(seen.Sub(base))
	from, to := shot(aim)

	comp, err := h.Rewind(now, lagcomp.Lag{RTT: rtt, Interp: interp})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := h.Rewind(now, lagcomp.Lag{})
	if err != nil {
		t.Fatal(err)
	}
	hit, compHit := comp.Trace(from, to, shooter)
	_, plainHit := plain.Trace(from, to, shooter)
	if !compHit || plainHit {
		t.Fatalf("scenario: compensated hit %v, uncompensated hit %v; want true, false", compHit, plainHit)
	}
	cur, err := plain.Body(target)
	if err != nil {
		t.Fatal(err)
	}
	clamped, err := h.Rewind(now, lagcomp.Lag{RTT: 1200 * time.Millisecond, Interp: interp})
	if err != nil {
		t.Fatal(err)
	}

	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

	// Panel 1, a timeline in server milliseconds relative to the tick that
	// applies the shot: the server above, the client below.
	const (
		width   = 860
		t0, t1  = -560.0, 110.0 // ms shown
		left    = 40.0
		right   = width - 40.0
		serverY = 110.0
		clientY = 230.0
	)
	x := func(msRel float64) float64 { return left + (msRel-t0)/(t1-t0)*(right-left) }
	window := ms(h.Window())
	fire := -ms(rtt / 2) // the client fires half a round trip before the tick
	render := fire - ms(interp)

	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="640" viewBox="0 0 %d 640" font-family="sans-serif" font-size="13">`, width, width)
	p(`<title>Lag compensation: a 100 ms round trip and a 100 ms interpolation delay</title>`)
	p(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>`)
	p(`<rect width="100%%" height="100%%" fill="#fff"/>`)
	p(`<text x="%g" y="28" font-size="16" font-weight="bold">1. Time: what the client drew, and how far the server rewinds</text>`, left)

	// The history window and the ticks in it.
	p(`<rect x="%.1f" y="%.1f" width="%.1f" height="24" fill="#e8f0fe" stroke="#8ab4f8"/>`, x(-window), serverY-12, x(0)-x(-window))
	p(`<text x="%.1f" y="%.1f" fill="#1a73e8">history window: the last %v of frames, one a tick (60 Hz)</text>`, x(-window)+6, serverY-18, h.Window())
	for n := -int(window * rate / 1000); n <= 1; n++ {
		tx := x(float64(n) * ms(step))
		p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#5f6368" stroke-width="1"/>`, tx, serverY-5, tx, serverY+5)
	}
	p(`<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#202124" stroke-width="2" marker-end="url(#arrow)"/>`, left, serverY, right, serverY)
	p(`<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#202124" stroke-width="2" marker-end="url(#arrow)"/>`, left, clientY, right, clientY)
	p(`<text x="%g" y="%g" font-weight="bold">server</text>`, left, serverY+30)
	p(`<text x="%g" y="%g" font-weight="bold">client</text>`, left, clientY+30)
	p(`<text x="%g" y="%g" text-anchor="end" fill="#5f6368">server time →</text>`, right, clientY+30)

	// Snapshots travel down in half a round trip.
	for _, at := range []float64{-300, -250, -200, -150} {
		p(`<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#9aa0a6" stroke-dasharray="4 3" marker-end="url(#arrow)"/>`, x(at), serverY+6, x(at+ms(rtt/2)), clientY-6)
	}
	p(`<text x="%.1f" y="%g" fill="#5f6368" text-anchor="end">snapshots: RTT/2 = %v on the way</text>`, x(-300)+20, (serverY+clientY)/2+10, rtt/2)

	// The client draws interp behind its clock, then fires.
	p(`<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#e37400" stroke-width="3" marker-end="url(#arrow)"/>`, x(fire), clientY+14, x(render), clientY+14)
	p(`<circle cx="%.1f" cy="%g" r="5" fill="#e37400"/>`, x(render), clientY)
	p(`<text x="%.1f" y="%g" fill="#e37400" text-anchor="middle">draws the world at server time − %v (interpolation)</text>`, x(render), clientY+52, interp)
	p(`<circle cx="%.1f" cy="%g" r="6" fill="#d93025"/>`, x(fire), clientY)
	p(`<text x="%.1f" y="%g" fill="#d93025" text-anchor="middle">fires</text>`, x(fire), clientY+72)

	// The input goes up in half a round trip, carrying interp.
	p(`<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#d93025" stroke-width="2" marker-end="url(#arrow)"/>`, x(fire), clientY-6, x(0), serverY+8)
	p(`<text x="%.1f" y="%g" fill="#d93025">input {fire, interp: %d}</text>`, x(fire)+34, (serverY+clientY)/2+24, interp.Milliseconds())

	// The server rewinds.
	p(`<circle cx="%.1f" cy="%g" r="6" fill="#188038"/>`, x(0), serverY)
	p(`<text x="%.1f" y="%g" fill="#188038">the next tick applies it</text>`, x(0)+10, serverY+24)
	p(`<path d="M%.1f,%g C%.1f,%g %.1f,%g %.1f,%g" fill="none" stroke="#188038" stroke-width="3" marker-end="url(#arrow)"/>`,
		x(0), serverY-8, x(0)-30, serverY-70, x(-comp.By.Seconds()*1000)+30, serverY-70, x(-ms(comp.By)), serverY-10)
	p(`<text x="%.1f" y="%g" fill="#188038" text-anchor="middle" font-weight="bold">rewind RTT/2 + interp = %v</text>`, x(-ms(comp.By)/2), serverY-62, comp.By)
	p(`<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#188038" stroke-dasharray="2 3"/>`, x(-ms(comp.By)), serverY, x(render), clientY)

	// Clamping.
	p(`<text x="%.1f" y="%g" fill="#1a73e8" font-size="12">a %v round trip wants %v: clamped to %v</text>`, x(-window)+6, serverY+28, 1200*time.Millisecond, clamped.Want, clamped.By)

	// Panel 2: the field at the tick that applies the shot.
	const (
		fieldTop = 350.0
		fieldY   = 470.0 // y of the target's path
		scale    = 70.0  // px per unit
	)
	cx := width / 2.0
	fx := func(u float64) float64 { return cx + (u-aim.X)*scale }
	fy := func(u float64) float64 { return fieldY - u*scale }
	p(`<text x="%g" y="%g" font-size="16" font-weight="bold">2. Space: the same shot, with and without the rewind</text>`, left, fieldTop-12)
	p(`<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#dadce0" stroke-dasharray="6 4"/>`, left, fieldY, right, fieldY)
	p(`<text x="%g" y="%g" fill="#5f6368">target's path, %g units/s →</text>`, left, fieldY-8, speed)

	// The shot: from the shooter 20 units below, through the aim point.
	d := to.Sub(from)
	bottom, top := -1.4, 1.6 // units of y drawn
	s0, s1 := (bottom-from.Y)/d.Y, (top-from.Y)/d.Y
	p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d93025" stroke-width="2" marker-end="url(#arrow)"/>`,
		fx(from.X+d.X*s0), fy(bottom), fx(from.X+d.X*s1), fy(top))
	p(`<text x="%.1f" y="%.1f" fill="#d93025" text-anchor="middle">shot from the shooter, %g units below</text>`, fx(from.X+d.X*s0), fy(bottom)+18, -shooterPos.Y)

	rb := hit.Body
	p(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#188038" fill-opacity="0.25" stroke="#188038" stroke-width="2"/>`, fx(rb.Pos.X), fy(rb.Pos.Y), rb.Radius*scale)
	p(`<circle cx="%.1f" cy="%.1f" r="4" fill="#d93025"/>`, fx(hit.Point.X), fy(hit.Point.Y))
	p(`<text x="%.1f" y="%.1f" fill="#188038" text-anchor="end">rewound %v: where the shooter saw it — hit</text>`, fx(rb.Pos.X)-rb.Radius*scale-8, fy(rb.Pos.Y)-rb.Radius*scale-8, comp.By)
	p(`<circle cx="%.1f" cy="%.1f" r="%.1f" fill="#9aa0a6" fill-opacity="0.25" stroke="#5f6368" stroke-width="2" stroke-dasharray="5 3"/>`, fx(cur.Pos.X), fy(cur.Pos.Y), cur.Radius*scale)
	p(`<text x="%.1f" y="%.1f" fill="#5f6368">newest frame (%v old): miss</text>`, fx(cur.Pos.X)+cur.Radius*scale+8, fy(cur.Pos.Y)-cur.Radius*scale-8, plain.By.Round(100*time.Microsecond))
	p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#5f6368" marker-start="url(#arrow)" marker-end="url(#arrow)"/>`, fx(rb.Pos.X), fy(0)+rb.Radius*scale+18, fx(cur.Pos.X), fy(0)+cur.Radius*scale+18)
	p(`<text x="%.1f" y="%.1f" fill="#5f6368" text-anchor="middle">%.2f units apart; radius %g</text>`, (fx(rb.Pos.X)+fx(cur.Pos.X))/2, fy(0)+rb.Radius*scale+36, cur.Pos.X-rb.Pos.X, radius)
	p(`<text x="%g" y="628" fill="#5f6368" font-size="12">Drawn by go test ./rooms/lagcomp -run TestDiagram -update from the scenario of TestShotUnderLatency.</text>`, left)
	p(`</svg>`)
	return b.Bytes()
}
