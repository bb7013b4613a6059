package engine

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tickwire/tickwire/netws"
	"github.com/tickwire/tickwire/rooms"
	"github.com/tickwire/tickwire/tick"
	"github.com/vmihailenco/msgpack/v5"
)

// tagGame is a toy game whose snapshot lists the players' names.
type tagGame struct{ room *rooms.Room }

func (g *tagGame) Init(r *rooms.Room) error                        { g.room = r; return nil }
func (g *tagGame) Join(p *rooms.Player, opts []byte) error         { return nil }
func (g *tagGame) Leave(p *rooms.Player, reason rooms.LeaveReason) {}
func (g *tagGame) Input(p *rooms.Player, seq uint32, data []byte)  {}
func (g *tagGame) Tick(t tick.Tick)                                {}
func (g *tagGame) Snapshot(p *rooms.Player) any {
	names := []string{}
	for _, q := range g.room.Players() {
		names = append(names, q.Name())
	}
	return names
}

// startEngine serves an engine with tagGame registered as "tag" (2 seats).
func startEngine(t *testing.T, cfg Config) (*Engine, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Register("tag", func() rooms.Game { return &tagGame{} }, &rooms.RoomOptions{MaxPlayers: 2, TickRate: 50}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.Shutdown(ctx)
		<-served
	})
	return e, ln.Addr().String()
}

func matchmake(t *testing.T, addr, game string) (MatchmakeResponse, int) {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/matchmake/"+game, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m MatchmakeResponse
	json.NewDecoder(resp.Body).Decode(&m)
	return m, resp.StatusCode
}

type player struct {
	t *testing.T
	c *netws.Conn
}

func join(t *testing.T, url string, req rooms.JoinRequest) (*player, []msgpack.RawMessage, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := netws.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	b, _ := msgpack.Marshal([]any{rooms.ClientJoin, req})
	if err := c.WriteMessage(netws.Binary, b); err != nil {
		t.Fatal(err)
	}
	p := &player{t: t, c: c}
	kind, f, err := p.read()
	if err != nil {
		t.Fatal(err)
	}
	return p, f, kind
}

func (p *player) read() (int, []msgpack.RawMessage, error) {
	p.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := p.c.ReadMessage(nil)
	if err != nil {
		return 0, nil, err
	}
	var raw []msgpack.RawMessage
	if err := msgpack.Unmarshal(b, &raw); err != nil || len(raw) == 0 {
		return 0, nil, errors.New("not a msgpack array")
	}
	var kind int
	msgpack.Unmarshal(raw[0], &kind)
	return kind, raw[1:], nil
}

func TestMatchmakeSeatsPlayersAndFillsRooms(t *testing.T) {
	_, addr := startEngine(t, Config{})
	var roomIDs []string
	for i := range 3 {
		m, code := matchmake(t, addr, "tag")
		if code != http.StatusOK || m.Seat == "" || m.URL != "ws://"+addr+"/ws" {
			t.Fatalf("matchmake %d: %d %+v", i, code, m)
		}
		_, f, kind := join(t, m.URL, rooms.JoinRequest{Seat: m.Seat, Name: "p"})
		if kind != rooms.ServerWelcome {
			t.Fatalf("join %d: kind %d, want welcome", i, kind)
		}
		var w rooms.Welcome
		msgpack.Unmarshal(f[0], &w)
		if w.Room != m.Room || w.Game != "tag" || w.TickRate != 50 || w.Reconnect == "" {
			t.Fatalf("welcome %+v for room %s", w, m.Room)
		}
		roomIDs = append(roomIDs, m.Room)
	}
	// Two seats per room: the first two share a room, the third gets a new one.
	if roomIDs[0] != roomIDs[1] || roomIDs[2] == roomIDs[0] {
		t.Fatalf("rooms %v: want the first two together and the third apart", roomIDs)
	}
	resp, err := http.Get("http://" + addr + "/api/rooms/" + roomIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	var d RoomDetail
	json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if d.ID != roomIDs[0] || d.Game != "tag" || d.MaxPlayers != 2 {
		t.Fatalf("room detail %+v", d.RoomInfo)
	}
}

func TestJoinErrors(t *testing.T) {
	_, addr := startEngine(t, Config{Auth: func(r *http.Request, j rooms.JoinRequest) (string, error) {
		if j.Token != "letmein" {
			return "", errors.New("bad token")
		}
		return "authed", nil
	}})
	url := "ws://" + addr + "/ws"
	tests := []struct {
		name string
		req  rooms.JoinRequest
		want rooms.ErrorCode
	}{
		{"auth refused", rooms.JoinRequest{Game: "tag"}, rooms.ErrUnauthorized},
		{"unknown game", rooms.JoinRequest{Game: "chess", Token: "letmein"}, rooms.ErrGameNotFound},
		{"unknown room", rooms.JoinRequest{Room: "nope", Token: "letmein"}, rooms.ErrRoomNotFound},
		{"bad seat", rooms.JoinRequest{Seat: "forged", Token: "letmein"}, rooms.ErrBadSeat},
		{"empty", rooms.JoinRequest{Token: "letmein"}, rooms.ErrInvalidRequest},
	}
	for _, tt := range tests {
		p, f, kind := join(t, url, tt.req)
		var code int
		var msg string
		if len(f) == 2 {
			msgpack.Unmarshal(f[0], &code)
			msgpack.Unmarshal(f[1], &msg)
		}
		if kind != rooms.ServerError || rooms.ErrorCode(code) != tt.want || msg == "" {
			t.Errorf("%s: kind %d code %d %q, want error code %d", tt.name, kind, code, msg, tt.want)
			continue
		}
		if _, _, err := p.read(); netws.CloseStatus(err) != netws.StatusPolicyViolation {
			t.Errorf("%s: connection ended with %v, want close 1008", tt.name, err)
		}
	}
	if _, code := matchmake(t, addr, "chess"); code != http.StatusNotFound {
		t.Errorf("matchmake unknown game: %d, want 404", code)
	}
}

func TestShutdownClosesPlayersWithinDeadline(t *testing.T) {
	e, addr := startEngine(t, Config{})
	var players []*player
	for range 4 {
		p, _, kind := join(t, "ws://"+addr+"/ws", rooms.JoinRequest{Game: "tag"})
		if kind != rooms.ServerWelcome {
			t.Fatalf("join: kind %d", kind)
		}
		players = append(players, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Shutdown: %v", err)
	}
	for i, p := range players {
		for {
			_, _, err := p.read()
			if err == nil {
				continue
			}
			var ce *netws.CloseError
			if !errors.As(err, &ce) || ce.Code != netws.StatusGoingAway || !strings.Contains(ce.Reason, "shutting down") {
				t.Errorf("player %d: %v, want close 1001 saying the server is shutting down", i, err)
			}
			break
		}
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err == nil {
		resp.Body.Close()
		t.Errorf("server still answers after Shutdown: %s", resp.Status)
	}
}

func TestHealthz(t *testing.T) {
	_, addr := startEngine(t, Config{})
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"ok"`) {
		t.Fatalf("healthz: %s %s", resp.Status, b)
	}
}

func TestConfigFlagsValidation(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-tick-rate", "0"}, nil, "-tick-rate \"0\": want a whole number from 1 to 1000"},
		{[]string{"-tick-rate", "fast"}, nil, "-tick-rate"},
		{nil, map[string]string{"TICKWIRE_TICK_RATE": "5000"}, "-tick-rate \"5000\""},
		{[]string{"-log-level", "chatty"}, nil, "-log-level \"chatty\""},
		{[]string{"-log-json", "maybe"}, nil, "-log-json \"maybe\""},
		{[]string{"-tls-cert", "c.pem"}, nil, "TLS needs both"},
		{[]string{"-public-url", "http://x"}, nil, "public URL"},
		{[]string{"-tick-rate", "60"}, nil, ""},
	}
	for _, tt := range tests {
		var cfg Config
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		apply := cfg.Flags(fs, func(k string) string { return tt.env[k] })
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := apply()
		if tt.want == "" {
			if err != nil || cfg.Rooms.TickRate != 60 {
				t.Errorf("%v: %v, tick rate %d", tt.args, err, cfg.Rooms.TickRate)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: error %v, want it to contain %q", tt.args, tt.env, err, tt.want)
		}
	}
}
