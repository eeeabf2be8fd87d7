import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import { PortWebSocket, failPort } from '../../../src/browser/browse/port-websocket.ts';
import { bridgeWebSocket } from '../../../src/browser/worker/websocket-port-bridge.ts';
import { WebSocketConnection } from '../../../src/protocols/websocket/websocket-connection.ts';
import { NodeDialer } from '../../helpers/node-dialer.ts';

// The page's PortWebSocket ⇄ MessageChannel ⇄ the worker's bridge ⇄ a real WebSocketConnection ⇄
// the ws package's server on loopback: everything but the tunnel and the worker boundary.
const dialer = new NodeDialer();
const servers: http.Server[] = [];
after(() => {
  dialer.destroyAll();
  for (const s of servers) s.close();
});

async function server(): Promise<string> {
  const s = http.createServer();
  const wss = new WebSocketServer({ server: s, handleProtocols: (offered) => (offered.has('chat') ? 'chat' : false) });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : String(data);
      if (text.startsWith('close ')) ws.close(Number(text.split(' ')[1]), 'server closed');
      else if (text === 'garbage') (ws as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.from([0x83, 0x00]));
      else ws.send(data, { binary: isBinary });
    });
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  servers.push(s);
  return `ws://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function open(url: string, protocols: string | string[] = []): PortWebSocket {
  return new PortWebSocket(url, protocols, {
    base: 'http://127.0.0.1/page/',
    open: (request, port) => void bridgeWebSocket((signal) => WebSocketConnection.connect(request.url, { dialer, protocols: request.protocols, signal }), port),
  });
}

function event<T extends Event>(ws: EventTarget, type: string): Promise<T> {
  return new Promise((resolve) => ws.addEventListener(type, (e) => resolve(e as T), { once: true }));
}

type Close = Event & { code: number; reason: string; wasClean: boolean };

describe('PortWebSocket behaves as the browser WebSocket', () => {
  test('opens, echoes text and binary (blob by default, arraybuffer on request), and closes cleanly', async () => {
    const ws = open(await server(), ['chat', 'other']);
    assert.equal(ws.readyState, PortWebSocket.CONNECTING);
    assert.throws(() => ws.send('too early'), (e: unknown) => e instanceof DOMException && e.name === 'InvalidStateError');
    const order: string[] = [];
    ws.onopen = () => order.push('onopen');
    ws.addEventListener('open', () => order.push('listener'));
    await event(ws, 'open');
    assert.deepEqual(order, ['onopen', 'listener']);
    assert.equal(ws.readyState, PortWebSocket.OPEN);
    assert.equal(ws.protocol, 'chat');
    assert.equal(ws.extensions, '');

    let m = event<MessageEvent>(ws, 'message');
    ws.send('héllo');
    assert.equal((await m).data, 'héllo');
    assert.equal((await m).origin, ws.url.replace(/\/$/, ''));

    m = event<MessageEvent>(ws, 'message');
    const mine = new Uint8Array([1, 2, 3, 4, 5]);
    ws.send(mine.subarray(1, 4));
    assert.equal(mine.length, 5, 'the caller\'s buffer is not transferred away');
    const blob = (await m).data;
    assert.ok(blob instanceof Blob);
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), new Uint8Array([2, 3, 4]));

    ws.binaryType = 'arraybuffer';
    ws.binaryType = 'nonsense' as BinaryType;
    assert.equal(ws.binaryType, 'arraybuffer');
    m = event<MessageEvent>(ws, 'message');
    ws.send(new Blob([new Uint8Array([9, 8])]));
    assert.deepEqual(new Uint8Array((await m).data as ArrayBuffer), new Uint8Array([9, 8]));

    const closed = event<Close>(ws, 'close');
    ws.close(1000, 'bye');
    assert.equal(ws.readyState, PortWebSocket.CLOSING);
    const c = await closed;
    assert.deepEqual([c.code, c.reason, c.wasClean], [1000, 'bye', true]);
    assert.equal(ws.readyState, PortWebSocket.CLOSED);
    ws.send('after close');
    assert.equal(ws.bufferedAmount, 'after close'.length, 'sends after close only grow bufferedAmount');
  });

  test('bufferedAmount rises on send and falls to 0 as the worker writes', async () => {
    const ws = open(await server());
    await event(ws, 'open');
    ws.binaryType = 'arraybuffer';
    const m = event<MessageEvent>(ws, 'message');
    ws.send(new Uint8Array(300_000));
    assert.equal(ws.bufferedAmount, 300_000);
    assert.equal(((await m).data as ArrayBuffer).byteLength, 300_000);
    assert.equal(ws.bufferedAmount, 0);
    ws.close();
    await event(ws, 'close');
  });

  test('a server close reports its code and reason', async () => {
    const ws = open(await server());
    await event(ws, 'open');
    const closed = event<Close>(ws, 'close');
    ws.send('close 4003');
    const c = await closed;
    assert.deepEqual([c.code, c.reason, c.wasClean], [4003, 'server closed', true]);
  });

  test('a server breaking the protocol gives error, then close 1006', async () => {
    const ws = open(await server());
    await event(ws, 'open');
    const seen: string[] = [];
    ws.onerror = () => seen.push('error');
    const closed = event<Close>(ws, 'close');
    ws.onclose = () => seen.push('close');
    ws.send('garbage');
    const c = await closed;
    assert.deepEqual(seen, ['error', 'close']);
    assert.deepEqual([c.code, c.wasClean], [1006, false]);
  });

  test('a refused connection and wss: fail asynchronously with error and close 1006', async () => {
    for (const url of ['ws://127.0.0.1:1/', 'wss://127.0.0.1/']) {
      const ws = open(url);
      const errored = event(ws, 'error');
      const c = await event<Close>(ws, 'close');
      await errored;
      assert.deepEqual([c.code, c.wasClean, ws.readyState], [1006, false, PortWebSocket.CLOSED], url);
    }
  });

  test('close() while connecting abandons the attempt', async () => {
    const ws = open(await server());
    ws.close();
    assert.equal(ws.readyState, PortWebSocket.CLOSING);
    const c = await event<Close>(ws, 'close');
    assert.equal(c.code, 1006);
  });

  test('the constructor and close() validate their arguments like the browser (DOMExceptions)', async () => {
    const syntax = (e: unknown): boolean => e instanceof DOMException && e.name === 'SyntaxError';
    const noop = { open: () => assert.fail('must not open') };
    assert.throws(() => new PortWebSocket('ftp://h/', [], noop), syntax);
    assert.throws(() => new PortWebSocket('ws://h/#x', [], noop), syntax);
    assert.throws(() => new PortWebSocket('ws://[bad/', [], noop), syntax);
    assert.throws(() => new PortWebSocket('ws://h/', ['a', 'a'], noop), syntax);
    assert.throws(() => new PortWebSocket('ws://h/', 'not a token', noop), syntax);
    const rel = new PortWebSocket('/socket?x=1', [], { base: 'https://intranet.test/app/', open: (_r, port) => failPort(port, 'no') });
    assert.equal(rel.url, 'wss://intranet.test/socket?x=1');
    await event(rel, 'close');

    const ws = open(await server());
    await event(ws, 'open');
    const access = (e: unknown): boolean => e instanceof DOMException && e.name === 'InvalidAccessError';
    for (const code of [999, 1001, 2999, 5000, 0]) assert.throws(() => ws.close(code), access, String(code));
    assert.throws(() => ws.close(1000, 'é'.repeat(62)), syntax);
    assert.equal(ws.readyState, PortWebSocket.OPEN);
    // WebIDL [Clamp] rounds half to even: 4999.5 becomes 5000 (refused), 3000.5 becomes 3000.
    assert.throws(() => ws.close(4999.5), access);
    const closed = event<Close>(ws, 'close');
    ws.close(3000.5);
    assert.equal((await closed).code, 3000);
  });
});
