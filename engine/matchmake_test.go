package engine

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tickwire/tickwire/rooms"
	"github.com/vmihailenco/msgpack/v5"
)

// postMatchmake POSTs body (a JSON string, or "" for none) to
// /matchmake/{game} and decodes the answer.
func postMatchmake(t *testing.T, addr, game, body string) (MatchmakeResponse, int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	resp, err := http.Post("http://"+addr+"/matchmake/"+game, "application/json", rd)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m MatchmakeResponse
	var e struct{ Error string }
	if resp.StatusCode == http.StatusOK {
		json.Unmarshal(b, &m)
	} else if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("matchmake answered %d with %q, want a JSON error", resp.StatusCode, b)
	}
	return m, resp.StatusCode, e.Error
}

// waitUntil polls cond until it holds, failing the test after a generous
// deadline: what the test waits for is an outcome, not a duration.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seat joins with a matchmaking answer and expects a welcome.
func seat(t *testing.T, m MatchmakeResponse) *player {
	t.Helper()
	p, f, kind := join(t, m.URL, rooms.JoinRequest{Seat: m.Seat})
	if kind != rooms.ServerWelcome {
		t.Fatalf("join with seat in %s: kind %d %v, want a welcome", m.Room, kind, f)
	}
	var w rooms.Welcome
	msgpack.Unmarshal(f[0], &w)
	if w.Room != m.Room {
		t.Fatalf("welcome into room %s, matchmaking said %s", w.Room, m.Room)
	}
	return p
}

// joinError joins with req and returns the error code it is refused with.
func joinError(t *testing.T, url string, req rooms.JoinRequest) (rooms.ErrorCode, string) {
	t.Helper()
	_, f, kind := join(t, url, req)
	if kind != rooms.ServerError || len(f) != 2 {
		t.Fatalf("join %+v: kind %d, want an error", req, kind)
	}
	var code int
	var msg string
	msgpack.Unmarshal(f[0], &code)
	msgpack.Unmarshal(f[1], &msg)
	return rooms.ErrorCode(code), msg
}

func TestMatchmakeRequestBodies(t *testing.T) {
	e, addr := startEngine(t, Config{})
	desert, code, _ := postMatchmake(t, addr, "tag", `{"create": true, "metadata": {"map": "desert"}}`)
	if code != http.StatusOK {
		t.Fatalf("create: %d", code)
	}
	private, _, _ := postMatchmake(t, addr, "tag", `{"create": true, "private": true}`)
	tests := []struct {
		name, body string
		code       int
		room       string // "new": a room not seen before
		errHas     string
	}{
		{"bad JSON", `{"create":`, 400, "", "request body"},
		{"unknown field", `{"rooom": "x"}`, 400, "", "unknown field"},
		{"private without create", `{"private": true}`, 400, "", "create"},
		{"room and create", `{"room": "x", "create": true}`, 400, "", "room joins a room by id"},
		{"metadata on a join", `{"room": "x", "metadata": {"a": "b"}}`, 400, "", "metadata"},
		{"empty metadata key", `{"filters": {"": "b"}}`, 400, "", "keys must be"},
		{"too long a value", `{"filters": {"k": "` + strings.Repeat("v", 300) + `"}}`, 400, "", "at most 256"},
		{"filter matches", `{"filters": {"map": "desert"}}`, 200, desert.Room, ""},
		{"filter matches a full room no more", `{"filters": {"map": "desert"}}`, 200, "new", ""},
		{"join by id", `{"room": "` + private.Room + `"}`, 200, private.Room, ""},
		{"join by id, full", `{"room": "` + private.Room + `"}`, 409, "", "full"},
		{"join by id, unknown", `{"room": "nope"}`, 404, "", `no room "nope"`},
		{"unknown game", ``, 404, "", `no game "chess"; registered: tag`},
	}
	seen := map[string]bool{desert.Room: true, private.Room: true}
	for _, tt := range tests {
		game := "tag"
		if strings.Contains(tt.name, "unknown game") {
			game = "chess"
		}
		m, code, msg := postMatchmake(t, addr, game, tt.body)
		if code != tt.code || !strings.Contains(msg, tt.errHas) {
			t.Errorf("%s: %d %q, want %d with %q", tt.name, code, msg, tt.code, tt.errHas)
			continue
		}
		switch {
		case tt.room == "new" && seen[m.Room]:
			t.Errorf("%s: room %s, want a new one", tt.name, m.Room)
		case tt.room != "new" && m.Room != tt.room:
			t.Errorf("%s: room %q, want %q", tt.name, m.Room, tt.room)
		}
		seen[m.Room] = true
		if code == 200 && (m.Node != e.node.id || m.URL != "ws://"+addr+"/ws" || m.Seat == "") {
			t.Errorf("%s: %+v, want a seat on this node", tt.name, m)
		}
	}
	// A private room is never chosen by join-or-create, and a locked one
	// takes no one.
	pub, _, _ := postMatchmake(t, addr, "tag", `{"create": true}`)
	if err := e.LockRoom(pub.Room, true); err != nil {
		t.Fatal(err)
	}
	if err := e.LockRoom("nope", true); err == nil {
		t.Error("LockRoom of an unknown room succeeded")
	}
	waitUntil(t, "the lock to reach the directory", func() bool {
		_, code, _ := postMatchmake(t, addr, "tag", `{"room": "`+pub.Room+`"}`)
		return code == http.StatusConflict
	})
	if m, _, _ := postMatchmake(t, addr, "tag", ``); m.Room == pub.Room || m.Room == private.Room {
		t.Errorf("join-or-create chose room %s, which is locked or private", m.Room)
	}
}

func TestSeatsAreHonouredOnceAndFreedOnLeave(t *testing.T) {
	_, addr := startEngine(t, Config{})
	a, _, _ := postMatchmake(t, addr, "tag", "")
	pa := seat(t, a)
	if code, msg := joinError(t, a.URL, rooms.JoinRequest{Seat: a.Seat}); code != rooms.ErrBadSeat || !strings.Contains(msg, "matchmake again") {
		t.Errorf("second use of a seat: code %d %q, want bad seat", code, msg)
	}
	b, _, _ := postMatchmake(t, addr, "tag", "")
	if b.Room != a.Room {
		t.Fatalf("second player in room %s, want %s (the fullest with space)", b.Room, a.Room)
	}
	seat(t, b)
	c, _, _ := postMatchmake(t, addr, "tag", "")
	if c.Room == a.Room {
		t.Fatalf("third player seated in the full room %s", a.Room)
	}
	// A player who leaves frees the seat for the next one.
	leave, _ := msgpack.Marshal([]any{rooms.ClientLeave})
	pa.c.WriteMessage(2, leave)
	waitUntil(t, "the freed seat to be offered", func() bool {
		m, _, _ := postMatchmake(t, addr, "tag", `{"room": "`+a.Room+`"}`)
		return m.Room == a.Room
	})
	// Joins by game and by room id take their seats through the
	// directory too.
	if code, _ := joinError(t, "ws://"+addr+"/ws", rooms.JoinRequest{Room: a.Room}); code != rooms.ErrRoomFull {
		t.Errorf("join by id into a room whose last seat is reserved: code %d, want room full", code)
	}
}

func TestJoinByGameFillsRoomsInOrder(t *testing.T) {
	_, addr := startEngine(t, Config{})
	var ids []string
	for range 4 {
		_, f, kind := join(t, "ws://"+addr+"/ws", rooms.JoinRequest{Game: "tag"})
		if kind != rooms.ServerWelcome {
			t.Fatalf("join by game: kind %d", kind)
		}
		var w rooms.Welcome
		msgpack.Unmarshal(f[0], &w)
		ids = append(ids, w.Room)
	}
	if ids[0] != ids[1] || ids[2] != ids[3] || ids[0] == ids[2] {
		t.Fatalf("rooms %v: want two full rooms of two", ids)
	}
	var list []json.RawMessage
	resp, err := http.Get("http://" + addr + "/api/rooms")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list) != 2 {
		t.Fatalf("%d rooms, want 2", len(list))
	}
}
