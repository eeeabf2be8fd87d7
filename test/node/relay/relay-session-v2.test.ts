/**
 * The batched framings `wgweb.v2` and `wgweb.v3`, end to end on loopback: a real relay, a real
 * WebSocket client offering them and a real UDP socket standing in for the WireGuard endpoint. Frames are fed as
 * hex; we assert exactly which datagrams reach UDP, what is dropped and counted, and which frames
 * end the session with which close code. (wgweb.v1 is covered, unchanged, by relay-session.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDatagramBatch } from '../../../src/shared/datagram-batch.ts';
import {
  buildRelayUrl,
  RELAY_SUBPROTOCOL,
  RELAY_SUBPROTOCOL_V2,
  RELAY_SUBPROTOCOL_V3,
  RELAY_SUBPROTOCOLS,
  RELAY_V2_MAX_DATAGRAMS,
  RELAY_V3_MAX_DOWNSTREAM_MESSAGE,
  RelayCloseCode,
  V3_DOWNSTREAM_BATCH_LIMITS,
} from '../../../src/shared/relay-protocol.ts';
import type { RelayHandle } from '../../../src/node/relay/main.ts';
import { hexBytes, markerOf, sendBinary, testRelay, transportMessage, udpPeer, waitUntil, wsClient, type TestClient, type UdpPeer } from './relay-fixtures.ts';

const V2_FIRST = [RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL];

/** One record: u16 big-endian length, then the datagram. */
function record(datagram: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + datagram.length);
  out[0] = datagram.length >> 8;
  out[1] = datagram.length & 0xff;
  out.set(datagram, 2);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** The relay's UDP port for the (only) open session. */
function sessionLocalPort(relay: RelayHandle): number {
  const s = relay.stats().sessions;
  assert.equal(s.length, 1);
  return Number(s[0].local.slice(s[0].local.lastIndexOf(':') + 1));
}

describe('negotiation: wgweb.v3 and wgweb.v2 only for clients that offer them', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  before(async () => {
    peer = await udpPeer(4);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
  });
  after(async () => {
    await relay.close();
    await peer.close();
  });

  // [row, offered, selected]
  const rows: [number, string[], string][] = [
    [1, ['wgweb.v2', 'wgweb.v1'], 'wgweb.v2'],
    [2, ['wgweb.v1'], 'wgweb.v1'],
    [3, ['wgweb.v1', 'wgweb.v2'], 'wgweb.v2'],
    [4, ['wgweb.v2'], 'wgweb.v2'],
    [5, ['chat', 'wgweb.v1'], 'wgweb.v1'],
    [6, ['wgweb.v3', 'wgweb.v2', 'wgweb.v1'], 'wgweb.v3'],
    [7, ['wgweb.v1', 'wgweb.v2', 'wgweb.v3'], 'wgweb.v3'],
    [8, ['wgweb.v3'], 'wgweb.v3'],
  ];
  for (const [row, offered, selected] of rows) {
    test(`${row}. offered ${offered.join(', ')} → ${selected}`, async () => {
      const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), offered);
      await c.opened;
      assert.equal(c.protocol(), selected);
      await waitUntil(() => relay.stats().sessions.length === 1, 'session');
      assert.equal(relay.stats().sessions[0].protocol, selected);
      c.ws.close();
      await c.closed;
      await waitUntil(() => relay.stats().sessions.length === 0, 'session gone');
    });
  }
});

describe('browser → endpoint: a v2 frame is split, and every datagram in it checked (hex-fed)', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  let client: TestClient;
  let fence = 2_000_000;

  before(async () => {
    peer = await udpPeer(4);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
    client = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), V2_FIRST);
    await client.opened;
    assert.equal(client.protocol(), RELAY_SUBPROTOCOL_V2);
  });
  after(async () => {
    client.ws.close();
    await client.closed;
    await relay.close();
    await peer.close();
  });

  /** Sends `frame`, then a fence frame; once the fence arrived, returns what `frame` forwarded. */
  async function forwarded(frame: Uint8Array): Promise<Uint8Array[]> {
    const before = peer.received.length;
    const marker = fence++;
    await sendBinary(client.ws, frame);
    await sendBinary(client.ws, record(transportMessage(32, marker)));
    await waitUntil(() => peer.received.some((r) => r.data.length === 32 && markerOf(r.data) === marker), `fence ${marker}`);
    return peer.received.slice(before, -1).map((r) => new Uint8Array(r.data));
  }

  test('1. one record: 0020 + a 32-byte keepalive → one datagram', async () => {
    const got = await forwarded(hexBytes('0020 04000000 (28)44'));
    assert.deepEqual(got, [hexBytes('04000000 (28)44')]);
  });

  test('2. three records (initiation, keepalive, full-size transport) → three datagrams, in order, byte for byte', async () => {
    const frame = hexBytes('0094 01000000 (144)11' + '0020 04000000 (28)44' + '05ac 04000000 (1448)55');
    const got = await forwarded(frame);
    assert.deepEqual(got, [hexBytes('01000000 (144)11'), hexBytes('04000000 (28)44'), hexBytes('04000000 (1448)55')]);
  });

  test('3. a bad datagram among good ones is dropped and counted alone', async () => {
    const drops = relay.stats().totals.drops.notWireguard;
    // good keepalive, a type-5 "datagram", a 147-byte "initiation", good cookie reply
    const frame = hexBytes('0020 04000000 (28)44' + '0020 05000000 (28)66' + '0093 01000000 (143)11' + '0040 03000000 (60)33');
    const got = await forwarded(frame);
    assert.deepEqual(got, [hexBytes('04000000 (28)44'), hexBytes('03000000 (60)33')]);
    assert.equal(relay.stats().totals.drops.notWireguard, drops + 2);
  });

  test(`4. ${RELAY_V2_MAX_DATAGRAMS} records, the most a message may hold, all forwarded`, async () => {
    const datagrams = Array.from({ length: RELAY_V2_MAX_DATAGRAMS }, (_, i) => transportMessage(40, 9000 + i));
    const got = await forwarded(concat(...datagrams.map(record)));
    assert.deepEqual(got.map(markerOf), datagrams.map(markerOf));
  });

  test('5. the session stayed open through all of it; datagrams counted one by one', () => {
    const s = relay.stats();
    assert.equal(s.activeSessions, 1);
    assert.equal(s.totals.drops.notWireguard, 2);
    assert.equal(s.totals.datagramsToPeer, peer.received.length);
  });
});

describe('malformed v2 frames end the session: nothing of them reaches UDP', () => {
  let peer: UdpPeer;
  before(async () => {
    peer = await udpPeer(4);
  });
  after(async () => {
    await peer.close();
  });

  // [row, frame hex, close code, reason pattern, why]
  const good = '0020 04000000 (28)44';
  const rows: [number, string, number, RegExp, string][] = [
    [1, '', RelayCloseCode.INVALID_PAYLOAD, /empty/, 'an empty message'],
    [2, good + '00', RelayCloseCode.INVALID_PAYLOAD, /truncated length/, 'a good record, then one byte of a length'],
    [3, '0021 04000000 (28)44', RelayCloseCode.INVALID_PAYLOAD, /runs past the end/, 'a length one byte longer than what follows'],
    [4, good + '0000', RelayCloseCode.INVALID_PAYLOAD, /zero-length/, 'a zero-length record after a good one'],
    [5, good + '0020 04000000 (27)44', RelayCloseCode.INVALID_PAYLOAD, /runs past the end/, 'the last record cut short'],
    [6, good.repeat(RELAY_V2_MAX_DATAGRAMS + 1), RelayCloseCode.INVALID_PAYLOAD, /more than 64/, `${RELAY_V2_MAX_DATAGRAMS + 1} records`],
    [7, '(65536)00', RelayCloseCode.MESSAGE_TOO_BIG, /^/, 'a message of 65536 bytes, above the 65535 limit (ws, from the frame header)'],
  ];
  // wgweb.v3 only enlarges relay → client batches: what a v3 client sends has the v2 bounds.
  for (const [protocol, rowsOf] of [
    [RELAY_SUBPROTOCOL_V2, rows],
    [RELAY_SUBPROTOCOL_V3, rows.filter(([row]) => row === 6 || row === 7)],
  ] as const) {
    for (const [row, hex, code, reason, why] of rowsOf) {
      test(`${protocol} ${row}. ${why} → ${code}`, async () => {
        const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
        try {
          const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), [protocol]);
          await c.opened;
          assert.equal(c.protocol(), protocol);
          const before = peer.received.length;
          c.ws.send(hexBytes(hex), { binary: true });
          const closed = await c.closed;
          assert.equal(closed.code, code);
          assert.match(closed.reason, reason);
          assert.equal(relay.stats().totals.datagramsToPeer, 0);
          assert.equal(peer.received.length, before);
        } finally {
          await relay.close();
        }
      });
    }
  }

  test('8. a datagram above --max-message inside a frame closes with 1009; one at the limit passes', async () => {
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxMessage: 200 });
    const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), V2_FIRST);
    await c.opened;
    const before = peer.received.length;
    await sendBinary(c.ws, concat(record(transportMessage(200, 200)), record(transportMessage(200, 201))));
    await waitUntil(() => peer.received.length === before + 2, 'two 200-byte datagrams');
    c.ws.send(record(transportMessage(201, 202)), { binary: true });
    assert.equal((await c.closed).code, RelayCloseCode.MESSAGE_TOO_BIG);
    await relay.close();
  });
});

describe('endpoint → browser: datagrams that arrive together share a message', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  before(async () => {
    peer = await udpPeer(4);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
  });
  after(async () => {
    await relay.close();
    await peer.close();
  });

  /** Sends `n` datagrams from the endpoint in one synchronous burst (all in the kernel before the relay's next read). */
  function burst(port: number, n: number, first: number, len = 1452): void {
    for (let i = 0; i < n; i++) peer.socket.send(transportMessage(len, first + i), port, '127.0.0.1');
  }

  test('a v2 client gets a burst as batches that decode to every datagram, in order', async () => {
    const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), V2_FIRST);
    await c.opened;
    await waitUntil(() => relay.stats().sessions.length === 1, 'session');
    const port = sessionLocalPort(relay);
    burst(port, 20, 100);
    const datagrams = (): Uint8Array[] =>
      c.messages.flatMap((m) => {
        const b = parseDatagramBatch(m);
        assert.ok(b.ok, 'every message is a well-formed batch');
        return b.datagrams;
      });
    await waitUntil(() => datagrams().length === 20, 'twenty datagrams');
    assert.deepEqual(datagrams().map(markerOf), Array.from({ length: 20 }, (_, i) => 100 + i));
    assert.ok(datagrams().every((d) => d.length === 1452));
    // One socket read's worth (libuv reads up to 32 datagrams per poll) is one message: the
    // burst was entirely in the kernel before the relay's next read.
    assert.equal(c.messages.length, 1, `20 datagrams in ${c.messages.length} messages`);
    // A lone datagram is not held back waiting for company.
    burst(port, 1, 500, 32);
    await waitUntil(() => datagrams().length === 21, 'the lone keepalive');
    assert.equal(markerOf(datagrams()[20]), 500);
    assert.equal(relay.stats().sessions[0].counters.datagramsFromPeer, 21);
    c.ws.close();
    await c.closed;
    await waitUntil(() => relay.stats().sessions.length === 0, 'session gone');
  });

  test('a v1 client gets the same burst as one message per datagram, as before', async () => {
    const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), [RELAY_SUBPROTOCOL]);
    await c.opened;
    await waitUntil(() => relay.stats().sessions.length === 1, 'session');
    burst(sessionLocalPort(relay), 20, 200);
    await waitUntil(() => c.messages.length === 20, 'twenty messages');
    assert.deepEqual(c.messages.map(markerOf), Array.from({ length: 20 }, (_, i) => 200 + i));
    c.ws.close();
    await c.closed;
  });

  test('batches never exceed 65535 bytes: 60 full-size datagrams (more than one batch holds) arrive whole', async () => {
    const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), V2_FIRST);
    await c.opened;
    await waitUntil(() => relay.stats().sessions.length === 1, 'session');
    burst(sessionLocalPort(relay), 60, 1000);
    const count = (): number => c.messages.reduce((n, m) => n + (parseDatagramBatch(m).ok ? (parseDatagramBatch(m) as { datagrams: Uint8Array[] }).datagrams.length : 0), 0);
    await waitUntil(() => count() + relay.stats().sessions[0].counters.drops.backpressure === 60, 'sixty datagrams');
    assert.ok(c.messages.every((m) => m.length <= 65535 && parseDatagramBatch(m).ok));
    c.ws.close();
    await c.closed;
  });
});

describe('endpoint → browser with wgweb.v3: the batches of a bulk flow grow past 64 KiB, a lone datagram still leaves at once', () => {
  let peer: UdpPeer;
  before(async () => {
    peer = await udpPeer(4);
  });
  after(async () => {
    await peer.close();
  });

  function burst(port: number, n: number, first: number, len = 1452): void {
    for (let i = 0; i < n; i++) peer.socket.send(transportMessage(len, first + i), port, '127.0.0.1');
  }
  const datagramsOf = (messages: Uint8Array[]): Uint8Array[] =>
    messages.flatMap((m) => {
      const b = parseDatagramBatch(m, V3_DOWNSTREAM_BATCH_LIMITS);
      assert.ok(b.ok, `every message is a well-formed v3 batch (${m.length} bytes)`);
      return b.datagrams;
    });

  test('a burst of 200 full-size datagrams (several UDP reads) arrives in batches above 64 KiB, none above 256 KiB, in order', async () => {
    // A minute's hold: only a full batch or the deadline sends a held batch, so the reads after the
    // first (32 datagrams each) join it whatever the machine's load.
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], batchDelayMs: 60_000, maxBufferedBytes: 4 << 20 });
    try {
      const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), [...RELAY_SUBPROTOCOLS]);
      await c.opened;
      assert.equal(c.protocol(), RELAY_SUBPROTOCOL_V3);
      await waitUntil(() => relay.stats().sessions.length === 1, 'session');
      burst(sessionLocalPort(relay), 200, 3000);
      // 180 full-size records fill a 256 KiB batch: that one leaves; the other 20 wait for the hold.
      await waitUntil(() => c.messages.length >= 1, 'the first full batch');
      const first = c.messages[0];
      assert.ok(first.length > 65535 && first.length <= RELAY_V3_MAX_DOWNSTREAM_MESSAGE, `first batch of ${first.length} bytes`);
      assert.deepEqual(datagramsOf([first]).map(markerOf), Array.from({ length: datagramsOf([first]).length }, (_, i) => 3000 + i));
      assert.equal(relay.stats().sessions[0].counters.drops.backpressure, 0);
      c.ws.close();
      await c.closed;
    } finally {
      await relay.close();
    }
  });

  test('a lone datagram after a quiet spell is not held (the hold is for streams only)', async () => {
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], batchDelayMs: 60_000 });
    try {
      const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), [RELAY_SUBPROTOCOL_V3]);
      await c.opened;
      await waitUntil(() => relay.stats().sessions.length === 1, 'session');
      burst(sessionLocalPort(relay), 1, 700, 32);
      // Far less than the minute a held batch would wait.
      await waitUntil(() => c.messages.length === 1, 'the lone keepalive');
      assert.deepEqual(datagramsOf(c.messages).map(markerOf), [700]);
      c.ws.close();
      await c.closed;
    } finally {
      await relay.close();
    }
  });

  test('batchDelayMs must be an integer from 0 to 60000', async () => {
    for (const bad of [-1, 1.5, 60_001]) await assert.rejects(testRelay({ batchDelayMs: bad }), RangeError, String(bad));
  });

  test('with batchDelayMs 0 a v3 session sends each UDP read at once, as v2 does', async () => {
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], batchDelayMs: 0 });
    try {
      const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`), [RELAY_SUBPROTOCOL_V3]);
      await c.opened;
      await waitUntil(() => relay.stats().sessions.length === 1, 'session');
      burst(sessionLocalPort(relay), 20, 800);
      await waitUntil(() => datagramsOf(c.messages).length === 20, 'twenty datagrams');
      assert.equal(c.messages.length, 1, 'one read, one message');
      c.ws.close();
      await c.closed;
    } finally {
      await relay.close();
    }
  });
});
