package rooms

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tickwire/tickwire/netws"
	"github.com/vmihailenco/msgpack/v5"
)

// TestPingAnsweredInsideALargeBatch proves that control frames interleave
// with a fragmented batch: a client with a small receive buffer starts
// reading a 256 KiB snapshot, pings, and gets the pong before the rest of
// the snapshot has arrived. Small socket buffers on both sides keep the
// server's writer blocked mid-batch, as a slow network would.
func TestPingAnsweredInsideALargeBatch(t *testing.T) {
	g := &counterGame{snapSize: 256 << 10}
	smallSendBuffer := func(c *netws.Conn) { c.NetConn().(*net.TCPConn).SetWriteBuffer(16 << 10) }
	_, url := startRoom(t, g, RoomOptions{TickRate: 2, FrameSize: 4 << 10}, smallSendBuffer)
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(16 << 10) // keep the server's writes blocked
		}
		return c, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, url, &netws.DialOptions{NetDial: dialer, ConnOptions: netws.ConnOptions{ReadLimit: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	b, _ := msgpack.Marshal([]any{ClientJoin, JoinRequest{}})
	c.WriteMessage(netws.Binary, b)
	for {
		_, r, err := c.NextReader()
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 2)
		if _, err := io.ReadFull(r, head); err != nil {
			t.Fatal(err)
		}
		if head[1] != ServerBatch {
			io.Copy(io.Discard, r)
			continue
		}
		// Inside a batch: read a little, ping, then read the rest slowly
		// and watch for the pong.
		chunk := make([]byte, 1024)
		io.ReadFull(r, chunk)
		if err := c.Ping(); err != nil {
			t.Fatal(err)
		}
		read, atPong := 0, -1
		for {
			n, err := r.Read(chunk)
			read += n
			if atPong < 0 && c.RTT().PongsMatched > 0 {
				atPong = read
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		// The pong must come with at least a whole frame of the batch
		// still to arrive.
		if atPong < 0 || read-atPong < 4<<10 {
			t.Fatalf("pong arrived after %d of the %d batch bytes that followed the ping: not inside the batch", atPong, read)
		}
		t.Logf("pong arrived after %d of the %d batch bytes that followed the ping", atPong, read)
		return
	}
}
