/**
 * The fetch-stream carrier (fetch-stream-socket.ts) under RelayTransport, against a real relay on
 * loopback: the `ws` package as the WebSocket and Node's fetch for the body, so the same code that
 * runs in the browser worker runs here. The downstream moves to the body (the WebSocket carries
 * none of it); upload stays on the WebSocket; it falls back to the WebSocket when the relay does not
 * offer the stream, when fetch fails, and when the body breaks the framing; a relay restart is
 * recovered with a new stream.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { RelayTransport, type RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { fetchStreamCarrier, FetchStreamSocket, type DownstreamCarrier, type FetchLike } from '../../src/engine/fetch-stream-socket.ts';
import { RELAY_SUBPROTOCOL_V3, RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL } from '../../src/shared/relay-protocol.ts';
import { RELAY_SUBPROTOCOL_V3_STREAM } from '../../src/shared/relay-stream-protocol.ts';
import type { RelayHandle, RelayOptions } from '../../src/node/relay/main.ts';
import { markerOf, testRelay, transportMessage, udpPeer, waitUntil, type UdpPeer } from '../node/relay/relay-fixtures.ts';

const WS = WebSocket as unknown as RelayWebSocketConstructor;

describe('fetch-stream carrier against a real relay', () => {
  let peer: UdpPeer | undefined;
  let relay: RelayHandle | undefined;
  let t: RelayTransport | undefined;
  afterEach(async () => {
    t?.close();
    await relay?.close();
    await peer?.close();
    t = relay = peer = undefined;
  });

  /** A transport over the carrier; `sockets` collects each connection's socket. */
  const start = async (relayOptions: RelayOptions = {}, fetchImpl?: FetchLike, port = 0) => {
    peer ??= await udpPeer(4, true);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], port, ...relayOptions });
    const carriers: DownstreamCarrier[] = [];
    const sockets: FetchStreamSocket[] = [];
    const base = fetchStreamCarrier({ WebSocketImpl: WS, fetch: fetchImpl, onCarrier: (c) => carriers.push(c) })!;
    const Impl = class extends (base as unknown as new (url: string, p?: string | string[]) => FetchStreamSocket) {
      constructor(url: string, p?: string | string[]) {
        super(url, p);
        sockets.push(this);
      }
    } as unknown as RelayWebSocketConstructor;
    const datagrams: Uint8Array[] = [];
    t = new RelayTransport({
      relayUrl: relay.url,
      endpoint: `127.0.0.1:${peer.port}`,
      WebSocketImpl: Impl,
      onDatagram: (d) => datagrams.push(d.slice()),
      initialRetryDelayMs: 10,
      maxRetryDelayMs: 50,
    });
    await waitUntil(() => t!.state === 'open', 'open');
    return { carriers, sockets, datagrams, transport: t };
  };

  test('the downstream runs on the body, the upstream on the WebSocket, datagrams in order', async () => {
    const { carriers, sockets, datagrams, transport } = await start();
    await waitUntil(() => carriers.at(-1) === 'fetch-stream', 'the stream running');
    assert.equal(transport.stats().protocol, RELAY_SUBPROTOCOL_V3, 'the transport sees the v3 framing');
    for (let i = 0; i < 50; i++) transport.send(transportMessage(1000, i));
    await waitUntil(() => datagrams.length === 50, 'all 50 echoed');
    assert.deepEqual(datagrams.map(markerOf), Array.from({ length: 50 }, (_, i) => i));
    const s = sockets[0].stats();
    assert.equal(s.stream, 'running');
    assert.ok(s.bytes >= 50 * 1002, `the body carried them (${s.bytes} bytes)`);
    assert.equal(relay!.stats().totals.datagramsToPeer, 50);
  });

  test('a relay that does not offer it: a plain WebSocket, downstream on it', async () => {
    const { carriers, sockets, datagrams, transport } = await start({ fetchStream: false });
    transport.send(transportMessage(100, 3));
    await waitUntil(() => datagrams.length === 1, 'the echo');
    assert.equal(sockets[0].stats().stream, 'none');
    assert.deepEqual(carriers, ['websocket']);
  });

  test('fetch failing (or refused) falls back to the WebSocket without a reconnect', async () => {
    for (const f of [
      (() => Promise.reject(new TypeError('Failed to fetch'))) as FetchLike,
      (() => Promise.resolve({ ok: false, status: 404, body: null })) as FetchLike,
    ]) {
      const { carriers, sockets, datagrams, transport } = await start({}, f);
      await waitUntil(() => sockets[0].stats().stream === 'ended', 'the stream given up');
      transport.send(transportMessage(100, 4));
      await waitUntil(() => datagrams.length === 1, 'the echo on the WebSocket');
      assert.equal(carriers.at(-1), 'websocket');
      assert.equal(transport.stats().attempts, 1);
      t!.close();
      await relay!.close();
    }
  });

  test('a body that breaks the framing is dropped; the relay sends on the WebSocket again', async () => {
    // The relay's real body with a zero-length record in front: the client must drop it (aborting
    // the request), and the relay, seeing the body go, must send on the WebSocket again.
    const broken: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      const body = res.body!.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ start: (c) => c.enqueue(Uint8Array.of(0, 0, 1)) }));
      return { ok: res.ok, status: res.status, body };
    };
    const { sockets, datagrams, transport } = await start({}, broken);
    await waitUntil(() => sockets[0].stats().malformed, 'the break seen');
    await waitUntil(() => relay!.stats().streams?.active === 0, 'the relay saw the body go');
    assert.equal(relay!.stats().streams?.opened, 1, 'the real stream had been claimed');
    transport.send(transportMessage(100, 5));
    await waitUntil(() => datagrams.length === 1, 'the echo on the WebSocket');
  });

  test('a relay restart is recovered: the transport reconnects and a new stream carries the downstream', async () => {
    const first = await start();
    const port = Number(new URL(relay!.url).port);
    await waitUntil(() => first.carriers.at(-1) === 'fetch-stream', 'the first stream');
    await relay!.close();
    relay = await testRelay({ allow: [`127.0.0.1:${peer!.port}`], port });
    await waitUntil(() => first.sockets.length === 2 && first.transport.state === 'open', 'reconnected');
    await waitUntil(() => first.sockets[1].stats().stream === 'running', 'a new stream');
    first.transport.send(transportMessage(100, 6));
    await waitUntil(() => first.datagrams.some((d) => markerOf(d) === 6), 'the echo through the new stream');
    assert.ok(first.sockets[1].stats().bytes > 0);
  });

  test('it asks for the stream only where wgweb.v3 is offered', () => {
    const offers: (string | string[] | undefined)[] = [];
    const Spy = class {
      binaryType = '';
      readyState = 0;
      bufferedAmount = 0;
      onopen = null;
      onmessage = null;
      onclose = null;
      onerror = null;
      constructor(_url: string, p?: string | string[]) {
        offers.push(p);
      }
      send(): void {}
      close(): void {}
    } as unknown as RelayWebSocketConstructor;
    const fetchNever: FetchLike = () => new Promise(() => {});
    for (const p of [[RELAY_SUBPROTOCOL_V3, RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL], [RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL], RELAY_SUBPROTOCOL]) {
      new FetchStreamSocket('ws://127.0.0.1:1/wg?to=127.0.0.1:2', p, { WebSocketImpl: Spy, fetch: fetchNever });
    }
    assert.deepEqual(offers, [[RELAY_SUBPROTOCOL_V3_STREAM, RELAY_SUBPROTOCOL_V3, RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL], [RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL], RELAY_SUBPROTOCOL]);
  });
});
