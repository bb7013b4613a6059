// Package netws implements the WebSocket protocol (RFC 6455) for tickwire,
// with the standard library only.
//
// A server upgrades requests with Upgrade on any net/http server, or with
// AcceptConn on a raw net.Conn; a client connects with Dial to a ws:// or
// wss:// URL. Both give a *Conn, which reads and writes whole messages:
//
//	c, err := netws.Upgrade(w, r, nil)
//	if err != nil {
//		return // Upgrade has answered the client with an HTTP error
//	}
//	defer c.CloseNow()
//	buf := make([]byte, 0, 4096)
//	for {
//		typ, msg, err := c.ReadMessage(buf[:0])
//		if err != nil {
//			return // a *CloseError says how the connection ended
//		}
//		if err := c.WriteMessage(typ, msg); err != nil {
//			return
//		}
//	}
//
// # What it does for you
//
// Reading validates every rule of RFC 6455 and fails the connection with
// the right close code and a reason: 1002 for protocol violations (unmasked
// client frames, masked server frames, RSV bits without an extension,
// reserved opcodes, fragmented or oversized control frames, continuation
// frames out of place, invalid close codes, and frame lengths that are not
// minimally encoded or have the 64-bit form's top bit set), 1007 for text
// that is not valid UTF-8 (detected as soon as the bytes arrive, in the
// middle of a frame if need be) and for close reasons that are not, 1009
// for messages over ConnOptions.ReadLimit (detected from the frame header,
// before the payload is read). Pings are answered, close frames are echoed
// and the TCP connection is closed afterwards.
//
// Writing fragments messages into frames of at most
// ConnOptions.MaxFrameSize, so pings, pongs and closes go out between the
// frames of a large message instead of waiting behind it. A
// PreparedMessage is encoded once and written to many server connections
// without copying.
//
// Each connection measures its round-trip time with pings that carry a
// sequence number and a send time (see RTTStats), and with
// ConnOptions.PingInterval set it pings by itself and closes a connection
// whose pongs stopped (close code 1001, reason "keepalive timeout").
//
// # Concurrency
//
// A Conn has one reader at a time: ReadMessage and NextReader fail with
// ErrConcurrentRead when called concurrently. Writing is safe from any
// number of goroutines; data messages go out whole, in turn. Ping, Close,
// CloseNow and RTT are safe from any goroutine at any time.
//
// # Not supported
//
// Extensions (permessage-deflate) are not negotiated; frames with RSV bits
// set are rejected. HTTP/2 WebSockets (RFC 8441) are not supported.
package netws
