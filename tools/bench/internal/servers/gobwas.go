package servers

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"

	"github.com/gobwas/ws"
)

// gobwasLib serves with gobwas/ws's low-level API, the way it is meant for
// speed: frame headers read with ws.ReadHeaderBuffer from the bufio.Reader
// net/http hijacked, payloads read into a reused buffer and unmasked with
// ws.Cipher, and the echo frame (header and payload) written with one
// Write from a reused buffer. The room compiles the tick's frame once
// (ws.CompileFrame) and writes the same bytes to every connection.
type gobwasLib struct {
	hub *hub
	c   *counters
}

func newGobwas(cfg Config, c *counters) *gobwasLib {
	l := &gobwasLib{c: c}
	l.hub = newHub(cfg, c, func(p []byte) any {
		f := ws.MustCompileFrame(ws.NewBinaryFrame(p))
		return &f
	}, nil)
	return l
}

func (l *gobwasLib) run(ctx context.Context) { l.hub.run(ctx) }
func (l *gobwasLib) dropped() uint64         { return 0 }

// sliceWriter appends what is written to b.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (l *gobwasLib) echo(w http.ResponseWriter, r *http.Request) {
	nc, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	go func() {
		defer l.c.track()()
		defer nc.Close()
		serveGobwasEcho(nc, rw.Reader)
	}()
}

func serveGobwasEcho(nc net.Conn, br *bufio.Reader) {
	var hb [ws.MaxHeaderSize]byte
	var buf []byte
	var out sliceWriter
	for {
		h, err := ws.ReadHeaderBuffer(br, hb[:])
		if err != nil || h.Length > readLimit || !h.Masked || h.Rsv != 0 {
			return
		}
		n := int(h.Length)
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		p := buf[:n]
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		ws.Cipher(p, h.Mask, 0)
		switch h.OpCode {
		case ws.OpPong:
			continue
		case ws.OpPing:
			h.OpCode = ws.OpPong
		case ws.OpClose:
			// Echo the close frame, then end the connection.
		}
		// Frames go back as they came (fragments included), unmasked.
		out.b = out.b[:0]
		if err := ws.WriteHeaderBuffer(&out, ws.Header{Fin: h.Fin, OpCode: h.OpCode, Length: h.Length}, hb[:]); err != nil {
			return
		}
		out.b = append(out.b, p...)
		if _, err := nc.Write(out.b); err != nil || h.OpCode == ws.OpClose {
			return
		}
	}
}

func (l *gobwasLib) room(w http.ResponseWriter, r *http.Request) {
	nc, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	go func() {
		defer l.c.track()()
		defer nc.Close()
		write := func(f *[]byte) error { _, err := nc.Write(*f); return err }
		// The reader discards whatever the client sends (the room's
		// clients send nothing) and returns on a close frame or an error;
		// only the writer goroutine writes.
		serveRoomConn(l.hub, write, func() {
			var hb [ws.MaxHeaderSize]byte
			for {
				h, err := ws.ReadHeaderBuffer(rw.Reader, hb[:])
				if err != nil || h.OpCode == ws.OpClose {
					return
				}
				if _, err := rw.Reader.Discard(int(h.Length)); err != nil {
					return
				}
			}
		})
	}()
}
