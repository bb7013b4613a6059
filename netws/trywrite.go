package netws

import (
	"os"
	"sync"
	"syscall"
)

// tryBufPool holds the buffers TryWritePreparedPrefixed assembles a
// message in; they keep the size they grew to, a message's worth.
var tryBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// A broadcast loop that writes one message to many connections spends
// most of its time waking a writer goroutine per connection unless it can
// write directly: TryWritePrepared writes from the caller's goroutine when
// the socket can take the bytes now, and only a connection that cannot
// keep up needs a writer goroutine of its own.

// rawWriter writes to a connection's file descriptor without waiting. Its
// callback is a method value made once, so writes do not allocate.
type rawWriter struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool
	buf []byte // what to write
	n   int    // how much of buf the last write took
	err error
}

// TryWritePrepared writes pm without waiting, for a loop that broadcasts
// to many connections from one goroutine. It reports whether pm was
// handed to the connection:
//
//   - true: the socket took all of pm, or took part of it and the rest is
//     being written by a goroutine of the connection's own (writes that
//     follow wait for it, as they would for any write in progress);
//   - false, nil: nothing was written, because another write is in
//     progress or waiting, the socket can take no bytes now, or the
//     connection cannot write without waiting (a client connection,
//     which masks its frames, or one without a file descriptor, such as
//     TLS). Queue pm for a writer goroutine that calls WritePrepared, or
//     drop it;
//   - false and an error: the connection has failed, as WritePrepared
//     would report.
//
// TryWritePrepared never blocks, so a slow connection cannot delay the
// loop; it is safe to call concurrently with the Conn's other methods.
func (c *Conn) TryWritePrepared(pm *PreparedMessage) (bool, error) {
	if ok, err := c.tryLockMessage(); !ok {
		return false, err
	}
	n, err := c.writeNow(pm.frames)
	if done, err := c.afterTry(n, len(pm.frames), err); done || err != nil {
		return n > 0 && err == nil, err
	}
	// The locks pass to the goroutine, which releases them.
	go c.finishPrepared(pm, n)
	return true, nil
}

// TryWritePreparedPrefixed is to WritePreparedPrefixed what
// TryWritePrepared is to WritePrepared. It writes only messages of one
// frame: for a longer pm it returns false, nil, and the caller's queued
// WritePreparedPrefixed writes it with control frames between its frames.
func (c *Conn) TryWritePreparedPrefixed(prefix []byte, pm *PreparedMessage) (bool, error) {
	if len(pm.ends) != 1 || len(prefix) > c.opts.MaxFrameSize {
		return false, nil
	}
	if ok, err := c.tryLockMessage(); !ok {
		return false, err
	}
	// The prefix frame, then pm's frame as its continuation, in one buffer
	// (a copy costs far less than the system call it saves).
	n := putHeader(c.hdr[:], false, opcode(pm.typ), len(prefix), false, [4]byte{})
	bp := tryBufPool.Get().(*[]byte)
	b := append(append((*bp)[:0], c.hdr[:n]...), prefix...)
	b = append(b, pm.frames[0]&^0x0F|byte(opContinuation))
	b = append(b, pm.frames[1:]...)
	w, err := c.writeNow(b)
	if done, err := c.afterTry(w, len(b), err); done || err != nil {
		*bp = b[:0]
		tryBufPool.Put(bp)
		return w > 0 && err == nil, err
	}
	go func() {
		defer c.msgMu.Unlock()
		_, err := c.nc.Write(b[w:])
		*bp = b[:0]
		tryBufPool.Put(bp)
		c.unlockWrite(err)
	}()
	return true, nil
}

// tryLockMessage takes the message and frame locks for a try-write if
// they are free and the connection can write without waiting. It returns
// false with a nil error when it cannot, and the connection's error when
// it has failed.
func (c *Conn) tryLockMessage() (bool, error) {
	if c.client || c.raw == nil || c.ctrlWaiting.Load() > 0 {
		return false, nil
	}
	if !c.msgMu.TryLock() {
		return false, nil
	}
	if err := c.lockWrite(opBinary, true); err != nil {
		c.msgMu.Unlock()
		if err == errWriteBusy {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// afterTry ends a try-write that wrote n of size bytes: it releases the
// locks and reports done when the write failed, wrote nothing or wrote
// everything; otherwise the caller must finish the write and release them.
func (c *Conn) afterTry(n, size int, err error) (done bool, _ error) {
	if err == nil && n > 0 && n < size {
		return false, nil
	}
	err = c.unlockWrite(err)
	c.msgMu.Unlock()
	return true, err
}

// finishPrepared writes the rest of pm after its first n bytes, holding
// msgMu and the frame lock that TryWritePrepared took, and releases them.
// It ends the partly written frame under that lock, then writes the
// remaining frames like WritePrepared, letting control frames go between.
func (c *Conn) finishPrepared(pm *PreparedMessage, n int) {
	defer c.msgMu.Unlock()
	i := 0
	for pm.ends[i] <= n {
		i++
	}
	_, err := c.nc.Write(pm.frames[n:pm.ends[i]])
	if c.unlockWrite(err) != nil || i+1 == len(pm.ends) {
		return
	}
	c.writeFramesFrom(pm, i+1)
}

// writeNow writes as much of b as the socket takes without waiting; the
// frame lock must be held.
func (c *Conn) writeNow(b []byte) (int, error) {
	w := c.rawW
	if w == nil {
		w = &rawWriter{rc: c.raw.rc}
		w.fn = c.rawWrite
		c.rawW = w
	}
	w.buf, w.n, w.err = b, 0, nil
	if err := w.rc.Write(w.fn); err != nil {
		return 0, err
	}
	n, err := w.n, w.err
	w.buf = nil
	return n, err
}

// rawWrite is writeNow's RawConn callback: it writes until the socket is
// full or b is written, and never asks to wait.
func (c *Conn) rawWrite(fd uintptr) bool {
	w := c.rawW
	for w.n < len(w.buf) {
		n, err := syscall.Write(int(fd), w.buf[w.n:])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil {
			w.err = os.NewSyscallError("write", err)
			break
		}
		if n <= 0 {
			break
		}
		w.n += n
	}
	return true
}
