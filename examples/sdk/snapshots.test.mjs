// Table snapshots: the SnapshotApplier against the Go encoder's corpus
// (testdata/deltas.json, made by deltas_test.go with package rooms/snap),
// the states it keeps, and the Client's table batches and acknowledgements
// against a scripted server.
//
//   node --test examples/sdk/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { connect } from "./client.js";
import { decode, encode } from "./msgpack.js";
import { DeltaError, SnapshotApplier, applyDelta } from "./snapshots.js";

const corpus = JSON.parse(readFileSync(new URL("./testdata/deltas.json", import.meta.url), "utf8"));
const unhex = (h) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));

// rows turns a state into [[id, fields...], ...] in increasing id order,
// the corpus's form.
const rows = (state) => [...state].sort((a, b) => a[0] - b[0]).map(([id, fields]) => [id, ...fields]);

test("the Go encoder's deltas apply to the states it meant, and fail where Go's applier fails", () => {
  let steps = 0;
  for (const stream of corpus.streams) {
    const a = new SnapshotApplier();
    for (const [i, st] of stream.steps.entries()) {
      const where = `${stream.name}, step ${i} (tick ${st.tick})`;
      const delta = decode(unhex(st.delta));
      if (st.fail) {
        assert.throws(() => a.apply(st.tick, delta), DeltaError, where);
        a.reset();
      } else {
        const state = a.apply(st.tick, delta);
        assert.deepEqual(rows(state), decode(unhex(st.want)), where);
      }
      assert.equal(a.ack, st.ack, `${where}: the tick to acknowledge`);
      steps++;
    }
  }
  assert.ok(steps > 100, `only ${steps} steps in the corpus`);
  // The corpus has deltas against states older than the newest applied,
  // and full snapshots after deltas: what a lagging client meets.
  const world = corpus.streams[1].steps;
  const bases = world.map((s) => decode(unhex(s.delta))[0]);
  assert.ok(bases.some((b, i) => i > 0 && b !== 0 && b < world[i - 1].tick), "no delta against an older state");
  assert.ok(bases.some((b, i) => i > 5 && b === 0), "no full snapshot mid-stream");
});

test("the protocol's example, byte for byte", () => {
  const a = new SnapshotApplier();
  a.apply(41, decode(unhex("94009394" + "01cd04d2cd01f4a3616e6e" + "920207" + "9203c3" + "9090")));
  // docs/protocol.md: delta: [41, [[4, "new"]], [[1, 1, 1250]], [2]]
  const s = a.apply(42, decode(unhex("94 29 91 92 04 a3 6e 65 77 91 93 01 01 cd 04 e2 91 02".replace(/ /g, ""))));
  assert.deepEqual(rows(s), [
    [1, 1250, 500, "ann"],
    [3, true],
    [4, "new"],
  ]);
  assert.equal(a.ack, 42);
});

test("states are kept from the newest base on; a full snapshot drops none; keep bounds them", () => {
  const a = new SnapshotApplier({ keep: 4 });
  a.apply(1, [0, [[1, "a"]], [], []]);
  a.apply(2, [1, [], [[1, 1, "b"]], []]);
  a.apply(3, [1, [], [[1, 1, "c"]], []]);
  assert.deepEqual([...a.states.keys()], [1, 2, 3], "base 1: nothing older to drop");
  a.apply(4, [2, [], [[1, 1, "d"]], []]);
  assert.deepEqual([...a.states.keys()], [2, 3, 4], "base 2: tick 1 is never a base again");
  a.apply(5, [0, [[1, "e"]], [], []]);
  assert.deepEqual([...a.states.keys()], [2, 3, 4, 5], "a full snapshot drops nothing");
  // An acknowledgement of 3 may still be on its way: a delta against it applies.
  assert.deepEqual(rows(a.apply(6, [3, [[2, 0]], [], []])), [[1, "c"], [2, 0]]);
  assert.deepEqual([...a.states.keys()], [3, 4, 5, 6]);
  a.apply(7, [0, [], [], []]);
  assert.deepEqual([...a.states.keys()], [4, 5, 6, 7], "at most keep states");
  assert.equal(a.ack, 7);
  a.reset();
  assert.equal(a.ack, 0);
  assert.equal(a.latest, null);
  assert.throws(() => a.apply(8, [7, [], [], []]), /against tick 7, which is not kept/);
});

test("unchanged entities keep their fields array; changed ones get a new one; all are frozen", () => {
  const a = new SnapshotApplier();
  const s1 = a.apply(1, [0, [[1, 10, 20], [2, "x"]], [], []]);
  const s2 = a.apply(2, [1, [], [[1, 2, 21]], []]);
  assert.equal(s2.get(2), s1.get(2));
  assert.notEqual(s2.get(1), s1.get(1));
  assert.deepEqual(s1.get(1), [10, 20], "the base is not modified");
  assert.deepEqual(s2.get(1), [10, 21]);
  assert.ok(Object.isFrozen(s2.get(1)) && Object.isFrozen(s2.get(2)));
  // Mask bit 31 reaches field 31; fields past 32 stay as they were.
  const wide = Array.from({ length: 40 }, (_, j) => j);
  a.apply(3, [0, [[5, ...wide]], [], []]);
  const s4 = a.apply(4, [3, [], [[5, 2 ** 31 + 1, "first", "last"]], []]);
  assert.equal(s4.get(5)[0], "first");
  assert.equal(s4.get(5)[31], "last");
  assert.equal(s4.get(5)[39], 39);
});

test("malformed deltas and impossible changes throw a DeltaError and change nothing", () => {
  const cases = [
    [null, /want an array/],
    [[0, [], []], /want an array/],
    [[-1, [], [], []], /base -1/],
    [[0, {}, [], []], /must be arrays/],
    [[0, [[]], [], []], /enter record/],
    [[0, [["x"]], [], []], /entity id x/],
    [[0, [[2 ** 32]], [], []], /entity id 4294967296/],
    [[1, [], [[1, 1]], []], /update record/],
    [[1, [], [[1, -1, 5]], []], /mask -1/],
    [[1, [], [[1, 3, 5]], []], /mask 3 with 1 values/],
    [[1, [], [[1, 0, 5]], []], /mask 0 with 1 values/],
    [[1, [[1, 5]], [], [1]], /entity 1 appears twice/],
    [[1, [], [[9, 1, 5]], []], /update of entity 9, which the base lacks/],
    [[1, [], [], [9]], /removal of entity 9, which the base lacks/],
    [[1, [], [[1, 4, 5]], []], /mask 4 for 2 fields/],
    [[2, [], [], []], /against tick 2, which is not kept/],
  ];
  for (const [delta, want] of cases) {
    const a = new SnapshotApplier();
    const s1 = a.apply(1, [0, [[1, "a", "b"]], [], []]);
    assert.throws(() => a.apply(2, delta), (err) => err instanceof DeltaError && want.test(err.message), JSON.stringify(delta));
    assert.equal(a.ack, 1, "nothing applied");
    assert.equal(a.latest, s1);
    assert.deepEqual([...a.states.keys()], [1]);
  }
  const a = new SnapshotApplier();
  a.apply(5, [0, [], [], []]);
  assert.throws(() => a.apply(5, [0, [], [], []]), /not after the newest applied, 5/);
  assert.throws(() => a.apply(0, [0, [], [], []]), /tick 0: want a positive integer/);
  assert.throws(() => new SnapshotApplier({ keep: 0 }), RangeError);
});

test("applyDelta applies one delta to a given state", () => {
  const base = new Map([[1, ["a"]], [2, ["b"]]]);
  assert.deepEqual(rows(applyDelta(base, [7, [[3, "c"]], [[1, 1, "A"]], [2]])), [[1, "A"], [3, "c"]]);
  assert.deepEqual(rows(applyDelta(base, [0, [[3, "c"]], [], []])), [[3, "c"]], "base 0: from nothing");
  assert.deepEqual([...base.keys()], [1, 2], "the base is not modified");
});

// --- the Client ------------------------------------------------------------

// fakeNet is a scripted server, as in client.test.mjs.
function fakeNet() {
  const net = { sockets: [], now: 0 };
  net.WebSocket = class {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      net.sockets.push(this);
      queueMicrotask(() => {
        this.readyState = 1;
        this.onopen?.();
      });
    }
    send(b) {
      this.sent.push(decode(b));
    }
    close() {
      this.readyState = 3;
    }
    deliver(msg) {
      this.onmessage({ data: encode(msg).slice().buffer });
    }
    drop(code = 1006) {
      this.readyState = 3;
      this.onclose({ code, reason: "" });
    }
  };
  return net;
}

const welcome = (extra = {}) => [1, { player: "p1", room: "r1", game: "arena", tickRate: 30, tick: 7, time: 1000, reconnect: "tok", resumed: false, ...extra }];
const flush = () => new Promise((r) => setTimeout(r, 0));

async function joined(net, opts = {}) {
  const pending = connect({ game: "arena", url: "ws://game.test/ws", matchmake: false, WebSocket: net.WebSocket, now: () => net.now, setTimeout: (fn) => queueMicrotask(fn), ...opts });
  await flush();
  net.sockets.at(-1).deliver(welcome());
  return pending;
}

// sentSince returns what the client sent on ws from index i on.
const sentSince = (ws, i) => ws.sent.slice(i);

test("table batches arrive as entity Maps and are acknowledged at once while no inputs flow", async () => {
  const net = fakeNet();
  const c = await joined(net);
  const ws = net.sockets[0];
  const batches = [];
  c.on("batch", (b) => batches.push(b));
  net.now = 1000;
  ws.deliver([6, 8, 1033, 0, [0, [[1, 10, 20], [2, "x"]], [], []], [{ kill: 1 }]]);
  ws.deliver([6, 9, 1066, 0, [8, [], [[1, 2, 21]], [2]], []]);
  assert.deepEqual(sentSince(ws, 1), [[5, 8], [5, 9]]);
  assert.deepEqual(batches.map((b) => [b.tick, b.base, [...b.snapshot]]), [
    [8, 0, [[1, [10, 20]], [2, ["x"]]]],
    [9, 8, [[1, [10, 21]]]],
  ]);
  assert.deepEqual(batches[0].events, [{ kill: 1 }]);
  assert.equal(c.tick, 9);
  assert.deepEqual(c.stats, { batches: 0, full: 1, deltas: 1, fullAfterDelta: 0, failed: 0, bytes: c.stats.bytes });
  assert.ok(c.stats.bytes > 20);
  // Plain batches are as they were: the game's value, no base.
  ws.deliver([2, 10, 1100, 0, { ships: [] }, []]);
  assert.deepEqual(batches[2], { tick: 10, time: 1100, ack: 0, settled: 0, snapshot: { ships: [] }, events: [] });
  assert.equal(c.stats.batches, 1);
});

test("while inputs flow, the next input carries the acknowledgement", async () => {
  const net = fakeNet();
  const c = await joined(net, { ackDelay: 50 });
  const ws = net.sockets[0];
  net.now = 100;
  c.sendInput({ mx: 1 });
  net.now = 120;
  ws.deliver([6, 8, 1033, 1, [0, [[1, 0]], [], []], []]);
  net.now = 125;
  ws.deliver([6, 9, 1066, 1, [0, [[1, 1]], [], []], []]);
  assert.equal(ws.sent.length, 2, "no ack message: an input was sent 20 ms ago");
  c.sendInput({ mx: 1 });
  c.sendInput({ mx: 0 });
  assert.deepEqual(sentSince(ws, 2), [
    [2, 2, { mx: 1, interp: 100 }, 9],
    [2, 3, { mx: 0, interp: 100 }],
  ]);
  // Inputs stopped: the acknowledgement goes out on its own.
  net.now = 500;
  ws.deliver([6, 10, 1100, 3, [9, [], [[1, 1, 2]], []], []]);
  assert.deepEqual(ws.sent.at(-1), [5, 10]);
});

test("the entity option makes objects once per change of a row", async () => {
  const net = fakeNet();
  let made = 0;
  const entity = (id, [x, name]) => {
    made++;
    return { id, x, name };
  };
  const c = await joined(net, { entity });
  const ws = net.sockets[0];
  const snaps = [];
  c.on("batch", (b) => snaps.push(b.snapshot));
  ws.deliver([6, 8, 1033, 0, [0, [[1, 5, "a"], [2, 6, "b"]], [], []], []]);
  ws.deliver([6, 9, 1066, 0, [8, [], [[1, 1, 7]], []], []]);
  assert.equal(made, 3);
  assert.deepEqual(snaps[1].get(1), { id: 1, x: 7, name: "a" });
  assert.equal(snaps[1].get(2), snaps[0].get(2), "an unchanged entity is the same object");
  assert.notEqual(snaps[1], snaps[0]);
  snaps[1].delete(2); // the game's own Map: the kept state is not touched
  ws.deliver([6, 10, 1100, 0, [9, [], [], []], []]);
  assert.ok(snaps[2].has(2));
});

test("a delta that cannot be applied: error, acknowledge 0, wait for the full snapshot", async () => {
  const net = fakeNet();
  const c = await joined(net);
  const ws = net.sockets[0];
  const batches = [];
  const errors = [];
  c.on("batch", (b) => batches.push(b.tick));
  c.on("error", (e) => errors.push(e));
  ws.deliver([6, 8, 1033, 0, [0, [[1, 0]], [], []], []]);
  ws.deliver([6, 9, 1066, 0, [8, [], [[5, 1, 0]], []], []]); // entity 5 is not in tick 8
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 0);
  assert.match(errors[0].message, /update of entity 5, which the base lacks; asked for a full snapshot/);
  ws.deliver([6, 10, 1100, 0, [8, [], [], []], []]); // sent before the server read the 0
  assert.equal(errors.length, 1, "one error, one request");
  ws.deliver([6, 11, 1133, 0, [0, [[1, 3]], [], []], []]);
  ws.deliver([6, 12, 1166, 0, [11, [], [], []], []]);
  assert.deepEqual(batches, [8, 11, 12]);
  assert.deepEqual(sentSince(ws, 1), [[5, 8], [5, 0], [5, 11], [5, 12]]);
  assert.equal(c.tick, 12);
  assert.equal(c.stats.failed, 2);
  assert.equal(c.stats.full, 2);
  assert.equal(c.stats.fullAfterDelta, 0, "no delta applied in between");
});

test("a reconnect starts from nothing: the first table batch is full", async () => {
  const net = fakeNet();
  const c = await joined(net);
  const batches = [];
  c.on("batch", (b) => batches.push([b.tick, b.base, [...b.snapshot.keys()]]));
  const ws = net.sockets[0];
  ws.deliver([6, 8, 1033, 0, [0, [[1, 0]], [], []], []]);
  ws.deliver([6, 9, 1066, 0, [8, [[2, 0]], [], []], []]);
  ws.drop(1006);
  await flush();
  const ws2 = net.sockets[1];
  ws2.deliver(welcome({ resumed: true }));
  await flush();
  assert.equal(c.tables.ack, 0, "states of the old connection dropped");
  ws2.deliver([6, 20, 1500, 0, [0, [[1, 0]], [], []], []]);
  ws2.deliver([6, 21, 1533, 0, [20, [], [], []], []]);
  assert.deepEqual(batches, [
    [8, 0, [1]],
    [9, 8, [1, 2]],
    [20, 0, [1]],
    [21, 20, [1]],
  ]);
  assert.deepEqual(sentSince(ws2, 1), [[5, 20], [5, 21]]);
  assert.equal(c.stats.fullAfterDelta, 0, "a full snapshot on a new connection is expected");
});
