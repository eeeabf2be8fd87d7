import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../../src/shared/bytes.ts';
import { clampPrivateKey, dh, formatKey, parseKey, publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';

const x = JSON.parse(readFileSync(new URL('../vectors/wireguard/primitives.json', import.meta.url), 'utf8')).x25519;

describe('noise keys', () => {
  test('X25519 reproduces RFC 7748 §6.1 in both directions', () => {
    assert.equal(toHex(publicKeyFromPrivate(fromHex(x.alicePrivate))), x.alicePublic);
    assert.equal(toHex(publicKeyFromPrivate(fromHex(x.bobPrivate))), x.bobPublic);
    assert.equal(toHex(dh(fromHex(x.alicePrivate), fromHex(x.bobPublic))!), x.shared);
    assert.equal(toHex(dh(fromHex(x.bobPrivate), fromHex(x.alicePublic))!), x.shared);
  });

  test('clamping clears the low three bits and the top bit and sets bit 254, like wg genkey', () => {
    const k = clampPrivateKey(new Uint8Array(32).fill(0xff));
    assert.equal(k[0], 0xf8);
    assert.equal(k[31], 0x7f);
    const z = clampPrivateKey(new Uint8Array(32));
    assert.equal(z[31], 0x40);
  });

  test('an unclamped private key gives the same public key as its clamped form (X25519 clamps)', () => {
    const raw = fromHex('ff'.repeat(32));
    assert.deepEqual(publicKeyFromPrivate(raw), publicKeyFromPrivate(clampPrivateKey(raw.slice())));
  });

  test('DH with a low-order point yields undefined, never an all-zero secret', () => {
    assert.equal(dh(fromHex(x.alicePrivate), new Uint8Array(32)), undefined);
    const one = new Uint8Array(32);
    one[0] = 1;
    assert.equal(dh(fromHex(x.alicePrivate), one), undefined);
  });

  test('keys round-trip through wg base64', () => {
    const k = fromHex(x.alicePublic);
    assert.deepEqual(parseKey(formatKey(k)), k);
    assert.throws(() => parseKey('abc'), RangeError);
  });
});
