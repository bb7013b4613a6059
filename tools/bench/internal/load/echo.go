package load

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// echoWorker writes one binary message of size bytes, waits for its echo,
// and records the round trip; one message in flight per connection.
type echoWorker struct{ size int }

func (w *echoWorker) readBuf() int { return max(4096, min(w.size+16, 64<<10)) }

func (w *echoWorker) run(c *client, phase *atomic.Int32, s *connStats) {
	payload := make([]byte, w.size)
	for i := range payload {
		payload[i] = byte(i)
	}
	var head [8]byte
	for {
		p := phase.Load()
		if p == phaseStop {
			return
		}
		t0 := time.Now()
		if err := c.write(ws.OpBinary, payload); err != nil {
			s.fail(phase, err)
			return
		}
		op, n, err := c.readMessage(head[:])
		if err != nil {
			s.fail(phase, err)
			return
		}
		d := time.Since(t0)
		if op != ws.OpBinary || n != w.size {
			s.fail(phase, fmt.Errorf("echo: got %v of %d bytes, want binary of %d", op, n, w.size))
			return
		}
		if p == phaseMeasure && phase.Load() == phaseMeasure {
			s.h.Record(d)
		}
	}
}
