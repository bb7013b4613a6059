// The tickwire browser client SDK, one ES module to import:
//
//   import { connect, ClockSync, Interpolator, Predictor, SnapshotApplier } from "/sdk/tickwire.js";
//
// It speaks the wire protocol of docs/protocol.md with the browser's own
// WebSocket and a small msgpack codec of its own, so pages need no build
// step and fetch nothing from elsewhere.

export { Client, ClientKind, ErrorCode, RTTEstimator, ServerKind, TickwireError, connect } from "./client.js";
export { ClockSync } from "./clocksync.js";
export { ExtData, decode, encode } from "./msgpack.js";
export { Interpolator, lerp, lerpAngle, lerpEntities } from "./interpolation.js";
export { Predictor } from "./prediction.js";
export { DEFAULT_KEEP, DeltaError, SnapshotApplier, applyDelta } from "./snapshots.js";
