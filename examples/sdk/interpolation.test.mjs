// Snapshot interpolation: which snapshots are blended when, and how.
//
//   node --test examples/sdk/

import assert from "node:assert/strict";
import { test } from "node:test";
import { Interpolator, lerp, lerpAngle, lerpEntities } from "./interpolation.js";

// feed pushes snapshots 1000/rate ms apart, each arriving `latency` ms of
// local time after it was taken; the server clock is 1e12 ms ahead.
function feed(interp, count, rate = 30, latency = 40) {
  const step = 1000 / rate;
  for (let i = 0; i < count; i++) interp.push(1e12 + i * step, { n: i }, i * step + latency);
}

test("renders delay ms behind the newest snapshot, between the right two", () => {
  const interp = new Interpolator({ delay: 100, smoothing: 0.5 });
  feed(interp, 10); // snapshots 0..9, 33.3 ms apart
  const step = 1000 / 30;
  // Local time when snapshot 9 arrives: 9*step + 40. Render time is 100 ms
  // earlier on the server's clock: snapshot 9's time - 100 = 6*step - 0.
  // value is the blended snapshot number: where the render time falls.
  const value = (s) => s.from.n + (s.to.n - s.from.n) * s.alpha;
  assert.ok(Math.abs(value(interp.sample(9 * step + 40)) - 6) < 1e-4);
  const mid = interp.sample(9 * step + 40 + step / 2);
  assert.equal(mid.from.n, 6);
  assert.equal(mid.to.n, 7);
  assert.ok(Math.abs(mid.alpha - 0.5) < 1e-4, `alpha ${mid.alpha}`);
  assert.ok(Math.abs(value(interp.sample(9 * step + 40 + 2.25 * step)) - 8.25) < 1e-4);
});

test("before the first snapshot there is nothing; before the render window, the oldest", () => {
  const interp = new Interpolator({ delay: 100 });
  assert.equal(interp.sample(0), null);
  interp.push(5000, { n: 0 }, 0);
  const s = interp.sample(0);
  assert.equal(s.from.n, 0);
  assert.equal(s.to.n, 0);
  assert.equal(s.alpha, 0);
});

test("when snapshots stop, it holds the newest rather than extrapolating", () => {
  const interp = new Interpolator({ delay: 50 });
  feed(interp, 5);
  const s = interp.sample(60_000);
  assert.equal(s.from.n, 4);
  assert.equal(s.to.n, 4);
  assert.equal(s.alpha, 0);
});

test("stale and duplicate snapshots are ignored; the buffer is bounded", () => {
  const interp = new Interpolator({ capacity: 8 });
  feed(interp, 20);
  interp.push(1e12, { n: -1 }, 10_000);
  assert.equal(interp.buffer.length, 8);
  assert.equal(interp.buffer.at(-1).state.n, 19);
});

test("the clock offset follows jitter smoothly and jumps on a new timebase", () => {
  const interp = new Interpolator({ smoothing: 0.1 });
  interp.push(1000, {}, 0); // offset 1000
  interp.push(1100, {}, 150); // sample 950: moves a tenth of the way
  assert.ok(Math.abs(interp.offset - 995) < 1e-9);
  interp.push(900_000, {}, 200); // a new server: follow at once
  assert.equal(interp.offset, 899_800);
  interp.clear();
  assert.equal(interp.offset, null);
  assert.equal(interp.sample(0), null);
});

test("lerp, lerpAngle", () => {
  assert.equal(lerp(10, 20, 0.25), 12.5);
  const cases = [
    [0, Math.PI / 2, 0.5, Math.PI / 4],
    [3, -3, 0.5, Math.PI], // across ±π, the short way
    [-3, 3, 0.5, -Math.PI],
    [0, 4 * Math.PI, 0.5, 0],
  ];
  for (const [a, b, t, want] of cases) {
    assert.ok(Math.abs(lerpAngle(a, b, t) - want) < 1e-9, `lerpAngle(${a}, ${b}, ${t}) = ${lerpAngle(a, b, t)}, want ${want}`);
  }
});

test("lerpEntities blends matched entities and keeps new ones as they are", () => {
  const from = [
    { id: "a", x: 0, y: 0, aim: 3, hp: 5 },
    { id: "gone", x: 9, y: 9, aim: 0 },
    { id: "tp", x: 0, y: 0, aim: 0, life: 1 },
  ];
  const to = [
    { id: "a", x: 10, y: -10, aim: -3, hp: 4 },
    { id: "new", x: 5, y: 5, aim: 1 },
    { id: "tp", x: 500, y: 0, aim: 0, life: 2 },
  ];
  const got = lerpEntities(from, to, 0.5, { fields: ["x", "y"], angles: ["aim"], snap: (a, b) => a.life !== b.life });
  assert.equal(got.length, 3);
  assert.equal(got[0].x, 5);
  assert.equal(got[0].y, -5);
  assert.ok(Math.abs(Math.abs(got[0].aim) - Math.PI) < 1e-9);
  assert.equal(got[0].hp, 4, "other fields come from the newer snapshot");
  assert.equal(got[1], to[1]);
  assert.equal(got[2], to[2], "snap: no blending across a respawn");
  assert.equal(to[0].x, 10, "inputs are not modified");
});

// fixedClock is a ClockSync stand-in: the server's clock reads local + 1e6.
function fixedClock() {
  const clock = { local: 0, now: () => clock.local, serverNow: (l = clock.local) => l + 1e6 };
  return clock;
}

test("with a clock, it draws delay ms behind the clock's server time", () => {
  const clock = fixedClock();
  const interp = new Interpolator({ delay: 100, clock });
  const step = 1000 / 30;
  // Snapshots taken every tick arrive 40 ms later: 73 ms of delay would do.
  for (let i = 0; i < 30; i++) {
    clock.local = i * step + 40;
    interp.push(1e6 + i * step, { n: i });
  }
  assert.equal(interp.currentDelay(), 100);
  const s = interp.sample(); // local 29*step + 40: server 29*step + 40 - 100
  assert.ok(Math.abs(s.renderTime - (1e6 + 29 * step - 60)) < 1e-6, `renderTime ${s.renderTime}`);
  assert.equal(interp.lastRenderTime, s.renderTime);
  assert.equal(s.from.n, 27);
  assert.equal(s.to.n, 28);
  assert.ok(Math.abs(s.alpha - 0.2) < 1e-6, `alpha ${s.alpha}`);
  assert.equal(interp.offset, null, "no second estimate of the server's clock");
});

test("with a clock, late snapshots make it draw further back, easing in and out, never backwards", () => {
  const clock = fixedClock();
  const interp = new Interpolator({ delay: 100, clock, window: 2000 });
  const step = 1000 / 30;
  let last = -Infinity;
  let seen = 0; // the latest local time sampled: local time never runs back
  const run = (from, to, late) => {
    for (let i = from; i < to; i++) {
      clock.local = Math.max(i * step + late, seen);
      interp.push(1e6 + i * step, { n: i });
      for (const dt of [0, step / 2]) {
        seen = clock.local + dt;
        const s = interp.sample(seen);
        assert.ok(s.renderTime >= last, `render time went back ${last - s.renderTime} ms at snapshot ${i}`);
        last = s.renderTime;
      }
    }
  };
  // A 150 ms trip needs 150 + 33.3 ms: taken at once, as nothing was drawn.
  clock.local = 150;
  interp.push(1e6, { n: 0 });
  clock.local = step + 150;
  interp.push(1e6 + step, { n: 1 });
  assert.ok(Math.abs(interp.currentDelay() - (150 + step)) < 1e-6, `delay ${interp.currentDelay()}`);
  run(2, 60, 150);
  // Between two snapshots, as intended.
  const s = interp.sample(clock.local + 10);
  assert.ok(s.from !== s.to && s.alpha > 0 && s.alpha < 1, JSON.stringify(s));
  // The trip grows to 250 ms: the delay follows at 5% of elapsed time.
  const before = interp.currentDelay();
  run(60, 61, 250);
  assert.ok(Math.abs(interp.currentDelay(clock.local + 1000) - (before + 50)) < 1e-6);
  run(61, 200, 250);
  assert.ok(Math.abs(interp.currentDelay() - (250 + step)) < 1e-6, `delay ${interp.currentDelay()}`);
  // Back to 40 ms: 2 s later the delay eases back down to its floor.
  run(200, 400, 40);
  assert.equal(interp.currentDelay(), 100);
});

test("the options are checked", () => {
  for (const opts of [{ delay: -1 }, { delay: NaN }, { slew: 0 }, { slew: 0.5 }]) {
    assert.throws(() => new Interpolator(opts), RangeError, JSON.stringify(opts));
  }
});
