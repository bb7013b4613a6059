// Snapshot interpolation: other players are drawn a little in the past,
// between the two snapshots around "now minus delay", so that their motion
// is smooth although snapshots arrive at the tick rate and with jitter.

/**
 * Interpolator keeps recent snapshots stamped with server time and answers
 * which two to blend for the current moment.
 *
 * The server's clock is followed from the snapshots themselves: each
 * arrival gives a sample of serverTime - localTime, and a smoothed offset
 * maps the local clock to the server's. Rendering happens `delay`
 * milliseconds behind that estimate, so with a delay of a few ticks there
 * is nearly always a snapshot on each side of the render time.
 */
export class Interpolator {
  /**
   * @param {object} [opts]
   * @param {number} [opts.delay=100] how far behind the newest snapshot to render, in ms
   * @param {number} [opts.capacity=64] snapshots kept
   * @param {number} [opts.smoothing=0.1] weight of a new clock sample, 0 to 1
   */
  constructor(opts = {}) {
    this.delay = opts.delay ?? 100;
    this.capacity = opts.capacity ?? 64;
    this.smoothing = opts.smoothing ?? 0.1;
    /** @type {{time: number, state: any}[]} oldest first */
    this.buffer = [];
    /** @type {number | null} estimated serverTime - localTime, ms */
    this.offset = null;
  }

  /**
   * push records a snapshot taken at serverTime (ms), received at
   * localTime (ms, e.g. performance.now()). Snapshots older than the newest
   * one are ignored.
   */
  push(serverTime, state, localTime) {
    const newest = this.buffer[this.buffer.length - 1];
    if (newest && serverTime <= newest.time) return;
    this.buffer.push({ time: serverTime, state });
    if (this.buffer.length > this.capacity) this.buffer.shift();
    const sample = serverTime - localTime;
    // A far-off sample means the clock jumped (a new room, a reconnect to
    // another server): follow it at once rather than drift for seconds.
    if (this.offset === null || Math.abs(sample - this.offset) > 1000) this.offset = sample;
    else this.offset += (sample - this.offset) * this.smoothing;
  }

  /** renderTime is the server time to draw at localTime. */
  renderTime(localTime) {
    return localTime + (this.offset ?? 0) - this.delay;
  }

  /**
   * sample returns the snapshots around the render time and how far
   * between them it is: alpha 0 is `from`, 1 is `to`. Before the first
   * snapshot it returns null. Past the newest snapshot (snapshots are
   * late) it holds the newest: from and to are both it, alpha 0.
   * @returns {{from: any, to: any, alpha: number, renderTime: number} | null}
   */
  sample(localTime) {
    const n = this.buffer.length;
    if (n === 0) return null;
    const t = this.renderTime(localTime);
    // Drop snapshots no longer needed: keep one at or before t.
    while (this.buffer.length > 2 && this.buffer[1].time <= t) this.buffer.shift();
    const b = this.buffer;
    if (t <= b[0].time || b.length === 1) {
      const s = t <= b[0].time ? b[0] : b[b.length - 1];
      return { from: s.state, to: s.state, alpha: 0, renderTime: t };
    }
    for (let i = 0; i < b.length - 1; i++) {
      if (b[i + 1].time >= t) {
        const alpha = (t - b[i].time) / (b[i + 1].time - b[i].time);
        return { from: b[i].state, to: b[i + 1].state, alpha, renderTime: t };
      }
    }
    const last = b[b.length - 1];
    return { from: last.state, to: last.state, alpha: 0, renderTime: t };
  }

  /** clear forgets every snapshot and the clock offset. */
  clear() {
    this.buffer = [];
    this.offset = null;
  }
}

/** lerp blends two numbers. */
export function lerp(a, b, alpha) {
  return a + (b - a) * alpha;
}

/** lerpAngle blends two angles in radians the short way round. */
export function lerpAngle(a, b, alpha) {
  let d = (b - a) % (2 * Math.PI);
  if (d > Math.PI) d -= 2 * Math.PI;
  if (d < -Math.PI) d += 2 * Math.PI;
  return a + d * alpha;
}

/**
 * lerpEntities blends two lists of entities matched by a key field. The
 * result has the entities of `to`, in its order: those also in `from` get
 * the listed numeric fields (and angle fields) blended, the others are
 * taken from `to` as they are. Entities only in `from` have gone.
 * @param {object[]} from
 * @param {object[]} to
 * @param {number} alpha
 * @param {object} [opts]
 * @param {string} [opts.key="id"]
 * @param {string[]} [opts.fields=["x","y"]] numbers blended linearly
 * @param {string[]} [opts.angles=[]] angles in radians, blended the short way
 * @param {(a: object, b: object) => boolean} [opts.snap] return true where the
 *   entity must not be blended (a respawn, a teleport)
 */
export function lerpEntities(from, to, alpha, opts = {}) {
  const key = opts.key ?? "id";
  const fields = opts.fields ?? ["x", "y"];
  const angles = opts.angles ?? [];
  const before = new Map();
  for (const e of from) before.set(e[key], e);
  return to.map((b) => {
    const a = before.get(b[key]);
    if (!a || a === b || (opts.snap && opts.snap(a, b))) return b;
    const out = { ...b };
    for (const f of fields) out[f] = lerp(a[f], b[f], alpha);
    for (const f of angles) out[f] = lerpAngle(a[f], b[f], alpha);
    return out;
  });
}
