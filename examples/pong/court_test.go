package main

import (
	"math"
	"testing"
	"time"
)

const step = time.Second / 60

// served returns a court whose ball is already moving.
func served() *Court {
	c := NewCourt()
	c.serveIn = 0
	return c
}

func TestBallWaitsForTheServe(t *testing.T) {
	c := NewCourt()
	for elapsed := time.Duration(0); elapsed+step < ServeDelay; elapsed += step {
		c.Step(step)
		if c.Ball.X != Width/2 || c.Ball.Y != Height/2 {
			t.Fatalf("the ball moved %v into the serve delay", elapsed)
		}
	}
	for range 3 {
		c.Step(step)
	}
	if c.Ball.X >= Width/2 {
		t.Fatalf("after the serve delay the ball is at x %v, want it moving left", c.Ball.X)
	}
}

func TestPaddlesMoveAndStayOnTheCourt(t *testing.T) {
	c := NewCourt()
	c.Paddles[0].Dir, c.Paddles[1].Dir = -1, 1
	c.Step(100 * time.Millisecond)
	if want := Height/2 - PaddleSpeed*0.1; math.Abs(c.Paddles[0].Y-want) > 1e-9 {
		t.Fatalf("left paddle at %v, want %v", c.Paddles[0].Y, want)
	}
	for range 200 {
		c.Step(step)
	}
	if c.Paddles[0].Y != PaddleHeight/2 || c.Paddles[1].Y != Height-PaddleHeight/2 {
		t.Fatalf("paddles at %v and %v, want stopped at the edges", c.Paddles[0].Y, c.Paddles[1].Y)
	}
}

func TestBounces(t *testing.T) {
	tests := []struct {
		name    string
		ball    Ball
		paddleY float64 // both paddles
		check   func(b Ball) bool
	}{
		{"off the top wall", Ball{X: 400, Y: 10, VX: 0, VY: -300}, 250, func(b Ball) bool { return b.VY > 0 && b.Y >= BallRadius }},
		{"off the bottom wall", Ball{X: 400, Y: 490, VX: 0, VY: 300}, 250, func(b Ball) bool { return b.VY < 0 && b.Y <= Height-BallRadius }},
		{"off the left paddle, faster", Ball{X: 50, Y: 250, VX: -400, VY: 0}, 250, func(b Ball) bool { return b.VX > 400 && math.Abs(b.VY) < 1e-9 }},
		{"off the right paddle", Ball{X: 750, Y: 250, VX: 400, VY: 0}, 250, func(b Ball) bool { return b.VX < -400 }},
		{"off a paddle's end, steeper", Ball{X: 50, Y: 290, VX: -400, VY: 0}, 250, func(b Ball) bool { return b.VX > 0 && b.VY > 200 }},
		{"past a paddle that is elsewhere", Ball{X: 50, Y: 450, VX: -400, VY: 0}, 100, func(b Ball) bool { return b.VX < 0 }},
	}
	for _, tt := range tests {
		c := served()
		c.Ball = tt.ball
		c.Paddles[0].Y, c.Paddles[1].Y = tt.paddleY, tt.paddleY
		for range 4 {
			c.Step(step)
		}
		if !tt.check(c.Ball) {
			t.Errorf("%s: ball %+v", tt.name, c.Ball)
		}
	}
}

func TestScoring(t *testing.T) {
	c := served()
	c.Paddles[0].Y = PaddleHeight / 2 // far from the ball's path
	c.Ball = Ball{X: 40, Y: 400, VX: -500}
	scorer := -1
	for i := 0; i < 60 && scorer < 0; i++ {
		scorer = c.Step(step)
	}
	if scorer != 1 || c.Paddles[1].Score != 1 || c.Paddles[0].Score != 0 {
		t.Fatalf("scorer %d, scores %d:%d; want the right side to score", scorer, c.Paddles[0].Score, c.Paddles[1].Score)
	}
	if c.Ball.X != Width/2 || c.serveIn != ServeDelay || c.Ball.VX >= 0 {
		t.Fatalf("after a point: ball %+v, serve in %v; want it served toward the side that lost", c.Ball, c.serveIn)
	}
}

func TestSpeedIsCapped(t *testing.T) {
	c := served()
	c.Ball = Ball{X: 400, Y: 250, VX: MaxSpeed, VY: 0}
	for range 60 * 30 { // 30 s of rallies: paddles follow the ball
		c.Paddles[0].Y, c.Paddles[1].Y = c.Ball.Y, c.Ball.Y
		c.Step(step)
		if v := math.Hypot(c.Ball.VX, c.Ball.VY); v > MaxSpeed+1e-9 {
			t.Fatalf("ball speed %v over the cap %v", v, MaxSpeed)
		}
	}
	if c.Paddles[0].Score+c.Paddles[1].Score != 0 {
		t.Fatal("a paddle following the ball missed it")
	}
}
