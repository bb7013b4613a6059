// Command benchserver serves one WebSocket library for the benchmark:
// /echo echoes every message with its type, /room broadcasts one -size
// byte binary message at -rate Hz to every connected client, the first 8
// bytes carrying the send time (unix nanoseconds, little-endian).
//
//	benchserver -lib netws -addr 127.0.0.1:0 -size 4096 -rate 60
//
// It prints the address it listens on as its first line on stdout (then,
// with -pprof, "pprof ADDR"). With -versions it prints the versions of the
// WebSocket libraries it was built with and exits. On
// SIGUSR1 it runs a GC, returns freed memory to the OS and prints one
// "stats {json}" line; on SIGINT or SIGTERM, or after -max-lifetime, it
// exits.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tickwire/tickwire/tools/bench/internal/servers"
	"github.com/tickwire/tickwire/tools/bench/internal/sysx"
	"github.com/tickwire/tickwire/tools/bench/internal/wire"

	_ "net/http/pprof" // served on -pprof only
)

func main() {
	lib := flag.String("lib", "netws", "library to serve: "+strings.Join(servers.Libraries, ", "))
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (loopback only in this benchmark)")
	size := flag.Int("size", 4096, "room message size in bytes (at least 8)")
	rate := flag.Int("rate", 60, "room ticks per second")
	pprofAddr := flag.String("pprof", "", "if set, serve net/http/pprof on this address (e.g. 127.0.0.1:6060)")
	lifetime := flag.Duration("max-lifetime", 30*time.Minute, "exit after this long no matter what")
	versions := flag.Bool("versions", false, "print the libraries' versions and exit")
	flag.Parse()
	if *versions {
		printVersions()
		return
	}

	if _, _, err := sysx.RaiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "benchserver: raising RLIMIT_NOFILE:", err)
	}
	srv, err := servers.New(*lib, servers.Config{Size: *size, Rate: *rate})
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(1)
	}
	var pln net.Listener
	if *pprofAddr != "" {
		if pln, err = net.Listen("tcp", *pprofAddr); err != nil {
			fmt.Fprintln(os.Stderr, "benchserver: pprof:", err)
			os.Exit(1)
		}
		go http.Serve(pln, http.DefaultServeMux)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *lifetime)
	defer cancel()
	go srv.Run(ctx)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	fmt.Println(ln.Addr().String())
	if pln != nil {
		fmt.Println("pprof " + pln.Addr().String())
	}

	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGINT, syscall.SIGTERM)
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "benchserver: -max-lifetime reached; exiting")
			os.Exit(0)
		case s := <-sig:
			if s != syscall.SIGUSR1 {
				hs.Close()
				return
			}
			printStats(srv)
		}
	}
}

// printStats collects garbage, returns freed memory to the OS and prints
// the server's statistics.
func printStats(srv *servers.Server) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := srv.Stats()
	st.Goroutines = runtime.NumGoroutine()
	st.HeapInuse = ms.HeapInuse
	st.StackInuse = ms.StackInuse
	st.Sys = ms.Sys
	b, _ := json.Marshal(st)
	fmt.Println(wire.StatsPrefix + string(b))
}

// printVersions prints "path version" for each WebSocket library and Go.
func printVersions() {
	fmt.Println("go", runtime.Version())
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	want := []string{"github.com/gorilla/websocket", "github.com/lxzan/gws", "github.com/gobwas/ws", "github.com/coder/websocket"}
	for _, d := range bi.Deps {
		if slices.Contains(want, d.Path) {
			fmt.Println(d.Path, d.Version)
		}
	}
}
