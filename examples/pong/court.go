package main

import (
	"math"
	"time"
)

// Court is pong's rules and state: two paddles, one ball. It is pure: the
// room steps it once a tick.
type Court struct {
	Paddles [2]Paddle // left, right
	Ball    Ball
	serveIn time.Duration // the ball waits this long before it moves
}

// Paddle is one player's paddle: Y is its centre.
type Paddle struct {
	Y     float64
	Dir   float64 // -1 up, 0 still, 1 down: the player's latest input
	Score int
}

// Ball is the ball: position and velocity in units a second.
type Ball struct {
	X  float64 `msgpack:"x"`
	Y  float64 `msgpack:"y"`
	VX float64 `msgpack:"vx"`
	VY float64 `msgpack:"vy"`
}

// The court's dimensions and speeds, in units (pixels at scale 1).
const (
	Width        = 800.0
	Height       = 500.0
	PaddleHeight = 90.0
	PaddleWidth  = 12.0
	PaddleInset  = 24.0 // from the court's side to the paddle's face
	PaddleSpeed  = 420.0
	BallRadius   = 8.0
	ServeSpeed   = 330.0
	MaxSpeed     = 900.0
	SpeedUp      = 1.06 // per paddle hit
	ServeDelay   = time.Second
)

// NewCourt returns a court with centred paddles and the ball about to be
// served toward the left player.
func NewCourt() *Court {
	c := &Court{}
	c.Paddles[0].Y, c.Paddles[1].Y = Height/2, Height/2
	c.serve(-1)
	return c
}

// serve puts the ball in the middle, to move toward side dir (-1 left,
// 1 right) after ServeDelay.
func (c *Court) serve(dir float64) {
	c.Ball = Ball{X: Width / 2, Y: Height / 2, VX: dir * ServeSpeed * math.Cos(math.Pi/8), VY: ServeSpeed * math.Sin(math.Pi/8)}
	c.serveIn = ServeDelay
}

// Step advances the court by dt: paddles move as their players hold them,
// the ball flies, bounces off the walls and paddles, and a ball past a
// paddle scores for the other side. It returns the side that scored this
// step (0 left, 1 right) or -1.
func (c *Court) Step(dt time.Duration) int {
	s := dt.Seconds()
	for i := range c.Paddles {
		p := &c.Paddles[i]
		p.Y = max(PaddleHeight/2, min(Height-PaddleHeight/2, p.Y+p.Dir*PaddleSpeed*s))
	}
	if c.serveIn > 0 {
		c.serveIn -= dt
		return -1
	}
	b := &c.Ball
	b.X += b.VX * s
	b.Y += b.VY * s
	if b.Y < BallRadius {
		b.Y, b.VY = 2*BallRadius-b.Y, math.Abs(b.VY)
	}
	if b.Y > Height-BallRadius {
		b.Y, b.VY = 2*(Height-BallRadius)-b.Y, -math.Abs(b.VY)
	}
	// The paddles' faces.
	left, right := PaddleInset+PaddleWidth, Width-PaddleInset-PaddleWidth
	if b.VX < 0 && b.X-BallRadius <= left && b.X-BallRadius > left-PaddleWidth-BallRadius && c.covers(0, b.Y) {
		c.bounce(0, left+BallRadius)
	}
	if b.VX > 0 && b.X+BallRadius >= right && b.X+BallRadius < right+PaddleWidth+BallRadius && c.covers(1, b.Y) {
		c.bounce(1, right-BallRadius)
	}
	switch {
	case b.X < -BallRadius:
		c.Paddles[1].Score++
		c.serve(-1)
		return 1
	case b.X > Width+BallRadius:
		c.Paddles[0].Score++
		c.serve(1)
		return 0
	}
	return -1
}

// covers reports whether side's paddle spans height y (with the ball's radius).
func (c *Court) covers(side int, y float64) bool {
	return math.Abs(y-c.Paddles[side].Y) <= PaddleHeight/2+BallRadius
}

// bounce sends the ball back from side's paddle, faster, and steeper the
// farther from the paddle's centre it hit.
func (c *Court) bounce(side int, x float64) {
	b := &c.Ball
	speed := min(MaxSpeed, math.Hypot(b.VX, b.VY)*SpeedUp)
	off := max(-1, min(1, (b.Y-c.Paddles[side].Y)/(PaddleHeight/2)))
	angle := off * math.Pi / 3.5
	dir := 1.0
	if side == 1 {
		dir = -1
	}
	b.X = x
	b.VX, b.VY = dir*speed*math.Cos(angle), speed*math.Sin(angle)
}
