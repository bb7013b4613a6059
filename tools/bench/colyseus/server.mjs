// The Colyseus side of the crowd workload (see crowd.mjs): a Colyseus 0.16
// server whose "crowd" rooms seat up to --room-size clients, move
// --entities entities at 60 Hz and patch their @colyseus/schema state to
// the clients every 50 ms. Started by go run ./cmd/vscolyseus in
// tools/bench; it can also run alone:
//
//	node tools/bench/colyseus/server.mjs --port 2567
//
// It prints "listening HOST:PORT" once it accepts connections. On stdin,
// the line "stats" makes it print "stats {json}" (simulation ticks,
// patches and clients so far); it exits when stdin ends, on SIGTERM or
// SIGINT, and after --max-lifetime seconds.
import http from "node:http";
import readline from "node:readline";
import { Server, Room } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { schema, MapSchema } from "@colyseus/schema";
import { World, defaults, parseArgs } from "./crowd.mjs";

// Positions are sent as float32 (4 bytes each), rounded to 0.01 units
// before they are written: the same precision as tickwire's
// snap.Precision(0.01) (within 0.005 units), float32 rounding adding at
// most 0.00004 in a world 1000 units wide.
const Entity = schema({ x: "float32", y: "float32" });
const State = schema({ entities: { map: Entity } });

const round2 = (v) => Math.round(v * 100) / 100;

// config is the workload, from the command line.
let config = defaults;

// Counters over every room, for "stats".
const stats = { ticks: 0, patches: 0, clients: 0, rooms: 0, inputs: 0 };

class CrowdRoom extends Room {
  onCreate() {
    const o = config;
    this.maxClients = o["room-size"];
    this.patchRate = o["patch-ms"];
    this.world = new World(o.entities, o.world);
    this.inbox = []; // inputs, applied at the next simulation tick
    this.state = new State();
    this.state.entities = new MapSchema();
    this.schemaEntities = [];
    for (let i = 0; i < this.world.x.length; i++) {
      const e = new Entity();
      e.x = round2(this.world.x[i]);
      e.y = round2(this.world.y[i]);
      this.state.entities.set(String(i + 1), e);
      this.schemaEntities.push(e);
    }
    this.onMessage("input", (client, msg) => {
      if (msg && Number.isInteger(msg.s)) this.inbox.push(client, msg);
    });
    const dt = 1 / o["tick-rate"];
    this.setSimulationInterval(() => this.tick(dt), 1000 / o["tick-rate"]);
    stats.rooms++;
  }

  onJoin(client) {
    client.userData = { slot: this.nextSlot(), applied: 0, acked: 0 };
    stats.clients++;
  }

  onLeave() {
    stats.clients--;
  }

  onDispose() {
    stats.rooms--;
  }

  nextSlot() {
    const used = new Set(this.clients.map((c) => c.userData?.slot));
    let s = 0;
    while (used.has(s)) s++;
    return s;
  }

  // tick applies the queued inputs, then moves every entity one step.
  tick(dt) {
    const inbox = this.inbox;
    for (let i = 0; i < inbox.length; i += 2) {
      const client = inbox[i];
      const msg = inbox[i + 1];
      const u = client.userData;
      if (!u || msg.s <= u.applied) continue;
      u.applied = msg.s;
      this.world.steer(u.slot, msg.t);
      stats.inputs++;
    }
    inbox.length = 0;
    this.world.step(dt);
    stats.ticks++;
  }

  // onBeforePatch writes the positions into the schema state, rounded to
  // 0.01, once per patch, and acknowledges to each client the last input
  // applied, just before the patch that shows it.
  onBeforePatch() {
    const { x, y } = this.world;
    const es = this.schemaEntities;
    for (let i = 0; i < es.length; i++) {
      es[i].x = round2(x[i]);
      es[i].y = round2(y[i]);
    }
    for (const client of this.clients) {
      const u = client.userData;
      if (u && u.applied > u.acked) {
        u.acked = u.applied;
        client.send("ack", u.acked);
      }
    }
    stats.patches++;
  }
}

async function main() {
  const o = parseArgs(
    process.argv.slice(2),
    { host: "127.0.0.1", port: 0, "max-lifetime": 1200, ...defaults },
    ["host"],
  );
  config = o;
  const httpServer = http.createServer();
  const gameServer = new Server({
    greet: false,
    transport: new WebSocketTransport({ server: httpServer }),
  });
  gameServer.define("crowd", CrowdRoom);
  await gameServer.listen(o.port, o.host);
  const a = httpServer.address();
  console.log(`listening ${a.address}:${a.port}`);

  const stop = () => process.exit(0);
  setTimeout(stop, o["max-lifetime"] * 1000).unref();
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    if (line.trim() === "stats") console.log("stats " + JSON.stringify(stats));
  });
  rl.on("close", stop);
}

main().catch((err) => {
  console.error("colyseus server:", err);
  process.exit(1);
});
