// Package proxy is a TCP proxy that impairs the traffic it forwards: it
// delays every chunk of bytes each way, varies that delay (jitter), and
// stalls connections, holding their traffic for a while, all in user space,
// so that latency measurement can be tested where the kernel offers no
// traffic shaping (netem).
//
// It forwards bytes, not packets: a chunk is what one read from a socket
// returned. TCP keeps bytes in order, so a chunk never overtakes the one
// before it; with jitter, a chunk due before its predecessor waits for it.
//
//	p, err := proxy.Listen("127.0.0.1:0", "127.0.0.1:8080", proxy.Options{Delay: 30 * time.Millisecond})
//	if err != nil {
//		return err
//	}
//	defer p.Close()
//	// connect to p.Addr() instead of 127.0.0.1:8080
//
// It is a test and diagnosis tool, not a production proxy: it does not
// limit its connections and holds up to 2 MiB per direction of each.
// The impair command (go run ./tools/impair) wraps it.
package proxy
