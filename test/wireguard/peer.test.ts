import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { paddedLength, type Peer } from '../../src/wireguard/peer.ts';
import type { Tunnel } from '../../src/wireguard/tunnel.ts';
import { establish, ipv4Packet, makePair, shuttle, ALICE_ENDPOINT } from './helpers.ts';

const T = 1_000_000;
const peerOf = (t: Tunnel): Peer => [...(t['peers'] as Map<string, Peer>).values()][0];

describe('Peer', () => {
  test('padding: multiple of 16, capped at the MTU (numbered table)', () => {
    const rows: [n: number, length: number, mtu: number, padded: number][] = [
      [1, 0, 1420, 0],
      [2, 1, 1420, 16],
      [3, 16, 1420, 16],
      [4, 17, 1420, 32],
      [5, 1404, 1420, 1408],
      [6, 1405, 1420, 1408],
      [7, 1409, 1420, 1420], // 1424 would exceed the MTU
      [8, 1419, 1420, 1420],
      [9, 1420, 1420, 1420],
      [10, 1421, 1420, 1421 + 15], // larger than the MTU: the remainder (1) is padded, as in wireguard-go
      [11, 100, 1280, 112],
      [12, 1279, 1280, 1280],
      [13, 33, 0, 48], // MTU 0: plain multiple of 16
    ];
    for (const [n, len, mtu, want] of rows) assert.equal(paddedLength(len, mtu), want, `row ${n}`);
  });

  test('keypair rotation: the initiator moves current to previous; the responder parks new keys in next', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const a = peerOf(alice);
    const b = peerOf(bob);
    const firstA = a.current!;
    const firstB = b.current!;
    assert.equal(a.previous, undefined);
    assert.equal(b.next, undefined);

    // Rekey initiated by alice 6 s later.
    const init = alice.connect(T + 6000);
    const resp = bob.receiveDatagram(init.datagrams[0].data, ALICE_ENDPOINT, T + 6000);
    assert.equal(b.current, firstB, 'bob keeps sending with the confirmed keypair');
    assert.ok(b.next, 'and holds the new one in next');
    const confirm = alice.receiveDatagram(resp.datagrams[0].data, { host: '198.51.100.2', port: 51821 }, T + 6001);
    assert.equal(a.previous, firstA);
    assert.notEqual(a.current, firstA);
    shuttle(alice, bob, confirm, 'alice', T + 6002);
    assert.equal(b.previous, firstB);
    assert.equal(b.next, undefined);
    assert.equal(b.current?.localIndex, a.current?.remoteIndex);

    // A third handshake drops the oldest keypair and frees its index.
    const oldIndex = firstA.localIndex;
    shuttle(alice, bob, alice.connect(T + 12_000), 'alice', T + 12_000);
    assert.equal(alice.indices.get(oldIndex), undefined);
    assert.ok((firstA['sendKey'] as Uint8Array).every((x) => x === 0), 'dropped keypairs are zeroed');
  });

  test('stats count handshake and transport bytes both ways', () => {
    const { alice, bob } = makePair();
    establish(alice, bob, T);
    const r = alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2', 100), T + 1);
    bob.receiveDatagram(r.datagrams[0].data, ALICE_ENDPOINT, T + 1);
    assert.equal(alice.stats().peers[0].txBytes, 148 + 32 + r.datagrams[0].data.length);
    assert.equal(bob.stats().peers[0].rxBytes, 148 + 32 + r.datagrams[0].data.length);
    assert.equal(bob.stats().peers[0].txBytes, 92);
  });
});
