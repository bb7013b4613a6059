package lagcomp_test

import (
	"fmt"
	"log"
	"time"

	"github.com/tickwire/tickwire/rooms/lagcomp"
)

// A target crosses the field at 10 units a second while a player with a
// 100 ms round trip and a 100 ms interpolation delay shoots at it. The
// player saw the target 150 ms in the past; rewinding by as much, the
// server finds it where the player aimed.
func ExampleHistory_Rewind() {
	h, err := lagcomp.New(lagcomp.Options{TickRate: 20})
	if err != nil {
		log.Fatal(err)
	}
	start := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	step := 50 * time.Millisecond // 20 Hz

	// Every tick, after moving the entities, record their hit volumes
	// with the tick's start time.
	bodies := make([]lagcomp.Body, 2)
	for n := range 20 {
		x := float64(n) * 0.5 // 10 units a second
		bodies[0] = lagcomp.Body{ID: 1, Pos: lagcomp.Vec{X: x}, Radius: 0.5}
		bodies[1] = lagcomp.Body{ID: 2, Pos: lagcomp.Vec{Y: -20}, Radius: 0.5}
		if err := h.Record(start.Add(time.Duration(n)*step), bodies); err != nil {
			log.Fatal(err)
		}
	}

	// Tick 20 applies player 2's shot, aimed at x = 8.5: where the
	// target was 150 ms ago and where the player's screen showed it.
	now := start.Add(20 * step)
	v, err := h.Rewind(now, lagcomp.Lag{RTT: 100 * time.Millisecond, Interp: 100 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	from, to := lagcomp.Vec{Y: -20}, lagcomp.Vec{X: 17, Y: 20}
	fmt.Printf("rewound by %v (asked %v, clamped %v)\n", v.By, v.Want, v.Clamped)
	if hit, ok := v.Trace(from, to, 2); ok {
		fmt.Printf("hit entity %d at x=%.2f\n", hit.Body.ID, hit.Body.Pos.X)
	}

	// Without compensation, the newest frame has the target at x = 9.5.
	v, _ = h.Rewind(now, lagcomp.Lag{})
	_, ok := v.Trace(from, to, 2)
	fmt.Printf("uncompensated: rewound by %v, hit %v\n", v.By, ok)
	// Output:
	// rewound by 150ms (asked 150ms, clamped false)
	// hit entity 1 at x=8.50
	// uncompensated: rewound by 50ms, hit false
}
