import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrefix } from '../../src/shared/ip-address.ts';
import { Tunnel, DROP_REASONS, type TunnelResult } from '../../src/wireguard/tunnel.ts';
import { REJECT_AFTER_MESSAGES } from '../../src/wireguard/constants.ts';
import type { Peer } from '../../src/wireguard/peer.ts';
import {
  ALICE_ENDPOINT,
  BOB_ENDPOINT,
  establish,
  eventsOf,
  ipv4Packet,
  ipv6Packet,
  keyPair,
  makePair,
  packetsOf,
  seededRandom,
  shuttle,
} from './helpers.ts';

const T = 1_000_000;

function onlyPeer(t: Tunnel): Peer {
  return [...(t['peers'] as Map<string, Peer>).values()][0];
}

function dropsOf(t: Tunnel): Record<string, number> {
  return Object.fromEntries(Object.entries(t.stats().drops).filter(([, n]) => n > 0));
}

describe('Tunnel: two in-memory peers', () => {
  test('alice initiates, bob responds: both establish, bob is confirmed by alice’s keepalive', () => {
    const { alice, bob } = makePair();
    const trace = establish(alice, bob, T);
    assert.deepEqual(trace.alice.flatMap((r) => r.events.map((e) => e.type)), ['handshake-initiation-sent', 'handshake-response-received', 'session-established', 'keepalive-sent']);
    assert.deepEqual(trace.bob.flatMap((r) => r.events.map((e) => e.type)), [
      'handshake-initiation-received',
      'handshake-response-sent',
      'session-established',
      'session-confirmed',
      'keepalive-received',
    ]);
    const sent = eventsOf(trace.alice, 'handshake-initiation-sent')[0];
    assert.equal(sent.size, 148);
    assert.equal(sent.attempt, 1);
    assert.equal(sent.trigger, 'connect');
    const resp = eventsOf(trace.bob, 'handshake-response-sent')[0];
    assert.equal(resp.size, 92);
    assert.equal(resp.receiverIndex, sent.senderIndex);
    assert.equal(eventsOf(trace.alice, 'session-established')[0].role, 'initiator');
    assert.equal(eventsOf(trace.bob, 'session-established')[0].role, 'responder');
    assert.equal(eventsOf(trace.alice, 'keepalive-sent')[0].size, 32);
    assert.equal(alice.stats().peers[0].latestHandshakeAt, T);
    assert.equal(bob.stats().peers[0].latestHandshakeAt, T);
    assert.deepEqual(dropsOf(alice), {});
    assert.deepEqual(dropsOf(bob), {});
  });

  for (const psk of [undefined, new Uint8Array(32).fill(7)]) {
    test(`IPv4 and IPv6 data flow both ways, padding removed (${psk ? 'with' : 'without'} PSK)`, () => {
      const { alice, bob } = makePair({ psk });
      establish(alice, bob, T);
      for (const [from, to, packet] of [
        [alice, bob, ipv4Packet('10.0.0.1', '10.0.0.2', 1)],
        [bob, alice, ipv4Packet('10.0.0.2', '10.0.0.1', 1000)],
        [alice, bob, ipv6Packet('fd00::1', 'fd00::2', 33)],
        [bob, alice, ipv6Packet('fd00::2', 'fd00::1', 0)],
      ] as const) {
        const r = from.sendPacket(packet, T + 10);
        assert.equal(r.datagrams.length, 1);
        const toEndpoint = from === alice ? ALICE_ENDPOINT : BOB_ENDPOINT;
        const got = to.receiveDatagram(r.datagrams[0].data, toEndpoint, T + 11);
        assert.equal(got.packets.length, 1);
        assert.deepEqual(got.packets[0].data, packet);
        assert.equal(got.packets[0].peer, from.publicKey);
      }
      assert.deepEqual(dropsOf(alice), {});
      assert.deepEqual(dropsOf(bob), {});
    });
  }

  test('transport messages are 32 bytes plus the packet padded to 16, never beyond the MTU', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const cases: [payloadLength: number, expectedDatagram: number][] = [
      [0, 32 + 32], // 28-byte IPv4+UDP packet → 32
      [4, 32 + 32],
      [5, 32 + 48],
      [1392, 32 + 1420], // 1420-byte packet stays 1420
      [1391, 32 + 1420], // 1419 → 1420 (MTU), not 1424
    ];
    for (const [len, size] of cases) {
      const r = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2', len), T + 1);
      assert.equal(r.datagrams[0].data.length, size, `payload ${len}`);
      const got = bob.receiveDatagram(r.datagrams[0].data, ALICE_ENDPOINT, T + 1);
      assert.equal(got.packets[0].data.length, 28 + len);
    }
  });

  test('the responder sends no data before the initiator confirms the session', () => {
    const { alice, bob } = makePair();
    const init = alice.connect(T);
    const resp = bob.receiveDatagram(init.datagrams[0].data, ALICE_ENDPOINT, T);
    assert.equal(resp.datagrams.length, 1, 'just the response');
    const early = bob.sendPacket(ipv4Packet('10.0.0.2', '10.0.0.1', 10, 0x11), T + 1);
    assert.deepEqual(early.datagrams, [], 'no transport and no second handshake: the packet waits');
    assert.equal(bob.stats().peers[0].stagedPackets, 1);
    const confirm = alice.receiveDatagram(resp.datagrams[0].data, BOB_ENDPOINT, T + 2);
    assert.equal(confirm.datagrams.length, 1, 'alice confirms with a keepalive');
    const released = bob.receiveDatagram(confirm.datagrams[0].data, ALICE_ENDPOINT, T + 3);
    assert.deepEqual(released.events.map((e) => e.type), ['session-confirmed', 'keepalive-received']);
    assert.equal(released.datagrams.length, 1, 'the staged packet goes out on confirmation');
    const delivered = alice.receiveDatagram(released.datagrams[0].data, BOB_ENDPOINT, T + 4);
    assert.deepEqual(delivered.packets[0].data, ipv4Packet('10.0.0.2', '10.0.0.1', 10, 0x11));
  });

  test('the initiator’s staged data, not a keepalive, confirms the session when there is some', () => {
    const { alice, bob } = makePair();
    const r = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2', 20), T);
    assert.equal(eventsOf([r], 'handshake-initiation-sent')[0].trigger, 'data');
    const trace = shuttle(alice, bob, r, 'alice', T);
    assert.equal(eventsOf(trace.alice, 'keepalive-sent').length, 0);
    assert.equal(packetsOf(trace.bob).length, 1);
  });

  test('both sides initiating at once still end up with one working session', () => {
    const { alice, bob } = makePair();
    const a = alice.connect(T);
    const b = bob.connect(T);
    const ra = bob.receiveDatagram(a.datagrams[0].data, ALICE_ENDPOINT, T);
    const rb = alice.receiveDatagram(b.datagrams[0].data, BOB_ENDPOINT, T);
    shuttle(alice, bob, ra, 'bob', T);
    shuttle(alice, bob, rb, 'alice', T);
    // Each side consumed the other's initiation, so each side's own initiation is gone: the
    // retransmit timer (5 s + jitter) resolves it, as in the kernel.
    let now = T;
    for (let i = 0; i < 5 && !(alice.stats().peers[0].session === 'established' && bob.stats().peers[0].session === 'established'); i++) {
      now = Math.min(alice.nextWakeAt(), bob.nextWakeAt());
      shuttle(alice, bob, alice.tick(now), 'alice', now);
      shuttle(alice, bob, bob.tick(now), 'bob', now);
    }
    const data = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), now + 1);
    assert.equal(packetsOf(shuttle(alice, bob, data, 'alice', now + 1).bob).length, 1);
    const back = bob.sendPacket(ipv4Packet('10.0.0.2', '10.0.0.1'), now + 2);
    assert.equal(packetsOf(shuttle(alice, bob, back, 'bob', now + 2).alice).length, 1);
    assert.ok(now - T < 6000, `resolved within one retransmit (${now - T} ms)`);
  });
});

describe('Tunnel: cryptokey routing and roaming', () => {
  test('a packet whose inner source is not in the sender’s AllowedIPs is dropped', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const spoofed = bob.sendPacket(ipv4Packet('10.0.0.99', '10.0.0.1'), T + 1);
    const r = alice.receiveDatagram(spoofed.datagrams[0].data, BOB_ENDPOINT, T + 1);
    assert.deepEqual(r.packets, []);
    assert.equal(alice.stats().drops['source-not-allowed'], 1);
    const spoofed6 = bob.sendPacket(ipv6Packet('fd00::99', 'fd00::1'), T + 2);
    alice.receiveDatagram(spoofed6.datagrams[0].data, BOB_ENDPOINT, T + 2);
    assert.equal(alice.stats().drops['source-not-allowed'], 2);
  });

  test('outgoing packets go to the peer with the longest matching prefix, or nowhere', () => {
    const random = seededRandom(11);
    const me = keyPair(random);
    const wide = keyPair(random);
    const narrow = keyPair(random);
    const make = () =>
      new Tunnel(
        {
          privateKey: me.privateKey,
          peers: [
            { publicKey: wide.publicKey, endpoint: { host: '192.0.2.10', port: 1 }, allowedIPs: [parsePrefix('10.0.0.0/8'), parsePrefix('::/0')] },
            { publicKey: narrow.publicKey, endpoint: { host: '192.0.2.20', port: 2 }, allowedIPs: [parsePrefix('10.1.0.0/16'), parsePrefix('fd00:1::/32')] },
          ],
        },
        { randomBytes: seededRandom(12), wallClockOffsetMs: 1e12 },
      );
    // No session yet: the first packet to a peer starts a handshake with that peer's endpoint.
    const to = (p: Uint8Array) => make().sendPacket(p, T).datagrams[0]?.endpoint.host;
    assert.equal(to(ipv4Packet('10.0.0.1', '10.1.2.3')), '192.0.2.20');
    assert.equal(to(ipv4Packet('10.0.0.1', '10.2.2.3')), '192.0.2.10');
    assert.equal(to(ipv6Packet('fd00::1', 'fd00:1::5')), '192.0.2.20');
    assert.equal(to(ipv6Packet('fd00::1', '2001:db8::5')), '192.0.2.10');
    const t = make();
    assert.equal(t.sendPacket(ipv4Packet('10.0.0.1', '192.168.0.1'), T).datagrams.length, 0);
    assert.equal(t.stats().drops['no-route'], 1);
    for (const junk of [new Uint8Array(0), new Uint8Array(19).fill(0x45), new Uint8Array(39).fill(0x60), new Uint8Array(40).fill(0x20)]) t.sendPacket(junk, T);
    assert.equal(t.stats().drops['not-ip'], 4);
  });

  test('authenticated packets from a new address move the endpoint (roaming)', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const moved = { host: '203.0.113.9', port: 40000 };
    const r = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T + 1);
    const got = bob.receiveDatagram(r.datagrams[0].data, moved, T + 1);
    assert.deepEqual(eventsOf([got], 'endpoint-changed')[0].to, moved);
    assert.deepEqual(bob.sendPacket(ipv4Packet('10.0.0.2', '10.0.0.1'), T + 2).datagrams[0].endpoint, moved);
    assert.deepEqual(bob.stats().peers[0].endpoint, moved);
    // A forged datagram from elsewhere does not move it.
    const forged = r.datagrams[0].data.slice();
    forged[40] ^= 1;
    bob.receiveDatagram(forged, { host: '198.18.0.1', port: 1 }, T + 3);
    assert.deepEqual(bob.stats().peers[0].endpoint, moved);
  });

  test('a responder without a configured endpoint learns it from the initiation', () => {
    const { alice, bob } = makePair({ bobKnowsAlice: false });
    assert.equal(bob.sendPacket(ipv4Packet('10.0.0.2', '10.0.0.1'), T).datagrams.length, 0);
    assert.equal(bob.stats().drops['no-endpoint'], 1);
    assert.throws(() => bob.connect(T, alice.publicKey), /no Endpoint/);
    assert.deepEqual(bob.connect(T).datagrams, [], 'connect() without a key skips peers without endpoint');
    establish(alice, bob, T);
    assert.deepEqual(bob.stats().peers[0].endpoint, ALICE_ENDPOINT);
    assert.equal(bob.sendPacket(ipv4Packet('10.0.0.2', '10.0.0.1'), T + 1).datagrams.length, 1);
  });
});

describe('Tunnel: drops are counted, never thrown', () => {
  test('replayed, tampered and misaddressed transport messages', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const r = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T + 1);
    const msg = r.datagrams[0].data;
    const copy = msg.slice();
    assert.equal(bob.receiveDatagram(msg, ALICE_ENDPOINT, T + 1).packets.length, 1);
    assert.deepEqual(msg, copy, 'the caller’s datagram is not modified');
    assert.equal(bob.receiveDatagram(msg, ALICE_ENDPOINT, T + 2).packets.length, 0);
    assert.equal(bob.stats().drops.replayed, 1);
    const tampered = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T + 3).datagrams[0].data;
    tampered[tampered.length - 1] ^= 0x80;
    bob.receiveDatagram(tampered, ALICE_ENDPOINT, T + 3);
    assert.equal(bob.stats().drops['decrypt-failed'], 1);
    const wrongIndex = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T + 4).datagrams[0].data;
    wrongIndex[4] ^= 0xff;
    bob.receiveDatagram(wrongIndex, ALICE_ENDPOINT, T + 4);
    assert.equal(bob.stats().drops['unknown-index'], 1);
    // The tampered message did not burn its counter: the untampered original still decrypts.
    assert.deepEqual(dropsOf(bob), { replayed: 1, 'decrypt-failed': 1, 'unknown-index': 1 });
  });

  test('decryptInPlace: the packet is a view of the datagram, decrypted over it; failures leave it unchanged', () => {
    const { alice, bob } = makePair({ bob: { decryptInPlace: true } });
    establish(alice, bob, T);
    const sent = ipv4Packet('10.0.0.1', '10.0.0.2');
    // The datagram sits at an odd offset of a bigger buffer, as in a relay batch (unaligned words).
    const msg = alice.sendPacket(sent, T + 1).datagrams[0].data;
    const batch = new Uint8Array(msg.length + 3);
    batch.set(msg, 3);
    const inBatch = batch.subarray(3);
    const got = bob.receiveDatagram(inBatch, ALICE_ENDPOINT, T + 1).packets;
    assert.equal(got.length, 1);
    assert.deepEqual(got[0].data, sent);
    assert.equal(got[0].data.buffer, batch.buffer, 'no new buffer for the packet');
    assert.equal(got[0].data.byteOffset, 3 + 16, 'the plaintext replaced the ciphertext after the 16-byte header');
    // A replay of the (now overwritten) datagram is still refused by its counter.
    assert.equal(bob.receiveDatagram(inBatch, ALICE_ENDPOINT, T + 2).packets.length, 0);
    assert.equal(bob.stats().drops.replayed, 1);
    // A forgery is refused and not decrypted: the caller's bytes stay exactly as received.
    const tampered = alice.sendPacket(sent, T + 3).datagrams[0].data;
    tampered[20] ^= 0x01;
    const before = tampered.slice();
    assert.equal(bob.receiveDatagram(tampered, ALICE_ENDPOINT, T + 3).packets.length, 0);
    assert.deepEqual(tampered, before);
    assert.equal(bob.stats().drops['decrypt-failed'], 1);
    // Without the option the datagram is left alone and the packet is a buffer of its own.
    const { alice: a2, bob: b2 } = makePair();
    establish(a2, b2, T);
    const m2 = a2.sendPacket(sent, T + 1).datagrams[0].data;
    const p2 = b2.receiveDatagram(m2, ALICE_ENDPOINT, T + 1).packets[0].data;
    assert.notEqual(p2.buffer, m2.buffer);
  });

  test('out-of-order delivery inside the window is accepted', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const msgs = Array.from({ length: 50 }, (_, i) => alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2', i), T + 1).datagrams[0].data);
    const order = msgs.map((_, i) => i).sort((a, b) => ((a * 7919) % 50) - ((b * 7919) % 50));
    let delivered = 0;
    for (const i of order) delivered += bob.receiveDatagram(msgs[i], ALICE_ENDPOINT, T + 2).packets.length;
    assert.equal(delivered, 50);
  });

  test('an initiation from an unknown key, a bad MAC1, a stale timestamp and an orphan response', () => {
    const { alice, bob } = makePair();
    const random = seededRandom(77);
    const stranger = keyPair(random);
    const s = new Tunnel(
      { privateKey: stranger.privateKey, peers: [{ publicKey: bob['identity'].publicKey, endpoint: BOB_ENDPOINT, allowedIPs: [] }] },
      { randomBytes: seededRandom(78), wallClockOffsetMs: 1e12 },
    );
    bob.receiveDatagram(s.connect(T).datagrams[0].data, { host: '192.0.2.99', port: 9 }, T);
    assert.equal(bob.stats().drops['unknown-peer'], 1);

    const init = alice.connect(T).datagrams[0].data;
    const badMac = init.slice();
    badMac[120] ^= 1;
    bob.receiveDatagram(badMac, ALICE_ENDPOINT, T);
    assert.equal(bob.stats().drops['bad-mac1'], 1);

    const resp = bob.receiveDatagram(init, ALICE_ENDPOINT, T);
    assert.equal(resp.datagrams.length, 1);
    bob.receiveDatagram(init, ALICE_ENDPOINT, T + 1000);
    assert.equal(bob.stats().drops['stale-timestamp'], 1, 'a replayed initiation is refused');

    alice.receiveDatagram(resp.datagrams[0].data, BOB_ENDPOINT, T);
    alice.receiveDatagram(resp.datagrams[0].data, BOB_ENDPOINT, T);
    assert.equal(alice.stats().drops['unknown-index'], 1, 'a response can only complete one handshake');
  });

  test('garbage datagrams of every size and type are dropped and counted exactly once (seeded fuzz)', () => {
    const { alice, bob } = makePair({ seed: 21 });
    const trace = establish(alice, bob, T);
    const valid: Uint8Array[] = [
      ...trace.alice.flatMap((r) => r.datagrams.map((d) => d.data)),
      ...trace.bob.flatMap((r) => r.datagrams.map((d) => d.data)),
      alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2', 100), T).datagrams[0].data,
    ];
    const random = seededRandom(0xf00d);
    const inputs: Uint8Array[] = [];
    for (let size = 0; size <= 200; size++) inputs.push(random(size));
    for (const type of [1, 2, 3, 4]) {
      for (const size of [3, 4, 31, 32, 63, 64, 65, 91, 92, 93, 147, 148, 149, 1500]) {
        const d = random(size);
        if (size > 0) d[0] = type;
        if (size > 3) d[1] = d[2] = d[3] = 0;
        inputs.push(d);
      }
    }
    for (let i = 0; i < 600; i++) {
      const base = valid[i % valid.length].slice();
      const flips = 1 + (random(1)[0] % 4);
      for (let f = 0; f < flips; f++) {
        const pos = (random(2)[0] | (random(2)[1] << 8)) % base.length;
        base[pos] ^= 1 << random(1)[0] % 8;
      }
      inputs.push(random(1)[0] % 5 === 0 ? base.subarray(0, random(1)[0] % base.length) : base);
    }
    const before = Object.values(bob.stats().drops).reduce((a, b) => a + b, 0);
    let packets = 0;
    for (const d of inputs) {
      let r: TunnelResult | undefined;
      assert.doesNotThrow(() => (r = bob.receiveDatagram(d, ALICE_ENDPOINT, T + 5)));
      packets += r!.packets.length;
    }
    const s = bob.stats();
    const after = Object.values(s.drops).reduce((a, b) => a + b, 0);
    assert.equal(s.drops['internal-error'], 0, s.lastInternalError);
    // Stale handshake messages are answered or dropped; every other input is exactly one drop.
    // Mutations that flip only bits the receiver never reads are impossible here: every byte of
    // a WireGuard message is authenticated or checked, so nothing mutated may come through.
    assert.equal(packets, 0);
    assert.equal(after - before, inputs.length, JSON.stringify(dropsOf(bob)));
  });

  test('every drop reason is listed in stats, all starting at zero', () => {
    const { alice } = makePair();
    assert.deepEqual(Object.keys(alice.stats().drops).sort(), [...DROP_REASONS].sort());
    assert.ok(Object.values(alice.stats().drops).every((n) => n === 0));
  });
});

describe('Tunnel: cookies under load (paper §5.3)', () => {
  test('under load: cookie reply, retry with MAC2 accepted', () => {
    const { alice, bob } = makePair({ bob: { underLoad: () => true } });
    const init = alice.connect(T);
    const r = bob.receiveDatagram(init.datagrams[0].data, ALICE_ENDPOINT, T);
    assert.equal(r.datagrams.length, 1);
    assert.equal(r.datagrams[0].data.length, 64);
    assert.equal(r.datagrams[0].data[0], 3);
    assert.equal(r.datagrams[0].peer, '');
    assert.equal(eventsOf([r], 'cookie-reply-sent')[0].receiverIndex, eventsOf([init], 'handshake-initiation-sent')[0].senderIndex);
    assert.equal(bob.stats().drops['cookie-required'], 1);

    const c = alice.receiveDatagram(r.datagrams[0].data, BOB_ENDPOINT, T + 1);
    assert.equal(eventsOf([c], 'cookie-reply-received').length, 1);
    assert.equal(alice.stats().peers[0].hasCookie, true);
    assert.deepEqual(c.datagrams, [], 'the initiator waits for its retransmit timer');

    const retryAt = alice.nextWakeAt();
    assert.ok(retryAt >= T + 5000 && retryAt < T + 5334);
    const retry = alice.tick(retryAt);
    const sent = eventsOf([retry], 'handshake-initiation-sent')[0];
    assert.equal(sent.mac2, true);
    assert.equal(sent.attempt, 2);
    const trace = shuttle(alice, bob, retry, 'alice', retryAt);
    assert.equal(eventsOf(trace.alice, 'session-established').length, 1);
    assert.equal(eventsOf(trace.bob, 'session-confirmed').length, 1);
    assert.equal(eventsOf(trace.bob, 'handshake-response-sent')[0].mac2, false, 'bob has no cookie from alice');
  });

  test('a wrong MAC2 under load is answered with a cookie and counted as bad-mac2', () => {
    const { alice, bob } = makePair({ bob: { underLoad: () => true } });
    const init = alice.connect(T).datagrams[0].data;
    const cookie = bob.receiveDatagram(init, ALICE_ENDPOINT, T).datagrams[0].data;
    alice.receiveDatagram(cookie, BOB_ENDPOINT, T);
    const retry = alice.tick(alice.nextWakeAt()).datagrams[0].data;
    // Same cookie, different source port: the MAC2 does not match this source.
    const r = bob.receiveDatagram(retry, { host: ALICE_ENDPOINT.host, port: 1 }, T + 6000);
    assert.equal(r.datagrams[0].data[0], 3);
    assert.equal(bob.stats().drops['bad-mac2'], 1);
  });

  test('load is detected from the handshake rate itself, and sources with cookies are rate limited', () => {
    const { alice, bob } = makePair();
    const init = alice.connect(T).datagrams[0].data;
    bob.receiveDatagram(init, ALICE_ENDPOINT, T);
    assert.equal(bob.stats(T).underLoad, false);
    // A burst of replayed initiations (valid MAC1, stale timestamp) pushes bob over the threshold.
    for (let i = 0; i < 40; i++) bob.receiveDatagram(init, ALICE_ENDPOINT, T + i);
    assert.equal(bob.stats(T + 40).underLoad, true);
    const answer = bob.receiveDatagram(init, ALICE_ENDPOINT, T + 41);
    assert.equal(answer.datagrams[0].data[0], 3, 'under load, no MAC2: cookie reply');
    assert.equal(bob.stats(T + 3000).underLoad, false, 'load ends a second after the burst');

    // With a cookie, one source gets a burst of 5 and then 20 per second.
    alice.receiveDatagram(answer.datagrams[0].data, BOB_ENDPOINT, T + 42);
    const withMac2 = alice.tick(alice.nextWakeAt()).datagrams[0].data;
    const now = T + 5500;
    for (let i = 0; i < 40; i++) bob.receiveDatagram(init, ALICE_ENDPOINT, now);
    const before = bob.stats().drops['rate-limited'];
    for (let i = 0; i < 10; i++) bob.receiveDatagram(withMac2, ALICE_ENDPOINT, now);
    assert.equal(bob.stats().drops['rate-limited'] - before, 5);
  });
});

describe('Tunnel: message limits', () => {
  test('after REKEY_AFTER_MESSAGES the sender starts a new handshake; at REJECT_AFTER_MESSAGES it stops using the key', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const kp = onlyPeer(alice).current!;
    kp.setSendCounter(2n ** 60n + 1n);
    // (More than REKEY_TIMEOUT after the first handshake, so a new initiation may go out.)
    const r = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T + 6000);
    assert.equal(r.datagrams.length, 2, 'the data, then an initiation');
    assert.equal(eventsOf([r], 'rekey-started')[0].reason, 'rekey-after-messages');
    assert.equal(bob.receiveDatagram(r.datagrams[0].data, ALICE_ENDPOINT, T + 6000).packets.length, 1, 'a 2^60+1 counter is fine');

    kp.setSendCounter(REJECT_AFTER_MESSAGES - 1n);
    const last = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T + 6020);
    assert.equal(last.datagrams.length, 1, 'the last allowed counter is used');
    assert.equal(bob.receiveDatagram(last.datagrams[0].data, ALICE_ENDPOINT, T + 6020).packets.length, 1);
    const after = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T + 6030);
    assert.equal(after.datagrams.length, 0, 'exhausted: staged, handshake rate-limited');
    assert.equal(alice.stats().peers[0].stagedPackets, 1);
  });

  test('the staged queue is bounded: the oldest packets are dropped first', () => {
    const random = seededRandom(31);
    const me = keyPair(random);
    const peer = keyPair(random);
    const t = new Tunnel({ privateKey: me.privateKey, peers: [{ publicKey: peer.publicKey, endpoint: BOB_ENDPOINT, allowedIPs: [parsePrefix('10.0.0.0/8')] }] }, { randomBytes: seededRandom(32), wallClockOffsetMs: 1e12 });
    for (let i = 0; i < 130; i++) t.sendPacket(ipv4Packet('10.9.9.9', '10.0.0.2', i), T);
    assert.equal(t.stats().drops['queue-full'], 2);
    assert.equal(t.stats().peers[0].stagedPackets, 128);
  });
});

describe('Tunnel: configuration and lifecycle', () => {
  test('bad caller input throws TypeError/RangeError with the field named', () => {
    const random = seededRandom(41);
    const me = keyPair(random);
    const other = keyPair(random);
    assert.throws(() => new Tunnel({ privateKey: new Uint8Array(31), peers: [] }), /private key must be 32 bytes/);
    assert.throws(() => new Tunnel({ privateKey: me.privateKey, peers: [{ publicKey: new Uint8Array(3), allowedIPs: [] }] }), /PublicKey must be 32 bytes/);
    assert.throws(() => new Tunnel({ privateKey: me.privateKey, peers: [{ publicKey: me.publicKey, allowedIPs: [] }] }), /own public key/);
    assert.throws(() => new Tunnel({ privateKey: me.privateKey, peers: [{ publicKey: new Uint8Array(32), allowedIPs: [] }] }), /low-order/);
    assert.throws(
      () =>
        new Tunnel({
          privateKey: me.privateKey,
          peers: [
            { publicKey: other.publicKey, allowedIPs: [] },
            { publicKey: other.publicKey, allowedIPs: [] },
          ],
        }),
      /already configured/,
    );
    assert.throws(() => new Tunnel({ privateKey: me.privateKey, peers: [{ publicKey: other.publicKey, allowedIPs: [], persistentKeepalive: 70000 }] }), /PersistentKeepalive/);
    assert.throws(() => new Tunnel({ privateKey: me.privateKey, peers: [{ publicKey: other.publicKey, allowedIPs: [], endpoint: { host: 'x', port: 0 } }] }), /port/);
    assert.throws(() => new Tunnel({ privateKey: me.privateKey, peers: [{ publicKey: other.publicKey, presharedKey: new Uint8Array(8), allowedIPs: [] }] }), /PresharedKey/);
    assert.throws(() => new Tunnel({ privateKey: me.privateKey, peers: [] }, { mtu: 10 }), RangeError);
    const t = new Tunnel({ privateKey: me.privateKey, peers: [] });
    assert.throws(() => t.sendPacket('x' as unknown as Uint8Array, 0), TypeError);
    assert.throws(() => t.receiveDatagram(null as unknown as Uint8Array, ALICE_ENDPOINT, 0), TypeError);
    assert.throws(() => t.connect(0, 'nobody'), /no peer/);
    assert.throws(() => t.removePeer('nobody'), RangeError);
  });

  test('peers can be added and removed at runtime; removal frees their sessions', () => {
    const { alice, bob, aliceKey, bobKey } = makePair();
    establish(alice, bob, T);
    bob.removePeer(alice.publicKey);
    assert.deepEqual(bob.stats().peers, []);
    const r = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T + 1);
    bob.receiveDatagram(r.datagrams[0].data, ALICE_ENDPOINT, T + 1);
    assert.equal(bob.stats().drops['unknown-index'], 1);
    assert.equal(bob.sendPacket(ipv4Packet('10.0.0.2', '10.0.0.1'), T + 1).datagrams.length, 0);
    assert.equal(bob.stats().drops['no-route'], 1);
    const id = bob.addPeer({ publicKey: aliceKey.publicKey, allowedIPs: [parsePrefix('10.0.0.1/32')] });
    assert.equal(id, alice.publicKey);
    assert.notEqual(bobKey, undefined);
    // alice's next initiation (after REKEY_TIMEOUT) works with the re-added peer.
    const again = alice.connect(T + 6000);
    const trace = shuttle(alice, bob, again, 'alice', T + 6000);
    assert.equal(eventsOf(trace.bob, 'session-confirmed').length, 1);
  });

  test('stats report wg-show data', () => {
    const { alice, bob } = makePair({ psk: new Uint8Array(32).fill(1), aliceKeepalive: 25 });
    establish(alice, bob, T);
    const s = alice.stats(T + 500);
    assert.equal(s.publicKey, alice.publicKey);
    assert.equal(s.mtu, 1420);
    const p = s.peers[0];
    assert.equal(p.publicKey, bob.publicKey);
    assert.deepEqual(p.endpoint, BOB_ENDPOINT);
    assert.deepEqual(p.allowedIPs.map((x) => `${x.address.join('.')}/${x.prefixLength}`).slice(0, 1), ['10.0.0.2/32']);
    assert.equal(p.hasPresharedKey, true);
    assert.equal(p.persistentKeepalive, 25);
    assert.equal(p.latestHandshakeAt, T);
    assert.equal(p.currentKeyAgeMs, 500);
    assert.equal(p.session, 'established');
    assert.equal(p.txBytes, 148 + 32);
    assert.equal(p.rxBytes, 92);
  });

  test('close() zeroes keys and turns every later call into a counted no-op', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const kp = onlyPeer(alice).current!;
    const priv = alice['identity'].privateKey as Uint8Array;
    alice.close();
    assert.ok(priv.every((b) => b === 0), 'static private key zeroed');
    assert.ok((kp['sendKey'] as Uint8Array).every((b) => b === 0), 'transport key zeroed');
    assert.equal(alice.nextWakeAt(), Infinity);
    assert.deepEqual(alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T).datagrams, []);
    assert.deepEqual(alice.receiveDatagram(new Uint8Array(40), BOB_ENDPOINT, T).packets, []);
    assert.equal(alice.stats().drops.closed, 2);
    assert.deepEqual(alice.tick(T).datagrams, []);
  });
});
