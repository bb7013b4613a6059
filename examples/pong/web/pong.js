// Pong's browser client: join through matchmaking, send the paddle's
// direction when it changes, draw the court interpolated 100 ms behind the
// newest snapshot.

import { Interpolator, connect, lerp } from "/sdk/tickwire.js";

const canvas = document.getElementById("court");
const g = canvas.getContext("2d");
const status = (text) => (document.getElementById("status").textContent = text);

// 1. Join: matchmaking finds a room with a free seat, or makes one.
const name = new URLSearchParams(location.search).get("name") || `player-${Math.floor(Math.random() * 1000)}`;
const client = await connect({ game: "pong", name });

// 2. Receive: one batch a tick, with the snapshot the server's Game built.
const interp = new Interpolator({ delay: 100 });
let latest = null;
let ended = "";
client.on("batch", (b) => {
  latest = b.snapshot;
  interp.push(b.time, b.snapshot, performance.now());
});
client.on("message", (m) => {
  if (m.type === "opponent-left") ended = `${m.data.name} left the game.`;
});
client.on("close", (e) => {
  ended ||= `The game ended: ${e.reason || e.code}.`;
  status(`${ended} Reload to play again.`);
});
addEventListener("pagehide", () => client.leave());

// 3. Send: the paddle's direction, whenever it changes.
const held = new Set();
let dir = 0;
function updateDir() {
  const up = held.has("KeyW") || held.has("ArrowUp");
  const down = held.has("KeyS") || held.has("ArrowDown");
  const d = up === down ? 0 : up ? -1 : 1;
  if (d !== dir) {
    dir = d;
    client.sendInput({ dir });
  }
}
addEventListener("keydown", (e) => {
  if (e.code.startsWith("Arrow")) e.preventDefault();
  held.add(e.code);
  updateDir();
});
addEventListener("keyup", (e) => {
  held.delete(e.code);
  updateDir();
});
addEventListener("blur", () => {
  held.clear();
  updateDir();
});

// 4. Draw: blend the two snapshots around "now - 100 ms".
function frame(now) {
  requestAnimationFrame(frame);
  g.clearRect(0, 0, canvas.width, canvas.height);
  const s = interp.sample(now);
  if (!s || ended) return;
  const { from, to, alpha } = s;
  const mySide = to.paddles.findIndex((p) => p.id === client.playerId);
  if (to.phase === "waiting") status("Waiting for an opponent…");
  else status(`${to.paddles[0].name || "?"} vs ${to.paddles[1].name || "?"}: you are on the ${mySide === 0 ? "left" : "right"}`);

  g.fillStyle = "#2e3440";
  for (let y = 10; y < 500; y += 30) g.fillRect(398, y, 4, 16);
  g.font = "48px system-ui, sans-serif";
  g.textAlign = "center";
  g.fillText(to.paddles[0].score, 330, 70);
  g.fillText(to.paddles[1].score, 470, 70);

  to.paddles.forEach((p, i) => {
    const y = lerp(from.paddles[i].y, p.y, alpha);
    g.fillStyle = i === mySide ? "#ebcb8b" : p.connected ? "#88c0d0" : "#4c566a";
    g.fillRect(i === 0 ? 24 : 764, y - 45, 12, 90);
  });
  if (to.phase === "playing") {
    g.fillStyle = "#eceff4";
    g.beginPath();
    g.arc(lerp(from.ball.x, to.ball.x, alpha), lerp(from.ball.y, to.ball.y, alpha), 8, 0, 2 * Math.PI);
    g.fill();
  }
  document.getElementById("hud").textContent = `tick ${client.tickRate} Hz · room ${client.roomId.slice(0, 8)}`;
}
requestAnimationFrame(frame);

// For tests and the curious: what this page knows.
window.tickwireDebug = {
  get connected() {
    return client.connected;
  },
  get playerId() {
    return client.playerId;
  },
  get roomId() {
    return client.roomId;
  },
  get ended() {
    return ended;
  },
  snapshot: () => latest,
};
