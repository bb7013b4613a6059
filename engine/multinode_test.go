package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tickwire/tickwire/engine/internal/directory"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// The multi-node test runs three node processes (this test binary, re-run
// with TICKWIRE_TEST_NODE set, see TestNodeProcess) behind one real Redis,
// and bots that matchmake through them.

const (
	multiNodeHeartbeat = 300 * time.Millisecond
	multiNodeExpiry    = 3 * time.Second
	multiNodeBots      = 300
	multiNodeSeats     = 4
)

// quadGame is a four-seat game whose snapshot, one per room, is the
// number of players.
type quadGame struct {
	room  *rooms.Room
	count int
}

func (g *quadGame) Init(r *rooms.Room) error                        { g.room = r; return nil }
func (g *quadGame) Join(p *rooms.Player, opts []byte) error         { return nil }
func (g *quadGame) Leave(p *rooms.Player, reason rooms.LeaveReason) {}
func (g *quadGame) Input(p *rooms.Player, seq uint32, data []byte)  {}
func (g *quadGame) Tick(t tick.Tick)                                { g.count = len(g.room.Players()) }
func (g *quadGame) Snapshot(p *rooms.Player) any                    { return &g.count }

// TestNodeProcess is a node of TestMultiNode when TICKWIRE_TEST_NODE is
// set, and skips otherwise. It prints "LISTENING addr" once it serves, and
// stops gracefully on SIGTERM or when its standard input closes (the test
// is gone).
func TestNodeProcess(t *testing.T) {
	id := os.Getenv("TICKWIRE_TEST_NODE")
	if id == "" {
		t.Skip("a node process for TestMultiNode, not a test of its own")
	}
	e, err := New(Config{
		Redis: os.Getenv("TICKWIRE_TEST_NODE_REDIS"),
		Directory: DirectoryOptions{
			NodeID: id, KeyPrefix: os.Getenv("TICKWIRE_TEST_NODE_PREFIX"),
			Heartbeat: multiNodeHeartbeat, Expiry: multiNodeExpiry,
		},
		LogLevel: "warn",
		Monitor:  MonitorConfig{Disabled: true},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	e.Register("quad", func() rooms.Game { return &quadGame{} }, &rooms.RoomOptions{MaxPlayers: multiNodeSeats, TickRate: 10})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	go func() { io.Copy(io.Discard, os.Stdin); stop <- syscall.SIGTERM }()
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	}()
	fmt.Printf("LISTENING %s\n", ln.Addr())
	e.Serve(ln)
	os.Exit(0)
}

// testRedis returns the URL of a Redis for the test: TICKWIRE_REDIS_URL,
// else one answering on 127.0.0.1:6379, else a redis-server it starts. It
// skips, loudly, when there is none, or fails when TICKWIRE_REQUIRE_REDIS
// is 1.
func testRedis(t *testing.T) string {
	t.Helper()
	answers := func(url string) error {
		d, err := directory.Open(directory.Options{URL: url})
		if err != nil {
			return err
		}
		defer d.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return d.Ping(ctx)
	}
	if url := os.Getenv("TICKWIRE_REDIS_URL"); url != "" {
		if err := answers(url); err != nil {
			requireRedisOrSkip(t, "TICKWIRE_REDIS_URL=%s does not answer: %v", url, err)
		}
		return url
	}
	if url := "redis://127.0.0.1:6379/0"; answers(url) == nil {
		return url
	}
	server, err := exec.LookPath("redis-server")
	if err != nil {
		requireRedisOrSkip(t, "no Redis: set TICKWIRE_REDIS_URL, run one on 127.0.0.1:6379, or install redis-server (apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var out bytes.Buffer
	cmd := exec.Command(server, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	waitUntil(t, "redis-server to answer on "+url, func() bool { return answers(url) == nil })
	return url
}

// requireRedisOrSkip ends the test for want of Redis: a failure when
// TICKWIRE_REQUIRE_REDIS is 1 (as in CI), otherwise a skip that is hard
// to miss.
func requireRedisOrSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("TICKWIRE_REQUIRE_REDIS") == "1" {
		t.Fatalf("%s\n(TICKWIRE_REQUIRE_REDIS=1 makes a missing Redis a failure)", msg)
	}
	t.Skipf("\n*** SKIPPING MULTI-NODE TEST %s ***\n*** %s\n*** (set TICKWIRE_REQUIRE_REDIS=1 to turn this skip into a failure)", t.Name(), msg)
}

// nodeProcess is a node of the test cluster.
type nodeProcess struct {
	id   string
	addr string
	cmd  *exec.Cmd
	in   io.WriteCloser
	logs *lockedBuffer
}

// startNodeProcess runs the test binary as node id.
func startNodeProcess(t *testing.T, id, redisURL, prefix string) *nodeProcess {
	t.Helper()
	n := &nodeProcess{id: id, logs: &lockedBuffer{}}
	n.cmd = exec.Command(os.Args[0], "-test.run=^TestNodeProcess$")
	n.cmd.Env = append(os.Environ(), "TICKWIRE_TEST_NODE="+id, "TICKWIRE_TEST_NODE_REDIS="+redisURL, "TICKWIRE_TEST_NODE_PREFIX="+prefix)
	n.cmd.Stderr = n.logs
	out, err := n.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if n.in, err = n.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("starting node %s: %v", id, err)
	}
	t.Cleanup(func() {
		n.in.Close() // a graceful stop
		done := make(chan struct{})
		go func() { n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			n.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("node %s logs:\n%s", id, n.logs)
		}
	})
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "LISTENING "); ok {
			n.addr = addr
			go io.Copy(io.Discard, out)
			return n
		}
	}
	t.Fatalf("node %s exited before serving:\n%s", id, n.logs)
	return nil
}

// bot is a player that matchmakes and stays seated.
type bot struct {
	mm      MatchmakeResponse
	welcome rooms.Welcome
	conn    *netws.Conn
	gone    chan struct{} // closed when the connection ends
}

// play matchmakes at the node at addr and joins with the seat.
func (b *bot) play(ctx context.Context, client *http.Client, addr string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/matchmake/quad", nil)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("matchmake at %s: %s %s", addr, resp.Status, body)
	}
	b.mm = MatchmakeResponse{}
	if err := json.Unmarshal(body, &b.mm); err != nil {
		return err
	}
	c, err := netws.Dial(ctx, b.mm.URL, nil)
	if err != nil {
		return fmt.Errorf("dialing %s: %w", b.mm.URL, err)
	}
	join, _ := msgpack.Marshal([]any{rooms.ClientJoin, rooms.JoinRequest{Seat: b.mm.Seat}})
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if err := c.WriteMessage(netws.Binary, join); err != nil {
		c.CloseNow()
		return err
	}
	_, msg, err := c.ReadMessage(nil)
	if err != nil {
		c.CloseNow()
		return fmt.Errorf("joining room %s on %s: %w", b.mm.Room, b.mm.Node, err)
	}
	var raw []msgpack.RawMessage
	var kind int
	if msgpack.Unmarshal(msg, &raw) != nil || len(raw) != 2 || msgpack.Unmarshal(raw[0], &kind) != nil || kind != rooms.ServerWelcome {
		c.CloseNow()
		return fmt.Errorf("joining room %s on %s: answered %x, want a welcome", b.mm.Room, b.mm.Node, msg)
	}
	b.welcome = rooms.Welcome{}
	msgpack.Unmarshal(raw[1], &b.welcome)
	c.SetReadDeadline(time.Time{})
	b.conn, b.gone = c, make(chan struct{})
	go func() { // read batches (and answer pings) until the connection ends
		defer close(b.gone)
		var buf []byte
		for {
			_, m, err := c.ReadMessage(buf[:0])
			if err != nil {
				return
			}
			buf = m
		}
	}()
	return nil
}

// playAll runs play for every bot, a few at a time, at the node addrOf
// gives it.
func playAll(t *testing.T, bots []*bot, addrOf func(i int) string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 20 * time.Second}
	work := make(chan int)
	errs := make(chan error, len(bots))
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := bots[i].play(ctx, client, addrOf(i)); err != nil {
					errs <- fmt.Errorf("bot %d: %w", i, err)
				}
			}
		}()
	}
	for i := range bots {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// checkSeating checks the bots' rooms: each full, none over capacity, no
// player twice, and the directory agreeing seat for seat. It returns the
// bots per node.
func checkSeating(t *testing.T, bots []*bot, d *directory.Directory) map[string]int {
	t.Helper()
	byRoom := map[string][]*bot{}
	perNode := map[string]int{}
	seats, players := map[string]bool{}, map[string]bool{}
	for i, b := range bots {
		if b.welcome.Room != b.mm.Room {
			t.Fatalf("bot %d: welcome into room %s, matchmaking said %s", i, b.welcome.Room, b.mm.Room)
		}
		if seats[b.mm.Seat] || players[b.welcome.Player] {
			t.Fatalf("bot %d: seat %s or player %s handed out twice", i, b.mm.Seat, b.welcome.Player)
		}
		seats[b.mm.Seat], players[b.welcome.Player] = true, true
		byRoom[b.mm.Room] = append(byRoom[b.mm.Room], b)
		perNode[b.mm.Node]++
	}
	for room, list := range byRoom {
		if len(list) != multiNodeSeats {
			t.Errorf("room %s on %s has %d bots, want %d", room, list[0].mm.Node, len(list), multiNodeSeats)
		}
	}
	if want := len(bots) / multiNodeSeats; len(byRoom) != want {
		t.Errorf("%d rooms, want %d full ones", len(byRoom), want)
	}
	list, err := d.Rooms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list {
		if r.Seats != len(byRoom[r.ID]) || r.Capacity != multiNodeSeats {
			t.Errorf("directory: room %s on %s has %d of %d seats taken, want %d", r.ID, r.Node, r.Seats, r.Capacity, len(byRoom[r.ID]))
		}
		delete(byRoom, r.ID)
	}
	for room := range byRoom {
		t.Errorf("directory: room %s, where bots sit, is missing", room)
	}
	return perNode
}

// TestMultiNode: three nodes behind one Redis seat 300 bots in full
// four-player rooms on all three nodes; when one node is killed, the
// directory forgets it within its expiry and its players are seated on
// the others.
func TestMultiNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three node processes; skipped with -short")
	}
	redisURL := testRedis(t)
	var rnd [6]byte
	rand.Read(rnd[:])
	prefix := "tickwire-test-" + hex.EncodeToString(rnd[:]) + ":"
	t.Cleanup(func() { deleteKeys(t, redisURL, prefix) })
	d, err := directory.Open(directory.Options{URL: redisURL, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	nodes := map[string]*nodeProcess{}
	for _, id := range []string{"a", "b", "c"} {
		nodes[id] = startNodeProcess(t, id, redisURL, prefix)
	}
	waitForNodes(t, d, "a", "b", "c")

	ids := []string{"a", "b", "c"}
	bots := make([]*bot, multiNodeBots)
	for i := range bots {
		bots[i] = &bot{}
	}
	playAll(t, bots, func(i int) string { return nodes[ids[i%3]].addr })
	perNode := checkSeating(t, bots, d)
	t.Logf("seated %d bots: %v per node", len(bots), perNode)
	for _, id := range ids {
		if perNode[id] == 0 {
			t.Errorf("no bot landed on node %s: %v", id, perNode)
		}
	}
	if t.Failed() {
		return
	}

	// Kill c: no goodbye, its entries must expire.
	killed := time.Now()
	nodes["c"].cmd.Process.Kill()
	waitUntil(t, "the directory to forget node c", func() bool {
		nodes, err := d.Nodes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		list, _ := d.Rooms(context.Background())
		for _, r := range list {
			if r.Node == "c" {
				return false
			}
		}
		return len(nodes) == 2
	})
	forgotten := time.Since(killed)
	if forgotten > multiNodeExpiry+time.Second {
		t.Errorf("the directory listed node c for %v after it died, want at most its expiry %v + 1s", forgotten, multiNodeExpiry)
	}
	t.Logf("node c killed; the directory forgot it and its rooms %v later (expiry %v)", forgotten.Round(time.Millisecond), multiNodeExpiry)
	var orphans []*bot
	for _, b := range bots {
		if b.mm.Node == "c" {
			orphans = append(orphans, b)
		}
	}
	for _, b := range orphans {
		select {
		case <-b.gone:
		case <-time.After(20 * time.Second):
			t.Fatalf("a player of node c still connected after it was killed")
		}
	}
	survivors := []string{"a", "b"}
	playAll(t, orphans, func(i int) string { return nodes[survivors[i%2]].addr })
	for i, b := range orphans {
		if b.mm.Node == "c" {
			t.Fatalf("orphan %d sent to the dead node c", i)
		}
	}
	perNode = checkSeating(t, bots, d)
	t.Logf("after node c died, %d of its bots reseated: %v per node", len(orphans), perNode)
	for _, b := range bots {
		b.conn.CloseNow()
	}
}

// deleteKeys removes the test's keys from Redis.
func deleteKeys(t *testing.T, url, prefix string) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return
	}
	c := redis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("listing the test's keys: %v", err)
	}
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}
