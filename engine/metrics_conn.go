package engine

import (
	"errors"
	"strconv"

	"github.com/tickwire/tickwire/netws"
)

// meteredConn is a player's connection that counts its traffic into the
// engine's metrics and remembers how its reading ended. Its reader is the
// goroutine that serves the player, which also calls end.
type meteredConn struct {
	*netws.Conn
	m       *metrics
	readErr error
}

// meter starts counting c's traffic.
func (m *metrics) meter(c *netws.Conn) *meteredConn {
	m.connections.Inc()
	m.accepted.Inc()
	return &meteredConn{Conn: c, m: m}
}

// ReadMessage reads a message, counting it.
func (c *meteredConn) ReadMessage(dst []byte) (netws.MessageType, []byte, error) {
	typ, b, err := c.Conn.ReadMessage(dst)
	if err != nil {
		if c.readErr == nil {
			c.readErr = err
		}
		return typ, b, err
	}
	c.m.messagesIn.Inc()
	c.m.bytesIn.Add(float64(len(b)))
	return typ, b, nil
}

// WriteMessage writes a message, counting it.
func (c *meteredConn) WriteMessage(typ netws.MessageType, p []byte) error {
	err := c.Conn.WriteMessage(typ, p)
	if err == nil {
		c.m.messagesOut.Inc()
		c.m.bytesOut.Add(float64(len(p)))
	}
	return err
}

// WritePreparedPrefixed writes a batch, counting it.
func (c *meteredConn) WritePreparedPrefixed(prefix []byte, pm *netws.PreparedMessage) error {
	err := c.Conn.WritePreparedPrefixed(prefix, pm)
	if err == nil {
		c.m.messagesOut.Inc()
		c.m.bytesOut.Add(float64(len(prefix) + len(pm.Payload())))
	}
	return err
}

// TryWritePreparedPrefixed writes a batch if the socket takes it at once,
// counting it. Rooms write batches this way when they can; without this
// method the embedded *netws.Conn's would write them uncounted.
func (c *meteredConn) TryWritePreparedPrefixed(prefix []byte, pm *netws.PreparedMessage) (bool, error) {
	ok, err := c.Conn.TryWritePreparedPrefixed(prefix, pm)
	if ok {
		c.m.messagesOut.Inc()
		c.m.bytesOut.Add(float64(len(prefix) + len(pm.Payload())))
	}
	return ok, err
}

// end counts the connection as closed, by the close code its reading
// ended with.
func (c *meteredConn) end() {
	c.m.connections.Dec()
	code, by, protocol := closeLabels(c.readErr)
	c.m.closed.WithLabelValues(code, by).Inc()
	if protocol {
		c.m.protocolErrors.WithLabelValues(code).Inc()
	}
}

// closeError returns the *netws.CloseError in err's chain, or nil.
func closeError(err error) *netws.CloseError {
	var ce *netws.CloseError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// closeLabels returns the metric labels of a connection whose reading
// ended with err: its close code ("none" when it carried none), which side
// decided the close, and whether the client broke the protocol.
func closeLabels(err error) (code, by string, protocol bool) {
	ce := closeError(err)
	if ce == nil {
		return "none", "server", false
	}
	by = "client"
	if ce.Local {
		by = "server"
	}
	switch ce.Code {
	case netws.StatusProtocolError, netws.StatusUnsupportedData, netws.StatusInvalidPayload, netws.StatusMessageTooBig:
		protocol = ce.Local
	}
	return strconv.Itoa(int(ce.Code)), by, protocol
}
