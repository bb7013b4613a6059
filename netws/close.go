package netws

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// StatusCode is a close status code (RFC 6455 section 7.4).
type StatusCode int

// Close status codes. Codes 1005, 1006 and 1015 are never sent on the wire;
// netws reports 1005 when the peer's close frame had no code and 1006 when
// the connection ended without a close frame.
const (
	StatusNormalClosure      StatusCode = 1000
	StatusGoingAway          StatusCode = 1001
	StatusProtocolError      StatusCode = 1002
	StatusUnsupportedData    StatusCode = 1003
	StatusNoStatusReceived   StatusCode = 1005
	StatusAbnormalClosure    StatusCode = 1006
	StatusInvalidPayload     StatusCode = 1007
	StatusPolicyViolation    StatusCode = 1008
	StatusMessageTooBig      StatusCode = 1009
	StatusMandatoryExtension StatusCode = 1010
	StatusInternalError      StatusCode = 1011
	StatusServiceRestart     StatusCode = 1012
	StatusTryAgainLater      StatusCode = 1013
	StatusBadGateway         StatusCode = 1014
	StatusTLSHandshake       StatusCode = 1015
)

var statusNames = map[StatusCode]string{
	StatusNormalClosure:      "normal closure",
	StatusGoingAway:          "going away",
	StatusProtocolError:      "protocol error",
	StatusUnsupportedData:    "unsupported data",
	StatusNoStatusReceived:   "no status received",
	StatusAbnormalClosure:    "abnormal closure",
	StatusInvalidPayload:     "invalid payload",
	StatusPolicyViolation:    "policy violation",
	StatusMessageTooBig:      "message too big",
	StatusMandatoryExtension: "mandatory extension",
	StatusInternalError:      "internal error",
	StatusServiceRestart:     "service restart",
	StatusTryAgainLater:      "try again later",
	StatusBadGateway:         "bad gateway",
	StatusTLSHandshake:       "TLS handshake",
}

func (s StatusCode) String() string {
	if n, ok := statusNames[s]; ok {
		return strconv.Itoa(int(s)) + " " + n
	}
	return strconv.Itoa(int(s))
}

// validWireCode reports whether code may appear in a close frame: the codes
// RFC 6455 defines for use, the IANA-registered 1012-1014, and the
// library (3000-3999) and private (4000-4999) ranges.
func validWireCode(code StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// CloseError reports how a connection was closed. ReadMessage and
// NextReader return it when the peer sent a close frame (Local is false),
// when netws closed the connection because of a protocol violation, a limit
// or a timeout (Local is true, Code is what was sent), or when the
// connection ended without a close frame (Code 1006, Err the cause).
type CloseError struct {
	Code   StatusCode
	Reason string
	Local  bool  // the close was decided on this side
	Err    error // underlying error, if any
}

func (e *CloseError) Error() string {
	who := "closed by peer"
	if e.Local {
		who = "closed"
	}
	s := "netws: " + who + ": " + e.Code.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *CloseError) Unwrap() error { return e.Err }

// CloseStatus returns the close code carried by err (a *CloseError anywhere
// in its chain), or -1 if there is none.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// parseClosePayload validates a received close frame's payload and returns
// its code (1005 when empty) and reason, or a *CloseError describing the
// violation that must be sent back.
func parseClosePayload(p []byte) (StatusCode, string, *CloseError) {
	switch {
	case len(p) == 0:
		return StatusNoStatusReceived, "", nil
	case len(p) == 1:
		return 0, "", localClose(StatusProtocolError, "close frame with a 1-byte payload")
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !validWireCode(code) {
		return 0, "", localClose(StatusProtocolError, fmt.Sprintf("invalid close code %d", int(code)))
	}
	if !validUTF8(p[2:]) {
		return 0, "", localClose(StatusInvalidPayload, "close reason is not valid UTF-8")
	}
	return code, string(p[2:]), nil
}

func localClose(code StatusCode, reason string) *CloseError {
	return &CloseError{Code: code, Reason: reason, Local: true}
}

// Close performs the closing handshake: it sends a close frame with code
// and reason, waits up to ConnOptions.CloseTimeout for the peer's close
// frame, then closes the TCP connection. If a reader is blocked in
// ReadMessage, the reader sees the peer's answer and returns a *CloseError;
// otherwise Close reads and discards frames itself until the answer comes.
//
// The reason must be valid UTF-8 of at most 123 bytes, and code a code that
// may be sent (1000-1003, 1007-1014, 3000-4999). Close is idempotent and
// safe to call from any goroutine; only the first call sends a frame.
func (c *Conn) Close(code StatusCode, reason string) error {
	if !validWireCode(code) {
		return fmt.Errorf("netws: close code %d may not be sent; use 1000-1003, 1007-1014 or 3000-4999", int(code))
	}
	if len(reason) > maxControlPayload-2 || !validUTF8([]byte(reason)) {
		return fmt.Errorf("netws: close reason must be valid UTF-8 of at most %d bytes", maxControlPayload-2)
	}
	if !c.closing.CompareAndSwap(false, true) {
		return nil
	}
	if c.keepalive != nil {
		c.keepalive.Stop()
	}
	if err := c.writeClose(code, reason); err != nil {
		c.CloseNow()
		if errors.Is(err, ErrClosed) {
			return nil
		}
		return err
	}
	c.awaitPeerClose()
	c.CloseNow()
	return nil
}

// awaitPeerClose waits, up to the close timeout, for the peer's close
// frame: through the active reader if there is one, or by reading and
// discarding frames here.
func (c *Conn) awaitPeerClose() {
	timeout := c.opts.CloseTimeout
	if c.readMu.TryLock() {
		defer c.readMu.Unlock()
		if c.readErr != nil {
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(timeout))
		for {
			if err := c.discardMessage(); err != nil {
				c.readErr = err
				return
			}
		}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.closeRecvd:
	case <-c.tcpClosed:
	case <-t.C:
	}
}

// writeClose sends a close frame. Only the first close frame is sent;
// later calls return ErrClosed.
func (c *Conn) writeClose(code StatusCode, reason string) error {
	return c.writeControl(opClose, closePayload(code, reason))
}

// closePayload encodes a close frame payload; 1005 means no code at all.
func closePayload(code StatusCode, reason string) []byte {
	if code == StatusNoStatusReceived {
		return nil
	}
	b := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(b, uint16(code))
	return append(b, reason...)
}

// onPeerClose handles a valid close frame from the peer: it answers with a
// close frame if this side has not sent one, marks the handshake done and
// ends the TCP connection (a server closes first; a client gives the
// server a moment to do so, as RFC 6455 section 7.1.1 suggests).
func (c *Conn) onPeerClose(code StatusCode, reason string) *CloseError {
	c.closeOnce.Do(func() { close(c.closeRecvd) })
	if !c.closeSent.Load() {
		c.writeClose(code, "")
	}
	if c.client {
		c.nc.SetReadDeadline(time.Now().Add(min(c.opts.CloseTimeout, time.Second)))
		io.Copy(io.Discard, c.nc)
	}
	c.CloseNow()
	return &CloseError{Code: code, Reason: reason}
}

// failRead ends the connection because of what was read: it sends a close
// frame with ce's code and reason (unless one was sent already), closes
// the TCP connection and returns ce.
func (c *Conn) failRead(ce *CloseError) *CloseError {
	if !c.closeSent.Load() {
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		c.writeClose(ce.Code, truncateReason(ce.Reason))
	}
	c.fail(ce)
	return ce
}

// truncateReason shortens s to fit a close frame, on a UTF-8 boundary.
func truncateReason(s string) string {
	const max = maxControlPayload - 2
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}

// readFailure converts a network error seen by the reader into the error
// to report: the recorded local cause if the connection was failed on
// purpose, else a 1006 CloseError wrapping the network error.
func (c *Conn) readFailure(err error) error {
	if f := c.failure(); f != nil {
		return f
	}
	select {
	case <-c.tcpClosed:
		return ErrClosed
	default:
	}
	var ne net.Error
	reason := "connection ended without a close frame"
	if errors.As(err, &ne) && ne.Timeout() {
		reason = "read deadline exceeded"
	}
	c.CloseNow()
	return &CloseError{Code: StatusAbnormalClosure, Reason: reason, Local: true, Err: err}
}
