// Headless colyseus.js clients for the crowd workload (see crowd.mjs),
// started by go run ./cmd/vscolyseus in tools/bench. Each client joins a
// "crowd" room (joinOrCreate, one client after the other, so rooms fill
// up in turn), sends an input {s: seq, t: turn} --rate times a second and
// decodes every state patch, as a game client would.
//
//	node tools/bench/colyseus/load.mjs --url http://127.0.0.1:2567 --clients 20 --duration 5
//
// After the joins and --warmup seconds it prints "ready"; with --control 1
// it then waits for the line "go" on stdin. It measures for --duration
// seconds, prints "end", then "result {json}" (the fields of
// tools/bench/internal/vs.LoadResult), and exits. --timeout bounds the
// whole run. Measured, over the window only:
//
//   - bytes received: every WebSocket message's payload plus the header of
//     the one unmasked frame it arrives in (2, 4 or 10 bytes by size);
//     control frames (pings) are not counted. Bytes sent likewise, with
//     the 4-byte mask of client frames;
//   - patches: ROOM_STATE_PATCH messages;
//   - RTT: from sending an input to the arrival of the "ack" message the
//     server sends just before the first patch after the simulation tick
//     that applied it; every input up to the acknowledged one counts.
import readline from "node:readline";
import { Client, Protocol } from "colyseus.js";
import { parseArgs, turn } from "./crowd.mjs";

const o = parseArgs(
  process.argv.slice(2),
  { url: "http://127.0.0.1:2567", clients: 20, rate: 10, warmup: 2, duration: 10, timeout: 120, control: 0 },
  ["url"],
);

// frameHeader returns the size of the header of a frame carrying n bytes.
const frameHeader = (n) => (n < 126 ? 2 : n < 65536 ? 4 : 10);

// measuring is true during the window.
let measuring = false;
const m = {
  messages: 0,
  snapshots: 0,
  bytes: 0,
  payloadBytes: 0,
  upBytes: 0,
  inputs: 0,
  acked: 0,
  errors: 0,
  firstError: "",
};
const rtts = []; // microseconds, in the window

function fail(why) {
  m.errors++;
  if (!m.firstError) m.firstError = why;
}

const sentRing = 1024;

// bot is one client's connection and its inputs.
async function bot(n) {
  const client = new Client(o.url.replace(/^http/, "ws"));
  const room = await client.joinOrCreate("crowd", {});
  const ws = room.connection.transport.ws;
  ws.addEventListener("message", (ev) => {
    if (!measuring) return;
    const data = ev.data;
    const len = data.byteLength;
    m.messages++;
    m.payloadBytes += len;
    m.bytes += len + frameHeader(len);
    if (new Uint8Array(data, 0, 1)[0] === Protocol.ROOM_STATE_PATCH) m.snapshots++;
  });
  const conn = room.connection;
  const send = conn.send.bind(conn);
  conn.send = (data) => {
    if (measuring) m.upBytes += data.byteLength + frameHeader(data.byteLength) + 4;
    send(data);
  };
  const sentAt = new Float64Array(sentRing);
  const sentSeq = new Uint32Array(sentRing);
  let seq = 0;
  let lastAck = 0;
  room.onMessage("ack", (ack) => {
    const now = performance.now();
    if (!Number.isInteger(ack) || ack <= lastAck) return;
    for (let s = Math.max(lastAck + 1, ack - sentRing + 1); s <= ack; s++) {
      const i = s % sentRing;
      if (measuring && sentSeq[i] === s) {
        rtts.push((now - sentAt[i]) * 1000);
        m.acked++;
      }
    }
    lastAck = ack;
  });
  room.onLeave((code) => {
    if (!stopping) fail(`client ${n} left the room (close ${code})`);
  });
  room.onError((code, message) => fail(`client ${n}: error ${code}: ${message}`));
  // Inputs at the rate, each client at its own phase.
  const period = 1000 / o.rate;
  const timer = { id: null };
  if (o.rate > 0) {
    timer.id = setTimeout(function tick() {
      timer.id = setTimeout(tick, period);
      seq++;
      const i = seq % sentRing;
      sentSeq[i] = seq;
      sentAt[i] = performance.now();
      room.send("input", { s: seq, t: turn(seq) });
      if (measuring) m.inputs++;
    }, Math.random() * period);
  }
  return { room, timer };
}

let stopping = false;

const lines = readline.createInterface({ input: process.stdin });
const goLine = new Promise((resolve) => {
  lines.on("line", (l) => l.trim() === "go" && resolve());
  lines.on("close", () => resolve());
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted, q) {
  if (sorted.length === 0) return 0;
  const rank = Math.min(Math.max(Math.round(q * sorted.length), 1), sorted.length);
  return sorted[rank - 1];
}

async function main() {
  setTimeout(() => {
    console.error(`colyseus load: the run took longer than --timeout ${o.timeout}s`);
    process.exit(3);
  }, o.timeout * 1000).unref();
  const bots = [];
  const rooms = new Set();
  for (let n = 1; n <= o.clients; n++) {
    try {
      const b = await bot(n);
      bots.push(b);
      rooms.add(b.room.roomId);
    } catch (err) {
      fail(`client ${n} could not join: ${err.message ?? err}`);
    }
  }
  await sleep(o.warmup * 1000);
  console.log("ready");
  if (o.control) await goLine;
  const t0 = performance.now();
  measuring = true;
  await sleep(o.duration * 1000);
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  console.log("end");
  stopping = true;
  rtts.sort((a, b) => a - b);
  const result = {
    impl: "colyseus",
    clients: o.clients,
    joined: bots.length,
    rooms: rooms.size,
    seconds,
    ...m,
    rttCount: rtts.length,
    rttP50Us: percentile(rtts, 0.5),
    rttP99Us: percentile(rtts, 0.99),
  };
  console.log("result " + JSON.stringify(result));
  for (const b of bots) {
    clearTimeout(b.timer.id);
    b.room.leave(true).catch(() => {});
  }
  await sleep(200);
  process.exit(0);
}

main().catch((err) => {
  console.error("colyseus load:", err);
  process.exit(1);
});
