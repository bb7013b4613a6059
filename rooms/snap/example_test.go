package snap_test

import (
	"fmt"
	"log"

	"github.com/tickwire/tickwire/rooms/snap"
)

// A server freezes a table every tick and sends deltas; a client applies
// them and acknowledges the newest tick it has.
func Example() {
	var world snap.Table
	world.Add(1).At(0, 0).Fixed(0, 0.01).String("ann")
	world.Add(2).At(50, 0).Fixed(50, 0.01).String("bob")
	t1, _ := world.Freeze(1)

	world.Reset()
	world.Add(1).At(0.25, 0).Fixed(0.25, 0.01).String("ann") // ann moved
	t2, _ := world.Freeze(2)                                 // bob left

	var client snap.Applier
	full := snap.AppendDelta(nil, nil, t1) // the client has acknowledged nothing yet
	if _, err := client.Apply(1, full); err != nil {
		log.Fatal(err)
	}
	delta := snap.AppendDelta(nil, t1, t2) // it acknowledged tick 1
	s, err := client.Apply(2, delta)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(full), "bytes full,", len(delta), "bytes delta")
	fmt.Println(s, "ack", client.Ack())
	// Output:
	// 21 bytes full, 10 bytes delta
	// tick 2: 1[25 ann] ack 2
}

// Quantized positions cost a few bytes and come back within half a step.
func ExamplePrecision() {
	const p = snap.Precision(0.01)
	q := p.Quantize(123.456)
	fmt.Println(q, p.Dequantize(q))
	// Output: 12346 123.46000000000001
}

// Each player sees the entities inside its view, and those without a
// position.
func ExampleState_View() {
	var world snap.Table
	world.Add(1).At(10, 10).String("near")
	world.Add(2).At(900, 900).String("far")
	world.Add(3).String("scoreboard") // no position: in every view
	s, _ := world.Freeze(1)
	fmt.Println(s.View(snap.Centered(0, 0, 100, 100)))
	// Output: tick 1: 1[near] 3[scoreboard]
}
