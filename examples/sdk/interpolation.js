// Snapshot interpolation: other players are drawn a little in the past,
// between the two snapshots around "now minus delay", so that their motion
// is smooth although snapshots arrive at the tick rate and with jitter.

/**
 * Interpolator keeps recent snapshots stamped with server time and answers
 * which two to blend for the current moment.
 *
 * With a clock (a ClockSync, as the SDK's Client keeps one: `client.interpolator`),
 * it draws `delay` ms behind the clock's estimate of the server's time, so
 * the render time is a server time the game can report with its inputs
 * (`interpDelay`). The delay must cover the snapshots' trip and spacing;
 * when snapshots arrive later than that (a slow link), the Interpolator
 * draws further back, as far as the snapshots of the last `window` ms
 * needed, and eases back when they come sooner. It changes the delay by
 * at most `slew` ms per ms, so the render time never runs backwards.
 *
 * Without a clock it follows the server's clock from the snapshots
 * themselves: each arrival gives a sample of serverTime - localTime, and a
 * smoothed offset maps the local clock to the newest snapshot's time, so
 * it draws `delay` ms behind the newest snapshot.
 */
export class Interpolator {
  /**
   * @param {object} [opts]
   * @param {number} [opts.delay=100] how far behind the server's clock (with a clock)
   *   or the newest snapshot (without) to render, in ms
   * @param {{serverNow: (local: number) => number, now: () => number}} [opts.clock]
   *   the estimate of the server's clock to draw by, e.g. a ClockSync
   * @param {number} [opts.capacity=64] snapshots kept
   * @param {number} [opts.smoothing=0.1] without a clock: weight of a new clock sample, 0 to 1
   * @param {number} [opts.window=2000] with a clock: how long a late snapshot keeps the delay up, ms
   * @param {number} [opts.slew=0.05] with a clock: the most the delay changes per ms of local time
   */
  constructor(opts = {}) {
    this.delay = opts.delay ?? 100;
    if (!(this.delay >= 0 && this.delay < Infinity)) throw new RangeError(`Interpolator: delay is ${opts.delay}; want ms, 0 or more`);
    this.clock = opts.clock ?? null;
    this.capacity = opts.capacity ?? 64;
    this.smoothing = opts.smoothing ?? 0.1;
    this.window = opts.window ?? 2000;
    this.slew = opts.slew ?? 0.05;
    if (!(this.slew > 0 && this.slew < 0.5)) throw new RangeError(`Interpolator: slew is ${opts.slew}; want a fraction above 0 and below 0.5`);
    /** @type {{time: number, state: any}[]} oldest first */
    this.buffer = [];
    /** @type {number | null} without a clock: estimated serverTime - localTime, ms */
    this.offset = null;
    /** @type {number | null} the render time of the latest sample: the server time of the world last drawn */
    this.lastRenderTime = null;
    this.resetDelay();
  }

  /**
   * push records a snapshot taken at serverTime (ms), received at
   * localTime (ms, e.g. performance.now(); with a clock, its time by
   * default). Snapshots older than the newest one are ignored.
   */
  push(serverTime, state, localTime = this.clock?.now()) {
    const newest = this.buffer[this.buffer.length - 1];
    if (newest && serverTime <= newest.time) return;
    this.buffer.push({ time: serverTime, state });
    if (this.buffer.length > this.capacity) this.buffer.shift();
    if (this.clock) {
      // Until this snapshot arrived, the render time had to stay at or
      // before the previous one: that needed this much delay.
      const late = this.clock.serverNow(localTime) - serverTime;
      this.noteNeed(localTime, late + (newest ? serverTime - newest.time : 0));
      return;
    }
    const sample = serverTime - localTime;
    // A far-off sample means the clock jumped (a new room, a reconnect to
    // another server): follow it at once rather than drift for seconds.
    if (this.offset === null || Math.abs(sample - this.offset) > 1000) this.offset = sample;
    else this.offset += (sample - this.offset) * this.smoothing;
  }

  /** renderTime is the server time to draw at localTime. */
  renderTime(localTime = this.clock?.now()) {
    if (this.clock) return this.clock.serverNow(localTime) - this.currentDelay(localTime);
    return localTime + (this.offset ?? 0) - this.delay;
  }

  /**
   * currentDelay is how far behind the server's clock it draws at
   * localTime, in ms: `delay`, or more while snapshots arrive late. Without
   * a clock it is `delay`, counted from the newest snapshot.
   */
  currentDelay(localTime = this.clock?.now()) {
    if (!this.clock) return this.delay;
    const d = this.delayTarget - this.delayBase;
    const step = this.slew * Math.max(0, localTime - this.delaySince);
    return Math.abs(d) <= step ? this.delayTarget : this.delayBase + Math.sign(d) * step;
  }

  /**
   * sample returns the snapshots around the render time and how far
   * between them it is: alpha 0 is `from`, 1 is `to`. Before the first
   * snapshot it returns null. Past the newest snapshot (snapshots are
   * late) it holds the newest: from and to are both it, alpha 0. The
   * render time is kept in `lastRenderTime`.
   * @returns {{from: any, to: any, alpha: number, renderTime: number} | null}
   */
  sample(localTime = this.clock?.now()) {
    const n = this.buffer.length;
    if (n === 0) return null;
    const t = this.renderTime(localTime);
    this.lastRenderTime = t;
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

  /** clear forgets every snapshot, the clock offset and what the delay adapted to; not the clock. */
  clear() {
    this.buffer = [];
    this.offset = null;
    this.lastRenderTime = null;
    this.resetDelay();
  }

  resetDelay() {
    this.needs = []; // [local time, delay needed] of the window's snapshots, oldest first
    this.delayTarget = this.delay;
    this.delayBase = this.delay;
    this.delaySince = 0;
  }

  /**
   * noteNeed records at local time `at` that a snapshot needed `need` ms of
   * delay, and aims the delay at the most any snapshot of the window
   * needed, never below `delay`.
   */
  noteNeed(at, need) {
    if (!Number.isFinite(at) || !Number.isFinite(need)) return;
    const needs = this.needs;
    needs.push([at, need]);
    while (needs.length && needs[0][0] < at - this.window) needs.shift();
    let target = this.delay;
    for (const [, n] of needs) target = Math.max(target, n);
    const current = this.currentDelay(at);
    this.delayTarget = target;
    // Nothing drawn yet: nothing to ease.
    this.delayBase = this.lastRenderTime === null ? target : current;
    this.delaySince = at;
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
