import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PeerTimers } from '../../src/wireguard/timers.ts';
import {
  KEEPALIVE_TIMEOUT_MS,
  REJECT_AFTER_TIME_MS,
  REKEY_AFTER_TIME_MS,
  REKEY_ATTEMPT_TIME_MS,
  REKEY_TIMEOUT_MS,
} from '../../src/wireguard/constants.ts';
import type { Tunnel, TunnelResult } from '../../src/wireguard/tunnel.ts';
import { ALICE_ENDPOINT, BOB_ENDPOINT, establish, eventsOf, ipv4Packet, makePair, shuttle } from './helpers.ts';

const T = 1_000_000;
const toBob = (alice: Tunnel, now: number) => alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), now);
const toAlice = (bob: Tunnel, now: number) => bob.sendPacket(ipv4Packet('10.0.0.2', '10.0.0.1'), now);

describe('PeerTimers', () => {
  test('hooks arm and disarm deadlines like the kernel', () => {
    const t = new PeerTimers(() => 100, 25_000);
    t.dataSent(0);
    assert.equal(t.newHandshake, KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS + 100);
    t.dataSent(5_000);
    assert.equal(t.newHandshake, 15_100, 'not re-armed while pending');
    t.anyAuthenticatedPacketReceived();
    assert.equal(t.newHandshake, Infinity);
    t.dataReceived(1_000);
    assert.equal(t.sendKeepalive, 11_000);
    t.dataReceived(2_000);
    assert.equal(t.needAnotherKeepalive, true);
    t.anyAuthenticatedPacketSent();
    assert.equal(t.sendKeepalive, Infinity);
    t.anyAuthenticatedPacketTraversal(3_000);
    assert.equal(t.persistentKeepalive, 28_000);
    t.handshakeInitiated(4_000);
    assert.equal(t.retransmitHandshake, 9_100);
    t.sessionDerived(4_000);
    assert.equal(t.zeroKeyMaterial, 4_000 + 3 * REJECT_AFTER_TIME_MS);
    assert.equal(t.next(), 9_100);
    assert.equal(t.takeDue(9_099), undefined);
    assert.equal(t.takeDue(30_000), 'retransmitHandshake');
    assert.equal(t.takeDue(30_000), 'persistentKeepalive');
    assert.equal(t.takeDue(30_000), undefined);
    t.stopAll();
    assert.equal(t.next(), Infinity);
  });
});

describe('protocol timers under a fake clock', () => {
  test('unanswered initiations are retried every REKEY_TIMEOUT + [0, 334) ms and abandoned after REKEY_ATTEMPT_TIME', () => {
    for (const seed of [1, 2, 3]) {
      const { alice } = makePair({ seed });
      alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2'), T); // staged; bob never answers
      const sends = [T];
      const results: TunnelResult[] = [];
      let failedAt: number | undefined;
      for (let i = 0; i < 40 && failedAt === undefined; i++) {
        const now = alice.nextWakeAt();
        const r = alice.tick(now);
        results.push(r);
        for (const e of eventsOf([r], 'handshake-initiation-sent')) sends.push(e.at);
        if (eventsOf([r], 'handshake-failed').length) failedAt = now;
      }
      assert.ok(failedAt !== undefined, 'gave up');
      const intervals = sends.slice(1).map((s, i) => s - sends[i]);
      for (const d of intervals) assert.ok(d >= REKEY_TIMEOUT_MS && d < REKEY_TIMEOUT_MS + 334, `retry interval ${d}`);
      assert.ok(new Set(intervals).size > 1, 'jitter varies');
      assert.ok(failedAt - T >= REKEY_ATTEMPT_TIME_MS && failedAt - T < REKEY_ATTEMPT_TIME_MS + REKEY_TIMEOUT_MS + 334, `gave up after ${failedAt - T} ms`);
      assert.ok(sends.at(-1)! - T < REKEY_ATTEMPT_TIME_MS, 'no initiation after REKEY_ATTEMPT_TIME');
      const failed = eventsOf(results, 'handshake-failed')[0];
      assert.equal(failed.attempts, sends.length);
      assert.equal(failed.message, "no handshake response from 198.51.100.2:51821: check the peer's PublicKey, Endpoint and firewall");
      const retries = eventsOf(results, 'handshake-retry');
      assert.equal(retries.length, sends.length - 1);
      assert.deepEqual(retries.map((e) => e.attempt), sends.slice(1).map((_, i) => i + 2));
      assert.deepEqual(eventsOf(results, 'handshake-initiation-sent').map((e) => e.trigger), sends.slice(1).map(() => 'retry'));
      assert.equal(alice.stats().drops.flushed, 1, 'the staged packet is dropped on giving up');
      assert.equal(alice.stats().peers[0].stagedPackets, 0);
      // Residue of the attempt is erased 3 × REJECT_AFTER_TIME later; nothing else happens meanwhile.
      assert.equal(alice.nextWakeAt(), failedAt + 3 * REJECT_AFTER_TIME_MS);
      assert.equal(eventsOf([alice.tick(alice.nextWakeAt())], 'keys-zeroed').length, 1);
      assert.equal(alice.nextWakeAt(), Infinity);
    }
  });

  test('a passive keepalive goes out KEEPALIVE_TIMEOUT after receiving data when nothing was sent back', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    bob.receiveDatagram(toBob(alice, T + 1000).datagrams[0].data, ALICE_ENDPOINT, T + 1000);
    assert.equal(bob.nextWakeAt(), T + 1000 + KEEPALIVE_TIMEOUT_MS);
    assert.deepEqual(bob.tick(T + 1000 + KEEPALIVE_TIMEOUT_MS - 1).datagrams, []);
    const r = bob.tick(T + 1000 + KEEPALIVE_TIMEOUT_MS);
    const ka = eventsOf([r], 'keepalive-sent');
    assert.equal(ka.length, 1);
    assert.equal(ka[0].reason, 'passive');
    assert.equal(r.datagrams[0].data.length, 32);
    assert.equal(eventsOf([alice.receiveDatagram(r.datagrams[0].data, BOB_ENDPOINT, T + 11_000)], 'keepalive-received').length, 1);
  });

  test('no passive keepalive when data went back in time', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    bob.receiveDatagram(toBob(alice, T + 1000).datagrams[0].data, ALICE_ENDPOINT, T + 1000);
    toAlice(bob, T + 2000);
    assert.deepEqual(bob.tick(T + 11_000).datagrams, []);
  });

  test('data sent without hearing back for KEEPALIVE + REKEY_TIMEOUT (+ jitter) starts a new handshake', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    toBob(alice, T + 1000); // lost
    const at = alice.nextWakeAt();
    assert.ok(at >= T + 1000 + KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS && at < T + 1000 + 15_334, `${at - T}`);
    const r = alice.tick(at);
    assert.equal(eventsOf([r], 'rekey-started')[0].reason, 'no-reply');
    assert.equal(eventsOf([r], 'handshake-initiation-sent')[0].trigger, 'no-reply');
  });

  test('hearing back (e.g. the peer’s passive keepalive) cancels that new handshake', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    bob.receiveDatagram(toBob(alice, T + 1000).datagrams[0].data, ALICE_ENDPOINT, T + 1000);
    const ka = bob.tick(T + 11_000);
    alice.receiveDatagram(ka.datagrams[0].data, BOB_ENDPOINT, T + 11_000);
    const r = alice.tick(T + 16_400);
    assert.equal(eventsOf([r], 'handshake-initiation-sent').length, 0);
  });

  test('the initiator rekeys when sending with a key older than REKEY_AFTER_TIME; the responder does not', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const before = toBob(alice, T + REKEY_AFTER_TIME_MS - 1);
    assert.equal(before.datagrams.length, 1);
    const inFlight = toBob(alice, T + REKEY_AFTER_TIME_MS + 1);
    assert.equal(inFlight.datagrams.length, 2, 'data, then an initiation');
    const rekey = eventsOf([inFlight], 'rekey-started')[0];
    assert.equal(rekey.reason, 'rekey-after-time');
    assert.equal(rekey.keyAgeMs, REKEY_AFTER_TIME_MS + 1);
    assert.equal(toAlice(bob, T + REKEY_AFTER_TIME_MS + 1).datagrams.length, 1, 'responder: data only');

    // Complete the rekey; the data sent with the old key just before still decrypts (previous keypair).
    const trace = shuttle(alice, bob, { datagrams: [inFlight.datagrams[1]], packets: [], events: [] }, 'alice', T + REKEY_AFTER_TIME_MS + 2);
    assert.equal(eventsOf(trace.bob, 'session-confirmed').length, 1);
    assert.equal(bob.receiveDatagram(inFlight.datagrams[0].data, ALICE_ENDPOINT, T + REKEY_AFTER_TIME_MS + 3).packets.length, 1);
    const after = toBob(alice, T + REKEY_AFTER_TIME_MS + 4);
    assert.equal(after.datagrams.length, 1);
    assert.equal(bob.receiveDatagram(after.datagrams[0].data, ALICE_ENDPOINT, T + REKEY_AFTER_TIME_MS + 4).packets.length, 1);
    assert.equal(alice.stats().peers[0].currentKeyAgeMs, 4 - 2);
  });

  test('keys older than REJECT_AFTER_TIME are refused both ways; the sender starts a handshake', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const late = toAlice(bob, T + REJECT_AFTER_TIME_MS - 1000);
    assert.equal(alice.receiveDatagram(late.datagrams[0].data, BOB_ENDPOINT, T + REJECT_AFTER_TIME_MS).packets.length, 0);
    assert.equal(alice.stats().drops['expired-key'], 1);
    const r = toAlice(bob, T + REJECT_AFTER_TIME_MS);
    assert.equal(r.datagrams.length, 1);
    assert.equal(r.datagrams[0].data.length, 148, 'an initiation, not transport');
    assert.equal(eventsOf([r], 'rekey-started')[0].reason, 'key-expired');
    assert.equal(bob.stats(T + REJECT_AFTER_TIME_MS).peers[0].session, 'handshaking');
    // bob is the initiator this time: its staged packet goes out right after the response.
    const trace = shuttle(alice, bob, r, 'bob', T + REJECT_AFTER_TIME_MS);
    assert.equal(trace.alice.flatMap((x) => x.packets).length, 1);
  });

  test('an initiator receiving with a key close to REJECT_AFTER_TIME starts one handshake', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const limit = REJECT_AFTER_TIME_MS - KEEPALIVE_TIMEOUT_MS - REKEY_TIMEOUT_MS;
    const early = alice.receiveDatagram(toAlice(bob, T + limit).datagrams[0].data, BOB_ENDPOINT, T + limit);
    assert.equal(early.datagrams.length, 0);
    const r = alice.receiveDatagram(toAlice(bob, T + limit + 1).datagrams[0].data, BOB_ENDPOINT, T + limit + 1);
    assert.equal(eventsOf([r], 'rekey-started')[0].reason, 'rekey-before-reject');
    assert.equal(r.datagrams.length, 1);
    const again = alice.receiveDatagram(toAlice(bob, T + limit + 6000).datagrams[0].data, BOB_ENDPOINT, T + limit + 6000);
    assert.equal(eventsOf([again], 'rekey-started').length, 0, 'only once per session');
  });

  test('PersistentKeepalive: handshake at once, then a keepalive every interval while idle', () => {
    const { alice, bob } = makePair({ aliceKeepalive: 25 });
    assert.ok(alice.nextWakeAt() <= T, 'due immediately, as wg does when the interface comes up');
    const first = alice.tick(T);
    assert.equal(eventsOf([first], 'handshake-initiation-sent')[0].trigger, 'persistent-keepalive');
    const trace = shuttle(alice, bob, first, 'alice', T);
    assert.deepEqual(eventsOf(trace.alice, 'keepalive-sent').map((e) => e.reason), ['persistent']);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const now = alice.nextWakeAt();
      const r = alice.tick(now);
      for (const e of eventsOf([r], 'keepalive-sent')) {
        assert.equal(e.reason, 'persistent');
        times.push(now);
      }
      for (const d of r.datagrams) bob.receiveDatagram(d.data, ALICE_ENDPOINT, now);
    }
    assert.deepEqual(times, [T + 25_000, T + 50_000, T + 75_000]);
    // Any authenticated traffic postpones it by a full interval.
    const now = T + 80_000;
    bob.receiveDatagram(toBob(alice, now).datagrams[0].data, ALICE_ENDPOINT, now);
    const peer = [...(alice['peers'] as Map<string, { timers: PeerTimers }>).values()][0];
    assert.equal(peer.timers.persistentKeepalive, now + 25_000);
    assert.equal(alice.stats().peers[0].persistentKeepalive, 25);
  });

  test('keys expire at REJECT_AFTER_TIME and are zeroed after 3 × REJECT_AFTER_TIME without a new handshake', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const old = toBob(alice, T + 10).datagrams[0].data;
    bob.receiveDatagram(old, ALICE_ENDPOINT, T + 10);
    // bob answers nothing, but passive keepalive comes at T+10_010; deliver it so alice is quiet.
    alice.receiveDatagram(bob.tick(bob.nextWakeAt()).datagrams[0].data, BOB_ENDPOINT, T + 10_010);

    assert.equal(alice.nextWakeAt(), T + REJECT_AFTER_TIME_MS);
    const expired = alice.tick(T + REJECT_AFTER_TIME_MS);
    assert.deepEqual(eventsOf([expired], 'keys-expired').map((e) => e.slot), ['current']);
    assert.equal(alice.stats(T + REJECT_AFTER_TIME_MS).peers[0].session, 'none');
    assert.equal(alice.nextWakeAt(), T + 3 * REJECT_AFTER_TIME_MS);
    assert.deepEqual(alice.tick(T + 3 * REJECT_AFTER_TIME_MS - 1).events, []);
    const zeroed = alice.tick(T + 3 * REJECT_AFTER_TIME_MS);
    assert.equal(eventsOf([zeroed], 'keys-zeroed').length, 1);
    assert.equal(alice.stats().peers[0].currentKeyAgeMs, undefined);
    assert.equal(alice.nextWakeAt(), Infinity);
    // Nothing of the old session is left to decrypt with.
    const fromBob = toAlice(bob, T + 20);
    alice.receiveDatagram(fromBob.datagrams[0].data, BOB_ENDPOINT, T + 3 * REJECT_AFTER_TIME_MS + 1);
    assert.equal(alice.stats().drops['unknown-index'], 1);
    // And a new packet simply starts a new session.
    const again = toBob(alice, T + 3 * REJECT_AFTER_TIME_MS + 2);
    assert.equal(eventsOf([again], 'handshake-initiation-sent')[0].trigger, 'data');
  });
});
