// Package wire holds what the benchmark's programs share: the send-time
// stamp in room payloads, the control lines between benchrun and its
// children, and the result the load generator reports.
package wire

import (
	"encoding/binary"
	"time"
)

// StampSize is the size of the send-time stamp at the start of a room
// payload.
const StampSize = 8

// PutStamp writes t (unix nanoseconds, little-endian) into b[:8].
func PutStamp(b []byte, t time.Time) {
	binary.LittleEndian.PutUint64(b, uint64(t.UnixNano()))
}

// Stamp reads the send time from b[:8], in unix nanoseconds.
func Stamp(b []byte) int64 {
	return int64(binary.LittleEndian.Uint64(b))
}
