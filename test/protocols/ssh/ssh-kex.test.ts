import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { GROUP14_PRIME, KEX_ALGORITHMS, createKeyExchange, deriveKey } from '../../../src/protocols/ssh/ssh-kex.ts';
import { piFractionWords } from '../../../src/protocols/ssh/bcrypt-pbkdf.ts';
import { SshWriter } from '../../../src/protocols/ssh/ssh-codec.ts';

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

describe('SSH key exchange methods', () => {
  for (const name of KEX_ALGORITHMS) {
    test(`${name}: both sides derive the same K from each other's public values`, () => {
      const a = createKeyExchange(name, random);
      const b = createKeyExchange(name, random);
      const ka = a.finish(b.clientPublic);
      const kb = b.finish(a.clientPublic);
      assert.ok(ka && kb);
      assert.deepEqual(ka, kb);
    });
  }

  test('invalid server values are refused (undefined), never thrown: X25519 low order, off-curve P-256, DH 1 and p-1', () => {
    assert.equal(createKeyExchange('curve25519-sha256', random).finish(new Uint8Array(32)), undefined);
    assert.equal(createKeyExchange('curve25519-sha256', random).finish(new Uint8Array(31)), undefined);
    const bad = new Uint8Array(65);
    bad[0] = 4;
    bad[64] = 1;
    assert.equal(createKeyExchange('ecdh-sha2-nistp256', random).finish(bad), undefined);
    const dh = createKeyExchange('diffie-hellman-group14-sha256', random);
    assert.equal(dh.finish(Uint8Array.of(1)), undefined);
    const pMinus1 = GROUP14_PRIME - 1n;
    assert.equal(dh.finish(Uint8Array.from(Buffer.from(pMinus1.toString(16), 'hex'))), undefined);
  });

  test('the group 14 prime is RFC 3526\'s formula 2^2048 - 2^1984 - 1 + 2^64 * (floor(2^1918 pi) + 124476)', () => {
    const words = piFractionWords(60);
    let frac = 0n;
    for (const w of words) frac = (frac << 32n) | BigInt(w);
    // frac holds 1920 fractional bits of pi; 2^1918 * pi = 3 * 2^1918 + (frac >> 2).
    const floorPi = 3n * (1n << 1918n) + (frac >> 2n);
    const p = (1n << 2048n) - (1n << 1984n) - 1n + (1n << 64n) * (floorPi + 124476n);
    assert.equal(GROUP14_PRIME, p);
  });

  test('key derivation follows RFC 4253 §7.2: HASH(K || H || letter || session_id), extended by HASH(K || H || K1)', () => {
    const k = new SshWriter().mpint(123456789n).finish();
    const h = sha256(Uint8Array.of(1));
    const sid = sha256(Uint8Array.of(2));
    const k1 = sha256(new Uint8Array([...k, ...h, 'C'.charCodeAt(0), ...sid]));
    const k2 = sha256(new Uint8Array([...k, ...h, ...k1]));
    assert.deepEqual(deriveKey(k, h, 'C', sid, 16), k1.slice(0, 16));
    assert.deepEqual(deriveKey(k, h, 'C', sid, 64), new Uint8Array([...k1, ...k2]));
  });
});
