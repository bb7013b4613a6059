package netws_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tickwire/tickwire/netws"
)

// An echo server on a plain net/http server, and a client talking to it.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := netws.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with an HTTP error saying why
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(buf[:0])
			if err != nil {
				return
			}
			buf = msg
			if err := c.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(netws.Text, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	typ, msg, err := c.ReadMessage(nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(typ, string(msg))
	c.Close(netws.StatusNormalClosure, "bye")
	// Output: text hello
}

// A prepared message is framed once and written to every connection of a
// broadcast without further copying.
func ExampleNewPreparedMessage() {
	var players []*netws.Conn // the connections of a room
	snapshot := []byte("state of the world")
	pm, err := netws.NewPreparedMessage(netws.Binary, snapshot, 16<<10)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range players {
		if err := c.WritePrepared(pm); err != nil {
			c.CloseNow()
		}
	}
	fmt.Println(pm.Type(), len(pm.Payload()))
	// Output: binary 18
}

// Pinging every second keeps a connection alive and measures its
// round-trip time; RTT reports the figures.
func ExampleConn_RTT() {
	opts := &netws.UpgradeOptions{ConnOptions: netws.ConnOptions{
		PingInterval: time.Second,     // an RTT ping every second
		PongTimeout:  3 * time.Second, // unanswered after 3 s: counted as lost
	}}
	handler := func(w http.ResponseWriter, r *http.Request) {
		c, err := netws.Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		done := make(chan struct{})
		defer close(done)
		go func() {
			t := time.NewTicker(10 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					s := c.RTT()
					log.Printf("rtt %v (min %v, p99 %v), loss %.1f%%", s.Smoothed, s.Min, s.P99, 100*s.Loss())
				}
			}
		}()
		for { // pongs are processed while reading
			if _, _, err := c.ReadMessage(nil); err != nil {
				return
			}
		}
	}
	_ = handler
}

// Close codes and reasons travel in a *CloseError.
func ExampleCloseStatus() {
	err := error(&netws.CloseError{Code: netws.StatusGoingAway, Reason: "server restarting"})
	fmt.Println(netws.CloseStatus(err))
	fmt.Println(err)
	// Output:
	// 1001 going away
	// netws: closed by peer: 1001 going away: server restarting
}
