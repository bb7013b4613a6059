// The client's session logic against a scripted server: matchmaking and
// join, batches and input acks, RTT, reconnection with the token.
//
//   node --test examples/sdk/

import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, ErrorCode, RTTEstimator, TickwireError, connect } from "./client.js";
import { decode, encode } from "./msgpack.js";

// fakeNet is a scripted server: every WebSocket the client opens is kept,
// with the messages it sent decoded; the test answers through it.
function fakeNet() {
  const net = { sockets: [], now: 0, matchmakes: 0 };
  net.WebSocket = class {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      net.sockets.push(this);
      queueMicrotask(() => {
        if (this.refuse) return this.onclose?.({ code: 1006, reason: "" });
        this.readyState = 1;
        this.onopen?.();
      });
    }
    send(b) {
      this.sent.push(decode(b));
    }
    close(code, reason) {
      this.readyState = 3;
      this.closedWith = code;
    }
    // Server side:
    deliver(msg) {
      this.onmessage({ data: encode(msg).slice().buffer });
    }
    drop(code = 1006, reason = "") {
      this.readyState = 3;
      this.onclose({ code, reason });
    }
  };
  net.fetch = async (url, init) => {
    net.matchmakes++;
    net.lastFetch = { url, init };
    return { ok: true, status: 200, json: async () => ({ room: "r1", seat: `seat${net.matchmakes}`, url: "ws://game.test/ws" }) };
  };
  return net;
}

const welcome = (extra = {}) => [1, { player: "p1", room: "r1", game: "arena", tickRate: 30, tick: 7, time: 1000, reconnect: "tok", resumed: false, ...extra }];
const tick = () => new Promise((r) => setTimeout(r, 0));

// joined connects through the fake net and returns the client.
async function joined(net, opts = {}) {
  const pending = connect({ game: "arena", name: "ann", server: "http://game.test", WebSocket: net.WebSocket, fetch: net.fetch, now: () => net.now, setTimeout: (fn) => queueMicrotask(fn), ...opts });
  await tick();
  net.sockets.at(-1).deliver(welcome());
  return pending;
}

test("connect matchmakes, joins with the seat and the name, and takes the welcome", async () => {
  const net = fakeNet();
  const c = await joined(net);
  assert.equal(net.lastFetch.url, "http://game.test/matchmake/arena");
  assert.equal(net.lastFetch.init.method, "POST");
  assert.equal(net.sockets[0].url, "ws://game.test/ws");
  assert.deepEqual(net.sockets[0].sent[0], [1, { name: "ann", seat: "seat1" }]);
  assert.equal(c.playerId, "p1");
  assert.equal(c.roomId, "r1");
  assert.equal(c.tickRate, 30);
  assert.ok(c.connected);
});

test("inputs carry increasing sequence numbers; batches ack them and give the RTT", async () => {
  const net = fakeNet();
  const c = await joined(net);
  const ws = net.sockets[0];
  const batches = [];
  c.on("batch", (b) => batches.push(b));
  net.now = 100;
  assert.equal(c.sendInput({ mx: 1 }), 1);
  net.now = 110;
  assert.equal(c.sendInput({ mx: 0 }), 2);
  // Each input reports the interpolation delay: 100 ms by default.
  assert.deepEqual(ws.sent.slice(1), [[2, 1, { mx: 1, interp: 100 }], [2, 2, { mx: 0, interp: 100 }]]);
  net.now = 150;
  ws.deliver([2, 8, 1033, 2, { ships: [] }, [{ kill: "x" }]]);
  assert.deepEqual(batches[0], { tick: 8, time: 1033, ack: 2, settled: 2, snapshot: { ships: [] }, events: [{ kill: "x" }] });
  assert.equal(c.tick, 8);
  // The sample comes from input 2 (sent last, waited least): 150 - 110.
  assert.equal(c.rtt, 40);
  assert.equal(c.rttMin, 40);
  assert.equal(c.sent.length, 0);
});

test("a dropped connection reconnects with the token and settles inputs it lost", async () => {
  const net = fakeNet();
  const c = await joined(net);
  const events = [];
  for (const e of ["disconnect", "reconnect", "batch", "close"]) c.on(e, (v) => events.push([e, v]));
  c.sendInput("a"); // seq 1, applied
  c.sendInput("b"); // seq 2, lost with the connection
  net.sockets[0].drop(1006);
  assert.equal(c.sendInput("c"), 0, "no input while disconnected");
  await tick();
  const ws2 = net.sockets[1];
  assert.deepEqual(ws2.sent[0], [1, { room: "r1", reconnect: "tok", name: "ann" }]);
  ws2.deliver(welcome({ resumed: true }));
  await tick();
  ws2.deliver([2, 20, 2000, 1, {}, []]);
  ws2.deliver([2, 21, 2033, 1, {}, []]);
  assert.deepEqual(events.map((e) => e[0]), ["disconnect", "reconnect", "batch", "batch"]);
  assert.equal(events[2][1].ack, 1);
  assert.equal(events[2][1].settled, 2, "input 2 will never be applied: settled");
  assert.equal(events[3][1].settled, 1);
  assert.equal(c.sendInput("d"), 3, "sequence numbers go on across connections");
});

test("reconnecting stops when the server refuses the token", async () => {
  const net = fakeNet();
  const c = await joined(net);
  const closed = new Promise((r) => c.on("close", r));
  net.sockets[0].drop(1001);
  await tick();
  net.sockets[1].deliver([3, ErrorCode.BAD_RECONNECT, "reconnect token unknown or expired; join again"]);
  net.sockets[1].drop(1008, "reconnect token unknown");
  const ev = await closed;
  assert.match(ev.reason, /reconnect refused: reconnect token unknown/);
  assert.equal(c.connected, false);
});

test("reconnecting gives up after the grace period", async () => {
  const net = fakeNet();
  const c = await joined(net, { reconnectGrace: 1000 });
  const closed = new Promise((r) => c.on("close", r));
  net.WebSocket.prototype.refuse = true; // the server is gone
  c.setTimeout = (fn, ms) => {
    net.now += ms;
    queueMicrotask(fn);
  };
  net.sockets[0].drop(1006);
  const ev = await closed;
  assert.equal(ev.code, 1006);
  assert.match(ev.reason, /grace period/);
  assert.ok(net.sockets.length >= 3, `${net.sockets.length - 1} attempts`);
  assert.ok(net.now <= 1000, `gave up at ${net.now} ms`);
});

test("final close codes end the session without reconnecting", async () => {
  for (const [code, reason] of [[1000, "opponent left"], [4000, "replaced by a new connection"], [1011, "room closed: the game failed"]]) {
    const net = fakeNet();
    const c = await joined(net);
    let closed = null;
    c.on("close", (e) => (closed = e));
    net.sockets[0].drop(code, reason);
    await tick();
    assert.deepEqual(closed, { code, reason }, `close ${code}`);
    assert.equal(net.sockets.length, 1, `close ${code}: no reconnect`);
  }
});

test("a join refused because the room filled matchmakes again; other refusals reject", async () => {
  const net = fakeNet();
  const pending = connect({ game: "pong", server: "http://game.test", WebSocket: net.WebSocket, fetch: net.fetch });
  await tick();
  net.sockets[0].deliver([3, ErrorCode.ROOM_FULL, "room is full (2 players)"]);
  net.sockets[0].drop(1008);
  await tick();
  await tick();
  assert.equal(net.matchmakes, 2);
  net.sockets[1].deliver(welcome());
  const c = await pending;
  assert.equal(c.playerId, "p1");

  const net2 = fakeNet();
  const refused = connect({ game: "arena", server: "http://game.test", WebSocket: net2.WebSocket, fetch: net2.fetch });
  await tick();
  net2.sockets[0].deliver([3, ErrorCode.JOIN_REFUSED, "name taken"]);
  net2.sockets[0].drop(1008);
  await assert.rejects(refused, (err) => err instanceof TickwireError && err.code === ErrorCode.JOIN_REFUSED && /name taken/.test(err.message));
  assert.equal(net2.matchmakes, 1);
});

test("matchmaking errors say what the server answered", async () => {
  const fetch = async () => ({ ok: false, status: 404, json: async () => ({ error: 'no game "chess"; registered: arena' }) });
  await assert.rejects(connect({ game: "chess", server: "http://game.test", fetch, WebSocket: class {} }), /matchmaking: 404 no game "chess"/);
  await assert.rejects(new Client({ fetch }).join(), /needs a game/);
});

test("RTTEstimator smooths like RFC 6298 and keeps a windowed minimum", () => {
  const r = new RTTEstimator(3);
  assert.equal(r.min, 0);
  r.add(80);
  assert.equal(r.smoothed, 80);
  r.add(40);
  assert.equal(r.smoothed, 75);
  r.add(100);
  r.add(90);
  assert.equal(r.min, 40);
  r.add(95);
  assert.equal(r.min, 90, "40 left the window");
});

test("the client keeps one estimate of the server's clock: welcome, batches, input acks", async () => {
  const net = fakeNet();
  const c = await joined(net); // welcome: time 1000, received at local 0
  assert.equal(c.clock.ready, true);
  assert.equal(c.serverNow(0), 1000);
  net.now = 100;
  c.sendInput({ mx: 1 });
  // The batch that acks input 1: the server's clock read 1150 between
  // local 100 and 160, so the offset is within [990, 1050]; the welcome
  // proved at least 1000. The middle of [1000, 1050]:
  net.now = 160;
  net.sockets[0].deliver([2, 8, 1150, 1, {}, []]);
  assert.equal(c.clock.target, 1025);
  assert.equal(c.rtt, 60);
  // serverNow() moves towards it gradually (5% of elapsed time), never back.
  assert.equal(c.serverNow(160), 1160);
  assert.equal(c.serverNow(360), 1370);
  assert.equal(c.serverNow(660), 1685);
  // A batch alone raises the lower bound: the clock read 1300 by local 265.
  net.now = 265;
  net.sockets[0].deliver([2, 12, 1300, 1, {}, []]);
  assert.equal(c.clock.target, (1035 + 1050) / 2);
  assert.equal(c.renderTime(1000), c.serverNow(1000) - 100, "the interpolator draws by the same clock");
});

test("inputs report how far behind the server's clock the world last drawn was", async () => {
  const net = fakeNet();
  const c = await joined(net); // the server's clock: local + 1000
  const ws = net.sockets[0];
  const view = c.interpolator;
  view.push(1000, { n: 0 }, 0);
  view.push(1033, { n: 1 }, 33);
  net.now = 50;
  const s = view.sample(); // local 50: server 1050, drawn at 950
  assert.equal(s.renderTime, 950);
  assert.equal(view.lastRenderTime, 950);
  net.now = 66.4; // the player acts 16.4 ms after that frame
  const input = { mx: 1 };
  c.sendInput(input);
  assert.deepEqual(ws.sent.at(-1), [2, 1, { mx: 1, interp: 116 }]);
  assert.deepEqual(input, { mx: 1 }, "the page's object is not modified");
  assert.equal(c.interpDelay(), 116);

  const cases = [
    [{ fire: true, interp: 40 }, { fire: true, interp: 40 }], // the page's own value stays
    [[1, 2], [1, 2]], // not a plain object: as it is
    ["left", "left"],
    [7, 7],
    [null, null],
  ];
  for (const [data, want] of cases) {
    c.sendInput(data);
    assert.deepEqual(ws.sent.at(-1)[2], want, JSON.stringify(data));
  }
});

test("options: the interpolation delay, and inputs without interp", async () => {
  const net = fakeNet();
  const c = await joined(net, { interpDelay: 60 });
  net.now = 10;
  c.sendInput({ mx: 1 }); // nothing drawn yet: the delay it would draw with
  assert.deepEqual(net.sockets[0].sent.at(-1), [2, 1, { mx: 1, interp: 60 }]);
  assert.equal(c.renderTime(), 1010 - 60);

  const net2 = fakeNet();
  const c2 = await joined(net2, { sendInterp: false });
  c2.sendInput({ mx: 1 });
  assert.deepEqual(net2.sockets[0].sent.at(-1), [2, 1, { mx: 1 }]);
  assert.throws(() => new Client({ interpDelay: -5 }), RangeError);
});
