/**
 * One session, end to end on loopback: a real relay, a real WebSocket client and a real UDP socket
 * standing in for the WireGuard endpoint. Datagrams are fed as hex and we assert which ones reach
 * the other side and which are dropped and counted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { buildRelayUrl, RelayCloseCode } from '../../../src/shared/relay-protocol.ts';
import type { RelayHandle } from '../../../src/node/relay/main.ts';
import {
  clientFrame,
  hexBytes,
  markerOf,
  rawClient,
  sendBinary,
  testRelay,
  transportMessage,
  udpPeer,
  upgradeRequest,
  waitUntil,
  wsClient,
  type TestClient,
  type UdpPeer,
} from './relay-fixtures.ts';

/** The relay's UDP port for the (only) open session. */
function sessionLocalPort(relay: RelayHandle): number {
  const s = relay.stats().sessions;
  assert.equal(s.length, 1);
  return Number(s[0].local.slice(s[0].local.lastIndexOf(':') + 1));
}

describe('browser → endpoint: every datagram is shape-checked (hex-fed)', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  let client: TestClient;
  let fence = 1_000_000;

  before(async () => {
    peer = await udpPeer(4);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
    client = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`));
    await client.opened;
  });
  after(async () => {
    client.ws.close();
    await client.closed;
    await relay.close();
    await peer.close();
  });

  /** Sends `bytes`, then a valid fence; once the fence arrived, reports whether `bytes` did. */
  async function forwarded(bytes: Uint8Array): Promise<boolean> {
    const before = peer.received.length;
    const marker = fence++;
    await sendBinary(client.ws, bytes);
    await sendBinary(client.ws, transportMessage(32, marker));
    await waitUntil(() => peer.received.some((r) => r.data.length === 32 && markerOf(r.data) === marker), `fence ${marker}`);
    const arrived = peer.received.slice(before, -1);
    if (arrived.length === 1) assert.deepEqual(new Uint8Array(arrived[0].data), bytes, 'forwarded byte for byte');
    return arrived.length === 1;
  }

  // [row, hex, forwarded?, why]
  const rows: [number, string, boolean, string][] = [
    [1, '01000000 (144)11', true, 'handshake initiation, 148 bytes'],
    [2, '02000000 (88)22', true, 'handshake response, 92 bytes'],
    [3, '03000000 (60)33', true, 'cookie reply, 64 bytes'],
    [4, '04000000 (28)44', true, 'keepalive, 32 bytes'],
    [5, '04000000 (1448)44', true, 'full-size transport at MTU 1420, 1452 bytes'],
    [6, '04000000 (1404)44', true, 'transport at MTU 1380 (length-16 not a multiple of 16), 1408 bytes'],
    [7, '04000000 (65000)44', true, 'large transport (jumbo MTU), 65004 bytes'],
    [8, '01000000 (143)11', false, 'initiation one byte short'],
    [9, '01000000 (145)11', false, 'initiation one byte long'],
    [10, '02000000 (87)22', false, 'response one byte short'],
    [11, '03000000 (61)33', false, 'cookie one byte long'],
    [12, '04000000 (27)44', false, 'transport shorter than header + tag'],
    [13, '01010000 (144)11', false, 'initiation with a non-zero reserved byte'],
    [14, '04000080 (28)44', false, 'transport with a non-zero reserved byte'],
    [15, '05000000 (28)55', false, 'unknown type 5'],
    [16, '00000000 (28)00', false, 'type 0'],
    [17, 'ff', false, 'one byte'],
    [18, '', false, 'empty message'],
    [19, '47455420 2f20 48545450 2f312e31 0d0a 486f73743a 2078 0d0a0d0a (4)41', false, 'an HTTP request'],
    [20, '45000054 00004000 40010000 7f000001 7f000001 (64)00', false, 'a raw IPv4 packet'],
  ];
  for (const [row, hex, expected, why] of rows) {
    test(`${row}. ${why}: ${expected ? 'forwarded' : 'dropped'}`, async () => {
      assert.equal(await forwarded(hexBytes(hex)), expected);
    });
  }

  test('21. every dropped datagram was counted as notWireguard, nothing else dropped', () => {
    const drops = relay.stats().totals.drops;
    assert.equal(drops.notWireguard, rows.filter((r) => !r[2]).length);
    assert.equal(drops.rateLimited + drops.udpQueueFull + drops.backpressure, 0);
  });

  test('22. the session stayed open through all of it', () => {
    assert.equal(relay.stats().activeSessions, 1);
  });
});

describe('endpoint → browser: a connected socket only hears its endpoint', () => {
  let peer: UdpPeer;
  let relay: RelayHandle;
  let client: TestClient;
  let relayPort: number;

  before(async () => {
    peer = await udpPeer(4);
    relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
    client = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`));
    await client.opened;
    relayPort = sessionLocalPort(relay);
  });
  after(async () => {
    client.ws.close();
    await client.closed;
    await relay.close();
    await peer.close();
  });

  test('valid datagrams from the endpoint arrive as one binary message each', async () => {
    for (const [i, len] of [32, 148, 1452].entries()) peer.socket.send(transportMessage(len, i + 1), relayPort, '127.0.0.1');
    await waitUntil(() => client.messages.length === 3, 'three datagrams');
    assert.deepEqual(client.messages.map((m) => [m.length, markerOf(m)]), [[32, 1], [148, 2], [1452, 3]]);
  });

  test('non-WireGuard datagrams from the endpoint are dropped and counted', async () => {
    const before = client.messages.length;
    peer.socket.send(hexBytes('deadbeef'), relayPort, '127.0.0.1');
    peer.socket.send(hexBytes('01000000 (10)00'), relayPort, '127.0.0.1');
    peer.socket.send(transportMessage(40, 77), relayPort, '127.0.0.1');
    await waitUntil(() => client.messages.some((m) => markerOf(m) === 77), 'fence 77');
    assert.equal(client.messages.length, before + 1);
    assert.equal(relay.stats().totals.drops.peerNotWireguard, 2);
  });

  test('datagrams from another port or another socket never reach the client', async () => {
    // Another address (127.0.0.2 is loopback too on Linux) ...
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.2', () => r()));
    const before = client.messages.length;
    // On loopback a completed sendto() has already reached (or been filtered by) the receiving
    // socket, so once these callbacks ran, the endpoint's fence comes after them.
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => new Promise((r) => stranger.send(transportMessage(64, 5000 + i), relayPort, '127.0.0.1', r))),
    );
    // Same address, another port: also filtered.
    const sameHost = await udpPeer(4);
    await new Promise((r) => sameHost.socket.send(transportMessage(64, 6000), relayPort, '127.0.0.1', r));
    await sameHost.close();
    peer.socket.send(transportMessage(64, 88), relayPort, '127.0.0.1');
    await waitUntil(() => client.messages.some((m) => markerOf(m) === 88), 'fence 88');
    const markers = client.messages.slice(before).map(markerOf);
    assert.deepEqual(markers, [88]);
    await new Promise<void>((r) => stranger.close(() => r()));
  });
});

describe('IPv6 endpoints', () => {
  test('a session to [::1]:port forwards both ways', async () => {
    const peer = await udpPeer(6, true);
    const relay = await testRelay({ allow: [`[::1]:${peer.port}`] });
    const client = wsClient(buildRelayUrl(relay.url, `[::1]:${peer.port}`));
    await client.opened;
    await sendBinary(client.ws, transportMessage(96, 6));
    await waitUntil(() => client.messages.length === 1, 'echo over IPv6');
    assert.equal(markerOf(client.messages[0]), 6);
    assert.equal(relay.stats().sessions[0].destination, `[::1]:${peer.port}`);
    client.ws.close();
    await client.closed;
    await relay.close();
    await peer.close();
  });
});

describe('limits', () => {
  let peer: UdpPeer;
  before(async () => {
    peer = await udpPeer(4);
  });
  after(async () => {
    await peer.close();
  });
  const to = (relay: RelayHandle): string => buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`);

  test('a text message closes the session with 1003', async () => {
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
    const c = wsClient(to(relay));
    await c.opened;
    c.ws.send('hello');
    const { code, reason } = await c.closed;
    assert.equal(code, RelayCloseCode.UNSUPPORTED_DATA);
    assert.match(reason, /binary/);
    await relay.close();
  });

  test('a message above --max-message closes with 1009; one at the limit passes', async () => {
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxMessage: 200 });
    const c = wsClient(to(relay));
    await c.opened;
    const before = peer.received.length;
    await sendBinary(c.ws, transportMessage(200, 200));
    await waitUntil(() => peer.received.length === before + 1, 'the 200-byte message');
    c.ws.send(transportMessage(201, 201));
    assert.equal((await c.closed).code, RelayCloseCode.MESSAGE_TOO_BIG);
    await relay.close();
  });

  test('an idle session is closed with IDLE_TIMEOUT', async () => {
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], idleTimeoutMs: 50 });
    const c = wsClient(to(relay));
    await c.opened;
    const { code, reason } = await c.closed;
    assert.equal(code, RelayCloseCode.IDLE_TIMEOUT);
    assert.match(reason, /idle/);
    await waitUntil(() => relay.stats().activeSessions === 0, 'session gone');
    await relay.close();
  });

  test('the token bucket drops datagrams above the rate and counts them (fake clock)', async () => {
    let now = 0;
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxPps: 10, burst: 10, rateAbuseDrops: 1000, now: () => now });
    const c = wsClient(to(relay));
    await c.opened;
    const before = peer.received.length;
    for (let i = 0; i < 30; i++) c.ws.send(transportMessage(32, 300 + i));
    await waitUntil(() => relay.stats().totals.drops.rateLimited + relay.stats().totals.datagramsToPeer === 30, 'all 30 processed');
    await waitUntil(() => peer.received.length === before + 10, 'the 10 that passed');
    assert.equal(relay.stats().totals.drops.rateLimited, 20);
    assert.deepEqual(peer.received.slice(before).map((r) => markerOf(r.data)), Array.from({ length: 10 }, (_, i) => 300 + i));
    // One simulated second later the bucket has 10 tokens again.
    now = 1000;
    for (let i = 0; i < 12; i++) c.ws.send(transportMessage(32, 400 + i));
    await waitUntil(() => relay.stats().totals.drops.rateLimited + relay.stats().totals.datagramsToPeer === 42, 'all 42 processed');
    assert.equal(relay.stats().totals.datagramsToPeer, 20);
    assert.equal(relay.stats().activeSessions, 1, 'dropping is not closing');
    c.ws.close();
    await c.closed;
    await relay.close();
  });

  test('an error while handling a datagram ends that session only, with 1011, and is counted', async () => {
    // The clock throws once, inside the handler of one client datagram (the token bucket reads it).
    let failNext = false;
    const relay = await testRelay({
      allow: [`127.0.0.1:${peer.port}`],
      now: () => {
        if (failNext) {
          failNext = false;
          throw new Error('injected clock failure');
        }
        return 0;
      },
    });
    const victim = wsClient(to(relay));
    const bystander = wsClient(to(relay));
    await Promise.all([victim.opened, bystander.opened]);
    let code: number | undefined;
    void victim.closed.then((c) => (code = c.code));
    failNext = true;
    victim.ws.send(transportMessage(32, 500));
    await waitUntil(() => code !== undefined, 'the victim session closed');
    assert.equal(code, RelayCloseCode.INTERNAL_ERROR);
    assert.equal(relay.stats().internalErrors, 1);
    // The other session still forwards.
    const before = peer.received.length;
    bystander.ws.send(transportMessage(32, 501));
    await waitUntil(() => peer.received.slice(before).some((r) => markerOf(r.data) === 501), 'the bystander datagram');
    assert.equal(relay.stats().activeSessions, 1);
    bystander.ws.close();
    await bystander.closed;
    await relay.close();
  });

  test('sustained flooding far above the rate closes with RATE_LIMITED', async () => {
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxPps: 10, burst: 10, rateAbuseDrops: 5, now: () => 0 });
    const c = wsClient(to(relay));
    await c.opened;
    for (let i = 0; i < 30; i++) c.ws.send(transportMessage(32, i));
    const { code } = await c.closed;
    assert.equal(code, RelayCloseCode.RATE_LIMITED);
    await relay.close();
  });

  test('a browser that stops reading makes the relay drop (and count) instead of buffering', async () => {
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], maxBufferedBytes: 64 * 1024 });
    const raw = await rawClient(relay.port, upgradeRequest(`/wg?to=127.0.0.1%3A${peer.port}`));
    assert.match(await raw.head, /^HTTP\/1\.1 101/);
    raw.socket.pause(); // never read again: the TCP window fills, then ws.bufferedAmount grows
    await waitUntil(() => relay.stats().activeSessions === 1, 'session');
    const port = sessionLocalPort(relay);
    const datagram = transportMessage(1452, 1);
    let sent = 0;
    while (relay.stats().totals.drops.backpressure === 0) {
      assert.ok(sent < 200_000, 'backpressure drops should start well before 290 MB');
      for (let i = 0; i < 100; i++) peer.socket.send(datagram, port, '127.0.0.1');
      sent += 100;
      await new Promise((r) => setTimeout(r, 1));
    }
    const s = relay.stats();
    assert.ok(s.totals.drops.backpressure > 0);
    assert.equal(s.activeSessions, 1, 'the session survives');
    raw.socket.destroy();
    await relay.close();
  });
});

describe('hostile frames after the upgrade', () => {
  test('frames with reserved bits, bad opcodes or a bad close code end that session only', async () => {
    const peer = await udpPeer(4);
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`] });
    const bad = [
      clientFrame(0x2, transportMessage(32, 1), { rsv: 4 }),
      clientFrame(0x3, new Uint8Array(4)),
      clientFrame(0x8, new Uint8Array([0x03, 0xe7])), // close code 999
      clientFrame(0x9, new Uint8Array(200)), // control frame > 125 bytes
      Buffer.from('\x00\x00\x00\x00garbage', 'latin1'), // unmasked garbage
      Buffer.concat([clientFrame(0x2, transportMessage(32, 1), { fin: false }), clientFrame(0x1, new Uint8Array(1))]),
    ];
    for (const frame of bad) {
      const raw = await rawClient(relay.port, upgradeRequest(`/wg?to=127.0.0.1%3A${peer.port}`));
      assert.match(await raw.head, /^HTTP\/1\.1 101/);
      raw.socket.write(frame);
      await raw.ended;
    }
    // The relay is still fine.
    const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`));
    await c.opened;
    await sendBinary(c.ws, transportMessage(32, 9));
    await waitUntil(() => peer.received.some((r) => markerOf(r.data) === 9), 'datagram after the abuse');
    c.ws.close();
    await c.closed;
    await waitUntil(() => relay.stats().activeSessions === 0, 'all sessions closed');
    await relay.close();
    await peer.close();
  });
});
