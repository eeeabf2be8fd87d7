/**
 * The fetch-stream carrier (fetch-stream-socket.ts) under RelayTransport, against a real relay on
 * loopback: the `ws` package as the WebSocket and Node's fetch for the body, so the same code that
 * runs in the browser worker runs here. The downstream moves to the body (the WebSocket carries
 * none of it); upload stays on the WebSocket; it falls back to the WebSocket when the relay does not
 * offer the stream, when fetch fails, when the body breaks the framing, and when a proxy holds the
 * body back (the relay's "stream written <ms>" notices reach 5 s with no byte: scripted notices
 * below, a held-back real body against the relay); a relay restart is recovered with a new stream.
 * A stream refused or held back before its first byte is not asked for again from that relay. The
 * slower relay of an opening race, closed at its open, does not report a carrier.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { RelayTransport, type RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { fetchStreamCarrier, FetchStreamSocket, STREAM_READ_BYTES, type DownstreamCarrier, type FetchLike } from '../../src/engine/fetch-stream-socket.ts';
import { RELAY_SUBPROTOCOL_V3, RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL } from '../../src/shared/relay-protocol.ts';
import { RELAY_SUBPROTOCOL_V3_STREAM, streamControlMessage, streamWrittenNotice } from '../../src/shared/relay-stream-protocol.ts';
import type { CarrierFallback } from '../../src/engine/fetch-stream-socket.ts';
import type { RelayHandle, RelayOptions } from '../../src/node/relay/main.ts';
import { markerOf, testRelay, transportMessage, udpPeer, waitUntil, type UdpPeer } from '../node/relay/relay-fixtures.ts';
import { FakeTimers } from '../helpers/fake-timers.ts';

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
  const start = async (relayOptions: RelayOptions = {}, fetchImpl?: FetchLike, port = 0, bufferedAfterMs?: number) => {
    peer ??= await udpPeer(4, true);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], port, ...relayOptions });
    const carriers: DownstreamCarrier[] = [];
    const fallbacks: (CarrierFallback | undefined)[] = [];
    const sockets: FetchStreamSocket[] = [];
    const base = fetchStreamCarrier({
      WebSocketImpl: WS,
      fetch: fetchImpl,
      bufferedAfterMs,
      onCarrier: (c, why) => {
        carriers.push(c);
        fallbacks.push(why);
      },
    })!;
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
    return { carriers, fallbacks, sockets, datagrams, transport: t };
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

  test('a proxy that holds the body back: after the relay wrote into it, the body is dropped and the relay sends on the WebSocket', async () => {
    // The relay's real response, but its bytes never reach the reader (as behind a buffering
    // proxy); the reader's cancel does not reach the relay, only the abort does.
    const held: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      return { ok: res.ok, status: res.status, body: new ReadableStream<Uint8Array>() };
    };
    const { carriers, fallbacks, sockets, datagrams, transport } = await start({}, held, 0, 300);
    await waitUntil(() => relay!.stats().streams?.active === 1, 'the stream claimed');
    transport.send(transportMessage(100, 7));
    await waitUntil(() => sockets[0].stats().fallback?.code === 'buffered', 'the hold-back seen');
    assert.equal(carriers.at(-1), 'websocket');
    assert.equal(fallbacks.at(-1)?.code, 'buffered');
    await waitUntil(() => relay!.stats().streams?.active === 0, 'the relay saw the body go');
    // The first datagram went into the held body (lost, as UDP may be); the next come on the WebSocket.
    transport.send(transportMessage(100, 8));
    await waitUntil(() => datagrams.some((d) => markerOf(d) === 8), 'the echo on the WebSocket');
    assert.equal(transport.stats().attempts, 1, 'no reconnect');
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

/** An inner WebSocket the test opens and feeds by hand. */
class ScriptedSocket {
  static made: ScriptedSocket[] = [];
  binaryType = '';
  readyState = 0;
  bufferedAmount = 0;
  protocol = '';
  readonly offered: string[];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(_url: string, p?: string | string[]) {
    this.offered = p === undefined ? [] : typeof p === 'string' ? [p] : p;
    ScriptedSocket.made.push(this);
  }
  open(protocol: string): void {
    this.protocol = protocol;
    this.readyState = 1;
    this.onopen?.({});
  }
  send(): void {}
  close(): void {
    this.readyState = 3;
  }
}

describe('fetch-stream carrier: a body held back, judged by the relay\'s notices', () => {
  const URL_ = 'ws://relay.test:8080/wg?to=192.0.2.1:51820';
  const OFFER = [RELAY_SUBPROTOCOL_V3, RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL];
  const ID = 'AAAAAAAAAAAAAAAAAAAAAA';

  /** A carrier over scripted sockets whose fetch answers 200 with `body()`. */
  const setup = (body: () => ReadableStream<Uint8Array>) => {
    ScriptedSocket.made = [];
    const seen: { carrier: DownstreamCarrier; why?: CarrierFallback }[] = [];
    const signals: AbortSignal[] = [];
    const f: FetchLike = async (_url, init) => {
      signals.push(init.signal);
      return { ok: true, status: 200, body: body() };
    };
    const Impl = fetchStreamCarrier({
      WebSocketImpl: ScriptedSocket as unknown as RelayWebSocketConstructor,
      fetch: f,
      onCarrier: (carrier, why) => seen.push({ carrier, why }),
    })!;
    const messages: unknown[] = [];
    const connect = () => {
      const s = new Impl(URL_, OFFER) as FetchStreamSocket;
      s.onmessage = (ev: { data: unknown }) => messages.push(ev.data);
      return { s, inner: ScriptedSocket.made.at(-1)! };
    };
    return { seen, signals, messages, connect, Impl };
  };
  const settle = () => new Promise((r) => setTimeout(r, 0));
  /** The relay's notices up to `ms` since its first write, as it sends them (0, 1000, 2000, …). */
  const notices = (inner: ScriptedSocket, fromMs: number, toMs: number) => {
    for (let ms = fromMs; ms <= toMs; ms += 1000) inner.onmessage!({ data: streamWrittenNotice(ms) });
  };

  test('no byte by the relay\'s notice of 5 s after its first write: the fetch is aborted, the WebSocket carries on, the reason is given', async () => {
    const { seen, signals, messages, connect } = setup(() => new ReadableStream<Uint8Array>());
    const { s, inner } = connect();
    inner.open(RELAY_SUBPROTOCOL_V3_STREAM);
    inner.onmessage!({ data: streamControlMessage(ID) });
    await settle();
    assert.equal(s.stats().stream, 'running');
    notices(inner, 0, 4000);
    assert.deepEqual(messages, [], 'the notices are not datagram messages');
    assert.equal(s.stats().stream, 'running', 'up to 4 s of the relay\'s time: kept');
    assert.equal(signals[0].aborted, false);
    notices(inner, 5000, 5000);
    assert.equal(signals[0].aborted, true, 'the request is dropped, so the relay sees the body go');
    assert.equal(s.stats().stream, 'ended');
    assert.equal(s.stats().fallback?.code, 'buffered');
    assert.deepEqual(seen.at(-1)?.carrier, 'websocket');
    assert.equal(seen.at(-1)?.why?.code, 'buffered');
    assert.match(seen.at(-1)!.why!.message, /buffers/);
    // The downstream on the WebSocket reaches the transport as before.
    inner.onmessage!({ data: new ArrayBuffer(4) });
    assert.equal(messages.length, 1);
  });

  test('the next connection to that relay does not ask for the stream again', async () => {
    const { seen, connect } = setup(() => new ReadableStream<Uint8Array>());
    const first = connect();
    assert.equal(first.inner.offered[0], RELAY_SUBPROTOCOL_V3_STREAM);
    first.inner.open(RELAY_SUBPROTOCOL_V3_STREAM);
    first.inner.onmessage!({ data: streamControlMessage(ID) });
    await settle();
    notices(first.inner, 0, 5000);
    first.s.close();
    const second = connect();
    assert.deepEqual(second.inner.offered, OFFER, 'wgweb.v3.stream not offered');
    second.inner.open(RELAY_SUBPROTOCOL_V3);
    assert.equal(seen.at(-1)?.carrier, 'websocket');
    assert.equal(seen.at(-1)?.why?.code, 'remembered');
    assert.match(seen.at(-1)!.why!.message, /buffers/);
  });

  test('a first byte before the relay\'s 5 s notice keeps the stream, however late the client read the notices', async () => {
    let push: ((b: Uint8Array) => void) | undefined;
    const { seen, messages, connect } = setup(() => new ReadableStream<Uint8Array>({ start: (c) => void (push = (b) => c.enqueue(b)) }));
    const { s, inner } = connect();
    inner.open(RELAY_SUBPROTOCOL_V3_STREAM);
    inner.onmessage!({ data: streamControlMessage(ID) });
    await settle();
    notices(inner, 0, 4000);
    push!(Uint8Array.of(0, 4, 1, 0, 0, 0));
    await settle();
    assert.equal(messages.length, 1, 'the record went up');
    assert.equal(s.stats().reader, 'default', 'not a byte stream: read chunk by chunk');
    notices(inner, 5000, 10_000);
    assert.equal(s.stats().stream, 'running');
    assert.equal(seen.at(-1)?.carrier, 'fetch-stream');
  });

  test('a byte-stream body (a browser\'s fetch body) is read BYOB into one reused 256 KiB buffer; records cut across reads arrive whole', async () => {
    const records = [Uint8Array.of(0, 3, 1, 2, 3), Uint8Array.of(0, 4, 4, 5, 6, 7), Uint8Array.of(0, 1, 8), Uint8Array.of(0, 5, 9, 10, 11, 12, 13)];
    const bytes = Uint8Array.from(records.flatMap((r) => [...r]));
    const offered: number[] = [];
    let at = 0;
    const { connect } = setup(
      () =>
        new ReadableStream({
          type: 'bytes',
          pull(c) {
            const req = c.byobRequest;
            if (!req?.view) throw new Error('read without a buffer of its own');
            offered.push(req.view.buffer.byteLength);
            const n = Math.min(4, bytes.length - at); // 4 bytes a read: every record is cut
            new Uint8Array(req.view.buffer, req.view.byteOffset, req.view.byteLength).set(bytes.subarray(at, at + n));
            at += n;
            req.respond(n);
            if (at === bytes.length) c.close();
          },
        }) as ReadableStream<Uint8Array>,
    );
    const { s, inner } = connect();
    const got: number[] = [];
    // The spans are views into the reused buffer: a receiver that keeps them copies them.
    s.onmessage = (ev: { data: Uint8Array }) => got.push(...ev.data);
    inner.open(RELAY_SUBPROTOCOL_V3_STREAM);
    inner.onmessage!({ data: streamControlMessage(ID) });
    for (let i = 0; i < 100 && got.length < bytes.length; i++) await settle();
    assert.deepEqual(got, [...bytes], 'every record, whole and in order');
    assert.equal(s.stats().reader, 'byob');
    assert.ok(offered.length >= 5 && offered.every((n) => n === STREAM_READ_BYTES), `each read offered the 256 KiB buffer (${offered})`);
  });

  test('a relay that does not offer the stream is reported as such', () => {
    const { seen, connect } = setup(() => new ReadableStream<Uint8Array>());
    const { s, inner } = connect();
    inner.open(RELAY_SUBPROTOCOL_V3);
    assert.equal(seen.at(-1)?.why?.code, 'not-offered');
    assert.equal(s.stats().fallback?.code, 'not-offered');
  });

  test('two relays race: the slower one opening after the winner\'s stream attached does not take the carrier back', async () => {
    const { seen, Impl } = setup(() => new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(Uint8Array.of(0, 4, 1, 0, 0, 0)) }));
    const clock = new FakeTimers();
    const t = new RelayTransport({
      relayUrl: ['ws://a.test:8080', 'ws://b.test:8080'],
      endpoint: '192.0.2.1:51820',
      WebSocketImpl: Impl,
      onDatagram: () => {},
      timers: clock,
    });
    await settle();
    const [a, b] = ScriptedSocket.made;
    assert.ok(a && b, 'both relays asked at once');
    a.open(RELAY_SUBPROTOCOL_V3_STREAM);
    a.onmessage!({ data: streamControlMessage(ID) });
    await settle();
    assert.equal(seen.at(-1)?.carrier, 'fetch-stream', 'the winner\'s stream attached');
    const reports = seen.length;
    b.open(RELAY_SUBPROTOCOL_V3_STREAM);
    assert.equal(b.readyState, 3, 'the slower relay was closed at its open');
    assert.equal(seen.length, reports, 'and reported nothing');
    assert.equal(t.stats().relays[1].rttMs !== undefined, true, 'its open was measured');
    t.close();
  });
});
