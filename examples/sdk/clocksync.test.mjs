// Clock synchronisation against a simulated network: a server whose clock
// is far from the client's, inputs acknowledged by batches, jitter, spikes
// and the wait for the server's next tick.
//
//   node --test examples/sdk/clocksync.test.mjs

import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "./client.js";
import { ClockSync } from "./clocksync.js";
import { decode, encode } from "./msgpack.js";

// The server's clock reads local time + TRUE_OFFSET (ms since the Unix
// epoch against performance.now()); it sends whole milliseconds.
const TRUE_OFFSET = 1_767_366_245_000.37;

// rng is mulberry32: a small seeded generator, so every run is the same.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * simulate runs `seconds` of a session and returns the samples a client
 * sees, in the order they arrive: an input every 40 to 60 ms, answered by
 * the batch of the tick that applies it (an ack), and a batch every tick.
 * up(), down(): one-way delays in ms. With wait set, an input waits for
 * the server's next tick, as in tickwire, and the ack carries that tick's
 * time; without, the server stamps the answer as the input arrives.
 */
function simulate({ seconds = 20, seed = 1, up, down, tickRate = 30, wait = true, inputs = true, batches = true }) {
  const rand = rng(seed);
  const step = 1000 / tickRate;
  const events = [];
  const toLocal = (s) => s - TRUE_OFFSET;
  const nextTick = (s) => Math.ceil(s / step) * step; // ticks start on multiples of step
  if (inputs) {
    for (let sent = 1000; sent < seconds * 1000; sent += 40 + 20 * rand()) {
      const arrived = sent + TRUE_OFFSET + up(rand);
      const stamp = wait ? nextTick(arrived) : arrived;
      events.push({ kind: "ack", sent, server: Math.floor(stamp), received: toLocal(stamp) + down(rand) });
    }
  }
  if (batches) {
    for (let tick = nextTick(1000 + TRUE_OFFSET); toLocal(tick) < seconds * 1000; tick += step) {
      events.push({ kind: "batch", server: Math.floor(tick), received: toLocal(tick) + down(rand) });
    }
  }
  return events.sort((a, b) => a.received - b.received);
}

const uniform = (lo, hi) => (rand) => lo + (hi - lo) * rand();
const spiky = (lo, hi, p, spike) => (rand) => lo + (hi - lo) * rand() + (rand() < p ? spike : 0);

/**
 * run feeds the events to a ClockSync and returns the largest error of
 * serverNow() and the mean error, in ms, over the events that arrive
 * after `settle` ms of local time, measured as each arrives. It checks
 * that serverNow() never runs backwards once the first samples are in.
 */
function run(events, settle = 10_000, opts = {}) {
  const clock = new ClockSync({ now: () => 0, ...opts });
  let maxErr = 0;
  let sumErr = 0;
  let n = 0;
  let last = -Infinity;
  for (const e of events) {
    if (e.kind === "ack") assert.ok(clock.addSample(e.sent, e.server, e.received));
    else assert.ok(clock.addServerTime(e.server, e.received));
    const now = clock.serverNow(e.received);
    if (e.received > 1200) {
      assert.ok(now >= last, `serverNow went back ${(last - now).toFixed(3)} ms at local ${e.received.toFixed(1)}`);
    }
    last = now;
    if (e.received < settle) continue;
    const err = clock.serverNow(e.received) - (e.received + TRUE_OFFSET);
    maxErr = Math.max(maxErr, Math.abs(err));
    sumErr += err;
    n++;
  }
  return { clock, maxErr, meanErr: sumErr / n };
}

const rtt80 = { up: uniform(30, 50), down: uniform(30, 50) }; // 80 ms ± 20 ms

test("converges within a few ms with an 80 ms RTT and ±20 ms of jitter", async (t) => {
  // settle: from when (ms of local time, samples start at 1000) the error
  // is measured; limit: the largest error allowed after that, ms.
  const cases = [
    { name: "answers stamped on arrival", ...rtt80, wait: false, settle: 3000, limit: 2 },
    { name: "answers stamped on arrival, 10% of messages 300 ms late", up: spiky(30, 50, 0.1, 300), down: spiky(30, 50, 0.1, 300), wait: false, settle: 3000, limit: 2 },
    { name: "acks of a 30 Hz server, after 5 s", ...rtt80, settle: 5000, limit: 5 },
    { name: "acks of a 60 Hz server, after 10 s", ...rtt80, tickRate: 60, settle: 10_000, limit: 3 },
    { name: "acks of a 30 Hz server, 10% of messages 300 ms late", up: spiky(30, 50, 0.1, 300), down: spiky(30, 50, 0.1, 300), settle: 10_000, limit: 4 },
    { name: "acks of a 30 Hz server, no batches", ...rtt80, batches: false, settle: 10_000, limit: 4 },
  ];
  for (const c of cases) {
    await t.test(c.name, (t) => {
      let worst = 0;
      for (let seed = 1; seed <= 10; seed++) {
        const { maxErr, clock } = run(simulate({ ...c, seed }), c.settle);
        assert.ok(maxErr < c.limit, `seed ${seed}: largest error of serverNow() after ${c.settle} ms: ${maxErr.toFixed(2)} ms`);
        assert.ok(clock.rtt >= 60 && clock.rtt < 80, `seed ${seed}: rtt ${clock.rtt}`);
        worst = Math.max(worst, maxErr);
      }
      t.diagnostic(`largest error over 10 runs after ${c.settle / 1000} s: ${worst.toFixed(2)} ms`);
    });
  }
});

test("a path slower one way biases the estimate by half the difference", () => {
  // 60 ms up, 20 ms down: the round trip is 80 ms, split unevenly. The
  // midpoint puts the server's clock 20 ms later than it is.
  const { meanErr, maxErr } = run(simulate({ up: uniform(59, 61), down: uniform(19, 21) }));
  assert.ok(Math.abs(meanErr - 20) < 3, `mean error ${meanErr.toFixed(2)} ms, want about +20`);
  assert.ok(maxErr < 23, `largest error ${maxErr.toFixed(2)} ms`);
});

test("with one-way samples only, it trails the server by the shortest one-way delay", () => {
  const { meanErr } = run(simulate({ up: uniform(30, 50), down: uniform(30, 50), inputs: false }));
  assert.ok(meanErr > -31.5 && meanErr < -29, `mean error ${meanErr.toFixed(2)} ms, want about -30`);
});

test("a jitter spike does not move the estimate", () => {
  const { clock } = run(simulate({ seconds: 10, up: uniform(30, 50), down: uniform(30, 50) }));
  const before = clock.target;
  assert.ok(clock.addSample(10_000, Math.floor(10_000 + TRUE_OFFSET + 400), 10_600)); // 600 ms round trip
  assert.equal(clock.target, before);
});

test("the offset slews towards a new estimate; serverNow never runs backwards", () => {
  const clock = new ClockSync({ now: () => 0 });
  clock.addSample(0, 1_000_040, 80); // the offset is within [999_960, 1_000_040]
  assert.equal(clock.target, 1_000_000);
  assert.equal(clock.serverNow(80), 1_000_080);
  // A batch proves the offset is at least 1_000_040: the estimate moves
  // 40 ms later, and the offset in use follows at 5% of elapsed time.
  clock.addServerTime(1_000_140, 100);
  assert.equal(clock.target, 1_000_040);
  assert.equal(clock.offset(100), 1_000_000);
  assert.equal(clock.offset(500), 1_000_020);
  assert.equal(clock.offset(900), 1_000_040);
  assert.equal(clock.offset(5000), 1_000_040);
  let last = -Infinity;
  for (let t = 100; t < 1000; t += 7) {
    const now = clock.serverNow(t);
    assert.ok(now > last, `serverNow(${t}) = ${now} after ${last}`);
    last = now;
  }
  // And earlier: a round trip proving the offset at most 999_960.
  clock.reset();
  clock.addSample(0, 1_000_040, 80);
  clock.addSample(100, 1_000_060, 110); // within [999_950, 999_960]
  assert.equal(clock.target, 999_960);
  last = -Infinity;
  for (let t = 110; t < 1000; t += 3) {
    const now = clock.serverNow(t);
    assert.ok(now > last, `serverNow(${t}) = ${now} after ${last}`);
    last = now;
  }
  assert.equal(clock.offset(910), 999_960);
});

test("the first sample and a new timebase are taken at once", () => {
  const clock = new ClockSync({ now: () => 500 });
  assert.equal(clock.ready, false);
  assert.equal(clock.serverNow(), 500);
  assert.ok(clock.addServerTime(1_000_000, 100)); // a welcome
  assert.equal(clock.ready, true);
  assert.equal(clock.offset(), 999_900);
  assert.ok(clock.addSample(200, 1_000_150, 220)); // within [999_930, 999_950]: slews
  assert.equal(clock.target, 999_940);
  assert.equal(clock.offset(220), 999_900);
  assert.ok(clock.addSample(300, 5_000_000, 320)); // a server 4000 s ahead: starts over
  assert.equal(clock.target, 5_000_000 - 310);
  assert.equal(clock.offset(320), 5_000_000 - 310);
  assert.ok(clock.addSample(400, 1_000_000, 420)); // and back: starts over again
  assert.equal(clock.offset(420), 1_000_000 - 410);
});

test("each kind of sample tightens its side of the interval", () => {
  const clock = new ClockSync({ now: () => 0, snap: 0 });
  clock.addSample(0, 1_000_040, 80); // [999_960, 1_000_040]
  assert.equal(clock.target, 1_000_000);
  clock.addServerTime(1_000_090, 100); // the server read 1_000_090 by local 100: >= 999_990
  assert.equal(clock.target, (999_990 + 1_000_040) / 2);
  clock.addServerTime(1_000_050, 150); // a late batch proves less: no change
  assert.equal(clock.target, (999_990 + 1_000_040) / 2);
  clock.addSample(200, 1_000_220, 300); // a slow round trip, [999_920, 1_000_020]: the upper side tightens
  assert.equal(clock.target, (999_990 + 1_000_020) / 2);
  assert.equal(clock.rtt, 80);
});

test("samples that cannot be right are refused and change nothing", () => {
  const clock = new ClockSync({ now: () => 0 });
  clock.addSample(0, 1_000_040, 80);
  const state = () => ({ target: clock.target, rtt: clock.rtt, offset: clock.offset(1000) });
  const before = state();
  const bad = [
    [NaN, 1, 2],
    [0, Infinity, 2],
    ["0", 1, 2],
    [0, 1, undefined],
    [100, 1_000_040, 50], // received before sent
    [0, 1_000_040, 20_000], // a 20 s round trip
  ];
  for (const args of bad) assert.equal(clock.addSample(...args), false, `addSample(${args})`);
  for (const args of [[NaN, 1], [1, null], [{}, 1], [1n, 1]]) assert.equal(clock.addServerTime(...args), false, `addServerTime(${args})`);
  assert.deepEqual(state(), before);
});

test("renderTime and interpDelay are the two sides of the interpolation delay", () => {
  let now = 1000;
  const clock = new ClockSync({ now: () => now });
  clock.addSample(900, 2_000_940, 980); // offset 2_000_000
  assert.equal(clock.serverNow(), 2_001_000);
  const t = clock.renderTime(100);
  assert.equal(t, 2_000_900);
  assert.equal(clock.interpDelay(t), 100);
  now += 16.4; // a frame later, the same render time is 116 ms behind
  assert.equal(clock.interpDelay(t), 116);
  assert.equal(clock.interpDelay(clock.serverNow() + 50), 0); // drawing ahead: never negative
  assert.equal(clock.interpDelay(NaN), 0);
});

test("samples count for the window, then expire; memory stays bounded", () => {
  const clock = new ClockSync({ now: () => 0, window: 1000, snap: 0 });
  clock.addSample(0, 1_000_010, 20); // tight: [999_990, 1_000_010]
  for (let t = 100; t <= 900; t += 100) clock.addSample(t, 1_000_000 + t + 50, t + 60); // [999_990, 1_000_050]
  assert.equal(clock.target, 1_000_000);
  assert.equal(clock.rtt, 20);
  clock.addSample(1000, 1_000_000 + 1050, 1060); // the tight sample, received at 20, is now out of the window
  assert.equal(clock.target, 1_000_020);
  assert.equal(clock.rtt, 60);
  // An hour of samples every 10 ms keeps about a window's worth at most.
  for (let t = 2000; t < 3_600_000; t += 10) clock.addSample(t, 1_000_000 + t + 30 + (t % 7), t + 60 + (t % 13));
  assert.ok(clock.lower.size <= 101 && clock.upper.size <= 101, `kept ${clock.lower.size} and ${clock.upper.size} bounds`);
  assert.ok(clock.lower.q.length < 300, `queue of ${clock.lower.q.length}`);
});

test("the options are checked", () => {
  for (const opts of [{ window: 0 }, { window: NaN }, { window: Infinity }, { slew: 0 }, { slew: 1 }, { snap: -1 }, { snap: NaN }, { maxRtt: 0 }]) {
    assert.throws(() => new ClockSync(opts), RangeError, JSON.stringify(opts));
  }
});

test("the SDK Client's own clock, fed from its welcome, batches and input acks", async (t) => {
  const rand = rng(7);
  const jitter = () => 30 + 20 * rand(); // each way: 30 to 50 ms
  const step = 1000 / 30;
  let local = 0;
  let ws = null;
  class FakeWebSocket {
    constructor() {
      ws = this;
      this.readyState = 0;
      this.sent = [];
      queueMicrotask(() => {
        this.readyState = 1;
        this.onopen();
      });
    }
    send(b) {
      this.sent.push({ at: local, up: jitter(), msg: decode(b) }); // up: its one-way delay
    }
    close() {}
  }
  const deliver = (msg) => ws.onmessage({ data: encode(msg).slice().buffer });

  const pending = connect({ room: "r1", server: "http://game.test", WebSocket: FakeWebSocket, now: () => local, setTimeout: (fn) => queueMicrotask(fn) });
  await new Promise((r) => setTimeout(r, 0));
  local = 10; // the welcome left the server 35 ms earlier
  deliver([1, { player: "p1", room: "r1", game: "arena", tickRate: 30, tick: 0, time: Math.floor(TRUE_OFFSET - 25), reconnect: "tok", resumed: false }]);
  const client = await pending;

  // The page's side: the client keeps the clock and adds interp itself.
  const fire = () => client.sendInput({ fire: [1, 2] });

  // The server's side: inputs arrive after a one-way delay and are applied
  // at the next tick; every tick's batch acks the newest input applied and
  // arrives after a one-way delay. Events run in local-time order.
  const events = [];
  let applied = 0;
  for (let t = 100; t < 12_000; t += 50) events.push({ at: t, run: fire });
  for (let tick = Math.ceil((100 + TRUE_OFFSET) / step) * step, n = 1; tick - TRUE_OFFSET < 12_000; tick += step, n++) {
    const server = tick;
    events.push({
      at: server - TRUE_OFFSET, // the tick starts: apply what has arrived, send the batch
      run: () => {
        for (const { at, up, msg } of ws.sent) if (msg[0] === 2 && at + up + TRUE_OFFSET <= server) applied = Math.max(applied, msg[1]);
        const batch = [2, n, Math.floor(server), applied, {}, []];
        events.push({ at: server - TRUE_OFFSET + jitter(), run: () => deliver(batch) });
      },
    });
  }
  let errAt10s = null;
  while (events.length) {
    events.sort((a, b) => a.at - b.at);
    const e = events.shift();
    local = e.at;
    e.run();
    if (errAt10s === null && local >= 10_000) errAt10s = client.serverNow() - (local + TRUE_OFFSET);
  }
  assert.ok(Math.abs(errAt10s) < 5, `serverNow() off by ${errAt10s.toFixed(2)} ms after 10 s`);
  t.diagnostic(`serverNow() off by ${errAt10s.toFixed(2)} ms after 10 s`);
  const inputs = ws.sent.filter(({ msg }) => msg[0] === 2);
  assert.ok(inputs.length > 200);
  assert.deepEqual(inputs.at(-1).msg[2], { fire: [1, 2], interp: 100 });
});
