// The crowd workload, shared by server.mjs and load.mjs. It is the same
// as tickwire's (tools/bench/internal/crowd): the same generator, the same
// start positions and speeds, the same motion and the same inputs.

// defaults are the workload's settings; the flags of both programs
// override them (--entities 50, ...).
export const defaults = {
  entities: 100, // entities in each room, all moving every tick
  "room-size": 20, // clients a room seats
  "tick-rate": 60, // simulation ticks a second
  "patch-ms": 50, // state patches every this many milliseconds (20 a second)
  world: 1000, // the world is a square this many units wide
};

// World is a room's entities: positions and velocities in units and
// units a second, in a square world whose walls they bounce off.
export class World {
  constructor(n, size) {
    this.size = size;
    this.x = new Float64Array(n);
    this.y = new Float64Array(n);
    this.vx = new Float64Array(n);
    this.vy = new Float64Array(n);
    const rnd = generator(0x9e3779b9);
    for (let i = 0; i < n; i++) {
      this.x[i] = rnd() * size;
      this.y[i] = rnd() * size;
      const heading = rnd() * 2 * Math.PI;
      const speed = 30 + rnd() * 60;
      this.vx[i] = speed * Math.cos(heading);
      this.vy[i] = speed * Math.sin(heading);
    }
  }

  // step moves every entity by dt seconds.
  step(dt) {
    const { x, y, vx, vy, size } = this;
    for (let i = 0; i < x.length; i++) {
      x[i] += vx[i] * dt;
      if (x[i] < 0) {
        x[i] = -x[i];
        vx[i] = -vx[i];
      } else if (x[i] > size) {
        x[i] = 2 * size - x[i];
        vx[i] = -vx[i];
      }
      y[i] += vy[i] * dt;
      if (y[i] < 0) {
        y[i] = -y[i];
        vy[i] = -vy[i];
      } else if (y[i] > size) {
        y[i] = 2 * size - y[i];
        vy[i] = -vy[i];
      }
    }
  }

  // steer turns the entity of a client's seat by turn radians (at most
  // half a radian either way).
  steer(slot, turn) {
    if (typeof turn !== "number" || !Number.isFinite(turn) || this.x.length === 0) return;
    const i = slot % this.x.length;
    const a = Math.max(-0.5, Math.min(0.5, turn));
    const c = Math.cos(a);
    const s = Math.sin(a);
    const vx = this.vx[i];
    const vy = this.vy[i];
    this.vx[i] = vx * c - vy * s;
    this.vy[i] = vx * s + vy * c;
  }
}

// turn is the steering of a client's input number seq, as tickwire's bots
// send it.
export const turn = (seq) => (seq % 2 === 1 ? 0.1 : -0.1);

// generator returns a xorshift32 generator of numbers in [0, 1).
function generator(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

// parseArgs reads "--name value" pairs into a copy of base; every value
// must be a number, except for the names in strings. It throws on a name
// base does not have.
export function parseArgs(argv, base, strings = []) {
  const o = { ...base };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--?/, "");
    if (!(name in o)) {
      throw new Error(`unknown flag ${argv[i]}; known: ${Object.keys(o).map((k) => "--" + k).join(" ")}`);
    }
    if (i + 1 >= argv.length) throw new Error(`flag ${argv[i]} has no value`);
    const v = argv[i + 1];
    if (strings.includes(name)) {
      o[name] = v;
      continue;
    }
    const n = Number(v);
    if (v === "" || !Number.isFinite(n) || n < 0) {
      throw new Error(`flag ${argv[i]}: ${JSON.stringify(v)} is not a non-negative number`);
    }
    o[name] = n;
  }
  return o;
}
