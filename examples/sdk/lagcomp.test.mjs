// The client's side of lag compensation, end to end against a simulated
// server: the Client's clock, its interpolator and the interp its inputs
// report put the server's rewind (half the RTT plus interp, as
// rooms/lagcomp does it) on the world the page drew.
//
//   node --test examples/sdk/lagcomp.test.mjs

import assert from "node:assert/strict";
import { test } from "node:test";
import { connect } from "./client.js";
import { decode, encode } from "./msgpack.js";

// The server's clock reads local time + TRUE_OFFSET; it sends whole ms.
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
 * session runs `seconds` of a game: a page that draws a frame every
 * 16.7 ms from the client's interpolator and sends an input each frame,
 * and a server at `tickRate` that applies the inputs that have arrived at
 * each tick's start, rewinds each by rtt/2 + interp, and sends a batch
 * (with the tick number as its snapshot) that acks the newest. Each way
 * takes `oneWay` ms ± `jitter`. It returns, for the inputs applied after
 * `settle` ms, how far the server's rewind landed from the render time of
 * the frame the input was made on (ms; positive: later), the interp
 * values reported, and how many frames after `settle` had no snapshot
 * after the render time to blend towards.
 */
async function session({ oneWay, jitter, tickRate = 30, seconds = 12, settle = 5000, seed = 1 }) {
  const rand = rng(seed);
  const delay = () => oneWay - jitter + 2 * jitter * rand();
  const step = 1000 / tickRate;
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
      this.sent.push({ arrives: local + delay(), msg: decode(b) });
    }
    close() {}
  }
  const deliver = (msg) => ws.onmessage({ data: encode(msg).slice().buffer });

  const pending = connect({ room: "r1", server: "http://game.test", WebSocket: FakeWebSocket, now: () => local, setTimeout: (fn) => queueMicrotask(fn) });
  await new Promise((r) => setTimeout(r, 0));
  local = 10;
  deliver([1, { player: "p1", room: "r1", game: "arena", tickRate, tick: 0, time: Math.floor(local - oneWay + TRUE_OFFSET), reconnect: "tok", resumed: false }]);
  const client = await pending;

  // The page: push every batch's state, draw a frame, act on it.
  const view = client.interpolator;
  client.on("batch", (b) => view.push(b.time, b.snapshot));
  const drawn = new Map(); // input seq -> the render time of the frame it was made on
  let held = 0; // frames after settle with nothing to blend towards
  const frame = () => {
    const s = view.sample();
    if (local >= settle && s && s.from === s.to) held++;
    const seq = client.sendInput({ fire: true });
    if (seq) drawn.set(seq, view.lastRenderTime);
  };

  const events = [];
  for (let t = 100; t < seconds * 1000; t += 1000 / 60) events.push({ at: t, run: frame });
  const misses = [];
  const interps = [];
  let applied = 0;
  for (let tick = Math.ceil((100 + TRUE_OFFSET) / step) * step, n = 1; tick - TRUE_OFFSET < seconds * 1000; tick += step, n++) {
    const start = tick; // the tick's start on the server's clock
    events.push({
      at: start - TRUE_OFFSET,
      run: () => {
        for (const { arrives, msg } of ws.sent) {
          if (msg[0] !== 2 || msg[1] <= applied || arrives + TRUE_OFFSET > start) continue;
          applied = msg[1];
          // The server's rewind: its RTT (from pings: the network's round
          // trip) halved, plus the reported delay, back from the tick's start.
          const at = start - oneWay - msg[2].interp;
          if (local >= settle) {
            misses.push(at - drawn.get(msg[1]));
            interps.push(msg[2].interp);
          }
        }
        const batch = [2, n, Math.floor(start), applied, { n }, []];
        events.push({ at: start - TRUE_OFFSET + delay(), run: () => deliver(batch) });
      },
    });
  }
  while (events.length) {
    events.sort((a, b) => a.at - b.at);
    const e = events.shift();
    local = e.at;
    e.run();
  }
  return { misses, interps, held, step };
}

const stats = (xs) => ({ min: Math.min(...xs), max: Math.max(...xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length });

test("the server's rewind lands on the world the page drew, up to the input's wait for its tick", async (t) => {
  const cases = [
    { name: "100 ms round trip ± 10 ms", oneWay: 50, jitter: 5, wantInterp: [100, 120] },
    { name: "300 ms round trip ± 20 ms: the delay grows to cover the trip", oneWay: 150, jitter: 10, wantInterp: [185, 220] },
    { name: "100 ms round trip, 60 Hz", oneWay: 50, jitter: 5, tickRate: 60, wantInterp: [100, 120] },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const { misses, interps, held, step } = await session(c);
      assert.ok(misses.length > 300, `${misses.length} inputs applied`);
      const m = stats(misses);
      const i = stats(interps);
      t.diagnostic(`rewind minus render time: ${m.min.toFixed(1)} to ${m.max.toFixed(1)} ms, mean ${m.mean.toFixed(1)} (tick ${step.toFixed(1)} ms); interp ${i.min} to ${i.max} ms`);
      // An input waits 0 to one tick for the tick that applies it; the
      // rewind counts from that tick's start. Jitter (half of it each way)
      // and the clock's error (a few ms) add to that.
      const slack = c.jitter + 4;
      assert.ok(m.min > -slack && m.max < step + slack, `rewind minus render time from ${m.min} to ${m.max} ms`);
      assert.ok(Math.abs(m.mean - step / 2) < c.jitter / 2 + 4, `mean ${m.mean} ms, want about ${step / 2}`);
      assert.ok(i.min >= c.wantInterp[0] && i.max <= c.wantInterp[1], `interp from ${i.min} to ${i.max} ms`);
      assert.equal(held, 0, "frames with no snapshot after the render time");
    });
  }
});
