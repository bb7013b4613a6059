// Client-side prediction and reconciliation.
//
//   node --test examples/sdk/

import assert from "node:assert/strict";
import { test } from "node:test";
import { Predictor } from "./prediction.js";

// A one-dimensional world: each input moves by dx, the wall at 100 stops.
const apply = (s, inp) => ({ x: Math.min(100, s.x + inp.dx) });
const dist = (a, b) => Math.abs(a.x - b.x);

// server applies inputs like the game does, acknowledging the last one.
function server(inputs) {
  let s = { x: 0 };
  for (const i of inputs) s = apply(s, i.input);
  return { state: s, ack: inputs.length ? inputs.at(-1).seq : 0 };
}

test("inputs apply at once, before the server answers", () => {
  const p = new Predictor({ apply, state: { x: 0 } });
  p.input(1, { dx: 5 });
  assert.deepEqual(p.input(2, { dx: 5 }), { x: 10 });
  assert.equal(p.pending.length, 2);
});

test("reconcile drops acknowledged inputs and replays the rest", () => {
  const tests = [
    { name: "server agrees", serverMoves: [5, 5], want: 15, correction: 0 },
    { name: "server stopped us at the wall", serverMoves: [5, 500], want: 105, correction: 0 },
    { name: "nothing acknowledged yet", serverMoves: [], want: 15, correction: 0 },
  ];
  for (const tt of tests) {
    const p = new Predictor({ apply, state: { x: 0 } });
    const sent = [
      { seq: 1, input: { dx: 5 } },
      { seq: 2, input: { dx: 5 } },
      { seq: 3, input: { dx: 5 } },
    ];
    for (const s of sent) p.input(s.seq, s.input);
    // The server saw the first inputs, possibly with other effects.
    const applied = tt.serverMoves.map((dx, i) => ({ seq: i + 1, input: { dx } }));
    const { state, ack } = server(applied);
    const got = p.reconcile(state, ack, dist);
    const want = tt.name === "server stopped us at the wall" ? 100 : tt.want;
    assert.equal(got.x, want, tt.name);
    assert.equal(p.pending.length, 3 - applied.length, tt.name);
    if (tt.name === "server stopped us at the wall") assert.equal(p.correction, 85, tt.name);
    else assert.equal(p.correction, tt.correction, tt.name);
  }
});

test("a server correction is kept and built on", () => {
  const p = new Predictor({ apply, state: { x: 0 } });
  p.input(1, { dx: 10 });
  p.input(2, { dx: 10 });
  // The server pushed the player back to 3 after input 1 (a hit, say).
  p.reconcile({ x: 3 }, 1, dist);
  assert.deepEqual(p.state, { x: 13 });
  assert.equal(p.correction, 7);
  p.input(3, { dx: 1 });
  assert.deepEqual(p.reconcile({ x: 14 }, 3, dist), { x: 14 });
  assert.equal(p.pending.length, 0);
});

test("before the first server state inputs are kept, then replayed", () => {
  const p = new Predictor({ apply });
  assert.equal(p.input(1, { dx: 2 }), null);
  p.input(2, { dx: 2 });
  assert.deepEqual(p.reconcile({ x: 50 }, 1), { x: 52 });
  assert.equal(p.correction, 0);
});

test("pending inputs are bounded and reset clears them", () => {
  const p = new Predictor({ apply, state: { x: 0 }, maxPending: 4 });
  for (let i = 1; i <= 10; i++) p.input(i, { dx: 0 });
  assert.deepEqual(p.pending.map((x) => x.seq), [7, 8, 9, 10]);
  p.reset({ x: 1 });
  assert.equal(p.pending.length, 0);
  assert.deepEqual(p.state, { x: 1 });
  assert.throws(() => new Predictor({}), /needs an apply/);
});
