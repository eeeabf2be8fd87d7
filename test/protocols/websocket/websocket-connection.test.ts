import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import { WebSocketConnection, parseWebSocketUrl } from '../../../src/protocols/websocket/websocket-connection.ts';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { NodeDialer } from '../../helpers/node-dialer.ts';

// The `ws` package's server on loopback, over real Node sockets: the adapter against a real peer.
const dialer = new NodeDialer();
const servers: http.Server[] = [];
after(() => {
  dialer.destroyAll();
  for (const s of servers) s.close();
});

async function echoServer(): Promise<{ url: string; wss: WebSocketServer }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not a websocket endpoint');
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('echo.v2') ? 'echo.v2' : offered.values().next().value ?? false) });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {}); // our client resets refused handshakes
    if (req.url === '/nope') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? '' : data.toString();
        if (text.startsWith('close ')) {
          const [, code, reason] = text.split(' ');
          ws.close(Number(code), reason);
        } else if (text === 'ping me') ws.ping(Buffer.from('srv'));
        else ws.send(data, { binary: isBinary });
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, wss };
}

function nextMessage(ws: WebSocketConnection): Promise<string | Uint8Array> {
  return new Promise((resolve) => (ws.onmessage = resolve));
}

describe('WebSocketConnection against the ws package on loopback', () => {
  test('echoes text and binary, negotiates the subprotocol, and closes cleanly with our code', async () => {
    const { url } = await echoServer();
    const ws = await WebSocketConnection.connect(`${url}/echo`, { dialer, protocols: ['echo.v1', 'echo.v2'] });
    assert.equal(ws.protocol, 'echo.v2');
    assert.equal(ws.readyState, 'open');
    let m = nextMessage(ws);
    ws.send('hello ☃');
    assert.equal(await m, 'hello ☃');
    m = nextMessage(ws);
    ws.send(new Uint8Array([0, 1, 2, 255]));
    assert.deepEqual(await m, new Uint8Array([0, 1, 2, 255]));
    ws.close(4000, 'done');
    assert.deepEqual(await ws.closed, { code: 4000, reason: 'done', wasClean: true });
    assert.equal(ws.readyState, 'closed');
  });

  test('a 1 MB message goes out in fragments and comes back whole; bufferedAmount drains to 0', async () => {
    const { url } = await echoServer();
    const ws = await WebSocketConnection.connect(url, { dialer, fragmentSize: 16 * 1024 });
    const data = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    const m = nextMessage(ws);
    ws.send(data);
    assert.ok(ws.bufferedAmount > 0);
    assert.deepEqual(await m, data);
    assert.equal(ws.bufferedAmount, 0);
    assert.ok(ws.stats.framesOut >= 64, `${ws.stats.framesOut} frames`);
    ws.close(1000);
    await ws.closed;
  });

  test('a server ping is answered (the server sees the pong) and a server close is echoed', async () => {
    const { url, wss } = await echoServer();
    const ws = await WebSocketConnection.connect(url, { dialer });
    const pinged = new Promise<Uint8Array>((resolve) => (ws.onping = resolve));
    const serverSide = [...wss.clients][0];
    const pong = once(serverSide, 'pong');
    ws.send('ping me');
    assert.deepEqual(await pinged, new TextEncoder().encode('srv'));
    assert.equal(String((await pong)[0]), 'srv');
    ws.send('close 4321 bye');
    assert.deepEqual(await ws.closed, { code: 4321, reason: 'bye', wasClean: true });
  });

  test('a refused upgrade is a WEBSOCKET_HANDSHAKE error naming the status', async () => {
    const { url } = await echoServer();
    await assert.rejects(WebSocketConnection.connect(`${url}/nope`, { dialer }), (e: unknown) => {
      assert.ok(e instanceof WgwebError);
      assert.equal(e.code, ErrorCode.WEBSOCKET_HANDSHAKE);
      assert.match(e.message, /answered 403 Forbidden instead of 101/);
      return true;
    });
  });

  test('other schemes and fragments are USAGE errors; http: is taken as ws:, https: as wss:; wss: without a TLS connector is USAGE', async () => {
    assert.equal(parseWebSocketUrl('http://10.0.0.1/x').href, 'ws://10.0.0.1/x');
    assert.equal(parseWebSocketUrl('https://10.0.0.1/x').href, 'wss://10.0.0.1/x');
    for (const bad of ['ftp://10.0.0.1/', 'ws://10.0.0.1/#frag', 'nonsense']) {
      assert.throws(() => parseWebSocketUrl(bad), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.USAGE, bad);
    }
    await assert.rejects(WebSocketConnection.connect('wss://10.0.0.1/', { dialer }), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.USAGE && /needs TLS/.test(e.message));
  });

  test('wss: secures the TCP connection with the given TLS connector (host, default port 443, insecure) before the opening handshake', async () => {
    const { url } = await echoServer();
    const port = Number(new URL(url).port);
    const calls: unknown[] = [];
    // A stand-in connector that passes the bytes through: the WebSocket must run over what it returns.
    const ws = await WebSocketConnection.connect(`wss://127.0.0.1:${port}/`, {
      dialer,
      insecure: true,
      tls: async (tcp, p) => (calls.push({ host: p.host, port: p.port, insecure: p.insecure }), tcp),
    });
    assert.deepEqual(calls, [{ host: '127.0.0.1', port, insecure: true }]);
    ws.close(1000);
    await ws.closed;
    const failing = WebSocketConnection.connect(`wss://127.0.0.1:${port}/`, {
      dialer,
      tls: async () => {
        throw new WgwebError(ErrorCode.TLS_CERT_UNTRUSTED, 'untrusted');
      },
    });
    await assert.rejects(failing, (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.TLS_CERT_UNTRUSTED);
  });

  test('an abort during the handshake rejects with ABORTED', async () => {
    const server = http.createServer();
    server.on('upgrade', (_req, socket) => socket.on('error', () => {})); // never answers
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    const controller = new AbortController();
    const p = WebSocketConnection.connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, { dialer, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(p, (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.ABORTED);
  });
});
