// Table snapshots (docs/protocol.md, "Table snapshots and deltas"): a
// game whose server describes its state as an entity table (Go package
// rooms/snap) sends table batches, each a delta against a state the
// client acknowledged. SnapshotApplier keeps the states a client must
// keep, applies the deltas to them and says which tick to acknowledge;
// the SDK's Client uses one and hands games the resulting entity maps.

/**
 * DeltaError is a delta that cannot be applied: malformed, against a
 * state the client does not keep, or changing entities its base lacks.
 * The protocol's answer is to drop every kept state and acknowledge 0,
 * after which the server sends a full snapshot; the Client does that.
 */
export class DeltaError extends Error {
  constructor(message) {
    super(`tickwire: ${message}`);
    this.name = "DeltaError";
  }
}

/** DEFAULT_KEEP is how many states a SnapshotApplier keeps at most, as Go's snap.DefaultKeep. */
export const DEFAULT_KEEP = 64;

/** MAX_MASK_FIELDS is how many fields an update's mask can name: bits 0 to 31. */
export const MAX_MASK_FIELDS = 32;

const EMPTY = new Map();

/**
 * SnapshotApplier rebuilds a player's entity table from the deltas of
 * table batches. A state is a Map from entity id (a Number) to the
 * entity's fields (a frozen array of decoded msgpack values); states are
 * never modified once made, and an entity that did not change keeps the
 * same fields array from state to state.
 *
 * For every table batch `[6, tick, time, ack, delta, events]`, call
 * `apply(tick, delta)`, then acknowledge `ack` (the newest tick applied).
 * If apply throws a DeltaError, call `reset()` and acknowledge 0: the
 * server then sends a full snapshot.
 *
 * The server takes each delta against the newest tick it read an
 * acknowledgement of, which may be older than the newest tick applied, so
 * the applier keeps every state from the newest non-zero base it has
 * seen on (the server never again takes an older base), at most `keep`
 * of them. A full snapshot (base 0) drops nothing: acknowledgements
 * already on their way may name older states.
 */
export class SnapshotApplier {
  /**
   * @param {object} [opts]
   * @param {number} [opts.keep=64] the most states kept as possible bases
   */
  constructor(opts = {}) {
    this.keep = opts.keep ?? DEFAULT_KEEP;
    if (!(Number.isInteger(this.keep) && this.keep >= 1)) throw new RangeError(`SnapshotApplier: keep is ${opts.keep}; want a whole number of states, 1 or more`);
    /** @type {Map<number, Map<number, readonly any[]>>} tick -> state, oldest first */
    this.states = new Map();
    /** the newest non-zero base of a delta applied: no older state is needed again */
    this.newestBase = 0;
    /** @type {Map<number, readonly any[]> | null} the newest state applied */
    this.latest = null;
    /** the tick of `latest`; 0 before the first */
    this.latestTick = 0;
  }

  /** ack is the tick to acknowledge: the newest applied, 0 when none is kept. */
  get ack() {
    return this.latestTick;
  }

  /** reset forgets every state, as after a reconnect or a delta that failed. */
  reset() {
    this.states.clear();
    this.newestBase = 0;
    this.latest = null;
    this.latestTick = 0;
  }

  /**
   * apply applies the delta of a table batch of the given tick and
   * returns the new state, which it keeps as a possible base. It throws a
   * DeltaError, changing nothing, when the delta is malformed, names a
   * base that is not kept, removes or updates an entity its base lacks,
   * or when tick is not after the newest applied.
   * @param {number} tick the batch's tick
   * @param {any} delta the batch's decoded delta: [base, enter, update, remove]
   * @returns {Map<number, readonly any[]>}
   */
  apply(tick, delta) {
    if (!isTick(tick) || tick === 0) throw new DeltaError(`table batch tick ${String(tick)}: want a positive integer`);
    if (this.latest && tick <= this.latestTick) throw new DeltaError(`table batch of tick ${tick} is not after the newest applied, ${this.latestTick}`);
    const d = parseDelta(delta, tick);
    let base = EMPTY;
    if (d.base !== 0) {
      base = this.states.get(d.base);
      if (!base) throw new DeltaError(`the delta of tick ${tick} is against tick ${d.base}, which is not kept`);
    }
    const state = build(base, d, tick);
    if (d.base > this.newestBase) {
      this.newestBase = d.base;
      for (const t of this.states.keys()) if (t < d.base) this.states.delete(t);
    }
    this.states.set(tick, state);
    for (const t of this.states.keys()) {
      if (this.states.size <= this.keep) break;
      this.states.delete(t);
    }
    this.latest = state;
    this.latestTick = tick;
    return state;
  }
}

/**
 * applyDelta applies one delta to a state without keeping anything: to
 * `base` (a Map from id to fields), or to an empty state when the delta's
 * base is 0. It throws a DeltaError as SnapshotApplier.apply does.
 * @param {Map<number, readonly any[]> | null} base
 * @param {any} delta
 * @returns {Map<number, readonly any[]>}
 */
export function applyDelta(base, delta) {
  const d = parseDelta(delta, "?");
  return build(d.base === 0 ? EMPTY : (base ?? EMPTY), d, "?");
}

// parseDelta checks the shape of a delta: [base, enter, update, remove],
// ids unsigned 32-bit and each at most once across the three lists,
// updates with a mask and one value per bit set.
function parseDelta(delta, tick) {
  const fail = (what) => new DeltaError(`malformed delta for tick ${tick}: ${what}`);
  if (!Array.isArray(delta) || delta.length !== 4) throw fail("want an array [base, enter, update, remove]");
  const [base, enter, update, remove] = delta;
  if (!isTick(base)) throw fail(`base ${String(base)}: want a tick, 0 or more`);
  if (!Array.isArray(enter) || !Array.isArray(update) || !Array.isArray(remove)) throw fail("enter, update and remove must be arrays");
  const seen = new Set();
  const once = (id) => {
    if (!isID(id)) throw fail(`entity id ${String(id)}: want an unsigned 32-bit integer`);
    if (seen.has(id)) throw fail(`entity ${id} appears twice`);
    seen.add(id);
  };
  for (const rec of enter) {
    if (!Array.isArray(rec) || rec.length < 1) throw fail("an enter record must be an array [id, fields...]");
    once(rec[0]);
  }
  for (const rec of update) {
    if (!Array.isArray(rec) || rec.length < 3) throw fail("an update record must be an array [id, mask, values...]");
    once(rec[0]);
    const mask = rec[1];
    if (!isID(mask)) throw fail(`entity ${rec[0]}: mask ${String(mask)}: want an unsigned 32-bit integer`);
    if (bitCount(mask) !== rec.length - 2) throw fail(`entity ${rec[0]}: mask ${mask} with ${rec.length - 2} values`);
  }
  for (const id of remove) once(id);
  return { base, enter, update, remove };
}

// build makes the state of a parsed delta from its base.
function build(base, d, tick) {
  const fail = (what) => new DeltaError(`delta for tick ${tick} against ${d.base}: ${what}`);
  const state = new Map(base);
  for (const id of d.remove) {
    if (!state.delete(id)) throw fail(`removal of entity ${id}, which the base lacks`);
  }
  for (const rec of d.enter) state.set(rec[0], Object.freeze(rec.slice(1)));
  for (const rec of d.update) {
    const [id, mask] = rec;
    const old = base.get(id);
    if (!old) throw fail(`update of entity ${id}, which the base lacks`);
    const n = old.length;
    if (n < MAX_MASK_FIELDS && mask >>> n !== 0) throw fail(`entity ${id}: mask ${mask} for ${n} fields`);
    const fields = old.slice();
    let k = 2;
    for (let j = 0; j < n && j < MAX_MASK_FIELDS; j++) {
      if ((mask >>> j) & 1) fields[j] = rec[k++];
    }
    state.set(id, Object.freeze(fields));
  }
  return state;
}

function isTick(v) {
  return Number.isSafeInteger(v) && v >= 0;
}

function isID(v) {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function bitCount(m) {
  let c = 0;
  for (let v = m >>> 0; v !== 0; v >>>= 1) c += v & 1;
  return c;
}
