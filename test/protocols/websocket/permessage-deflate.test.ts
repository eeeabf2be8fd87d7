/**
 * permessage-deflate (RFC 7692): the answer's parameters, inflating with a limit, and the client
 * against the `ws` package's server with perMessageDeflate on (real zlib on the other side):
 * compressed text and binary in order, the decompression-bomb guard (1009), and no offer when off.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { WebSocketServer } from 'ws';
import { WebSocketConnection } from '../../../src/protocols/websocket/websocket-connection.ts';
import { InflateLimitError, inflateMessage, parseDeflateResponse } from '../../../src/protocols/websocket/permessage-deflate.ts';
import { NodeDialer } from '../../helpers/node-dialer.ts';

const dialer = new NodeDialer();
const servers: http.Server[] = [];
after(() => {
  dialer.destroyAll();
  for (const s of servers) s.close();
});

/** What a permessage-deflate sender puts in a frame: raw deflate, sync-flushed, the 00 00 ff ff tail removed (§7.2.1). */
function compress(data: Uint8Array): Uint8Array {
  const d = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return d.subarray(0, d.length - 4);
}

describe('permessage-deflate parameters (RFC 7692 §7.1)', () => {
  test('accepts the answers a server may give to our offer', () => {
    assert.deepEqual(parseDeflateResponse(' server_no_context_takeover'), { serverMaxWindowBits: 15, clientNoContextTakeover: false });
    assert.deepEqual(parseDeflateResponse('server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10'), { serverMaxWindowBits: 10, clientNoContextTakeover: true });
    assert.deepEqual(parseDeflateResponse('Server_No_Context_Takeover; server_max_window_bits="8"'), { serverMaxWindowBits: 8, clientNoContextTakeover: false });
  });
  test('refuses what does not fit the offer: a missing server_no_context_takeover, client_max_window_bits, bad or repeated values, unknown parameters', () => {
    for (const bad of ['', 'server_max_window_bits=15', 'server_no_context_takeover; client_max_window_bits=15', 'server_no_context_takeover; server_max_window_bits=7', 'server_no_context_takeover; server_max_window_bits=16', 'server_no_context_takeover; server_max_window_bits=010', 'server_no_context_takeover; server_max_window_bits', 'server_no_context_takeover; server_no_context_takeover', 'server_no_context_takeover=1', 'server_no_context_takeover; x=1']) {
      assert.ok('failure' in parseDeflateResponse(bad), bad);
    }
  });
});

describe('inflateMessage', () => {
  test('inflates what zlib compressed, and stops at the limit', async () => {
    const data = new TextEncoder().encode('all work and no play '.repeat(500));
    assert.deepEqual(await inflateMessage(compress(data), data.length), data);
    await assert.rejects(inflateMessage(compress(data), data.length - 1), InflateLimitError);
    assert.equal((await inflateMessage(compress(new Uint8Array(0)), 0)).length, 0);
  });
  test('a bomb (16 MiB of zeros in ~16 kB) is stopped once the output passes the limit', async () => {
    const bomb = compress(new Uint8Array(16 << 20));
    assert.ok(bomb.length < 100_000);
    await assert.rejects(inflateMessage(bomb, 1 << 20), InflateLimitError);
  });
  test('bytes that are not deflate data reject', async () => {
    await assert.rejects(inflateMessage(Uint8Array.of(0xff, 0xff, 0xff), 100), (e: unknown) => e instanceof Error && !(e instanceof InflateLimitError));
  });
});

async function deflateServer(): Promise<string> {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: { threshold: 0 } });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? '' : data.toString();
        if (text.startsWith('zeros ')) ws.send(Buffer.alloc(Number(text.slice(6))), { binary: true });
        else if (text.startsWith('burst ')) for (let i = 0; i < Number(text.slice(6)); i++) ws.send(`message ${i} ${'x'.repeat(i % 300)}`);
        else if (text === 'headers') ws.send(String(req.headers['sec-websocket-extensions']));
        else ws.send(data, { binary: isBinary });
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('the WebSocket client with permessage-deflate against the ws package', () => {
  test('offers it, the server accepts, and compressed text and binary arrive intact and in order', async () => {
    const ws = await WebSocketConnection.connect(await deflateServer(), { dialer });
    assert.match(ws.extensions, /^permessage-deflate; server_no_context_takeover/);
    const got: (string | Uint8Array)[] = [];
    const done = new Promise<void>((resolve) => (ws.onmessage = (m) => (got.push(m), got.length === 203 && resolve())));
    ws.send('headers');
    const binary = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    ws.send(binary);
    ws.send('grüße ☃');
    ws.send('burst 200');
    await done;
    assert.equal(got[0], 'permessage-deflate; server_no_context_takeover');
    assert.deepEqual(got[1], binary);
    assert.equal(got[2], 'grüße ☃');
    for (let i = 0; i < 200; i++) assert.equal(got[3 + i], `message ${i} ${'x'.repeat(i % 300)}`);
    // The frames really were compressed: fewer bytes came in than the messages carry.
    assert.ok(ws.stats.bytesIn < 100_000, `${ws.stats.bytesIn} bytes in`);
    ws.close(1000);
    assert.equal((await ws.closed).code, 1000);
  });

  test('a message that inflates beyond maxMessageSize closes the connection with 1009 and is counted', async () => {
    const ws = await WebSocketConnection.connect(await deflateServer(), { dialer, maxMessageSize: 1 << 20 });
    let delivered = 0;
    let error = '';
    ws.onmessage = () => delivered++;
    ws.onerror = (m) => (error = m);
    ws.send(`zeros ${8 << 20}`);
    const info = await ws.closed;
    assert.equal(delivered, 0);
    assert.match(error, /inflates beyond 1048576 bytes/);
    assert.equal(ws.stats.failures['inflate-too-big'], 1);
    assert.equal(info.wasClean, false);
  });

  test('with perMessageDeflate: false nothing is offered and nothing is compressed', async () => {
    const ws = await WebSocketConnection.connect(await deflateServer(), { dialer, perMessageDeflate: false });
    assert.equal(ws.extensions, '');
    const m = new Promise((resolve) => (ws.onmessage = resolve));
    ws.send('headers');
    assert.equal(await m, 'undefined');
    ws.close(1000);
    await ws.closed;
  });
});
