// Client-side prediction with reconciliation: the local player's inputs
// are applied at once, on the client, with the same rules the server uses;
// each batch says which input the server applied last (its ack), so the
// client restarts from the server's state and replays the inputs the
// server has not applied yet.

/**
 * Predictor predicts the local player's state.
 *
 * `apply(state, input)` must be a pure function returning the state after
 * one input, mirroring what the server does with it. It must not modify
 * `state`.
 */
export class Predictor {
  /**
   * @param {object} opts
   * @param {(state: any, input: any) => any} opts.apply
   * @param {any} [opts.state] the state to start from, if known
   * @param {number} [opts.maxPending=256] inputs kept while unacknowledged;
   *   beyond that the oldest are dropped (the server is not answering)
   */
  constructor(opts) {
    if (typeof opts?.apply !== "function") throw new TypeError("Predictor needs an apply(state, input) function");
    this.apply = opts.apply;
    this.maxPending = opts.maxPending ?? 256;
    /** @type {{seq: number, input: any}[]} inputs sent and not yet acknowledged, oldest first */
    this.pending = [];
    /** the predicted state: the server's last state plus the pending inputs */
    this.state = opts.state ?? null;
    /** how far the last reconciliation moved the prediction, per `distance` */
    this.correction = 0;
  }

  /**
   * input records an input sent with sequence number seq and applies it to
   * the predicted state, which it returns. Before the first server state
   * the input is kept but not applied.
   */
  input(seq, input) {
    this.pending.push({ seq, input });
    if (this.pending.length > this.maxPending) this.pending.shift();
    if (this.state !== null) this.state = this.apply(this.state, input);
    return this.state;
  }

  /**
   * reconcile takes the server's state for the local player as of the
   * input acknowledged with sequence number ack: inputs up to ack are
   * forgotten, the others are replayed on top of it. It returns the new
   * predicted state. `distance(a, b)`, if given, measures how far the
   * prediction moved (kept in `correction`, for smoothing or display).
   */
  reconcile(serverState, ack, distance) {
    let i = 0;
    while (i < this.pending.length && this.pending[i].seq <= ack) i++;
    if (i > 0) this.pending.splice(0, i);
    let s = serverState;
    for (const p of this.pending) s = this.apply(s, p.input);
    this.correction = distance && this.state !== null ? distance(this.state, s) : 0;
    this.state = s;
    return s;
  }

  /** reset forgets pending inputs and the predicted state. */
  reset(state = null) {
    this.pending = [];
    this.state = state;
    this.correction = 0;
  }
}
