// The SDK's msgpack codec against the reference implementation, the npm
// @msgpack/msgpack package (npm ci at the repository root installs it):
// both ways over a generated corpus, byte for byte where both encode.
//
//   node --test examples/sdk/

import assert from "node:assert/strict";
import { test } from "node:test";
import * as ref from "@msgpack/msgpack";
import { ExtData, decode, encode } from "./msgpack.js";

// A small deterministic generator (mulberry32), so failures reproduce.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Integers on both sides of every format boundary.
const boundaryInts = [
  0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, Number.MAX_SAFE_INTEGER,
  -1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000, -0x80000001, Number.MIN_SAFE_INTEGER,
];
const strings = ["", "a", "tickwire", "é", "€", "🎮", "日本語", "x".repeat(31), "x".repeat(32), "y".repeat(255), "y".repeat(256), "z".repeat(70000)];

function value(r, depth) {
  const pick = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return boundaryInts[Math.floor(r() * boundaryInts.length)];
    case 3:
      return Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 52)));
    case 4:
      return (r() - 0.5) * 10 ** Math.floor(r() * 12 - 4); // floats
    case 5:
      return strings[Math.floor(r() * strings.length)] + String(Math.floor(r() * 100));
    case 6: {
      const n = [0, 1, 3, 15, 16, 20][Math.floor(r() * 6)];
      return Array.from({ length: n }, () => value(r, depth + 1));
    }
    case 7: {
      const o = {};
      const n = [0, 1, 2, 15, 16, 17][Math.floor(r() * 6)];
      for (let i = 0; i < n; i++) o[`k${i}_${Math.floor(r() * 1000)}`] = value(r, depth + 1);
      return o;
    }
    case 8: {
      const n = [0, 1, 255, 256, 70000][Math.floor(r() * 5)];
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
      return b;
    }
  }
}

function corpus(n) {
  const r = rng(20260101);
  const out = [];
  for (const i of boundaryInts) out.push(i);
  for (const s of strings) out.push(s);
  out.push(Array.from({ length: 70000 }, (_, i) => i), Object.fromEntries(Array.from({ length: 70000 }, (_, i) => [`k${i}`, i])));
  out.push(0.5, -0.5, 1e300, -1e-300, Number.MAX_VALUE, Infinity, -Infinity);
  // What the wire protocol carries: a join and an input, a welcome and a batch.
  out.push([1, { name: "ann", game: "arena", options: { team: 2 } }]);
  out.push([2, 4294967295, { mx: -1, my: 1, aim: 1.25, fire: true, dt: 16.6 }]);
  out.push([1, { player: "p", room: "r", game: "arena", tickRate: 30, tick: 0, time: 1767225600000, reconnect: "t", resumed: false }]);
  out.push([2, 12345, 1767225600033, 77, { ships: [{ id: "a", x: 1.5, y: -2 }] }, []]);
  for (let i = 0; i < n; i++) out.push(value(r, 0));
  return out;
}

test("encode matches @msgpack/msgpack byte for byte", () => {
  for (const [i, v] of corpus(400).entries()) {
    const mine = encode(v);
    const theirs = ref.encode(v);
    assert.deepEqual(Buffer.from(mine), Buffer.from(theirs), `value ${i}`);
  }
});

test("round trip: encode here, decode with @msgpack/msgpack", () => {
  for (const [i, v] of corpus(400).entries()) {
    assert.deepEqual(ref.decode(encode(v)), v, `value ${i}`);
  }
});

test("round trip: encode with @msgpack/msgpack, decode here", () => {
  for (const [i, v] of corpus(400).entries()) {
    assert.deepEqual(decode(ref.encode(v)), v, `value ${i}`);
  }
});

test("formats the reference encoder never writes decode the same", () => {
  // float 32, map 32, array 32, str 8 for short strings, ext.
  const cases = [
    [[0xca, 0x3f, 0xc0, 0x00, 0x00], 1.5],
    [[0xdd, 0, 0, 0, 1, 0x07], [7]],
    [[0xdf, 0, 0, 0, 1, 0xa1, 0x6b, 0x01], { k: 1 }],
    [[0xd9, 0x02, 0x68, 0x69], "hi"],
    [[0xcf, 0, 0, 0, 0, 0, 0, 0, 0x05], 5],
    [[0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], -2],
  ];
  for (const [bytes, want] of cases) {
    assert.deepEqual(decode(new Uint8Array(bytes)), want);
    assert.deepEqual(ref.decode(new Uint8Array(bytes)), want);
  }
});

test("64-bit integers beyond 2^53 decode to BigInt, not a rounded Number", () => {
  const big = 2n ** 63n + 5n;
  assert.equal(decode(encode(big)), big);
  assert.equal(decode(encode(-(2n ** 62n) - 3n)), -(2n ** 62n) - 3n);
  assert.equal(decode(encode(12n)), 12); // small ones are Numbers
  assert.throws(() => encode(2n ** 64n), /does not fit in 64 bits/);
});

test("dates and extensions round-trip with the reference", () => {
  for (const d of [new Date(0), new Date(1767225600000), new Date(1767225600123), new Date(-1000), new Date(2 ** 33 * 1000 + 7)]) {
    assert.deepEqual(decode(encode(d)), d);
    assert.deepEqual(ref.decode(encode(d)), d);
    assert.deepEqual(decode(ref.encode(d)), d);
  }
  for (const n of [1, 2, 4, 8, 16, 3, 300, 70000]) {
    const e = new ExtData(7, new Uint8Array(n).fill(9));
    const theirs = ref.decode(encode(e));
    assert.equal(theirs.type, 7);
    assert.deepEqual(theirs.data, e.data);
    assert.deepEqual(decode(ref.encode(new ref.ExtData(7, e.data))), e);
  }
});

test("maps: Map instances encode, __proto__ stays data", () => {
  assert.deepEqual(decode(encode(new Map([["a", 1], [2, "b"]]))), { a: 1, 2: "b" });
  const o = decode(ref.encode(JSON.parse('{"__proto__": {"polluted": true}}')));
  assert.equal(Object.getPrototypeOf(o), Object.prototype);
  assert.deepEqual(Object.keys(o), ["__proto__"]);
  assert.equal({}.polluted, undefined);
});

test("malformed input is an error that says what is wrong", () => {
  const cases = [
    [[], /unexpected end of input/],
    [[0x92, 0x01], /unexpected end of input/],
    [[0xc1], /not a valid type/],
    [[0xa2, 0xff, 0xfe], /not valid UTF-8/],
    [[0x01, 0x02], /trailing bytes/],
    [[0xdd, 0xff, 0xff, 0xff, 0xff], /unexpected end of input/], // a huge length, no elements
    [[0x81, 0x90, 0x01], /map key of type object/],
    [[0xd6, 0xff, 0, 0, 0, 0].slice(0, 5), /unexpected end of input/],
    [[0xc7, 0x03, 0xff, 0, 0, 0], /timestamp extension of 3 bytes/],
  ];
  for (const [bytes, want] of cases) {
    assert.throws(() => decode(new Uint8Array(bytes)), want, `bytes ${bytes}`);
  }
  let deep = 1;
  for (let i = 0; i < 200; i++) deep = [deep];
  assert.throws(() => encode(deep), /nested deeper/);
  assert.throws(() => decode(new Uint8Array(Array(200).fill(0x91).concat([1]))), /nested deeper/);
  assert.throws(() => encode(() => 1), /cannot encode a value of type function/);
  assert.throws(() => encode(Symbol("s")), /cannot encode a value of type symbol/);
});
