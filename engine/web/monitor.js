// The tickwire monitoring dashboard. It opens the monitoring stream
// (api/monitor/ws), which sends a snapshot of every room and player about
// once a second, and draws it: a table of rooms with their tick lateness, a
// chart of each player's smoothed RTT over the last minutes, and a table
// of players, slowest first, highlighting those above the threshold.
//
// The page takes the monitoring token and the threshold from its own URL:
// /monitor?token=...&above=80 (milliseconds).
"use strict";

const HISTORY_MS = 5 * 60 * 1000; // the chart's time span
const SPARK = "▁▂▃▄▅▆▇█";
const COLORS = ["#4e9cff", "#5ad17a", "#f2b84b", "#c678dd", "#56b6c2", "#e07b53", "#d4d46a", "#ff7eb6", "#9aa8ff", "#7fe0b0"];

const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const $ = (sel) => document.querySelector(sel);

const state = {
  snapshot: null,
  updates: 0,
  rtt: new Map(), // player id -> {name, color, points: [[time ms, rtt ms], ...]}
  lateness: new Map(), // room id -> [p99 ms, ...]
  colorIndex: 0,
  room: params.get("room") || "",
};

const thresholdInput = $("#threshold");
if (params.get("above")) thresholdInput.value = Number.parseFloat(params.get("above"));
const threshold = () => Math.max(0, Number.parseFloat(thresholdInput.value) || 0);
thresholdInput.addEventListener("input", () => render());
$("#room-filter").addEventListener("change", (ev) => {
  state.room = ev.target.value;
  render();
});

// endpoint returns the URL of an API path relative to this page, with the
// token, as http(s) or ws(s).
function endpoint(path, ws) {
  const u = new URL(path, location.href);
  if (token) u.searchParams.set("token", token);
  if (ws) u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}

function setStatus(text, cls) {
  const s = $("#status");
  s.textContent = text;
  s.className = "status " + (cls || "");
}

// connect opens the stream, and reopens it after it ends, backing off.
let retry = 500;
function connect() {
  const ws = new WebSocket(endpoint("api/monitor/ws", true));
  ws.onopen = () => {
    retry = 500;
    setStatus("live", "live");
  };
  ws.onmessage = (ev) => {
    try {
      update(JSON.parse(ev.data));
    } catch (err) {
      setStatus("bad data: " + err.message, "down");
    }
  };
  ws.onclose = async () => {
    // A refused WebSocket says nothing of why: ask the plain API.
    let why = "disconnected";
    try {
      const r = await fetch(endpoint("api/monitor"), { cache: "no-store" });
      if (!r.ok) why = (await r.json()).error || r.statusText;
    } catch (err) {
      why = "server unreachable";
    }
    setStatus(why + "; retrying in " + Math.round(retry / 1000) + " s", "down");
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

function update(snap) {
  state.snapshot = snap;
  state.updates++;
  const now = Date.parse(snap.time) || Date.now();
  const seen = new Set();
  for (const room of snap.rooms) {
    const l = state.lateness.get(room.id) || [];
    l.push(room.ticks.latenessP99Ms);
    if (l.length > 30) l.shift();
    state.lateness.set(room.id, l);
    for (const p of room.playerList) {
      seen.add(p.id);
      let h = state.rtt.get(p.id);
      if (!h) {
        h = { name: p.name, color: COLORS[state.colorIndex++ % COLORS.length], points: [] };
        state.rtt.set(p.id, h);
      }
      h.name = p.name;
      if (p.connected && p.rtt.pongsMatched > 0) h.points.push([now, p.rtt.smoothedMs]);
    }
  }
  for (const [id, h] of state.rtt) {
    while (h.points.length && h.points[0][0] < now - HISTORY_MS) h.points.shift();
    if (!seen.has(id) && h.points.length === 0) state.rtt.delete(id);
  }
  for (const id of state.lateness.keys()) {
    if (!snap.rooms.some((r) => r.id === id)) state.lateness.delete(id);
  }
  render();
}

function render() {
  const snap = state.snapshot;
  if (!snap) return;
  $("#node").textContent = "node " + snap.node;
  $("#updated").textContent = new Date(snap.time).toLocaleTimeString();
  $("#count").textContent = String(state.updates);
  renderRoomFilter(snap.rooms);
  const rooms = snap.rooms.filter((r) => !state.room || r.id === state.room);
  renderRooms(rooms);
  const players = rooms.flatMap((r) => r.playerList);
  players.sort((a, b) => b.rtt.smoothedMs - a.rtt.smoothedMs || a.name.localeCompare(b.name));
  renderPlayers(players);
  renderChart(new Set(players.map((p) => p.id)), Date.parse(snap.time) || Date.now());
}

function renderRoomFilter(rooms) {
  const sel = $("#room-filter");
  const want = ["", ...rooms.map((r) => r.id)];
  if (state.room && !want.includes(state.room)) want.push(state.room);
  const have = [...sel.options].map((o) => o.value);
  if (want.join() === have.join()) return;
  sel.replaceChildren(...want.map((id) => {
    const o = document.createElement("option");
    o.value = id;
    const r = rooms.find((x) => x.id === id);
    o.textContent = id ? short(id) + (r ? " (" + r.game + ")" : " (gone)") : "all rooms";
    return o;
  }));
  sel.value = state.room;
}

// cell makes a table cell with text, and optional classes and title.
function cell(text, cls, title) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  if (title) td.title = title;
  return td;
}

function renderRooms(rooms) {
  $("#no-rooms").classList.toggle("hidden", rooms.length > 0);
  $("#rooms tbody").replaceChildren(...rooms.map((r) => {
    const step = 1000 / r.tickRate;
    const t = r.ticks;
    const level = (v) => "num" + (v >= step ? " bad" : v >= step / 4 ? " warn" : "");
    const tr = document.createElement("tr");
    tr.dataset.roomId = r.id;
    tr.append(
      cell(short(r.id), "", r.id),
      cell(r.game),
      cell(r.players + (r.maxPlayers ? " / " + r.maxPlayers : ""), "num"),
      cell(r.tickRate + " Hz", "num"),
      cell(fmtMs(t.latenessP50Ms), level(t.latenessP50Ms)),
      cell(fmtMs(t.latenessP99Ms), level(t.latenessP99Ms) + " lateness"),
      cell(fmtMs(t.latenessMaxMs), level(t.latenessMaxMs)),
      cell(spark(state.lateness.get(r.id) || []), "spark"),
      cell(fmtMs(t.durationP99Ms), level(t.durationP99Ms)),
      cell(String(t.skipped), t.skipped ? "num warn" : "num"),
      cell(String(r.dropped), r.dropped ? "num warn" : "num"),
    );
    return tr;
  }));
}

function renderPlayers(players) {
  const above = threshold();
  $("#no-players").classList.toggle("hidden", players.length > 0);
  $("#players tbody").replaceChildren(...players.map((p) => {
    const tr = document.createElement("tr");
    tr.dataset.playerId = p.id;
    if (!p.connected) tr.className = "gone";
    else if (above > 0 && p.rtt.smoothedMs > above) tr.className = "hot";
    const sw = document.createElement("span");
    sw.className = "swatch";
    const h = state.rtt.get(p.id);
    sw.style.background = h ? h.color : "transparent";
    const first = document.createElement("td");
    first.append(sw);
    const r = p.rtt;
    const settled = r.pongsMatched + r.pingsLost;
    tr.append(
      first,
      cell(p.name || "(no name)", "name", p.id),
      cell(short(p.room), "", p.room + " (" + p.game + ")"),
      cell(p.connected ? fmtMs(r.smoothedMs) : "disconnected", "num rtt"),
      cell(fmtMs(r.lastMs), "num"),
      cell(fmtMs(r.minMs), "num"),
      cell(fmtMs(r.p50Ms), "num"),
      cell(fmtMs(r.p95Ms), "num"),
      cell(fmtMs(r.p99Ms), "num"),
      cell(fmtMs(r.jitterMs), "num"),
      cell((r.loss * 100).toFixed(1) + " %", r.pingsLost ? "num warn" : "num", r.pingsLost + " of " + settled + " pings lost"),
      cell(p.messagesIn + " · " + fmtBytes(p.bytesIn), "num"),
      cell(p.messagesOut + " · " + fmtBytes(p.bytesOut), "num"),
      cell(String(p.dropped), p.dropped ? "num warn" : "num"),
      cell(p.connected ? fmtDuration(p.connectedSeconds) : "–", "num"),
      cell(p.node),
    );
    return tr;
  }));
}

// renderChart draws each shown player's smoothed RTT over time.
function renderChart(shown, now) {
  const canvas = $("#chart");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 960;
  const h = canvas.clientHeight || 280;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const pad = { l: 48, r: 12, t: 10, b: 22 };
  const series = [...state.rtt].filter(([id]) => shown.has(id));
  const above = threshold();
  let top = above * 1.25;
  for (const [, s] of series) for (const [, v] of s.points) top = Math.max(top, v * 1.1);
  top = niceCeil(Math.max(top, 1));
  const x = (t) => pad.l + ((t - (now - HISTORY_MS)) / HISTORY_MS) * (w - pad.l - pad.r);
  const y = (v) => h - pad.b - (v / top) * (h - pad.t - pad.b);

  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#8893a0";
  ctx.strokeStyle = "#2a323c";
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, y(v));
    ctx.lineTo(w - pad.r, y(v));
    ctx.stroke();
    ctx.fillText(+v.toPrecision(3) + " ms", 4, y(v) + 4);
  }
  for (let m = 0; m <= 5; m++) {
    const t = now - m * 60000;
    ctx.fillText(m ? "-" + m + " min" : "now", x(t) - (m ? 18 : 20), h - 6);
  }
  if (above > 0) {
    ctx.strokeStyle = "#ff5d5d";
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(pad.l, y(above));
    ctx.lineTo(w - pad.r, y(above));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.lineWidth = 1.5;
  for (const [, s] of series) {
    ctx.strokeStyle = s.color;
    ctx.beginPath();
    s.points.forEach(([t, v], i) => (i ? ctx.lineTo(x(t), y(v)) : ctx.moveTo(x(t), y(v))));
    ctx.stroke();
  }
  $("#legend").replaceChildren(...series.map(([id, s]) => {
    const span = document.createElement("span");
    const last = s.points.length ? s.points[s.points.length - 1][1] : 0;
    if (above > 0 && last > above) span.className = "hot";
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = s.color;
    span.append(sw, " " + (s.name || short(id)) + " " + fmtMs(last));
    span.title = id;
    return span;
  }));
}

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function spark(values) {
  if (!values.length) return "";
  const top = Math.max(...values, 1e-9);
  return values.map((v) => SPARK[Math.min(SPARK.length - 1, Math.floor((v / top) * (SPARK.length - 1)))]).join("");
}

function short(id) {
  return id ? id.slice(0, 8) : "";
}

function fmtMs(v) {
  if (!v) return "0 ms";
  return (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)) + " ms";
}

function fmtBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

function fmtDuration(s) {
  s = Math.floor(s);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

connect();
