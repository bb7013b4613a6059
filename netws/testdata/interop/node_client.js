// node_client.js: the npm "ws" package as a WebSocket client against a
// netws echo server. Used by netws/interop_node_test.go.
//
// Usage: node node_client.js ws://127.0.0.1:PORT/path
//
// The script connects, sends every case in turn and checks that the echo
// has the same type and the same bytes, then sends the whole list again
// without waiting (pipelined), sends a ping, and ends with a close
// handshake. It prints exactly one JSON line on stdout:
//
//   {"ok":bool,"cases":[{"name":..,"ok":..,"detail":..}],"close":{..},"error":..}
//
// and exits 0 when every check passed, 1 otherwise. require('ws') resolves
// from this file's directory upwards, so it finds the node_modules/ that
// `npm ci` creates at the repository root.
'use strict';

const WebSocket = require('ws');

const CLOSE_REASON = 'node client done: ünïcødé ✓';
const OVERALL_TIMEOUT_MS = Number(process.env.TICKWIRE_INTEROP_TIMEOUT_MS || 45000);

// textOfBytes returns a string whose UTF-8 encoding is exactly n bytes,
// cycling through characters of 1, 2, 3 and 4 bytes so that frame and
// buffer boundaries fall inside multi-byte sequences.
function textOfBytes(n) {
  const chars = ['a', '\u00e9', '\u20ac', '\u{1F3AE}']; // a é € 🎮
  const sizes = [1, 2, 3, 4];
  const parts = [];
  let used = 0;
  for (let i = 0; used < n; i++) {
    const k = i % 4;
    if (used + sizes[k] <= n) {
      parts.push(chars[k]);
      used += sizes[k];
    } else {
      parts.push('x');
      used += 1;
    }
  }
  return parts.join('');
}

// binaryOfBytes returns n bytes that are not periodic at any small power
// of two, so misordered or misaligned chunks are detected.
function binaryOfBytes(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    b[i] = ((i * 31) ^ (i >>> 8) ^ (i >>> 16) ^ 0x5a) & 0xff;
  }
  return b;
}

// A case is {name, binary, data (string or Buffer), fragments (optional
// list of Buffers sent as separate frames)}; expect holds the bytes the echo
// must carry.
function buildCases() {
  const cases = [];
  const add = (name, binary, data, fragments) => {
    const expect = binary ? Buffer.from(data) : Buffer.from(data, 'utf8');
    cases.push({ name, binary, data, expect, fragments });
  };
  add('text/hello', false, 'hello, tickwire');
  add('text/utf8', false, 'h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e \u{1F3AE}\u{1F680}');
  add('binary/small', true, Buffer.from([0, 1, 2, 3, 0x7f, 0x80, 0xfe, 0xff]));
  add('text/empty', false, '');
  add('binary/empty', true, Buffer.alloc(0));
  for (const n of [125, 126, 65535, 65536, 1 << 20]) {
    const label = n === 1 << 20 ? '1MiB' : String(n);
    add('binary/' + label, true, binaryOfBytes(n));
    const s = textOfBytes(n);
    if (Buffer.byteLength(s, 'utf8') !== n) {
      throw new Error('textOfBytes(' + n + ') has the wrong length');
    }
    add('text/' + label, false, s);
  }
  // Fragmented by the client: several frames with FIN=0 then FIN=1.
  // The text fragments split multi-byte sequences.
  const t = Buffer.from(textOfBytes(10000), 'utf8');
  const cuts = [0, 1, 2, 333, 334, 4097, 9999, 10000];
  const tfrags = [];
  for (let i = 0; i + 1 < cuts.length; i++) tfrags.push(t.subarray(cuts[i], cuts[i + 1]));
  add('text/fragmented-utf8', false, t.toString('utf8'), tfrags);
  const b = binaryOfBytes(70000);
  add('binary/fragmented', true, b, [b.subarray(0, 0), b.subarray(0, 125), b.subarray(125, 65661), b.subarray(65661)]);
  return cases;
}

function describeDiff(got, want) {
  if (got.length !== want.length) {
    return 'length ' + got.length + ', want ' + want.length;
  }
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) {
      return 'first difference at byte ' + i + ': got 0x' + got[i].toString(16) + ', want 0x' + want[i].toString(16);
    }
  }
  return '';
}

function send(ws, c) {
  if (!c.fragments) {
    ws.send(c.data, { binary: c.binary });
    return;
  }
  c.fragments.forEach((f, i) => {
    ws.send(f, { binary: c.binary, fin: i === c.fragments.length - 1 });
  });
}

function check(c, data, isBinary, prefix) {
  const got = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const res = { name: prefix + c.name, ok: true, detail: '' };
  if (isBinary !== c.binary) {
    res.ok = false;
    res.detail = 'echo type ' + (isBinary ? 'binary' : 'text') + ', want ' + (c.binary ? 'binary' : 'text');
    return res;
  }
  const d = describeDiff(got, c.expect);
  if (d) {
    res.ok = false;
    res.detail = d;
  }
  return res;
}

function main() {
  const url = process.argv[2];
  if (!url) {
    console.log(JSON.stringify({ ok: false, cases: [], error: 'usage: node node_client.js ws://...' }));
    process.exit(2);
  }
  const result = { ok: false, cases: [], close: null, ping: null, protocol: '', extensions: '', error: '' };
  let finished = false;
  const finish = (err) => {
    if (finished) return;
    finished = true;
    if (err) result.error = String(err && err.stack ? err.stack : err);
    result.ok = !result.error && result.cases.length > 0 && result.cases.every((c) => c.ok) &&
      result.ping !== null && result.ping.ok && result.close !== null && result.close.ok;
    console.log(JSON.stringify(result));
    process.exit(result.ok ? 0 : 1);
  };
  setTimeout(() => finish('timed out after ' + OVERALL_TIMEOUT_MS + ' ms; ' + result.cases.length + ' cases done'), OVERALL_TIMEOUT_MS).unref();

  let cases;
  try {
    cases = buildCases();
  } catch (e) {
    finish(e);
    return;
  }

  const ws = new WebSocket(url, ['tickwire.v1'], { maxPayload: 64 << 20 });
  ws.on('error', (e) => finish('websocket error: ' + e.message));
  ws.on('unexpected-response', (req, res) => finish('handshake refused: HTTP ' + res.statusCode));

  // The queue of expectations: each incoming message is checked against
  // the head; "onDone" runs when the queue empties.
  let queue = [];
  let onDone = null;
  ws.on('message', (data, isBinary) => {
    const head = queue.shift();
    if (!head) {
      finish('unexpected message (' + (isBinary ? 'binary' : 'text') + ', ' + data.length + ' bytes)');
      return;
    }
    result.cases.push(check(head.c, data, isBinary, head.prefix));
    if (head.next) head.next();
    if (queue.length === 0 && onDone) {
      const f = onDone;
      onDone = null;
      f();
    }
  });

  const sequential = (i, then) => {
    if (i === cases.length) {
      then();
      return;
    }
    queue.push({ c: cases[i], prefix: '', next: () => sequential(i + 1, then) });
    send(ws, cases[i]);
  };

  const pipelined = (then) => {
    onDone = then;
    for (const c of cases) {
      queue.push({ c, prefix: 'pipelined/' });
      send(ws, c);
    }
  };

  const ping = (then) => {
    const payload = Buffer.from('tickwire-ping \u2713', 'utf8');
    const timer = setTimeout(() => {
      result.ping = { ok: false, detail: 'no pong within 5 s' };
      then();
    }, 5000);
    ws.once('pong', (data) => {
      clearTimeout(timer);
      const d = describeDiff(Buffer.from(data), payload);
      result.ping = { ok: !d, detail: d ? 'pong payload: ' + d : '' };
      then();
    });
    ws.ping(payload);
  };

  const close = () => {
    const started = Date.now();
    ws.once('close', (code, reason) => {
      const r = reason.toString('utf8');
      // netws answers a close frame with the same code.
      const ok = code === 1000;
      result.close = {
        ok,
        code,
        reason: r,
        ms: Date.now() - started,
        detail: ok ? '' : 'close code ' + code + ', want 1000 (1006 means no close frame came back)',
      };
      finish();
    });
    ws.close(1000, CLOSE_REASON);
  };

  ws.on('open', () => {
    result.protocol = ws.protocol;
    result.extensions = ws.extensions;
    sequential(0, () => pipelined(() => ping(close)));
  });
}

main();
