import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Handshake, decryptInitiationStatic, staticIdentity } from '../../src/wireguard/handshake.ts';
import { InitiationView, ResponseView } from '../../src/wireguard/messages.ts';
import { clampPrivateKey } from '../../src/wireguard/noise-keys.ts';
import { tai64n } from '../../src/wireguard/tai64n.ts';
import { seededRandom } from './helpers.ts';

/** Two peers, each with a Handshake object for the other: everything in memory. */
function peers(psk?: Uint8Array, seed = 3) {
  const random = seededRandom(seed);
  const alice = staticIdentity(clampPrivateKey(random(32)));
  const bob = staticIdentity(clampPrivateKey(random(32)));
  return {
    random,
    alice,
    bob,
    aliceSide: new Handshake(alice, bob.publicKey, psk),
    bobSide: new Handshake(bob, alice.publicKey, psk),
  };
}

function complete(psk?: Uint8Array, wallMs = 1_700_000_000_000) {
  const p = peers(psk);
  const init = p.aliceSide.createInitiation(clampPrivateKey(p.random(32)), tai64n(wallMs), 0xa1a1a1a1);
  const d = decryptInitiationStatic(p.bob, new InitiationView(init));
  assert.ok(d, 'bob decrypts the static key');
  assert.deepEqual(d.remoteStatic, p.alice.publicKey, 'and finds alice');
  assert.equal(p.bobSide.consumeInitiation(d, 0), undefined);
  assert.equal(p.bobSide.state, 'initiation-consumed');
  assert.deepEqual(p.bobSide.hash, p.aliceSide.hash, 'transcript hashes agree after the initiation');
  assert.deepEqual(p.bobSide.chainKey, p.aliceSide.chainKey, 'chaining keys agree after the initiation');
  const resp = p.bobSide.createResponse(clampPrivateKey(p.random(32)), 0xb2b2b2b2)!;
  assert.equal(resp.length, 92);
  assert.equal(p.aliceSide.consumeResponse(new ResponseView(resp)), true);
  return { ...p, init, resp };
}

describe('Noise_IKpsk2 handshake', () => {
  for (const withPsk of [false, true]) {
    test(`initiator and responder end with equal chaining keys and hashes and mirrored transport keys (${withPsk ? 'with' : 'without'} PSK)`, () => {
      const psk = withPsk ? seededRandom(99)(32) : undefined;
      const p = complete(psk);
      assert.equal(p.aliceSide.state, 'response-consumed');
      assert.equal(p.bobSide.state, 'response-created');
      assert.deepEqual(p.aliceSide.chainKey, p.bobSide.chainKey);
      assert.deepEqual(p.aliceSide.hash, p.bobSide.hash);
      const a = p.aliceSide.deriveTransportKeys()!;
      const b = p.bobSide.deriveTransportKeys()!;
      assert.equal(a.isInitiator, true);
      assert.equal(b.isInitiator, false);
      assert.deepEqual(a.sendKey, b.receiveKey);
      assert.deepEqual(a.receiveKey, b.sendKey);
      assert.notDeepEqual(a.sendKey, a.receiveKey);
      assert.equal(a.localIndex, 0xa1a1a1a1);
      assert.equal(a.remoteIndex, 0xb2b2b2b2);
      assert.equal(b.localIndex, 0xb2b2b2b2);
      assert.equal(b.remoteIndex, 0xa1a1a1a1);
      // The keys really work as a pair.
      const nonce = new Uint8Array(12);
      const box = chacha20poly1305(a.sendKey, nonce).encrypt(Uint8Array.of(1, 2, 3));
      assert.deepEqual(chacha20poly1305(b.receiveKey, nonce).decrypt(box), Uint8Array.of(1, 2, 3));
      assert.equal(p.aliceSide.state, 'zeroed', 'deriving the keys wipes the handshake');
      assert.deepEqual(p.aliceSide.chainKey, new Uint8Array(32));
    });
  }

  test('a PSK mismatch fails the response, not the initiation', () => {
    const random = seededRandom(5);
    const alice = staticIdentity(clampPrivateKey(random(32)));
    const bob = staticIdentity(clampPrivateKey(random(32)));
    const aliceSide = new Handshake(alice, bob.publicKey, new Uint8Array(32).fill(1));
    const bobSide = new Handshake(bob, alice.publicKey, new Uint8Array(32).fill(2));
    const init = aliceSide.createInitiation(clampPrivateKey(random(32)), tai64n(1e12), 1);
    assert.equal(bobSide.consumeInitiation(decryptInitiationStatic(bob, new InitiationView(init))!, 0), undefined);
    const resp = bobSide.createResponse(clampPrivateKey(random(32)), 2)!;
    assert.equal(aliceSide.consumeResponse(new ResponseView(resp)), false);
    assert.equal(aliceSide.state, 'initiation-created', 'a failed response leaves the initiation pending');
  });

  test('an initiation for someone else does not decrypt', () => {
    const p = peers();
    const init = p.aliceSide.createInitiation(clampPrivateKey(p.random(32)), tai64n(1e12), 1);
    assert.equal(decryptInitiationStatic(p.alice, new InitiationView(init)), undefined);
  });

  test('a replayed initiation (same timestamp) is rejected as stale, a newer one accepted', () => {
    const p = peers();
    const init = p.aliceSide.createInitiation(clampPrivateKey(p.random(32)), tai64n(1_700_000_000_000), 1);
    const d = decryptInitiationStatic(p.bob, new InitiationView(init))!;
    assert.equal(p.bobSide.consumeInitiation(d, 0), undefined);
    assert.equal(p.bobSide.consumeInitiation(decryptInitiationStatic(p.bob, new InitiationView(init))!, 1000), 'stale-timestamp');
    const older = p.aliceSide.createInitiation(clampPrivateKey(p.random(32)), tai64n(1_699_999_999_000), 2);
    assert.equal(p.bobSide.consumeInitiation(decryptInitiationStatic(p.bob, new InitiationView(older))!, 2000), 'stale-timestamp');
    const newer = p.aliceSide.createInitiation(clampPrivateKey(p.random(32)), tai64n(1_700_000_001_000), 3);
    assert.equal(p.bobSide.consumeInitiation(decryptInitiationStatic(p.bob, new InitiationView(newer))!, 3000), undefined);
  });

  test('more than one initiation per 20 ms from a peer is refused as a flood', () => {
    const p = peers();
    const mk = (ms: number) => decryptInitiationStatic(p.bob, new InitiationView(p.aliceSide.createInitiation(clampPrivateKey(p.random(32)), tai64n(ms), 1)))!;
    assert.equal(p.bobSide.consumeInitiation(mk(1_700_000_000_000), 100), undefined);
    assert.equal(p.bobSide.consumeInitiation(mk(1_700_000_001_000), 120), 'rate-limited');
    assert.equal(p.bobSide.consumeInitiation(mk(1_700_000_002_000), 121), undefined);
  });

  test('a tampered initiation fails to authenticate', () => {
    const p = peers();
    for (const offset of [8, 50, 100]) {
      const init = p.aliceSide.createInitiation(clampPrivateKey(p.random(32)), tai64n(1e12), 1);
      init[offset] ^= 0x40;
      const d = decryptInitiationStatic(p.bob, new InitiationView(init));
      if (d) assert.equal(p.bobSide.consumeInitiation(d, 0), 'handshake-decrypt', `byte ${offset}`);
    }
  });

  test('a response needs a pending initiation, and a response cannot be consumed twice', () => {
    const p = complete();
    assert.equal(p.aliceSide.consumeResponse(new ResponseView(p.resp)), false);
    const q = peers();
    assert.equal(q.aliceSide.consumeResponse(new ResponseView(p.resp)), false);
    assert.equal(q.bobSide.createResponse(clampPrivateKey(q.random(32)), 1), undefined);
  });

  test('a low-order peer key or a wrong key length is refused up front', () => {
    const me = staticIdentity(clampPrivateKey(seededRandom(1)(32)));
    assert.throws(() => new Handshake(me, new Uint8Array(32)), /low-order/);
    assert.throws(() => new Handshake(me, new Uint8Array(31)), RangeError);
    assert.throws(() => new Handshake(me, me.publicKey, new Uint8Array(16)), RangeError);
    assert.throws(() => staticIdentity(new Uint8Array(33)), RangeError);
  });

  test('the initiator wipes secrets when a new initiation replaces an old one', () => {
    const p = peers();
    p.aliceSide.createInitiation(clampPrivateKey(p.random(32)), tai64n(1e12), 1);
    const h1 = p.aliceSide.hash.slice();
    p.aliceSide.createInitiation(clampPrivateKey(p.random(32)), tai64n(1e12 + 1000), 2);
    assert.notDeepEqual(p.aliceSide.hash, h1);
    assert.equal(p.aliceSide.localIndex, 2);
  });
});
