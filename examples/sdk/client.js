// The tickwire client: matchmaking, the WebSocket session of
// docs/protocol.md, input sequence numbers, reconnection with the
// reconnect token, round-trip time measured from input acks, an
// estimate of the server's clock that interpolation draws by and inputs
// report their interpolation delay against (docs/lag-compensation.md),
// and table snapshots: deltas applied and acknowledged (snapshots.js).

import { ClockSync } from "./clocksync.js";
import { Interpolator } from "./interpolation.js";
import { decode, encode } from "./msgpack.js";
import { DeltaError, SnapshotApplier } from "./snapshots.js";

/** Message kinds, client to server (docs/protocol.md). */
export const ClientKind = Object.freeze({ JOIN: 1, INPUT: 2, LEAVE: 3, MESSAGE: 4, ACK: 5 });

/** Message kinds, server to client. */
export const ServerKind = Object.freeze({ WELCOME: 1, BATCH: 2, ERROR: 3, MESSAGE: 5, TABLE_BATCH: 6 });

/** Error codes of the error message. */
export const ErrorCode = Object.freeze({
  BAD_MESSAGE: 1,
  INPUT_TOO_LARGE: 2,
  RATE_LIMITED: 3,
  JOIN_REFUSED: 4,
  ROOM_FULL: 5,
  ROOM_NOT_FOUND: 6,
  ROOM_CLOSED: 7,
  UNAUTHORIZED: 8,
  BAD_RECONNECT: 9,
  INTERNAL: 10,
  BAD_SEAT: 11,
  NOT_JOINED: 12,
  GAME_NOT_FOUND: 13,
  INVALID_REQUEST: 14,
});

// Join errors after which matchmaking again may well succeed: the room
// filled up or closed between matchmaking and joining.
const retryableJoin = new Set([ErrorCode.ROOM_FULL, ErrorCode.ROOM_NOT_FOUND, ErrorCode.ROOM_CLOSED, ErrorCode.BAD_SEAT]);

// Close codes after which a dropped player does not try to get its seat
// back: it left, the room ended, another connection took the seat, or the
// room's game failed.
const finalClose = new Set([1000, 1011, 4000]);

/** TickwireError is an error message from the server, or a failure to join. */
export class TickwireError extends Error {
  /**
   * @param {number} code an ErrorCode, or 0 for failures on the client side
   * @param {string} message
   */
  constructor(code, message) {
    super(code ? `${message} (code ${code})` : message);
    this.name = "TickwireError";
    this.code = code;
  }
}

/**
 * RTTEstimator keeps round-trip samples: a smoothed value as TCP keeps it
 * (RFC 6298: 7/8 old + 1/8 new) and the minimum over the last `window`
 * samples.
 */
export class RTTEstimator {
  constructor(window = 32) {
    this.window = window;
    this.samples = [];
    /** smoothed round-trip time, ms; 0 before the first sample */
    this.smoothed = 0;
    /** the latest sample, ms */
    this.last = 0;
  }

  /** add records a sample in ms. */
  add(ms) {
    this.last = ms;
    this.smoothed = this.samples.length === 0 && this.smoothed === 0 ? ms : this.smoothed + (ms - this.smoothed) / 8;
    this.samples.push(ms);
    if (this.samples.length > this.window) this.samples.shift();
  }

  /** min is the smallest of the recent samples, ms; 0 before the first. */
  get min() {
    return this.samples.length ? Math.min(...this.samples) : 0;
  }
}

/**
 * Client is one player's session with a tickwire server. Create it with
 * `connect`, which resolves once the server has welcomed the player.
 *
 * Events (subscribe with `on`, which returns a function that unsubscribes):
 * - "batch" {tick, time, ack, settled, snapshot, events}: one per tick.
 *   `settled` is the sequence number up to which inputs are either applied
 *   or lost for good (after a reconnect, inputs sent on the dropped
 *   connection that never arrived); reconcile predictions with it.
 *   A table batch (docs/protocol.md, "Table snapshots and deltas") comes
 *   as a batch too, its delta applied: `snapshot` is then a Map from
 *   entity id to the entity (its fields array, or what `opts.entity`
 *   made of it), a new Map every batch, and `base` is the tick the delta
 *   was taken against (0: a full snapshot).
 * - "message" {type, data}: a message from the game to this player.
 * - "error" TickwireError: an error message (the connection stays open).
 * - "disconnect" {code, reason}: the connection dropped; reconnecting.
 * - "reconnect" welcome: the seat is back, with the same player id.
 * - "close" {code, reason}: the session is over (left, room ended,
 *   reconnection failed). No events follow.
 *
 * Server time: the client keeps one estimate of the server's clock,
 * `clock` (a ClockSync), from the welcome's and every batch's time and
 * from the round trips of acknowledged inputs; `serverNow()` reads it.
 * `interpolator` is an Interpolator on that clock: push each batch's
 * state into it and sample it every frame, and it draws `interpDelay` ms
 * behind the server's clock (further on a slow link). Every input that is
 * a plain object goes out with `interp`: how far behind the server's
 * clock the world last sampled was, as docs/protocol.md says, so that a
 * server with lag compensation judges it against what the player saw.
 *
 * Table snapshots: `tables` (a SnapshotApplier) keeps the states deltas
 * may be taken against. The newest applied is acknowledged on the next
 * input (its fourth element) when inputs are flowing (one went out in the
 * last `opts.ackDelay` ms), and at once with an ack message otherwise. A
 * delta that cannot be applied (it should not happen) is reported as an
 * "error" event with code 0; the client then drops its states and
 * acknowledges 0, and table batches wait for the full snapshot that
 * brings (no batch event until then). `stats` counts what arrived.
 */
export class Client {
  /**
   * @param {object} opts see `connect`
   */
  constructor(opts = {}) {
    this.opts = opts;
    this.WebSocket = opts.WebSocket ?? globalThis.WebSocket;
    this.fetch = opts.fetch ?? globalThis.fetch?.bind(globalThis);
    this.now = opts.now ?? (() => performance.now());
    this.setTimeout = opts.setTimeout ?? globalThis.setTimeout.bind(globalThis);
    this.reconnectGrace = opts.reconnectGrace ?? 10000;
    this.handlers = new Map();
    /** the estimate of the server's clock: from the welcome, batches and input acks */
    this.clock = new ClockSync({ now: this.now });
    /** an Interpolator drawing `opts.interpDelay` ms (100 by default) behind `clock` */
    this.interpolator = new Interpolator({ delay: opts.interpDelay ?? 100, clock: this.clock });
    /** whether inputs that are plain objects carry `interp` */
    this.sendInterp = opts.sendInterp ?? true;
    /** the table states kept as bases for deltas */
    this.tables = new SnapshotApplier({ keep: opts.keepStates });
    /** @type {((id: number, fields: readonly any[]) => any) | null} makes a game's entity of a table row */
    this.entity = opts.entity ?? null;
    /** how recent the last input must be for an acknowledgement to wait for the next one, ms */
    this.ackDelay = opts.ackDelay ?? 50;
    /**
     * counters of what arrived, over every connection: `batches` (plain
     * batches), `full` (table batches without a base), `deltas` (table
     * batches applied to a kept state), `fullAfterDelta` (full snapshots
     * after a delta on the same connection that the client did not ask
     * for: the server no longer had the state acknowledged), `failed`
     * (table batches that could not be applied), `bytes` (every message).
     */
    this.stats = { batches: 0, full: 0, deltas: 0, fullAfterDelta: 0, failed: 0, bytes: 0 };

    /** @type {string} the player's id, from the welcome */
    this.playerId = "";
    /** @type {string} the room's id */
    this.roomId = "";
    /** @type {string} the game's name */
    this.game = opts.game ?? "";
    /** @type {number} the room's ticks per second */
    this.tickRate = 0;
    /** @type {number} the newest batch's tick */
    this.tick = 0;
    /** @type {number} the newest batch's server time, ms since the Unix epoch */
    this.serverTime = 0;
    /** @type {number} the last input the server acknowledged */
    this.ack = 0;
    /** @type {number} the sequence number of the last input sent */
    this.seq = 0;
    /** round trips from sending an input to the batch that acknowledges it */
    this.rttEstimator = new RTTEstimator();
    /** batches received in the last whole second */
    this.batchRate = 0;

    this.ws = null;
    this.url = "";
    this.token = "";
    this.state = "idle"; // idle, joining, open, reconnecting, closed
    this.sent = []; // [seq, local send time] of inputs not yet acknowledged
    this.settleAfterResume = 0;
    this.batchCount = 0;
    this.batchSecond = 0;
    this.lastInputAt = -Infinity; // local time of the last input sent
    this.pendingAck = -1; // a tick for the next input to acknowledge; -1: none
    this.awaitingFull = false; // a delta failed: table batches wait for a full snapshot
    this.sawDelta = false; // a delta arrived on this connection
    this.decoded = new WeakMap(); // fields array -> this.entity's result
  }

  /**
   * rtt is the smoothed time, in ms, from sending an input to receiving
   * the batch that acknowledges it: the network round trip plus the wait
   * for the next tick (up to one tick). 0 until inputs have been sent.
   */
  get rtt() {
    return this.rttEstimator.smoothed;
  }

  /**
   * rttMin is the smallest recent input round trip, in ms. Inputs arrive
   * at varying points of a tick, so it approaches the network round trip.
   */
  get rttMin() {
    return this.rttEstimator.min;
  }

  /** serverNow is the estimate of the server's clock at local time `local`, ms since the Unix epoch. */
  serverNow(local = this.now()) {
    return this.clock.serverNow(local);
  }

  /** renderTime is the server time `interpolator` draws at local time `local`, ms. */
  renderTime(local = this.now()) {
    return this.interpolator.renderTime(local);
  }

  /**
   * interpDelay is the interpolation delay inputs report: how far behind
   * the server's clock, at local time `local`, the world the page last drew
   * is (the render time of the interpolator's latest sample; before the
   * first, the render time now), in whole ms.
   */
  interpDelay(local = this.now()) {
    return this.clock.interpDelay(this.interpolator.lastRenderTime ?? this.renderTime(local), local);
  }

  /** connected reports whether the player is in the room on a live connection. */
  get connected() {
    return this.state === "open";
  }

  /** on subscribes fn to an event and returns a function that unsubscribes. */
  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
    return () => this.handlers.get(event)?.delete(fn);
  }

  emit(event, value) {
    for (const fn of this.handlers.get(event) ?? []) {
      try {
        fn(value);
      } catch (err) {
        console.error(`tickwire: a "${event}" handler threw`, err);
      }
    }
  }

  /**
   * sendInput sends one input and returns its sequence number, or 0 when
   * there is no live connection (the input is not sent: do not predict it).
   * An input that is a plain object without an `interp` key is sent with
   * `interp: interpDelay()` added (unless `opts.sendInterp` is false);
   * `data` itself is not modified.
   */
  sendInput(data) {
    if (!this.connected) return 0;
    const now = this.now();
    if (this.sendInterp && isPlainObject(data) && !("interp" in data)) data = { ...data, interp: this.interpDelay(now) };
    const seq = ++this.seq;
    this.sent.push([seq, now]);
    if (this.sent.length > 512) this.sent.shift();
    const msg = [ClientKind.INPUT, seq, data];
    if (this.pendingAck >= 0) msg.push(this.pendingAck); // acknowledges a table snapshot
    this.pendingAck = -1;
    this.lastInputAt = now;
    this.ws.send(encode(msg));
    return seq;
  }

  /** send sends a custom message to the game; it reports whether it was sent. */
  send(type, data) {
    if (!this.connected) return false;
    this.ws.send(encode([ClientKind.MESSAGE, type, data ?? null]));
    return true;
  }

  /** leave frees the seat; the server closes the connection. */
  leave() {
    if (this.connected) this.ws.send(encode([ClientKind.LEAVE]));
    this.finish(1000, "left");
  }

  // join matchmakes (unless given a seat, room or url) and joins, trying
  // again when the room filled or closed in between.
  async join() {
    for (let attempt = 1; ; attempt++) {
      const req = { name: this.opts.name ?? "" };
      if (this.opts.options !== undefined) req.options = this.opts.options;
      if (this.opts.token) req.token = this.opts.token;
      let url = this.opts.url;
      if (this.opts.seat) req.seat = this.opts.seat;
      else if (this.opts.room) req.room = this.opts.room;
      else if (this.opts.matchmake === false) req.game = this.game;
      else {
        const m = await this.matchmake();
        req.seat = m.seat;
        url = m.url;
      }
      this.url = url ?? wsURL(this.opts.server);
      try {
        return await this.open(req, false);
      } catch (err) {
        const again = err instanceof TickwireError && retryableJoin.has(err.code) && !this.opts.seat && !this.opts.room;
        if (!again || attempt >= 3) throw err;
      }
    }
  }

  async matchmake() {
    if (!this.game) throw new TickwireError(0, "tickwire: connect needs a game to matchmake");
    if (!this.fetch) throw new TickwireError(0, "tickwire: no fetch function to matchmake with");
    const base = httpBase(this.opts.server);
    let res;
    try {
      res = await this.fetch(`${base}/matchmake/${encodeURIComponent(this.game)}`, { method: "POST" });
    } catch (err) {
      throw new TickwireError(0, `tickwire: matchmaking at ${base} failed: ${err.message}`);
    }
    let body = {};
    try {
      body = await res.json();
    } catch {
      // answered below by the status
    }
    if (!res.ok) throw new TickwireError(0, `tickwire: matchmaking: ${res.status} ${body.error ?? ""}`.trim());
    return body;
  }

  // open opens a WebSocket and sends req; it resolves with the welcome and
  // rejects with the reason the join failed.
  open(req, resuming) {
    return new Promise((resolve, reject) => {
      this.state = resuming ? "reconnecting" : "joining";
      let ws;
      try {
        ws = new this.WebSocket(this.url);
      } catch (err) {
        reject(new TickwireError(0, `tickwire: cannot open ${this.url}: ${err.message}`));
        return;
      }
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      let welcomed = false;
      let refusal = null;
      ws.onopen = () => ws.send(encode([ClientKind.JOIN, req]));
      ws.onmessage = (ev) => {
        this.stats.bytes += ev.data.byteLength ?? 0;
        let msg;
        try {
          msg = decode(new Uint8Array(ev.data));
        } catch (err) {
          console.error("tickwire: a message from the server is not msgpack", err);
          return;
        }
        if (!welcomed) {
          if (msg[0] === ServerKind.WELCOME) {
            welcomed = true;
            this.welcome(msg[1]);
            resolve(msg[1]);
          } else if (msg[0] === ServerKind.ERROR) {
            refusal = new TickwireError(msg[1], msg[2]);
          }
          return;
        }
        this.handle(msg);
      };
      ws.onclose = (ev) => {
        if (this.ws !== ws) return;
        if (!welcomed) {
          reject(refusal ?? new TickwireError(0, `tickwire: connection to ${this.url} closed before the welcome (${ev.code} ${ev.reason || ""})`.trim()));
          return;
        }
        this.dropped(ev.code, ev.reason);
      };
    });
  }

  welcome(w) {
    this.playerId = w.player;
    this.roomId = w.room;
    this.game = w.game;
    this.tickRate = w.tickRate;
    this.tick = w.tick;
    this.serverTime = w.time;
    this.clock.addServerTime(w.time, this.now());
    this.token = w.reconnect;
    this.state = "open";
    this.resetTables(); // a new connection starts from nothing
  }

  handle(msg) {
    switch (msg[0]) {
      case ServerKind.BATCH: {
        const [, tick, time, ack, snapshot, events] = msg;
        this.stats.batches++;
        this.batch({ tick, time, ack, snapshot, events });
        return;
      }
      case ServerKind.TABLE_BATCH: {
        const [, tick, time, ack, delta, events] = msg;
        const state = this.applyTable(tick, delta);
        this.batch({ tick, time, ack, snapshot: state && this.entities(state), events, base: delta?.[0] }, state !== null);
        return;
      }
      case ServerKind.MESSAGE:
        this.emit("message", { type: msg[1], data: msg[2] });
        return;
      case ServerKind.ERROR:
        this.emit("error", new TickwireError(msg[1], msg[2]));
        return;
    }
  }

  // batch takes a batch's tick, time and input ack, and emits it unless
  // told not to (a table batch that could not be applied).
  batch(b, emit = true) {
    const now = this.now();
    this.tick = b.tick;
    this.serverTime = b.time;
    this.ack = b.ack;
    this.clock.addServerTime(b.time, now);
    this.countBatch();
    this.measure(b.ack, b.time, now);
    if (!emit) return;
    let settled = b.ack;
    if (this.settleAfterResume) {
      settled = Math.max(b.ack, this.settleAfterResume);
      this.settleAfterResume = 0;
    }
    const out = { tick: b.tick, time: b.time, ack: b.ack, settled, snapshot: b.snapshot, events: b.events ?? [] };
    if ("base" in b) out.base = b.base;
    this.emit("batch", out);
  }

  // applyTable applies a table batch's delta and acknowledges it; it
  // returns the new state, or null when the batch could not be applied.
  applyTable(tick, delta) {
    const base = Array.isArray(delta) ? delta[0] : undefined;
    if (this.awaitingFull && base !== 0) {
      this.stats.failed++; // against a state dropped for the full snapshot asked for
      return null;
    }
    let state;
    try {
      state = this.tables.apply(tick, delta);
    } catch (err) {
      if (!(err instanceof DeltaError)) throw err;
      this.stats.failed++;
      this.resetTables();
      this.awaitingFull = true;
      this.sendAck(0);
      this.emit("error", new TickwireError(0, `${err.message}; asked for a full snapshot`));
      return null;
    }
    this.awaitingFull = false;
    if (base === 0) {
      this.stats.full++;
      if (this.sawDelta) this.stats.fullAfterDelta++;
    } else {
      this.stats.deltas++;
      this.sawDelta = true;
    }
    if (this.now() - this.lastInputAt < this.ackDelay) this.pendingAck = tick;
    else this.sendAck(tick);
    return state;
  }

  // entities returns a new Map of a state's entities, made by opts.entity
  // once per fields array (an entity that did not change keeps its
  // object), or the fields arrays themselves.
  entities(state) {
    const out = new Map();
    for (const [id, fields] of state) {
      if (!this.entity) {
        out.set(id, fields);
        continue;
      }
      let e = this.decoded.get(fields);
      if (e === undefined) {
        e = this.entity(id, fields);
        this.decoded.set(fields, e);
      }
      out.set(id, e);
    }
    return out;
  }

  // sendAck acknowledges the newest table snapshot applied (0: none; the
  // server sends a full snapshot).
  sendAck(tick) {
    this.pendingAck = -1;
    if (this.connected) this.ws.send(encode([ClientKind.ACK, tick]));
  }

  // resetTables forgets the table states, for a new connection or after a
  // delta that could not be applied.
  resetTables() {
    this.tables.reset();
    this.pendingAck = -1;
    this.awaitingFull = false;
    this.sawDelta = false;
  }

  countBatch() {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.batchSecond) {
      this.batchRate = second === this.batchSecond + 1 ? this.batchCount : 0;
      this.batchSecond = second;
      this.batchCount = 0;
    }
    this.batchCount++;
  }

  // measure takes an RTT sample from the newest acknowledged input: the
  // one sent last, which waited least for its tick. The batch answers it
  // with the server's time, a round trip for the clock too.
  measure(ack, time, now) {
    let sample = -1;
    while (this.sent.length && this.sent[0][0] <= ack) {
      const [seq, at] = this.sent.shift();
      if (seq === ack) {
        sample = now - at;
        this.clock.addSample(at, time, now);
      }
    }
    if (sample >= 0) this.rttEstimator.add(sample);
  }

  dropped(code, reason) {
    if (this.state === "closed") return;
    if (finalClose.has(code) || !this.token) {
      this.finish(code, reason);
      return;
    }
    this.emit("disconnect", { code, reason });
    // Inputs sent on the dropped connection are either applied by the
    // first batch of the new one, or lost.
    this.settleAfterResume = this.seq;
    this.sent = [];
    this.reconnect(this.now());
  }

  async reconnect(since) {
    let wait = 250;
    while (this.state !== "closed") {
      try {
        const w = await this.open({ room: this.roomId, reconnect: this.token, name: this.opts.name ?? "" }, true);
        this.emit("reconnect", w);
        return;
      } catch (err) {
        if (err instanceof TickwireError && err.code !== 0) {
          this.finish(1000, `reconnect refused: ${err.message}`);
          return;
        }
      }
      if (this.now() - since + wait > this.reconnectGrace) {
        this.finish(1006, "could not reconnect within the grace period");
        return;
      }
      await new Promise((r) => this.setTimeout(r, wait));
      wait = Math.min(wait * 2, 2000);
    }
  }

  finish(code, reason) {
    if (this.state === "closed") return;
    this.state = "closed";
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) ws.close(1000, "");
    this.emit("close", { code, reason });
  }
}

/**
 * connect joins a game and resolves with a Client once the server has
 * welcomed the player; it rejects with a TickwireError saying why not.
 *
 * @param {object} opts
 * @param {string} [opts.game] the game to join (matchmaking by default)
 * @param {string} [opts.name] the player's display name
 * @param {any} [opts.options] given to the game's Join
 * @param {string} [opts.token] credential for the server's auth hook
 * @param {string} [opts.server] the server's http(s) base URL; default: the page's origin
 * @param {string} [opts.seat] join with this seat token instead of matchmaking (with opts.url)
 * @param {string} [opts.room] join this room by id instead of matchmaking
 * @param {string} [opts.url] the WebSocket URL, when not matchmaking
 * @param {boolean} [opts.matchmake=true] false: join by game on the WebSocket, no POST
 * @param {number} [opts.reconnectGrace=10000] how long to try to get a dropped seat back, ms
 * @param {number} [opts.interpDelay=100] how far behind the server's clock `client.interpolator` draws, ms
 * @param {boolean} [opts.sendInterp=true] false: inputs go out without `interp`
 * @param {(id: number, fields: readonly any[]) => any} [opts.entity] makes a game's
 *   entity of a table snapshot's row; batches then carry Maps of these (made once
 *   per change of the row). Default: the fields array itself
 * @param {number} [opts.ackDelay=50] table snapshots are acknowledged on the next
 *   input when one went out this recently, ms; at once otherwise
 * @param {number} [opts.keepStates=64] the most table states kept as delta bases
 * @param {() => number} [opts.now] the local clock, ms (default: performance.now())
 * @param {Function} [opts.WebSocket] WebSocket constructor (default: the global one)
 * @param {Function} [opts.fetch] fetch function (default: the global one)
 * @returns {Promise<Client>}
 */
export async function connect(opts = {}) {
  const c = new Client(opts);
  await c.join();
  return c;
}

function isPlainObject(v) {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function httpBase(server) {
  if (server) return server.replace(/\/+$/, "");
  return globalThis.location ? globalThis.location.origin : "http://127.0.0.1:8080";
}

function wsURL(server) {
  return httpBase(server).replace(/^http/, "ws") + "/ws";
}
