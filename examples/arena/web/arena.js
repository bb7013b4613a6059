// The arena's browser client: it draws the server's snapshots, other ships
// interpolated a little in the past and the player's own ship predicted
// from its inputs, reconciled with each batch's input ack. The SDK's
// client keeps the server's clock, draws by it, and tells the server with
// every input how far behind it the ships on screen were, so that the
// server judges shots against what the player saw (lag compensation).
//
// The server sends an entity table (snapshot.go) as deltas, and only what
// is in the player's sight: the SDK applies them and hands this page a
// Map of entities each batch, which worldOf turns into ships, bullets and
// the scoreboard. The camera follows the own ship and never shows more
// than the sight minus its margin, so what is drawn has been received.
//
// URL parameters: name (display name), delay (interpolation delay, ms).

import { Predictor, connect, lerpEntities } from "/sdk/tickwire.js";

const params = new URLSearchParams(location.search);
const canvas = document.getElementById("view");
const g = canvas.getContext("2d");
const $ = (id) => document.getElementById(id);

const rules = await (await fetch("/arena/rules.json")).json();
const name = params.get("name") || randomName();

// --- the snapshot: an entity table, as snapshot.go writes it ----------------

// Entity ids: the low two bits say what an entity is, the rest which one.
// Numbers come quantized: positions to 0.1 units, aim in 256 steps, the
// time to respawn to 0.1 s, the ping to 0.1 ms.
const POS = 0.1;
const AIM = (2 * Math.PI) / 256;

// entity makes a page object of a table row; the SDK calls it once per
// change of the row.
function entity(id, f) {
  const n = Math.floor(id / 4);
  switch (id % 4) {
    case 0:
      return { kind: "ship", n, x: f[0] * POS, y: f[1] * POS, aim: f[2] * AIM, hp: f[3], alive: f[4], life: f[5], respawn: f[6] * 100 };
    case 1:
      return { kind: "pilot", n, id: f[0], name: f[1], bot: f[2], score: f[3], deaths: f[4], ping: f[5] * 0.1 };
    case 2:
      return { kind: "bullet", id: n, x: f[0] * POS, y: f[1] * POS };
  }
  return { kind: "unknown", id };
}

// worldOf turns a batch's entities into what the page draws: the ships in
// sight, named by their pilots; every pilot (the scoreboard, the kill
// feed); the bullets in sight.
function worldOf(entities) {
  const pilots = new Map();
  const bodies = [];
  const bullets = [];
  for (const e of entities.values()) {
    if (e.kind === "pilot") pilots.set(e.n, e);
    else if (e.kind === "ship") bodies.push(e);
    else if (e.kind === "bullet") bullets.push(e);
  }
  const ships = [];
  for (const b of bodies) {
    const p = pilots.get(b.n);
    if (p) ships.push({ ...b, id: p.id, name: p.name, bot: p.bot });
  }
  return { ships, bullets, pilots: [...pilots.values()] };
}

// --- movement, the same rules as Move in world.go ---------------------------

function move(p, mx, my, dtMs) {
  mx = Math.max(-1, Math.min(1, mx));
  my = Math.max(-1, Math.min(1, my));
  const l = Math.sqrt(mx * mx + my * my);
  if (l > 1) {
    mx /= l;
    my /= l;
  }
  const step = rules.shipSpeed * (dtMs / 1000);
  let q = { x: p.x + mx * step, y: p.y + my * step };
  const r = rules.shipRadius;
  for (const w of rules.walls) q = pushOut(q, r, w);
  q.x = Math.max(r, Math.min(rules.width - r, q.x));
  q.y = Math.max(r, Math.min(rules.height - r, q.y));
  return q;
}

function pushOut(p, r, w) {
  const cx = Math.max(w.x, Math.min(w.x + w.w, p.x));
  const cy = Math.max(w.y, Math.min(w.y + w.h, p.y));
  const dx = p.x - cx;
  const dy = p.y - cy;
  const d2 = dx * dx + dy * dy;
  if (d2 >= r * r) return p;
  if (d2 > 0) {
    const d = Math.sqrt(d2);
    return { x: cx + (dx / d) * r, y: cy + (dy / d) * r };
  }
  const left = p.x - w.x;
  const right = w.x + w.w - p.x;
  const top = p.y - w.y;
  const bottom = w.y + w.h - p.y;
  const m = Math.min(left, right, top, bottom);
  if (m === left) return { x: w.x - r, y: p.y };
  if (m === right) return { x: w.x + w.w + r, y: p.y };
  if (m === top) return { x: p.x, y: w.y - r };
  return { x: p.x, y: w.y + w.h + r };
}

// applyInput is the prediction step: what the server does with one input.
function applyInput(s, input) {
  if (!s.alive) return s;
  const q = move(s, input.mx, input.my, Math.min(input.dt, rules.maxInputDt));
  return { ...s, x: q.x, y: q.y };
}

// --- input ------------------------------------------------------------------

const keys = new Set();
const mouse = { x: 0, y: 0, down: false, seen: false };
const movement = {
  KeyW: [0, -1], ArrowUp: [0, -1], KeyS: [0, 1], ArrowDown: [0, 1],
  KeyA: [-1, 0], ArrowLeft: [-1, 0], KeyD: [1, 0], ArrowRight: [1, 0],
};
addEventListener("keydown", (e) => {
  if (movement[e.code] || e.code === "Space") e.preventDefault();
  keys.add(e.code);
});
addEventListener("keyup", (e) => keys.delete(e.code));
addEventListener("blur", () => {
  keys.clear();
  mouse.down = false;
});
canvas.addEventListener("mousemove", (e) => {
  mouse.x = e.clientX;
  mouse.y = e.clientY;
  mouse.seen = true;
});
canvas.addEventListener("mousedown", () => (mouse.down = true));
addEventListener("mouseup", () => (mouse.down = false));

function currentInput(dt) {
  let mx = 0;
  let my = 0;
  for (const k of keys) {
    const d = movement[k];
    if (d) {
      mx += d[0];
      my += d[1];
    }
  }
  mx = Math.max(-1, Math.min(1, mx));
  my = Math.max(-1, Math.min(1, my));
  let aim = own ? own.aim : 0;
  if (own && mouse.seen) {
    const w = toWorld(mouse.x, mouse.y);
    aim = Math.atan2(w.y - own.y, w.x - own.x);
  }
  return { mx, my, aim, fire: mouse.down || keys.has("Space"), dt };
}

// --- the session -----------------------------------------------------------

const predictor = new Predictor({ apply: applyInput });
let latest = null; // newest world: ships and bullets in sight, every pilot
let own = null; // own ship: predicted position, own aim
let ownLife = 0;
const smooth = { x: 0, y: 0 }; // visual correction still to absorb
const feed = [];
const stats = { fps: 0, frames: 0, second: 0 };

const banner = (text) => ($("banner").textContent = text);
banner("joining the arena…");

let client;
try {
  client = await connect({ game: "arena", name, interpDelay: Number(params.get("delay") ?? 100), entity });
} catch (err) {
  banner(`could not join: ${err.message}`);
  throw err;
}
banner("");
// Draws by the client's estimate of the server's clock; inputs report
// how far behind it the latest frame drawn was.
const interp = client.interpolator;

client.on("batch", (b) => {
  const world = worldOf(b.snapshot);
  latest = world;
  interp.push(b.time, world, performance.now());
  const me = world.ships.find((s) => s.id === client.playerId);
  if (!me) return;
  const before = predictor.state;
  const next = predictor.reconcile({ x: me.x, y: me.y, alive: me.alive }, b.settled);
  if (before && me.life === ownLife) {
    // Absorb a correction over a few frames instead of jumping.
    smooth.x += before.x - next.x;
    smooth.y += before.y - next.y;
  } else {
    smooth.x = smooth.y = 0;
  }
  ownLife = me.life;
  own = { ...me, x: next.x, y: next.y, aim: own?.aim ?? me.aim };
  for (const ev of b.events) addFeed(ev);
});
client.on("disconnect", () => banner("connection lost, reconnecting…"));
let reconnects = 0;
client.on("reconnect", () => {
  reconnects++;
  banner("");
});
client.on("close", (e) => banner(`disconnected: ${e.reason || e.code}. Reload to play again.`));
client.on("error", (e) => console.warn("tickwire:", e.message));

function addFeed(ev) {
  if (ev.kind !== "kill" || !latest) return;
  const nameOf = (id) => latest.pilots.find((p) => p.id === id)?.name ?? "someone";
  feed.push({ text: `${nameOf(ev.by)} destroyed ${nameOf(ev.victim)}`, until: performance.now() + 5000 });
  if (feed.length > 5) feed.shift();
}

// Inputs go out at most 60 times a second, each standing for the time
// since the previous one, so the frame rate never changes the speed and
// the server's input rate limit (120 a second) is never reached.
let lastInputAt = performance.now();
function sendInput(now) {
  const dt = now - lastInputAt;
  if (dt < 1000 / 60 - 0.5) return;
  lastInputAt = now;
  const input = currentInput(Math.min(dt, rules.maxInputDt));
  const seq = client.sendInput(input);
  if (seq) {
    predictor.input(seq, input);
    if (own && predictor.state) own = { ...own, x: predictor.state.x, y: predictor.state.y, aim: input.aim };
  }
}

// --- drawing ----------------------------------------------------------------

let view = { scale: 1, ox: 0, oy: 0, cx: 0, cy: 0, dpr: 1 };

// resize fits the camera to the window: it shows at most the sight minus
// its margin on each side (on a wider or taller window it zooms in), and
// its centre is the middle of the space the HUD leaves.
function resize() {
  const dpr = devicePixelRatio || 1;
  canvas.width = Math.round(innerWidth * dpr);
  canvas.height = Math.round(innerHeight * dpr);
  // The HUD line stays above the arena; on a wide screen the scoreboard
  // gets a column of its own on the right.
  const top = 48;
  const right = innerWidth > 900 ? 272 : 0;
  const w = innerWidth - right - 16;
  const h = innerHeight - top - 8;
  const shown = { w: rules.sight.width - 2 * rules.sight.margin, h: rules.sight.height - 2 * rules.sight.margin };
  const scale = Math.max(w / shown.w, h / shown.h);
  view = { ...view, scale, cx: 8 + w / 2, cy: top + h / 2, dpr };
}
addEventListener("resize", resize);
resize();

// follow centres the camera on (x, y), in arena units.
function follow(x, y) {
  view.ox = view.cx - x * view.scale;
  view.oy = view.cy - y * view.scale;
}

function toWorld(x, y) {
  return { x: (x - view.ox) / view.scale, y: (y - view.oy) / view.scale };
}

function frame(now) {
  requestAnimationFrame(frame);
  countFrame(now);
  sendInput(now);
  const decay = Math.exp(-16 / 80);
  smooth.x *= decay;
  smooth.y *= decay;
  if (own) follow(own.x + smooth.x, own.y + smooth.y);
  else follow(rules.width / 2, rules.height / 2);

  g.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
  g.fillStyle = "#0b0e14";
  g.fillRect(0, 0, innerWidth, innerHeight);
  g.setTransform(view.dpr * view.scale, 0, 0, view.dpr * view.scale, view.dpr * view.ox, view.dpr * view.oy);
  drawArena();

  const s = interp.sample(now);
  if (s) {
    const snap = (a, b) => a.life !== b.life;
    for (const b of lerpEntities(s.from.bullets, s.to.bullets, s.alpha)) drawBullet(b);
    for (const ship of lerpEntities(s.from.ships, s.to.ships, s.alpha, { angles: ["aim"], snap })) {
      if (ship.id !== client.playerId) drawShip(ship, false);
    }
  }
  if (own) drawShip({ ...own, x: own.x + smooth.x, y: own.y + smooth.y }, true);
  drawHUD(now);
}

function drawArena() {
  g.fillStyle = "#121722";
  g.fillRect(0, 0, rules.width, rules.height);
  g.strokeStyle = "#1b2230";
  g.lineWidth = 1;
  for (let x = 0; x <= rules.width; x += 50) line(x, 0, x, rules.height);
  for (let y = 0; y <= rules.height; y += 50) line(0, y, rules.width, y);
  g.strokeStyle = "#4c566a";
  g.lineWidth = 3;
  g.strokeRect(0, 0, rules.width, rules.height);
  g.fillStyle = "#3b4252";
  for (const w of rules.walls) g.fillRect(w.x, w.y, w.w, w.h);
}

function line(x1, y1, x2, y2) {
  g.beginPath();
  g.moveTo(x1, y1);
  g.lineTo(x2, y2);
  g.stroke();
}

function drawShip(s, mine) {
  if (!s.alive) return;
  const r = rules.shipRadius;
  const color = mine ? "#ebcb8b" : s.bot ? "#bf616a" : "#88c0d0";
  g.save();
  g.translate(s.x, s.y);
  g.rotate(s.aim);
  g.fillStyle = color;
  g.beginPath();
  g.moveTo(r + 6, 0);
  g.lineTo(-r * 0.8, r * 0.8);
  g.lineTo(-r * 0.4, 0);
  g.lineTo(-r * 0.8, -r * 0.8);
  g.closePath();
  g.fill();
  g.restore();
  // health bar and name
  const hp = Math.max(0, s.hp / rules.maxHp);
  g.fillStyle = "#2e3440";
  g.fillRect(s.x - r, s.y - r - 12, 2 * r, 4);
  g.fillStyle = hp > 0.5 ? "#a3be8c" : hp > 0.25 ? "#ebcb8b" : "#bf616a";
  g.fillRect(s.x - r, s.y - r - 12, 2 * r * hp, 4);
  g.fillStyle = "#d8dee9";
  g.font = "13px system-ui, sans-serif";
  g.textAlign = "center";
  g.fillText(s.name, s.x, s.y - r - 16);
}

function drawBullet(b) {
  g.fillStyle = "#eceff4";
  g.beginPath();
  g.arc(b.x, b.y, rules.bulletRadius, 0, 2 * Math.PI);
  g.fill();
}

function countFrame(now) {
  const second = Math.floor(now / 1000);
  if (second !== stats.second) {
    stats.fps = second === stats.second + 1 ? stats.frames : stats.fps;
    stats.second = second;
    stats.frames = 0;
  }
  stats.frames++;
}

let hudAt = 0;
const received = { at: 0, bytes: 0, rate: 0 }; // bytes a second, over the last whole second
function drawHUD(now) {
  if (now - hudAt < 250) return; // DOM updates four times a second
  hudAt = now;
  if (now - received.at >= 1000) {
    received.rate = received.at ? ((client.stats.bytes - received.bytes) * 1000) / (now - received.at) : 0;
    received.at = now;
    received.bytes = client.stats.bytes;
  }
  $("hud").innerHTML =
    `RTT <b>${Math.round(client.rtt)} ms</b> (min ${Math.round(client.rttMin)}) · ` +
    `tick <b>${client.tickRate} Hz</b> (${client.batchRate}/s received) · <b>${stats.fps}</b> FPS · ` +
    `view <b>${client.interpDelay()} ms</b> behind (lag comp ${rules.lagComp ? "on" : "off"}) · ` +
    `<b>${(received.rate / 1024).toFixed(1)} KiB/s</b> in (${client.stats.deltas} deltas, ${client.stats.full} full)`;
  if (latest) {
    const rows = [...latest.pilots].sort((a, b) => b.score - a.score || a.deaths - b.deaths);
    $("scores").innerHTML =
      "<table><tr><th>pilot</th><th>kills</th><th>deaths</th><th>ping</th></tr>" +
      rows
        .map((s) => `<tr class="${s.id === client.playerId ? "me" : ""}"><td>${escapeHTML(s.name)}${s.bot ? '<span class="tag">bot</span>' : ""}</td><td>${s.score}</td><td>${s.deaths}</td><td>${s.bot ? "–" : s.ping.toFixed(1) + " ms"}</td></tr>`)
        .join("") +
      "</table>";
  }
  while (feed.length && feed[0].until < now) feed.shift();
  $("feed").innerHTML = feed.map((f) => `<div>${escapeHTML(f.text)}</div>`).join("");
  if (own && !own.alive) banner(`destroyed: back in ${(own.respawn / 1000).toFixed(1)} s`);
  else if ($("banner").textContent.startsWith("destroyed")) banner("");
}

function escapeHTML(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function randomName() {
  const a = ["swift", "quiet", "bold", "lucky", "sly", "brave", "nimble", "cosmic"];
  const b = ["otter", "falcon", "comet", "badger", "lynx", "heron", "orca", "fox"];
  return `${a[Math.floor(Math.random() * a.length)]}-${b[Math.floor(Math.random() * b.length)]}`;
}

// tickwireDebug lets tests and curious people look inside: what this page
// knows, without reading pixels.
window.tickwireDebug = {
  get playerId() {
    return client.playerId;
  },
  get roomId() {
    return client.roomId;
  },
  get tick() {
    return client.tick;
  },
  get tickRate() {
    return client.tickRate;
  },
  get rtt() {
    return client.rtt;
  },
  get fps() {
    return stats.fps;
  },
  /** serverNow: the client's estimate of the server's clock, ms since the Unix epoch. */
  serverNow: () => client.serverNow(),
  /** interpDelay: how far behind the server's clock the latest frame drawn was, ms, as inputs report it. */
  get interpDelay() {
    return client.interpDelay();
  },
  /** lagComp: whether the server judges hits as the shooter saw them. */
  get lagComp() {
    return rules.lagComp;
  },
  get connected() {
    return client.connected;
  },
  /** own: the predicted own ship. */
  own: () => (own ? { id: own.id, x: own.x, y: own.y, alive: own.alive, life: own.life } : null),
  /**
   * ships: every pilot as of the newest snapshot, with its ship where it
   * is in sight (visible; x, y, alive and life are null otherwise).
   */
  ships: () =>
    latest
      ? latest.pilots.map((p) => {
          const s = latest.ships.find((s) => s.id === p.id);
          return { id: p.id, name: p.name, bot: p.bot, visible: !!s, x: s?.x ?? null, y: s?.y ?? null, alive: s?.alive ?? null, life: s?.life ?? null };
        })
      : [],
  /** snapshots: the SDK's counters: plain batches, full table snapshots, deltas, full after a delta, failures, bytes. */
  snapshots: () => ({ ...client.stats }),
  /** sight: how much of the arena the server sends around the own ship, and the margin the camera keeps. */
  get sight() {
    return rules.sight;
  },
  pendingInputs: () => predictor.pending.length,
  /** reconnects counts seats regained after a dropped connection. */
  get reconnects() {
    return reconnects;
  },
  /** dropConnection closes the WebSocket as a network failure would. */
  dropConnection: () => client.ws?.close(3000, "dropped by tickwireDebug"),
};

requestAnimationFrame(frame);
