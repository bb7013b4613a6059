// node_server.js: the npm "ws" package as a WebSocket echo server for the
// netws client. Used by netws/interop_node_test.go.
//
// Usage: node node_server.js
//
// It listens on 127.0.0.1 with a port chosen by the system and prints one
// JSON line per event on stdout:
//
//   {"event":"listening","port":N}          once, first
//   {"event":"connection","protocol":".."}  when a client connects
//   {"event":"close","code":N,"reason":".."} when a client's connection closes
//   {"event":"error","error":".."}           on a server or socket error
//
// Every message is echoed with its type (text or binary) unchanged; pings
// are answered by ws itself. The server exits when its stdin is closed, so
// it never outlives the test that started it.
'use strict';

const WebSocket = require('ws');

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const wss = new WebSocket.WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  maxPayload: 64 << 20,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has('tickwire.v1') ? 'tickwire.v1' : false),
});

wss.on('listening', () => emit({ event: 'listening', port: wss.address().port }));
wss.on('error', (e) => {
  emit({ event: 'error', error: String(e && e.message) });
  process.exit(1);
});

wss.on('connection', (ws) => {
  emit({ event: 'connection', protocol: ws.protocol });
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  ws.on('error', (e) => emit({ event: 'error', error: String(e && e.message) }));
  ws.on('close', (code, reason) => emit({ event: 'close', code, reason: reason.toString('utf8') }));
});

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
