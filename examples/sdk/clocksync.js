// Clock synchronisation: an estimate of the server's clock on the client,
// for drawing the world at "server time minus interpolation delay" and for
// telling the server that delay with inputs, so that its lag compensation
// (docs/lag-compensation.md) rewinds to what the player saw.
//
// The SDK's Client keeps one, `client.clock`, fed from the welcome, every
// batch and every acknowledged input; `client.serverNow()` reads it and
// `client.interpolator` draws by it. Fed by hand, from any transport:
//
//   import { ClockSync } from "/sdk/clocksync.js";
//   const clock = new ClockSync();
//   clock.addServerTime(serverTime, performance.now());    // a message stamped by the server
//   clock.addSample(sentAt, serverTime, performance.now()); // the answer to a message sent at sentAt
//   const renderTime = clock.renderTime(100);               // draw the world as it was then
//   const interp = clock.interpDelay(renderTime);           // and say so with the next input
//
// All times are milliseconds: local times from one monotonic clock
// (performance.now() by default), server times since the Unix epoch as the
// server sends them.

/**
 * ClockSync keeps an estimate of the offset between the local clock and
 * the server's from timed exchanges, NTP-style, and answers what time it
 * is on the server.
 *
 * A two-way sample (local send time, server time, local receive time)
 * says the server's clock read `server` somewhere between `sent` and
 * `received`: the offset (server time minus local time) lies between
 * server - received and server - sent. A one-way sample (a welcome, a
 * batch: a server time and when it arrived) gives the lower bound alone.
 * The estimate is the middle of the tightest interval the samples of the
 * last `window` ms prove: the highest lower bound and the lowest upper
 * bound, each found by the sample that was least delayed in that
 * direction. Queueing and jitter spikes only ever delay messages, which
 * widens their intervals, so they never move the estimate: in effect it
 * keeps the shortest round trips of the window, one direction at a time.
 * The bounds stay true when the network gets slower, so a long window
 * costs nothing but the clocks' drift (well under 1 ms in 10 s).
 *
 * The offset in use follows the estimate gradually, at most `slew` ms per
 * ms of local time, so serverNow() never runs backwards and never jumps
 * while the estimate wanders by a few ms. A change larger than `snap` ms
 * is made at once: the first samples, and a sample that contradicts the
 * estimate by more than `snap` (a new server: its samples replace the old).
 *
 * A path with different delays each way biases any estimate made from
 * round trips by half the difference; nothing measured at the ends can
 * tell. With one-way samples only, the estimate trails the server's clock
 * by the shortest one-way delay.
 */
export class ClockSync {
  /**
   * @param {object} [opts]
   * @param {number} [opts.window=10000] how long samples count, in ms of local time
   * @param {number} [opts.slew=0.05] the most the offset moves per ms of local time
   * @param {number} [opts.snap=250] a correction larger than this, in ms, is made at once
   * @param {number} [opts.maxRtt=10000] two-way samples with longer round trips are refused
   * @param {() => number} [opts.now] the local clock, ms; performance.now() by default
   */
  constructor(opts = {}) {
    this.window = opts.window ?? 10_000;
    if (!(this.window > 0 && this.window < Infinity)) throw new RangeError(`ClockSync: window is ${opts.window}; want ms, above 0`);
    this.slew = opts.slew ?? 0.05;
    if (!(this.slew > 0 && this.slew < 1)) throw new RangeError(`ClockSync: slew is ${opts.slew}; want a fraction above 0 and below 1`);
    this.snap = opts.snap ?? 250;
    if (!(this.snap >= 0)) throw new RangeError(`ClockSync: snap is ${opts.snap}; want ms, 0 or more`);
    this.maxRtt = opts.maxRtt ?? 10_000;
    if (!(this.maxRtt > 0)) throw new RangeError(`ClockSync: maxRtt is ${opts.maxRtt}; want ms, above 0`);
    this.now = opts.now ?? (() => performance.now());
    this.reset();
  }

  /** reset forgets every sample, as after connecting to another server. */
  reset() {
    this.lower = new SlidingMin(); // of -(server - received): the highest lower bound
    this.upper = new SlidingMin(); // of server - sent: the lowest upper bound
    this.rtts = new SlidingMin();
    this.latest = -Infinity; // the newest sample's local receive time
    /** @type {number | null} the offset the samples point to: server - local, ms */
    this.target = null;
    this.base = 0; // the offset in use at local time `since`
    this.since = 0;
  }

  /**
   * addSample records a round trip: a message sent at local time `sent`,
   * answered with the server's clock reading `server`, the answer received
   * at local time `received`. For tickwire, the batch whose ack is an
   * input's sequence number answers that input. It returns false, and
   * changes nothing, for a sample that cannot be right (not numbers,
   * received before sent, a round trip over maxRtt).
   */
  addSample(sent, server, received) {
    if (!finite(sent, server, received) || received < sent || received - sent > this.maxRtt) return false;
    const lower = server - received;
    const upper = server - sent;
    if (this.target !== null && (lower > this.target + this.snap || upper < this.target - this.snap)) this.reset();
    const at = this.advance(received);
    this.lower.push(at, -lower);
    this.upper.push(at, upper);
    this.rtts.push(at, received - sent);
    this.update(at);
    return true;
  }

  /**
   * addServerTime records a one-way sample: a message stamped `server` by
   * the server (a welcome's or a batch's time) received at local time
   * `received`. It returns false for values that are not numbers.
   */
  addServerTime(server, received) {
    if (!finite(server, received)) return false;
    const lower = server - received;
    if (this.target !== null && lower > this.target + this.snap) this.reset();
    const at = this.advance(received);
    this.lower.push(at, -lower);
    this.update(at);
    return true;
  }

  /** ready reports whether there is an estimate: any sample was accepted. */
  get ready() {
    return this.target !== null;
  }

  /**
   * rtt is the shortest round trip of the window's two-way samples, ms; 0
   * before any. For tickwire's input acks it includes the shortest wait
   * for a tick.
   */
  get rtt() {
    return this.rtts.value ?? 0;
  }

  /**
   * offset is the offset in use at local time `local`: server time minus
   * local time, ms. 0 before the first sample.
   */
  offset(local = this.now()) {
    if (this.target === null) return 0;
    const d = this.target - this.base;
    const step = this.slew * Math.max(0, local - this.since);
    return Math.abs(d) <= step ? this.target : this.base + Math.sign(d) * step;
  }

  /** serverNow is the estimate of the server's clock at local time `local`, ms since the Unix epoch. */
  serverNow(local = this.now()) {
    return local + this.offset(local);
  }

  /**
   * renderTime is the server time to draw the world at, `delay` ms behind
   * the server's clock: entities are interpolated between the snapshots
   * around it. The delay must cover the snapshots' trip and spacing (the
   * one-way latency, a tick or two, and jitter), or there is no snapshot
   * after the render time to interpolate towards.
   */
  renderTime(delay, local = this.now()) {
    return this.serverNow(local) - delay;
  }

  /**
   * interpDelay is what to send with an input as its interpolation delay:
   * how far behind the server's clock the world drawn at server time
   * `renderTime` is, in whole ms, never negative. Whatever a client draws
   * at, the server rewinds by half the round trip plus this.
   */
  interpDelay(renderTime, local = this.now()) {
    const d = Math.round(this.serverNow(local) - renderTime);
    return Number.isFinite(d) ? Math.max(0, d) : 0;
  }

  /**
   * advance moves the window's end to local time `received` (never back:
   * a late-reported sample counts as of the newest) and drops what fell
   * out of it. It returns the time to file the sample under.
   */
  advance(received) {
    this.latest = Math.max(this.latest, received);
    const from = this.latest - this.window;
    this.lower.expire(from);
    this.upper.expire(from);
    this.rtts.expire(from);
    return this.latest;
  }

  /** update recomputes the target at local time `at` and starts slewing towards it. */
  update(at) {
    const current = this.offset(at);
    const lower = -this.lower.value;
    const upper = this.upper.value;
    // Without round trips there is no upper bound: the lower one is the
    // best proof there is. (Bounds that cross by a little, from clock
    // drift or whole-ms server times, still average to the right middle.)
    const target = upper === undefined ? lower : (lower + upper) / 2;
    const first = this.target === null;
    this.target = target;
    this.since = at;
    this.base = first || Math.abs(target - current) > this.snap ? target : current;
  }
}

/**
 * SlidingMin is the minimum of the values pushed since a moving start
 * time: a queue of the values that can still become the minimum, in
 * increasing order, so push and expire cost O(1) on average.
 */
class SlidingMin {
  constructor() {
    /** @type {{at: number, v: number}[]} */
    this.q = [];
    this.head = 0;
  }

  /** push adds v at time at (not before the previous push). */
  push(at, v) {
    while (this.q.length > this.head && this.q[this.q.length - 1].v >= v) this.q.pop();
    this.q.push({ at, v });
  }

  /** expire drops the values pushed before time from. */
  expire(from) {
    while (this.head < this.q.length && this.q[this.head].at < from) this.head++;
    if (this.head > 64 && this.head * 2 > this.q.length) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
  }

  /** value is the minimum, or undefined when the window is empty. */
  get value() {
    return this.head < this.q.length ? this.q[this.head].v : undefined;
  }

  /** size is how many values are kept: at most the pushes of the window. */
  get size() {
    return this.q.length - this.head;
  }
}

function finite(...xs) {
  return xs.every((x) => typeof x === "number" && Number.isFinite(x));
}
