package load

import "sync/atomic"

// idleWorker holds its connection open and does nothing.
type idleWorker struct{}

func (idleWorker) readBuf() int                                     { return 0 }
func (idleWorker) run(c *client, phase *atomic.Int32, s *connStats) {}
