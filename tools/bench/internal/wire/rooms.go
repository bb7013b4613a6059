package wire

// RoomsStamp finds the send-time stamp in the head of a tickwire rooms
// message. A batch is the msgpack array
// [2, tick, server time ms, last input seq, snapshot, events], and the
// benchmark's snapshot is a bin value whose first 8 bytes are the stamp.
// It reports false for other messages (the welcome) and for heads too
// short to hold the stamp.
func RoomsStamp(head []byte) (int64, bool) {
	if len(head) < 2 || head[0] != 0x96 || head[1] != 2 {
		return 0, false
	}
	i := 2
	for range 3 { // tick, time, seq
		n := intSize(head, i)
		if n == 0 {
			return 0, false
		}
		i += n
	}
	if i >= len(head) {
		return 0, false
	}
	switch head[i] {
	case 0xc4:
		i += 2
	case 0xc5:
		i += 3
	case 0xc6:
		i += 5
	default:
		return 0, false
	}
	if i+StampSize > len(head) {
		return 0, false
	}
	return Stamp(head[i:]), true
}

// intSize returns the encoded size of the msgpack integer at b[i], or 0 if
// there is none.
func intSize(b []byte, i int) int {
	if i >= len(b) {
		return 0
	}
	switch c := b[i]; {
	case c <= 0x7f || c >= 0xe0:
		return 1
	case c == 0xcc || c == 0xd0:
		return 2
	case c == 0xcd || c == 0xd1:
		return 3
	case c == 0xce || c == 0xd2:
		return 5
	case c == 0xcf || c == 0xd3:
		return 9
	}
	return 0
}
