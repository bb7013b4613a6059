// A small msgpack codec (https://github.com/msgpack/msgpack/blob/master/spec.md)
// for the tickwire browser SDK: everything the wire protocol needs, in one
// file the browser loads as it is, with no build step and no download.
//
// Values map as follows.
//
//   JavaScript                     msgpack
//   null, undefined                nil (decodes to null)
//   boolean                        bool
//   safe integer (Number)          the shortest int or uint format
//   other Number                   float 64 (float 32 decodes to a Number)
//   BigInt                         int 64 / uint 64
//   string                         str (UTF-8)
//   Uint8Array, other typed views  bin (decodes to Uint8Array)
//   Array                          array
//   plain object, Map              map (decodes to a plain object)
//   Date                           the timestamp extension, type -1
//   ExtData                        any other extension type
//
// 64-bit integers decode to a Number when it holds them exactly and to a
// BigInt otherwise, so no value is silently rounded.

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** ExtData is a msgpack extension value the codec has no type for. */
export class ExtData {
  /**
   * @param {number} type extension type, -128 to 127
   * @param {Uint8Array} data
   */
  constructor(type, data) {
    this.type = type;
    this.data = data;
  }
}

/** MAX_DEPTH bounds the nesting of arrays and maps, both ways. */
export const MAX_DEPTH = 100;

/**
 * encode returns the msgpack encoding of value.
 * @param {unknown} value
 * @returns {Uint8Array}
 */
export function encode(value) {
  const w = new Writer();
  w.value(value, 0);
  return w.bytes.subarray(0, w.pos);
}

/**
 * decode returns the value encoded in bytes, which must hold exactly one
 * msgpack value. It throws an Error saying what is wrong with malformed
 * input.
 * @param {Uint8Array | ArrayBuffer} bytes
 * @returns {any}
 */
export function decode(bytes) {
  const r = new Reader(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes);
  const v = r.value(0);
  if (r.pos !== r.bytes.length) {
    throw new Error(`msgpack: ${r.bytes.length - r.pos} trailing bytes after the value`);
  }
  return v;
}

class Writer {
  constructor() {
    this.bytes = new Uint8Array(256);
    this.view = new DataView(this.bytes.buffer);
    this.pos = 0;
  }

  reserve(n) {
    if (this.pos + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + n));
    grown.set(this.bytes);
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(b) {
    this.reserve(1);
    this.bytes[this.pos++] = b;
  }

  head(b, size, n) {
    this.reserve(1 + size);
    this.bytes[this.pos++] = b;
    if (size === 1) this.view.setUint8(this.pos, n);
    else if (size === 2) this.view.setUint16(this.pos, n);
    else if (size === 4) this.view.setUint32(this.pos, n);
    this.pos += size;
  }

  raw(b) {
    this.reserve(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }

  value(v, depth) {
    if (depth > MAX_DEPTH) throw new Error(`msgpack: value nested deeper than ${MAX_DEPTH}`);
    switch (typeof v) {
      case "undefined":
        return this.u8(0xc0);
      case "boolean":
        return this.u8(v ? 0xc3 : 0xc2);
      case "number":
        return this.number(v);
      case "bigint":
        return this.bigint(v);
      case "string":
        return this.string(v);
      case "object":
        if (v === null) return this.u8(0xc0);
        if (Array.isArray(v)) {
          this.length(v.length, 0x90, 0xdc);
          for (const e of v) this.value(e, depth + 1);
          return;
        }
        if (ArrayBuffer.isView(v)) {
          const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
          if (b.length < 0x100) this.head(0xc4, 1, b.length);
          else if (b.length < 0x10000) this.head(0xc5, 2, b.length);
          else this.head(0xc6, 4, b.length);
          return this.raw(b);
        }
        if (v instanceof Date) return this.timestamp(v);
        if (v instanceof ExtData) return this.ext(v.type, v.data);
        if (v instanceof Map) {
          this.length(v.size, 0x80, 0xde);
          for (const [k, e] of v) {
            this.value(k, depth + 1);
            this.value(e, depth + 1);
          }
          return;
        }
        {
          const keys = Object.keys(v);
          this.length(keys.length, 0x80, 0xde);
          for (const k of keys) {
            this.string(k);
            this.value(v[k], depth + 1);
          }
        }
        return;
    }
    throw new Error(`msgpack: cannot encode a value of type ${typeof v}`);
  }

  // length writes an array (fix 0x90, 16-bit 0xdc) or map (fix 0x80,
  // 16-bit 0xde) header; the 32-bit form follows the 16-bit one.
  length(n, fix, h16) {
    if (n < 16) this.u8(fix | n);
    else if (n < 0x10000) this.head(h16, 2, n);
    else this.head(h16 + 1, 4, n);
  }

  number(v) {
    if (!Number.isSafeInteger(v)) {
      this.reserve(9);
      this.bytes[this.pos++] = 0xcb;
      this.view.setFloat64(this.pos, v);
      this.pos += 8;
      return;
    }
    if (v >= 0) {
      if (v < 0x80) return this.u8(v);
      if (v < 0x100) return this.head(0xcc, 1, v);
      if (v < 0x10000) return this.head(0xcd, 2, v);
      if (v < 0x100000000) return this.head(0xce, 4, v);
      return this.big(0xcf, BigInt(v));
    }
    if (v >= -0x20) return this.u8(0xe0 | (v + 0x20));
    this.reserve(5);
    if (v >= -0x80) {
      this.bytes[this.pos++] = 0xd0;
      this.view.setInt8(this.pos++, v);
    } else if (v >= -0x8000) {
      this.bytes[this.pos++] = 0xd1;
      this.view.setInt16(this.pos, v);
      this.pos += 2;
    } else if (v >= -0x80000000) {
      this.bytes[this.pos++] = 0xd2;
      this.view.setInt32(this.pos, v);
      this.pos += 4;
    } else {
      this.big(0xd3, BigInt(v));
    }
  }

  bigint(v) {
    if (v >= 0n && v < 1n << 64n) return this.big(0xcf, v);
    if (v < 0n && v >= -(1n << 63n)) return this.big(0xd3, v);
    throw new Error(`msgpack: BigInt ${v} does not fit in 64 bits`);
  }

  big(b, v) {
    this.reserve(9);
    this.bytes[this.pos++] = b;
    if (b === 0xcf) this.view.setBigUint64(this.pos, v);
    else this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }

  string(s) {
    const b = textEncoder.encode(s);
    if (b.length < 32) this.u8(0xa0 | b.length);
    else if (b.length < 0x100) this.head(0xd9, 1, b.length);
    else if (b.length < 0x10000) this.head(0xda, 2, b.length);
    else this.head(0xdb, 4, b.length);
    this.raw(b);
  }

  ext(type, data) {
    const n = data.length;
    const fixed = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }[n];
    if (fixed) this.u8(fixed);
    else if (n < 0x100) this.head(0xc7, 1, n);
    else if (n < 0x10000) this.head(0xc8, 2, n);
    else this.head(0xc9, 4, n);
    this.reserve(1);
    this.view.setInt8(this.pos++, type);
    this.raw(data);
  }

  // timestamp writes a Date as extension -1, in the shortest of the
  // spec's three layouts that holds it.
  timestamp(d) {
    const ms = d.getTime();
    if (Number.isNaN(ms)) throw new Error("msgpack: cannot encode an invalid Date");
    const sec = Math.floor(ms / 1000);
    const nsec = (ms - sec * 1000) * 1e6;
    const out = new DataView(new ArrayBuffer(12));
    if (sec >= 0 && sec < 0x400000000) {
      if (nsec === 0 && sec < 0x100000000) {
        out.setUint32(0, sec);
        return this.ext(-1, new Uint8Array(out.buffer, 0, 4));
      }
      // 30 bits of nanoseconds, 34 bits of seconds.
      out.setUint32(0, nsec * 4 + Math.floor(sec / 0x100000000));
      out.setUint32(4, sec >>> 0);
      return this.ext(-1, new Uint8Array(out.buffer, 0, 8));
    }
    out.setUint32(0, nsec);
    out.setBigInt64(4, BigInt(sec));
    return this.ext(-1, new Uint8Array(out.buffer, 0, 12));
  }
}

class Reader {
  /** @param {Uint8Array} bytes */
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  need(n) {
    if (this.pos + n > this.bytes.length) {
      throw new Error(`msgpack: unexpected end of input at byte ${this.pos}: ${n} more bytes needed`);
    }
  }

  u8() {
    this.need(1);
    return this.bytes[this.pos++];
  }

  uint(size) {
    this.need(size);
    const p = this.pos;
    this.pos += size;
    if (size === 1) return this.view.getUint8(p);
    if (size === 2) return this.view.getUint16(p);
    return this.view.getUint32(p);
  }

  take(n) {
    this.need(n);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  value(depth) {
    if (depth > MAX_DEPTH) throw new Error(`msgpack: value nested deeper than ${MAX_DEPTH}`);
    const b = this.u8();
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b < 0x90) return this.map(b & 0x0f, depth);
    if (b < 0xa0) return this.array(b & 0x0f, depth);
    if (b < 0xc0) return this.string(b & 0x1f);
    const p = this.pos;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
      case 0xc5:
      case 0xc6:
        return this.take(this.uint(1 << (b - 0xc4))).slice();
      case 0xc7:
      case 0xc8:
      case 0xc9: {
        const n = this.uint(1 << (b - 0xc7));
        return this.ext(n);
      }
      case 0xca:
        this.need(4);
        this.pos += 4;
        return this.view.getFloat32(p);
      case 0xcb:
        this.need(8);
        this.pos += 8;
        return this.view.getFloat64(p);
      case 0xcc:
      case 0xcd:
      case 0xce:
        return this.uint(1 << (b - 0xcc));
      case 0xcf:
        this.need(8);
        this.pos += 8;
        return exact(this.view.getBigUint64(p));
      case 0xd0:
        this.need(1);
        this.pos += 1;
        return this.view.getInt8(p);
      case 0xd1:
        this.need(2);
        this.pos += 2;
        return this.view.getInt16(p);
      case 0xd2:
        this.need(4);
        this.pos += 4;
        return this.view.getInt32(p);
      case 0xd3:
        this.need(8);
        this.pos += 8;
        return exact(this.view.getBigInt64(p));
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return this.ext(1 << (b - 0xd4));
      case 0xd9:
      case 0xda:
      case 0xdb:
        return this.string(this.uint(1 << (b - 0xd9)));
      case 0xdc:
      case 0xdd:
        return this.array(this.uint(b === 0xdc ? 2 : 4), depth);
      case 0xde:
      case 0xdf:
        return this.map(this.uint(b === 0xde ? 2 : 4), depth);
    }
    throw new Error(`msgpack: byte 0x${b.toString(16)} at ${p - 1} is not a valid type`);
  }

  string(n) {
    const b = this.take(n);
    try {
      return textDecoder.decode(b);
    } catch {
      throw new Error(`msgpack: string at byte ${this.pos - n} is not valid UTF-8`);
    }
  }

  array(n, depth) {
    // Every element takes at least a byte: refuse lengths the input
    // cannot hold before allocating for them.
    this.need(n);
    const a = new Array(n);
    for (let i = 0; i < n; i++) a[i] = this.value(depth + 1);
    return a;
  }

  map(n, depth) {
    this.need(2 * n);
    const o = {};
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      if (typeof k !== "string" && typeof k !== "number") {
        throw new Error(`msgpack: map key of type ${k === null ? "nil" : typeof k} at byte ${this.pos}; only string and integer keys decode`);
      }
      const v = this.value(depth + 1);
      // A "__proto__" key is data, never the object's prototype.
      Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return o;
  }

  ext(n) {
    this.need(1);
    const type = this.view.getInt8(this.pos++);
    const data = this.take(n).slice();
    if (type !== -1) return new ExtData(type, data);
    const v = new DataView(data.buffer);
    if (n === 4) return new Date(v.getUint32(0) * 1000);
    if (n === 8) {
      const hi = v.getUint32(0);
      const sec = (hi & 0x3) * 0x100000000 + v.getUint32(4);
      return new Date(sec * 1000 + Math.floor(hi / 4 / 1e6));
    }
    if (n === 12) return new Date(Number(v.getBigInt64(4)) * 1000 + Math.floor(v.getUint32(0) / 1e6));
    throw new Error(`msgpack: timestamp extension of ${n} bytes; want 4, 8 or 12`);
  }
}

// exact returns a 64-bit integer as a Number when that is exact, else as
// the BigInt itself.
function exact(v) {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
