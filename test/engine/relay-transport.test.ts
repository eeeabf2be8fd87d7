/**
 * RelayTransport: first against a real relay and a real UDP endpoint on loopback (the ws package
 * as the WebSocket), then its retry logic on a scripted WebSocket and fake timers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { WebSocket } from 'ws';
import { RelayCloseCode } from '../../src/shared/relay-protocol.ts';
import { parseDatagramBatch } from '../../src/shared/datagram-batch.ts';
import {
  RelayTransport,
  type RelayStateDetail,
  type RelayTransportOptions,
  type RelayTransportState,
  type TransportTimers,
} from '../../src/engine/relay-transport.ts';
import type { RelayHandle } from '../../src/node/relay/main.ts';
import { hexBytes, markerOf, testRelay, transportMessage, udpPeer, waitUntil, type UdpPeer } from '../node/relay/relay-fixtures.ts';

type Seen = { state: RelayTransportState; detail: RelayStateDetail };

function transport(options: Partial<RelayTransportOptions> & Pick<RelayTransportOptions, 'relayUrl' | 'endpoint'>) {
  const states: Seen[] = [];
  const datagrams: Uint8Array[] = [];
  const t = new RelayTransport({
    WebSocketImpl: WebSocket,
    onDatagram: (d) => datagrams.push(d),
    onState: (state, detail) => states.push({ state, detail }),
    initialRetryDelayMs: 10,
    maxRetryDelayMs: 100,
    ...options,
  });
  return { t, states, datagrams, last: () => states[states.length - 1] };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('RelayTransport against a real relay', () => {
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

  test('opens, carries datagrams both ways, one message per datagram', async () => {
    const { t, states, datagrams } = transport({ relayUrl: relay.url, endpoint });
    await waitUntil(() => t.state === 'open', 'open');
    assert.deepEqual(states.map((s) => s.state), ['connecting', 'open']);
    assert.equal(states[1].detail.url, `${relay.wsUrl}?to=127.0.0.1%3A${peer.port}`);
    for (const [i, len] of [32, 148, 1452].entries()) assert.equal(t.send(transportMessage(len, i)), true);
    await waitUntil(() => datagrams.length === 3, 'three echoes');
    assert.deepEqual(datagrams.map((d) => [d.length, markerOf(d)]), [[32, 0], [148, 1], [1452, 2]]);
    assert.ok(datagrams[0] instanceof Uint8Array);
    const s = t.stats();
    assert.equal(s.datagramsSent, 3);
    assert.equal(s.datagramsReceived, 3);
    t.close();
    assert.equal(t.state, 'closed');
    assert.equal(t.send(transportMessage(32, 9)), false, 'dropped after close');
  });

  test('wgweb.v3 by default: datagrams sent in one task leave as one message, echoes arrive one by one', async () => {
    const { t, datagrams } = transport({ relayUrl: relay.url, endpoint });
    await waitUntil(() => t.state === 'open', 'open');
    assert.equal(t.stats().protocol, 'wgweb.v3');
    await waitUntil(() => relay.stats().sessions.length === 1, 'session');
    assert.equal(relay.stats().sessions[0].protocol, 'wgweb.v3');
    for (let i = 0; i < 10; i++) assert.equal(t.send(transportMessage(i === 9 ? 1452 : 100, 300 + i)), true);
    await waitUntil(() => datagrams.length === 10, 'ten echoes');
    assert.deepEqual(datagrams.map(markerOf), Array.from({ length: 10 }, (_, i) => 300 + i));
    const s = t.stats();
    assert.equal(s.datagramsSent, 10);
    assert.equal(s.messagesSent, 1, 'one batch');
    assert.equal(s.datagramsReceived, 10);
    assert.ok(s.messagesReceived <= 10);
    assert.equal(relay.stats().sessions[0].counters.datagramsToPeer, 10, 'the relay forwarded each datagram on its own');
    assert.equal(peer.received.slice(-10).map((r) => r.data.length).join(), '100,100,100,100,100,100,100,100,100,1452');
    t.close();
    await waitUntil(() => relay.stats().sessions.length === 0, 'session gone');
  });

  test('batching: false offers wgweb.v1 alone and sends one message per datagram', async () => {
    const { t, datagrams } = transport({ relayUrl: relay.url, endpoint, batching: false });
    await waitUntil(() => t.state === 'open', 'open');
    assert.equal(t.stats().protocol, 'wgweb.v1');
    await waitUntil(() => relay.stats().sessions.length === 1, 'session');
    assert.equal(relay.stats().sessions[0].protocol, 'wgweb.v1');
    for (let i = 0; i < 5; i++) t.send(transportMessage(64, 400 + i));
    await waitUntil(() => datagrams.length === 5, 'five echoes');
    assert.deepEqual(datagrams.map(markerOf), [400, 401, 402, 403, 404]);
    assert.equal(t.stats().messagesSent, 5);
    assert.equal(t.stats().messagesReceived, 5);
    t.close();
    await waitUntil(() => relay.stats().sessions.length === 0, 'session gone');
  });

  test('a batch pending when close() is called still goes out before the close frame', async () => {
    const { t } = transport({ relayUrl: relay.url, endpoint });
    await waitUntil(() => t.state === 'open', 'open');
    const before = peer.received.length;
    t.send(transportMessage(32, 500));
    t.send(transportMessage(32, 501));
    t.close();
    await waitUntil(() => peer.received.length === before + 2, 'both datagrams at the endpoint');
    assert.deepEqual(peer.received.slice(before).map((r) => markerOf(r.data)), [500, 501]);
  });

  test('datagrams sent while connecting are queued and flushed on open', async () => {
    const { t, datagrams } = transport({ relayUrl: relay.wsUrl, endpoint });
    assert.equal(t.send(transportMessage(148, 42)), true, 'queued');
    await waitUntil(() => datagrams.length === 1, 'the queued datagram echoed');
    assert.equal(markerOf(datagrams[0]), 42);
    t.close();
  });

  test('a destination the relay does not allow ends in RELAY_REFUSED with the relay reason, no retry', async () => {
    const { t, states, last } = transport({ relayUrl: relay.url, endpoint: '127.0.0.1:9' });
    await waitUntil(() => t.state === 'closed', 'closed');
    const { detail } = last();
    assert.equal(detail.error?.code, 'RELAY_REFUSED');
    assert.equal(detail.closeCode, RelayCloseCode.DESTINATION_NOT_ALLOWED);
    assert.match(detail.error?.message ?? '', /does not allow this endpoint.*127\.0\.0\.1:9 is not allowed/);
    assert.equal(detail.error?.detail.closeCode, 4001);
    assert.ok(!states.some((s) => s.state === 'reconnecting'));
    assert.equal(t.stats().attempts, 1);
  });

  test('an unreachable relay ends in RELAY_UNREACHABLE telling the user to check the URL', async () => {
    const port = await freePort();
    const { t, last } = transport({ relayUrl: `ws://127.0.0.1:${port}`, endpoint });
    await waitUntil(() => t.state === 'closed', 'closed');
    const err = last().detail.error;
    assert.equal(err?.code, 'RELAY_UNREACHABLE');
    assert.match(err?.message ?? '', /check the relay URL/);
    assert.match(err?.message ?? '', new RegExp(`ws://127\\.0\\.0\\.1:${port}/wg`));
  });

  test('a URL that is not a relay (HTTP 404 on upgrade) is RELAY_UNREACHABLE too', async () => {
    const { t, last } = transport({ relayUrl: `${relay.url}not-here/`, endpoint });
    await waitUntil(() => t.state === 'closed', 'closed');
    assert.equal(last().detail.error?.code, 'RELAY_UNREACHABLE');
  });

  test('after an idle timeout it reconnects on the next send, and that datagram gets through', async () => {
    // Long enough that the reopened session sees its echo before it idles out again on a loaded
    // machine; the cleanup runs even when an assertion fails, so a failure never hangs the file.
    const idle = await testRelay({ allow: [endpoint], idleTimeoutMs: 500 });
    const { t, states, datagrams } = transport({ relayUrl: idle.url, endpoint });
    try {
      await waitUntil(() => t.state === 'reconnecting', 'idle close');
      const r = states[states.length - 1].detail;
      assert.equal(r.closeCode, RelayCloseCode.IDLE_TIMEOUT);
      assert.equal(r.onDemand, true);
      assert.equal(r.retryInMs, undefined);
      assert.equal(t.stats().attempts, 1, 'no reconnect without traffic');
      assert.equal(t.send(transportMessage(148, 7)), true);
      await waitUntil(() => datagrams.some((d) => markerOf(d) === 7), 'echo after reconnect');
      assert.equal(t.stats().attempts, 2);
    } finally {
      t.close();
      await idle.close();
    }
  });

  test('a relay full of sessions is retried with backoff until a slot frees', async () => {
    const full = await testRelay({ allow: [endpoint], maxSessions: 1 });
    const a = transport({ relayUrl: full.url, endpoint });
    await waitUntil(() => a.t.state === 'open', 'first open');
    const b = transport({ relayUrl: full.url, endpoint });
    await waitUntil(() => b.states.some((s) => s.detail.closeCode === RelayCloseCode.TOO_MANY_SESSIONS), 'refused as full');
    const retry = b.states.find((s) => s.state === 'reconnecting');
    assert.ok(retry?.detail.retryInMs !== undefined);
    a.t.close();
    await waitUntil(() => b.t.state === 'open' && full.stats().activeSessions === 1, 'second open');
    b.t.close();
    await full.close();
  });
});

describe('RelayTransport survives a relay restart', () => {
  test('reconnecting on 1001, retrying while the relay is down, open again when it is back', async () => {
    const peer = await udpPeer(4, true);
    const endpoint = `127.0.0.1:${peer.port}`;
    let relay = await testRelay({ allow: [endpoint] });
    const port = relay.port;
    const { t, states, datagrams } = transport({ relayUrl: relay.url, endpoint });
    await waitUntil(() => t.state === 'open', 'open');
    t.send(transportMessage(32, 1));
    await waitUntil(() => datagrams.length === 1, 'first echo');

    await relay.close();
    await waitUntil(() => t.state === 'reconnecting', 'reconnecting');
    const going = states.find((s) => s.state === 'reconnecting');
    assert.equal(going?.detail.closeCode, RelayCloseCode.GOING_AWAY);
    assert.equal(going?.detail.error?.code, 'RELAY_CLOSED');
    // While the relay is down, attempts fail and are retried (not given up: it was reachable before).
    await waitUntil(() => states.filter((s) => s.state === 'reconnecting').length >= 3, 'a few failed attempts');
    assert.ok(states.some((s) => s.detail.error?.code === 'RELAY_UNREACHABLE'));

    relay = await testRelay({ allow: [endpoint], port });
    await waitUntil(() => t.state === 'open', 'open again');
    t.send(transportMessage(32, 2));
    await waitUntil(() => datagrams.some((d) => markerOf(d) === 2), 'echo after restart');
    t.close();
    await relay.close();
    await peer.close();
  });
});

// --- Scripted WebSocket and fake timers ------------------------------------------------------------

class ScriptedWs {
  static all: ScriptedWs[] = [];
  binaryType = 'blob';
  readyState = 0;
  bufferedAmount = 0;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  sent: Uint8Array[] = [];
  closedWith: [number | undefined, string | undefined] | undefined;
  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    ScriptedWs.all.push(this);
  }
  send(d: Uint8Array): void {
    this.sent.push(d);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = [code, reason];
    this.readyState = 3;
  }
  // Test drivers
  accept(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  deliver(data: unknown): void {
    this.onmessage?.({ data });
  }
}

class FakeTimers implements TransportTimers {
  private next = 1;
  pending = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  /** Delays of the pending timers, in creation order. */
  delays(): number[] {
    return [...this.pending.values()].map((p) => p.ms);
  }
  /** Fires the pending timer with the given delay. */
  fire(ms: number): void {
    const hit = [...this.pending.entries()].find(([, p]) => p.ms === ms);
    assert.ok(hit, `a timer of ${ms} ms (pending: ${this.delays().join(', ')})`);
    this.pending.delete(hit[0]);
    hit[1].fn();
  }
}

function scripted(options: Partial<RelayTransportOptions> = {}) {
  ScriptedWs.all = [];
  const timers = new FakeTimers();
  const states: Seen[] = [];
  const datagrams: Uint8Array[] = [];
  const t = new RelayTransport({
    relayUrl: 'wss://relay.example/',
    endpoint: { host: '192.0.2.1', port: 51820 },
    WebSocketImpl: ScriptedWs,
    onDatagram: (d) => datagrams.push(d),
    onState: (state, detail) => states.push({ state, detail }),
    timers,
    random: () => 0.5,
    initialRetryDelayMs: 100,
    maxRetryDelayMs: 1000,
    connectTimeoutMs: 5000,
    ...options,
  });
  const ws = (): ScriptedWs => ScriptedWs.all[ScriptedWs.all.length - 1];
  return { t, timers, states, datagrams, ws, flush: () => new Promise<void>((r) => queueMicrotask(r)) };
}

describe('RelayTransport retry logic (scripted WebSocket, fake timers)', () => {
  test('nothing happens before the constructor returns; then one WebSocket with the subprotocol', async () => {
    const s = scripted();
    assert.equal(ScriptedWs.all.length, 0);
    assert.equal(s.states.length, 0);
    await s.flush();
    assert.equal(ScriptedWs.all.length, 1);
    assert.equal(s.ws().url, 'wss://relay.example/wg?to=192.0.2.1%3A51820');
    assert.deepEqual(s.ws().protocols, ['wgweb.v3', 'wgweb.v2', 'wgweb.v1'], 'the batched framings first, newest first, wgweb.v1 as the fallback');
    assert.equal(s.ws().binaryType, 'nodebuffer', 'an implementation that takes nodebuffer (ws) gets it: no copy per message');
    assert.deepEqual(s.states.map((x) => x.state), ['connecting']);
  });

  test("a browser-like WebSocket, which ignores 'nodebuffer', is set to 'arraybuffer'", async () => {
    class BrowserLikeWs extends ScriptedWs {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        let type = 'blob';
        // Like the DOM's enumerated attribute: unknown values are ignored, not thrown.
        Object.defineProperty(this, 'binaryType', {
          get: () => type,
          set: (v: string) => {
            if (v === 'blob' || v === 'arraybuffer') type = v;
          },
        });
      }
    }
    const s = scripted({ WebSocketImpl: BrowserLikeWs });
    await s.flush();
    assert.equal(s.ws().binaryType, 'arraybuffer');
  });

  test('backoff doubles per failure with equal jitter, capped, and resets once data flows', async () => {
    const s = scripted();
    await s.flush();
    s.ws().accept();
    // [failure, random, expected delay]: base 100·2^(n-1) capped at 1000; delay = base/2 + base/2·random
    const rows: [number, number, number][] = [
      [1, 0.5, 75],
      [2, 0.5, 150],
      [3, 0.5, 300],
      [4, 0.5, 600],
      [5, 0.5, 750],
      [6, 0.5, 750],
    ];
    s.ws().drop(1001, 'relay shutting down');
    for (const [n, , delay] of rows) {
      assert.deepEqual(s.timers.delays().filter((d) => d !== 5000), [delay], `failure ${n}`);
      s.timers.fire(delay);
      if (n < rows.length) s.ws().drop(1006);
    }
    s.ws().accept();
    s.ws().deliver(new Uint8Array(transportMessage(32, 1)).buffer);
    s.ws().drop(1006);
    assert.deepEqual(s.timers.delays(), [75], 'fresh backoff after the relay delivered data');
  });

  test('jitter spans half to all of the base delay', async () => {
    for (const [random, delay] of [
      [0, 50],
      [0.999, 100],
    ] as const) {
      const s = scripted({ random: () => random });
      await s.flush();
      s.ws().accept();
      s.ws().drop(1006);
      assert.deepEqual(s.timers.delays(), [delay]);
    }
  });

  test('refusal codes close for good with RELAY_REFUSED; transient ones retry', async () => {
    const rows: [number, 'closed' | 'reconnecting', string][] = [
      [RelayCloseCode.BAD_REQUEST, 'closed', 'RELAY_REFUSED'],
      [RelayCloseCode.DESTINATION_NOT_ALLOWED, 'closed', 'RELAY_REFUSED'],
      [RelayCloseCode.RESOLVE_FAILED, 'closed', 'RELAY_REFUSED'],
      [RelayCloseCode.DESTINATION_UNREACHABLE, 'closed', 'RELAY_REFUSED'],
      [RelayCloseCode.MESSAGE_TOO_BIG, 'closed', 'RELAY_REFUSED'],
      [RelayCloseCode.UNSUPPORTED_DATA, 'closed', 'RELAY_REFUSED'],
      [RelayCloseCode.NORMAL, 'closed', 'RELAY_CLOSED'],
      [RelayCloseCode.GOING_AWAY, 'reconnecting', 'RELAY_CLOSED'],
      [RelayCloseCode.INTERNAL_ERROR, 'reconnecting', 'RELAY_CLOSED'],
      [RelayCloseCode.TOO_MANY_SESSIONS, 'reconnecting', 'RELAY_CLOSED'],
      [RelayCloseCode.RATE_LIMITED, 'reconnecting', 'RELAY_CLOSED'],
      [RelayCloseCode.IDLE_TIMEOUT, 'reconnecting', 'RELAY_CLOSED'],
      [1006, 'reconnecting', 'RELAY_UNREACHABLE'],
      [4999, 'reconnecting', 'RELAY_CLOSED'],
    ];
    for (const [code, state, errCode] of rows) {
      const s = scripted();
      await s.flush();
      s.ws().accept();
      s.ws().drop(code, 'why');
      assert.equal(s.t.state, state, `code ${code}`);
      const d = s.states[s.states.length - 1].detail;
      if (code !== 1006) {
        assert.equal(d.closeCode, code);
        assert.equal(d.error?.code, errCode, `code ${code}`);
        assert.match(d.error?.message ?? '', /The relay said: "why"/);
      }
    }
  });

  test('never reached: closed with RELAY_UNREACHABLE after connectAttempts tries', async () => {
    const s = scripted({ connectAttempts: 3 });
    await s.flush();
    s.ws().drop(1006);
    assert.equal(s.t.state, 'connecting', 'still trying');
    s.timers.fire(75);
    s.ws().drop(1006);
    s.timers.fire(150);
    s.ws().drop(1006);
    assert.equal(s.t.state, 'closed');
    assert.equal(s.states[s.states.length - 1].detail.error?.code, 'RELAY_UNREACHABLE');
    assert.equal(s.t.stats().attempts, 3);
  });

  test('a handshake that never completes times out as unreachable', async () => {
    const s = scripted();
    await s.flush();
    const first = s.ws();
    s.timers.fire(5000);
    assert.equal(s.t.state, 'closed');
    assert.equal(s.states[s.states.length - 1].detail.error?.code, 'RELAY_UNREACHABLE');
    assert.ok(first.closedWith, 'the stuck WebSocket was closed');
    first.accept(); // late events from the abandoned socket are ignored
    assert.equal(s.t.state, 'closed');
  });

  test('the queue is small and bounded; send() reports drops', async () => {
    const s = scripted({ maxQueue: 2 });
    assert.equal(s.t.send(transportMessage(32, 1)), true);
    assert.equal(s.t.send(transportMessage(32, 2)), true);
    assert.equal(s.t.send(transportMessage(32, 3)), false);
    await s.flush();
    s.ws().accept();
    assert.deepEqual(s.ws().sent.map(markerOf), [1, 2]);
    assert.equal(s.t.stats().drops.queueFull, 1);
  });

  test('queued datagrams are copies: the caller may reuse its buffer', async () => {
    const s = scripted();
    const buf = transportMessage(32, 1);
    s.t.send(buf);
    buf.fill(0);
    await s.flush();
    s.ws().accept();
    assert.equal(markerOf(s.ws().sent[0]), 1);
  });

  test('a backed-up WebSocket drops instead of buffering', async () => {
    const s = scripted({ maxBufferedAmount: 1000 });
    await s.flush();
    s.ws().accept();
    s.ws().bufferedAmount = 1001;
    assert.equal(s.t.send(transportMessage(32, 1)), false);
    s.ws().bufferedAmount = 0;
    assert.equal(s.t.send(transportMessage(32, 2)), true);
    assert.equal(s.t.stats().drops.backpressure, 1);
  });

  test('text messages from a relay are ignored and counted; binary ones are delivered as Uint8Array', async () => {
    const s = scripted();
    await s.flush();
    s.ws().accept();
    s.ws().deliver('hello');
    s.ws().deliver(new Uint8Array([4, 0, 0, 0]).buffer);
    // What `ws` hands over with 'nodebuffer': a Buffer viewing part of a socket read.
    const read = Buffer.from([9, 4, 0, 0, 0, 7, 9]);
    s.ws().deliver(read.subarray(1, 6));
    assert.equal(s.t.stats().drops.text, 1);
    assert.deepEqual(s.datagrams, [new Uint8Array([4, 0, 0, 0]), new Uint8Array([4, 0, 0, 0, 7])]);
    const viewed = s.datagrams[1];
    assert.equal(Object.getPrototypeOf(viewed), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer (whose slice() would not copy)');
    assert.equal(viewed.buffer, read.buffer, 'a view, not a copy');
    assert.equal(s.t.stats().bytesReceived, 9);
  });

  test('without a protocol attribute (or a relay that predates v2) the framing is wgweb.v1', async () => {
    const s = scripted();
    await s.flush();
    s.ws().accept();
    s.t.send(transportMessage(32, 1));
    s.t.send(transportMessage(32, 2));
    assert.equal(s.t.stats().protocol, 'wgweb.v1');
    assert.equal(s.ws().sent.length, 2, 'sent at once, one message each');
  });

  test("batching: 'v2' offers wgweb.v2 and wgweb.v1 only (64 KiB batches from the relay)", async () => {
    const s = scripted({ batching: 'v2' });
    await s.flush();
    assert.deepEqual(s.ws().protocols, ['wgweb.v2', 'wgweb.v1']);
  });

  describe('when the relay selects wgweb.v3', () => {
    class V3Ws extends ScriptedWs {
      protocol = '';
      override accept(): void {
        this.protocol = 'wgweb.v3';
        super.accept();
      }
    }
    /** `n` records of `len`-byte datagrams, markers from 1. */
    const batchOf = (n: number, len: number): Uint8Array => {
      const out = new Uint8Array(n * (2 + len));
      for (let i = 0; i < n; i++) {
        out[i * (2 + len)] = len >> 8;
        out[i * (2 + len) + 1] = len & 0xff;
        out.set(transportMessage(len, i + 1), i * (2 + len) + 2);
      }
      return out;
    };

    test('a relay batch of up to 256 KiB and 256 records is unpacked; one byte or record more is dropped whole', async () => {
      const s = scripted({ WebSocketImpl: V3Ws });
      await s.flush();
      s.ws().accept();
      assert.equal(s.t.stats().protocol, 'wgweb.v3');
      const big = batchOf(180, 1454); // 262080 bytes: more than v2 allows
      s.ws().deliver(big.buffer);
      assert.equal(s.datagrams.length, 180);
      assert.deepEqual(s.datagrams.map(markerOf), Array.from({ length: 180 }, (_, i) => i + 1));
      s.ws().deliver(batchOf(256, 32).buffer);
      assert.equal(s.datagrams.length, 180 + 256);
      s.ws().deliver(batchOf(257, 32).buffer);
      s.ws().deliver(batchOf(3, 87380).buffer.slice(0, 262145));
      assert.equal(s.datagrams.length, 180 + 256);
      assert.equal(s.t.stats().drops.malformed, 2);
    });

    test('what it sends keeps the v2 bounds: 65 records leave as two messages, none above 65535 bytes', async () => {
      const s = scripted({ WebSocketImpl: V3Ws });
      await s.flush();
      s.ws().accept();
      for (let i = 0; i < 65; i++) s.t.send(transportMessage(32, i));
      for (let i = 0; i < 50; i++) s.t.send(transportMessage(1452, 100 + i));
      await s.flush();
      assert.ok(s.ws().sent.length >= 3);
      assert.ok(s.ws().sent.every((m) => m.length <= 65535));
      assert.equal(s.t.stats().datagramsSent, 115);
    });
  });

  describe('when the relay selects wgweb.v2', () => {
    class V2Ws extends ScriptedWs {
      protocol = '';
      override accept(): void {
        this.protocol = 'wgweb.v2';
        super.accept();
      }
    }
    async function v2(options: Partial<RelayTransportOptions> = {}) {
      const s = scripted({ WebSocketImpl: V2Ws, ...options });
      await s.flush();
      s.ws().accept();
      return s;
    }

    test('incoming batches are unpacked: onDatagram once per record, in order', async () => {
      const s = await v2();
      s.ws().deliver(hexBytes('0020 04000000 (28)44 0005 0400000001').buffer);
      assert.deepEqual(s.datagrams, [hexBytes('04000000 (28)44'), hexBytes('0400000001')]);
      const st = s.t.stats();
      assert.equal(st.datagramsReceived, 2);
      assert.equal(st.messagesReceived, 1);
      assert.equal(st.bytesReceived, 37);
    });

    test('a malformed batch from the relay is dropped whole and counted', async () => {
      const s = await v2();
      for (const bad of ['', '0021 04000000 (28)44', '0000', '0020 04000000 (28)44 00']) s.ws().deliver(hexBytes(bad).buffer);
      assert.deepEqual(s.datagrams, []);
      assert.equal(s.t.stats().drops.malformed, 4);
    });

    test('a batch above 64 KiB (what only wgweb.v3 allows) is malformed under v2', async () => {
      const s = await v2();
      const len = 1452;
      const big = new Uint8Array(46 * (2 + len));
      for (let i = 0; i < 46; i++) {
        big[i * (2 + len)] = len >> 8;
        big[i * (2 + len) + 1] = len & 0xff;
        big.set(transportMessage(len, i), i * (2 + len) + 2);
      }
      s.ws().deliver(big.buffer);
      assert.deepEqual(s.datagrams, []);
      assert.equal(s.t.stats().drops.malformed, 1);
    });

    test('datagrams sent in one task become one message in a microtask; copies, so buffers may be reused', async () => {
      const s = await v2();
      const buf = transportMessage(32, 1);
      s.t.send(buf);
      buf.fill(0);
      s.t.send(transportMessage(40, 2));
      assert.equal(s.ws().sent.length, 0, 'not yet: more may come in this task');
      await s.flush();
      assert.equal(s.ws().sent.length, 1);
      const msg = s.ws().sent[0];
      assert.equal(msg.length, 2 + 32 + 2 + 40);
      assert.deepEqual([...msg.subarray(0, 2)], [0, 32]);
      assert.equal(markerOf(msg.subarray(2, 34)), 1);
      assert.deepEqual([...msg.subarray(34, 36)], [0, 40]);
      assert.equal(markerOf(msg.subarray(36)), 2);
    });

    /** A v2 transport whose onDatagram answers every datagram with a 32-byte reply (as a TCP ACK would). */
    async function replying(options: Partial<RelayTransportOptions> = {}) {
      let transport: RelayTransport | undefined;
      let n = 0;
      const s = await v2({ onDatagram: () => void queueMicrotask(() => transport!.send(transportMessage(32, n++))), ...options });
      transport = s.t;
      return s;
    }
    const oneRecord = (): ArrayBuffer => hexBytes('0005 0400000001').buffer as ArrayBuffer;

    test('coalesceReplies: replies to received messages wait for a zero-delay timer, so the messages queued behind share one upstream message', async () => {
      const s = await replying({ coalesceReplies: true });
      s.ws().deliver(oneRecord());
      await s.flush();
      await s.flush();
      assert.equal(s.ws().sent.length, 0, 'the reply waits: more received messages may be queued');
      assert.ok(s.timers.delays().includes(0), `a zero-delay flush timer (pending: ${s.timers.delays().join(', ')})`);
      s.ws().deliver(oneRecord());
      s.ws().deliver(oneRecord());
      await s.flush();
      await s.flush();
      assert.equal(s.ws().sent.length, 0);
      s.timers.fire(0);
      assert.equal(s.ws().sent.length, 1, 'one message for three replies');
      assert.equal(s.ws().sent[0].length, 3 * (2 + 32));
      assert.equal(s.t.stats().messagesSent, 1);
      assert.equal(s.t.stats().datagramsSent, 3);
    });

    test('coalesceReplies: what is sent outside a received message (app writes, timers) still leaves in a microtask', async () => {
      const s = await replying({ coalesceReplies: true });
      s.ws().deliver(oneRecord());
      await s.flush();
      await s.flush();
      s.timers.fire(0);
      assert.equal(s.ws().sent.length, 1);
      // A later task with no received message: the app writes.
      s.t.send(transportMessage(148, 9));
      await s.flush();
      assert.equal(s.ws().sent.length, 2, 'sent at once');
      assert.ok(!s.timers.delays().includes(0), 'no flush timer');
    });

    test('without coalesceReplies (the default for WebSocket classes other than the platform one) a reply leaves in its own message', async () => {
      const s = await replying();
      for (let i = 0; i < 2; i++) {
        s.ws().deliver(oneRecord());
        await s.flush();
        await s.flush();
      }
      assert.equal(s.ws().sent.length, 2, 'one message per received message, as before');
      assert.ok(!s.timers.delays().includes(0));
    });

    test('sendCopies (the default with the platform WebSocket): batches are built in one reused buffer, each sent before the next starts', async () => {
      const copies: Uint8Array[] = [];
      // Like a browser: send() takes a copy of the bytes at the call.
      class CopyingWs extends V2Ws {
        override send(d: Uint8Array): void {
          copies.push(d.slice());
          super.send(d);
        }
      }
      const s = await v2({ WebSocketImpl: CopyingWs, sendCopies: true });
      for (let i = 0; i < 50; i++) s.t.send(transportMessage(1452, i));
      await s.flush();
      assert.equal(s.ws().sent[1].buffer, s.ws().sent[0].buffer, 'one ArrayBuffer for both messages');
      for (const [m, first, n] of [[copies[0], 0, 45], [copies[1], 45, 5]] as const) {
        const r = parseDatagramBatch(m);
        assert.ok(r.ok && r.datagrams.length === n);
        r.datagrams.forEach((d, k) => assert.equal(markerOf(d), first + k));
      }
    });

    test('wgweb.v1 never keeps the caller\'s bytes: a WebSocket that may queue them gets a copy (the Session writes its next datagrams in the same memory)', async () => {
      for (const sendCopies of [false, true]) {
        const s = scripted({ sendCopies });
        await s.flush();
        s.ws().accept();
        assert.equal(s.t.stats().protocol, 'wgweb.v1');
        const d = transportMessage(100, 7);
        s.t.send(d);
        const sent = s.ws().sent[0]!;
        if (sendCopies) assert.ok(sent === d, 'a copying WebSocket gets the bytes themselves');
        else {
          d.fill(0);
          assert.equal(markerOf(sent), 7, 'overwriting after send() does not reach the queued message');
        }
      }
    });

    test('without sendCopies (other WebSocket classes: ws may queue the buffer) every message keeps its own buffer', async () => {
      const s = await v2();
      for (let i = 0; i < 50; i++) s.t.send(transportMessage(1452, i));
      await s.flush();
      const [a, b] = s.ws().sent;
      assert.notEqual(a.buffer, b.buffer);
      const r = parseDatagramBatch(a);
      assert.ok(r.ok);
      r.datagrams.forEach((d, k) => assert.equal(markerOf(d), k, 'the first message is intact after the second was built'));
    });

    test('a full batch is sent at once and the next one started (64 KiB / 64 records)', async () => {
      const s = await v2();
      for (let i = 0; i < 50; i++) s.t.send(transportMessage(1452, i));
      assert.equal(s.ws().sent.length, 1, '45 × 1454 bytes filled the first message');
      await s.flush();
      assert.deepEqual(s.ws().sent.map((m) => m.length), [45 * 1454, 5 * 1454]);
      for (let i = 0; i < 70; i++) s.t.send(transportMessage(32, i));
      await s.flush();
      assert.deepEqual(s.ws().sent.slice(2).map((m) => m.length), [64 * 34, 6 * 34]);
      assert.equal(s.t.stats().datagramsSent, 120);
      assert.equal(s.t.stats().messagesSent, 4);
    });

    test('datagrams queued while connecting go out as one batch after open', async () => {
      const s = scripted({ WebSocketImpl: V2Ws });
      s.t.send(transportMessage(148, 1));
      s.t.send(transportMessage(32, 2));
      await s.flush();
      s.ws().accept();
      await s.flush();
      assert.equal(s.ws().sent.length, 1);
      assert.equal(s.ws().sent[0].length, 2 + 148 + 2 + 32);
    });

    test('backpressure counts the pending batch; a datagram no batch can carry is dropped', async () => {
      const s = await v2({ maxBufferedAmount: 1000 });
      s.ws().bufferedAmount = 900;
      assert.equal(s.t.send(transportMessage(64, 1)), true);
      assert.equal(s.t.send(transportMessage(64, 2)), true);
      assert.equal(s.t.send(transportMessage(64, 3)), false, '900 + 132 pending > 1000');
      assert.equal(s.t.stats().drops.backpressure, 1);
      s.ws().bufferedAmount = 0;
      assert.equal(s.t.send(new Uint8Array(65534)), false);
      assert.equal(s.t.stats().drops.tooBig, 1);
    });
  });

  test('close() is final and idempotent, from any state, and cancels retries', async () => {
    const s = scripted();
    await s.flush();
    s.ws().accept();
    s.ws().drop(1001);
    assert.equal(s.timers.pending.size, 1);
    s.t.close();
    s.t.close();
    assert.equal(s.timers.pending.size, 0);
    assert.equal(s.states.filter((x) => x.state === 'closed').length, 1);
    assert.equal(s.states[s.states.length - 1].detail.error, undefined);

    const early = scripted();
    early.t.close();
    await early.flush();
    assert.equal(ScriptedWs.all.length, 0, 'closed before the first connect: no WebSocket at all');
  });

  test('an open transport closes its WebSocket with 1000', async () => {
    const s = scripted();
    await s.flush();
    const ws = s.ws();
    ws.accept();
    s.t.close();
    assert.deepEqual(ws.closedWith, [1000, 'client closed']);
  });

  test('bad construction is a TypeError or RangeError', () => {
    const base = { onDatagram: () => {}, WebSocketImpl: ScriptedWs };
    assert.throws(() => new RelayTransport({ ...base, relayUrl: 'nope', endpoint: '192.0.2.1:1' }), TypeError);
    assert.throws(() => new RelayTransport({ ...base, relayUrl: 'ws://r', endpoint: '192.0.2.1' }), RangeError);
    assert.throws(() => new RelayTransport({ ...base, relayUrl: 'ws://r', endpoint: '192.0.2.1:1', initialRetryDelayMs: 0 }), RangeError);
    const t = new RelayTransport({ ...base, relayUrl: 'ws://r', endpoint: '192.0.2.1:1' });
    assert.throws(() => t.send('x' as unknown as Uint8Array), TypeError);
    t.close();
  });
});

describe('RelayTransport with a token and several relays (scripted WebSocket, fake timers)', () => {
  test('a token is offered as the last subprotocol value, never in the URL', async () => {
    const s = scripted({ token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig-_' });
    await s.flush();
    assert.deepEqual(s.ws().protocols, ['wgweb.v3', 'wgweb.v2', 'wgweb.v1', 'wgweb.token.eyJhbGciOiJIUzI1NiJ9.e30.sig-_']);
    assert.ok(!s.ws().url.includes('eyJ'));
    assert.throws(() => scripted({ token: 'has space' }), TypeError);
  });

  test('1012 (the relay drains): reconnects at once, no backoff timer', async () => {
    const s = scripted();
    await s.flush();
    s.ws().accept();
    s.ws().drop(RelayCloseCode.SERVICE_RESTART, 'relay draining');
    assert.equal(ScriptedWs.all.length, 2, 'a new connection right away');
    assert.deepEqual(s.timers.delays(), [5000], 'only the connect timeout is pending');
    assert.equal(s.t.state, 'reconnecting');
    s.ws().accept();
    assert.equal(s.t.state, 'open');
  });

  test('several relays: all are raced, the first to open carries the session, the others are closed', async () => {
    const s = scripted({ relayUrl: ['wss://a.example/', 'wss://b.example/', 'wss://c.example/'] });
    await s.flush();
    assert.deepEqual(ScriptedWs.all.map((w) => new URL(w.url).host), ['a.example', 'b.example', 'c.example']);
    const [a, b, c] = ScriptedWs.all;
    b.accept();
    assert.equal(s.t.state, 'open');
    assert.equal(new URL(s.t.url).host, 'b.example');
    a.accept();
    assert.deepEqual(a.closedWith, [1000, 'another relay answered first']);
    c.drop(1006);
    assert.equal(s.t.state, 'open', 'a loser failing does not matter');
    s.t.send(transportMessage(32, 1));
    await s.flush();
    assert.equal(b.sent.length, 1);
    assert.equal(a.sent.length, 0);
    const st = s.t.stats();
    assert.deepEqual(st.relays.map((r) => [r.opens, r.failures]), [[1, 0], [1, 0], [0, 1]]);
    assert.ok(st.relays[0].rttMs !== undefined && st.relays[1].rttMs !== undefined && st.relays[2].rttMs === undefined);
  });

  test('the relay in use fails: the next one is tried at once, backoff only after every relay failed', async () => {
    const s = scripted({ relayUrl: ['wss://a.example/', 'wss://b.example/'] });
    await s.flush();
    const [a, b] = ScriptedWs.all;
    a.accept();
    b.accept();
    s.ws().drop(1006);
    assert.equal(s.t.state, 'open', 'the racing loser b was closed; a carries');
    a.drop(1006);
    assert.equal(s.t.state, 'reconnecting');
    assert.equal(new URL(s.ws().url).host, 'b.example', 'moved to b without waiting');
    assert.deepEqual(s.timers.delays(), [5000]);
    s.ws().drop(1006);
    // b failed too (2 of 2 relays in a row): now a backoff, towards a again.
    assert.deepEqual(s.timers.delays().filter((d) => d !== 5000), [75]);
    s.timers.fire(75);
    assert.equal(new URL(s.ws().url).host, 'a.example');
    s.ws().accept();
    assert.equal(s.t.state, 'open');
    assert.equal(s.t.stats().relayMoves, 2);
  });

  test('1012 from the relay in use: straight to the next relay', async () => {
    const s = scripted({ relayUrl: ['wss://a.example/', 'wss://b.example/'] });
    await s.flush();
    const [a] = ScriptedWs.all;
    a.accept();
    a.drop(RelayCloseCode.SERVICE_RESTART, 'draining');
    assert.equal(new URL(s.ws().url).host, 'b.example');
    s.ws().accept();
    assert.equal(s.t.state, 'open');
    const reconnecting = s.states.find((x) => x.state === 'reconnecting');
    assert.equal(reconnecting?.detail.closeCode, RelayCloseCode.SERVICE_RESTART);
  });

  test('no relay of the list answers: closed with RELAY_UNREACHABLE', async () => {
    const s = scripted({ relayUrl: ['wss://a.example/', 'wss://b.example/'] });
    await s.flush();
    for (const w of [...ScriptedWs.all]) w.drop(1006);
    assert.equal(s.t.state, 'closed');
    assert.equal(s.states[s.states.length - 1].detail.error?.code, 'RELAY_UNREACHABLE');
  });
});
