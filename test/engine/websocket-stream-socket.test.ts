/**
 * WebSocketStreamSocket: the relay WebSocket over a WebSocketStream. First its event-style surface
 * on a scripted stream (open, messages in order, writes and bufferedAmount, the close outcomes
 * once each), then RelayTransport over it against the real relay and a UDP echo on loopback
 * (a WebSocketStream built on the `ws` package, since Node has none).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WebSocketStreamSocket,
  webSocketStreamCarrier,
  type WebSocketStreamCloseInfo,
  type WebSocketStreamConnection,
  type WebSocketStreamLike,
} from '../../src/engine/websocket-stream-socket.ts';
import { RelayTransport, type RelayStateDetail, type RelayTransportState } from '../../src/engine/relay-transport.ts';
import { RelayCloseCode } from '../../src/shared/relay-protocol.ts';
import type { RelayHandle } from '../../src/node/relay/main.ts';
import { markerOf, testRelay, transportMessage, udpPeer, waitUntil, type UdpPeer } from '../node/relay/relay-fixtures.ts';
import { WsWebSocketStream } from '../helpers/ws-websocket-stream.ts';

/** A WebSocketStream whose outcomes the test decides. */
class ScriptedStream implements WebSocketStreamLike {
  static last: ScriptedStream;
  readonly opened: Promise<WebSocketStreamConnection>;
  readonly closed: Promise<WebSocketStreamCloseInfo>;
  readonly protocols: string[];
  readonly signal?: AbortSignal;
  readonly writes: Uint8Array[] = [];
  readonly closeCalls: { closeCode?: number; reason?: string }[] = [];
  /** Resolves the pending write of the sink (writes settle only when the test says). */
  settleWrite: (() => void) | undefined;
  #open!: (c: WebSocketStreamConnection) => void;
  #failOpen!: (e: Error) => void;
  #close!: (i: WebSocketStreamCloseInfo) => void;
  #fail!: (e: Error) => void;
  #enqueue!: ReadableStreamDefaultController<ArrayBuffer | string>;

  constructor(readonly url: string, options: { protocols?: string[]; signal?: AbortSignal } = {}) {
    ScriptedStream.last = this;
    this.protocols = options.protocols ?? [];
    this.signal = options.signal;
    this.opened = new Promise((resolve, reject) => ((this.#open = resolve), (this.#failOpen = reject)));
    this.closed = new Promise((resolve, reject) => ((this.#close = resolve), (this.#fail = reject)));
    this.opened.catch(() => {});
    this.closed.catch(() => {});
  }

  open(protocol: string): void {
    const readable = new ReadableStream<ArrayBuffer | string>({ start: (c) => void (this.#enqueue = c) });
    const writable = new WritableStream<Uint8Array | ArrayBuffer | string>({
      write: (chunk) =>
        new Promise<void>((resolve) => {
          this.writes.push(chunk as Uint8Array);
          this.settleWrite = resolve;
        }),
    });
    this.#open({ readable, writable, protocol });
  }
  message(m: ArrayBuffer | string): void {
    this.#enqueue.enqueue(m);
  }
  serverClose(closeCode: number, reason: string): void {
    this.#enqueue.close();
    this.#close({ closeCode, reason });
  }
  failOpen(): void {
    this.#failOpen(new Error('refused'));
    this.#fail(new Error('refused'));
  }
  close(info?: { closeCode?: number; reason?: string }): void {
    this.closeCalls.push(info ?? {});
  }
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

function socket(protocols: string | string[] = ['wgweb.v3', 'wgweb.v1']) {
  const s = new WebSocketStreamSocket('ws://relay.test/wg?to=x', protocols, ScriptedStream);
  const seen: string[] = [];
  const messages: unknown[] = [];
  s.onopen = () => seen.push('open');
  s.onmessage = (e: { data: unknown }) => messages.push(e.data);
  s.onerror = () => seen.push('error');
  s.onclose = (e: { code: number; reason: string }) => seen.push(`close ${e.code} ${e.reason}`);
  return { s, stream: ScriptedStream.last, seen, messages };
}

describe('WebSocketStreamSocket on a scripted stream', () => {
  test('opens with the offered subprotocols, reports the chosen one, delivers messages in order', async () => {
    const { s, stream, seen, messages } = socket();
    assert.deepEqual(stream.protocols, ['wgweb.v3', 'wgweb.v1']);
    assert.equal(s.readyState, 0);
    assert.throws(() => s.send(new Uint8Array(1)), /still connecting/, 'like WebSocket.send before open');
    stream.open('wgweb.v3');
    await flush();
    assert.deepEqual(seen, ['open']);
    assert.equal(s.readyState, 1);
    assert.equal(s.protocol, 'wgweb.v3');
    const a = new Uint8Array([1, 2, 3]).buffer;
    const b = new Uint8Array([4]).buffer;
    stream.message(a);
    stream.message('text');
    stream.message(b);
    await flush();
    assert.deepEqual(messages, [a, 'text', b]);
  });

  test('send writes the bytes as they are; bufferedAmount counts them until the write settles', async () => {
    const { s, stream } = socket();
    stream.open('wgweb.v3');
    await flush();
    const m = new Uint8Array(1000).fill(7);
    s.send(m);
    await flush();
    assert.equal(stream.writes[0], m, 'no copy');
    assert.equal(s.bufferedAmount, 1000);
    stream.settleWrite!();
    await flush();
    assert.equal(s.bufferedAmount, 0);
  });

  test("the relay's close code and reason arrive once; close() passes ours on", async () => {
    const a = socket();
    a.stream.open('wgweb.v1');
    await flush();
    a.stream.serverClose(4001, 'destination not allowed');
    await flush();
    assert.deepEqual(a.seen, ['open', 'close 4001 destination not allowed']);
    assert.equal(a.s.readyState, 3);
    const b = socket();
    b.stream.open('wgweb.v1');
    await flush();
    b.s.close(1000, 'client closed');
    b.s.close(1000, 'again');
    assert.deepEqual(b.stream.closeCalls, [{ closeCode: 1000, reason: 'client closed' }], 'once');
    assert.equal(b.s.readyState, 2);
  });

  test('a failed open is an error then a 1006 close, once; close() while opening aborts it', async () => {
    const a = socket();
    a.stream.failOpen();
    await flush();
    assert.deepEqual(a.seen, ['error', 'close 1006 ']);
    const b = socket();
    b.s.close();
    assert.equal(b.stream.signal?.aborted, true);
    assert.equal(b.stream.closeCalls.length, 0);
  });

  test('webSocketStreamCarrier: undefined where the platform has none (Node), else a WebSocket class', () => {
    assert.equal(typeof (globalThis as { WebSocketStream?: unknown }).WebSocketStream, 'undefined');
    assert.equal(webSocketStreamCarrier(), undefined);
    const Carrier = webSocketStreamCarrier(ScriptedStream)!;
    const ws = new Carrier('ws://relay.test/wg', 'wgweb.v1');
    assert.ok(ws instanceof WebSocketStreamSocket);
    assert.deepEqual(ScriptedStream.last.protocols, ['wgweb.v1']);
  });
});

describe('RelayTransport over WebSocketStream against the real relay', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  let endpoint: string;
  before(async () => {
    peer = await udpPeer(4, true);
    endpoint = `127.0.0.1:${peer.port}`;
    relay = await testRelay({ allow: [endpoint] });
  });
  after(async () => {
    await relay.close();
    await peer.close();
  });

  function transport(to: string) {
    const states: RelayTransportState[] = [];
    const details: RelayStateDetail[] = [];
    const datagrams: Uint8Array[] = [];
    const t = new RelayTransport({
      relayUrl: relay.url,
      endpoint: to,
      WebSocketImpl: webSocketStreamCarrier(WsWebSocketStream),
      coalesceReplies: true,
      onDatagram: (d) => datagrams.push(d),
      onState: (s, d) => (states.push(s), details.push(d)),
      initialRetryDelayMs: 10,
      maxRetryDelayMs: 100,
    });
    return { t, states, details, datagrams };
  }

  test('wgweb.v3: a task’s datagrams leave as one message, every echo comes back', async () => {
    const { t, datagrams } = transport(endpoint);
    await waitUntil(() => t.state === 'open', 'open');
    assert.equal(t.stats().protocol, 'wgweb.v3');
    for (let i = 0; i < 10; i++) assert.equal(t.send(transportMessage(i === 9 ? 1452 : 100, 500 + i)), true);
    await waitUntil(() => datagrams.length === 10, 'ten echoes');
    assert.deepEqual(datagrams.map(markerOf), Array.from({ length: 10 }, (_, i) => 500 + i));
    assert.equal(t.stats().messagesSent, 1);
    t.close();
    await waitUntil(() => relay.stats().sessions.length === 0, 'session gone');
  });

  test('a destination the relay does not allow: RELAY_REFUSED with its close code, no retry', async () => {
    const { t, states, details } = transport('127.0.0.1:9');
    await waitUntil(() => t.state === 'closed', 'closed');
    assert.ok(!states.includes('reconnecting'));
    assert.equal(t.stats().attempts, 1);
    // The close code and reason reached the transport through the stream's closed promise.
    const last = details[details.length - 1];
    assert.equal(last.error?.code, 'RELAY_REFUSED');
    assert.equal(last.closeCode, RelayCloseCode.DESTINATION_NOT_ALLOWED);
    assert.match(last.closeReason ?? '', /not allowed/);
  });
});
