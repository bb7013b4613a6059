package load

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/wire"
)

// roomWorker reads room messages and records each one's delivery latency:
// now minus the send time stamped in it.
type roomWorker struct{ rooms bool }

func (w *roomWorker) readBuf() int { return 64 << 10 }

func (w *roomWorker) run(c *client, phase *atomic.Int32, s *connStats) {
	var head [64]byte
	for {
		_, n, err := c.readMessage(head[:])
		now := time.Now().UnixNano()
		if err != nil {
			s.fail(phase, err)
			return
		}
		if phase.Load() != phaseMeasure {
			if phase.Load() == phaseStop {
				return
			}
			continue
		}
		var sent int64
		ok := false
		if w.rooms {
			sent, ok = wire.RoomsStamp(head[:min(n, len(head))])
		} else if n >= wire.StampSize {
			sent, ok = wire.Stamp(head[:]), true
		}
		if !ok {
			s.skipped++
			if s.skipped > 10 && s.h.Count() == 0 {
				s.fail(phase, fmt.Errorf("room: no stamp in %d messages (wrong -format?)", s.skipped))
				return
			}
			continue
		}
		s.h.Record(time.Duration(now - sent))
	}
}
