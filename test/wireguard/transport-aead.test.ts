import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { fromHex, toHex } from '../../src/shared/bytes.ts';
import { TransportAead } from '../../src/wireguard/transport-aead.ts';
import { AEAD_TAG_SIZE } from '../../src/wireguard/constants.ts';
import { assertRfc8439AeadExample, POLY1305_EDGE_VECTORS, poly1305Reference, seeded, wireguardNonce } from './aead-helpers.ts';

const vectors = JSON.parse(readFileSync(new URL('../vectors/wireguard/primitives.json', import.meta.url), 'utf8'));

describe('TransportAead', () => {
  describe('RFC 8439 vectors', () => {
    test('§2.8.2: the AEAD example (nonce 07000000 40..47, 12 bytes of AD) seals and opens byte for byte', () => {
      assertRfc8439AeadExample((key) => new TransportAead(key));
    });

    // Appendix A.3 #5–#11 (aead-helpers.ts): each tag is also checked against the BigInt reference.
    for (const v of POLY1305_EDGE_VECTORS) {
      test(`Appendix A.3 #${v.n}: Poly1305 edge case`, () => {
        const aead = new TransportAead(new Uint8Array(32));
        assert.equal(poly1305Reference(fromHex(v.key), fromHex(v.msg)), v.tag, 'the reference agrees with the RFC');
        assert.equal(toHex(aead.poly1305Padded(fromHex(v.key), fromHex(v.msg))), v.tag);
      });
    }
  });

  test('Poly1305 limbs stay exact at their bounds: the largest clamped r, all-ones blocks, s = 2^128 − 1 (BigInt reference)', () => {
    const rand = seeded(7);
    const aead = new TransportAead(new Uint8Array(32));
    const keys: Uint8Array[] = [new Uint8Array(32).fill(0xff), new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i < 16 ? 0xff : 0))];
    for (let i = 0; i < 40; i++) keys.push(rand.bytes(32));
    let cases = 0;
    for (const key of keys) {
      for (const length of [0, 1, 15, 16, 17, 32, 33, 48, 64, 1420, 2000]) {
        for (const message of [new Uint8Array(length).fill(0xff), new Uint8Array(length), rand.bytes(length)]) {
          assert.equal(toHex(aead.poly1305Padded(key, message)), poly1305Reference(key, message), `key ${toHex(key)}, ${length} bytes`);
          cases++;
        }
      }
    }
    assert.equal(cases, 43 * 11 * 3);
  });

  test('matches @noble/ciphers chacha20poly1305 byte for byte: 4000 seeded cases of lengths 0..2000, any key and counter, aligned or not', () => {
    const rand = seeded(0x5eed);
    const counters: [number, number][] = [[0, 0], [1, 0], [0xffffffff, 0], [0, 1], [0xffffdfff, 0xffffffff]];
    for (let i = 0; i < 4000; i++) {
      const length = i < 2001 ? i : rand.below(2001);
      const key = rand.bytes(32);
      const [lo, hi] = i < counters.length ? counters[i] : [rand.u32(), rand.below(4) === 0 ? 0 : rand.u32()];
      const plaintext = rand.bytes(length);
      // Offsets 0..3 cover the in-place word path (aligned) and the scratch path (unaligned).
      const offset = 16 + rand.below(4);
      const buf = new Uint8Array(offset + length + AEAD_TAG_SIZE + 3);
      buf.set(plaintext, offset);
      const aead = new TransportAead(key);
      aead.seal(buf, offset, length, lo, hi);
      const expected = chacha20poly1305(key, wireguardNonce(lo, hi)).encrypt(plaintext);
      assert.equal(toHex(buf.subarray(offset, offset + length + AEAD_TAG_SIZE)), toHex(expected), `case ${i}: ${length} bytes at offset ${offset}, counter ${hi}:${lo}`);
      assert.deepEqual(buf.subarray(0, offset), new Uint8Array(offset), 'nothing written before the region');
      assert.deepEqual(buf.subarray(offset + length + AEAD_TAG_SIZE), new Uint8Array(3), 'nothing written after the tag');
      const outOffset = rand.below(4);
      const out = new Uint8Array(outOffset + length);
      assert.equal(new TransportAead(key).open(buf, offset, length, out, outOffset, lo, hi), true, `case ${i}: opens`);
      assert.deepEqual(out.subarray(outOffset), plaintext);
    }
  });

  test('open accepts what noble sealed, in place too', () => {
    const rand = seeded(11);
    for (const length of [0, 1, 63, 64, 65, 1420]) {
      const key = rand.bytes(32);
      const plaintext = rand.bytes(length);
      const sealed = chacha20poly1305(key, wireguardNonce(5, 6)).encrypt(plaintext);
      assert.equal(new TransportAead(key).open(sealed, 0, length, sealed, 0, 5, 6), true);
      assert.deepEqual(sealed.subarray(0, length), plaintext);
    }
  });

  test('any single flipped bit in ciphertext or tag is rejected, and no plaintext is written', () => {
    const key = seeded(3).bytes(32);
    const plaintext = seeded(4).bytes(100);
    const sealed = new Uint8Array(100 + AEAD_TAG_SIZE);
    sealed.set(plaintext);
    new TransportAead(key).seal(sealed, 0, 100, 42, 0);
    const opener = new TransportAead(key);
    const out = new Uint8Array(100);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = sealed.slice();
      bad[bit >>> 3] ^= 1 << (bit & 7);
      assert.equal(opener.open(bad, 0, 100, out, 0, 42, 0), false, `bit ${bit}`);
      assert.deepEqual(out, bad.subarray(0, 100), `bit ${bit}: out holds the ciphertext, not plaintext`);
    }
    assert.equal(opener.open(sealed, 0, 100, out, 0, 43, 0), false, 'wrong counter (low word)');
    assert.equal(opener.open(sealed, 0, 100, out, 0, 42, 1), false, 'wrong counter (high word)');
    assert.equal(new TransportAead(seeded(5).bytes(32)).open(sealed, 0, 100, out, 0, 42, 0), false, 'wrong key');
    assert.equal(opener.open(sealed, 0, 100, out, 0, 42, 0), true, 'and the untouched message still opens');
    assert.deepEqual(out, plaintext);
  });

  test('a tag that differs only in its last byte is rejected (every tag byte is compared)', () => {
    const key = new Uint8Array(32).fill(9);
    const sealed = new Uint8Array(32 + AEAD_TAG_SIZE);
    new TransportAead(key).seal(sealed, 0, 32, 0, 0);
    for (let i = 0; i < AEAD_TAG_SIZE; i++) {
      const bad = sealed.slice();
      bad[32 + i] = (bad[32 + i] + 1) & 0xff;
      assert.equal(new TransportAead(key).open(bad, 0, 32, new Uint8Array(32), 0, 0, 0), false, `tag byte ${i}`);
    }
  });

  test('one instance seals many packets in a row (no state leaks between packets)', () => {
    const rand = seeded(21);
    const key = rand.bytes(32);
    const aead = new TransportAead(key);
    for (let counter = 0; counter < 50; counter++) {
      const plaintext = rand.bytes(rand.below(1500));
      const buf = new Uint8Array(plaintext.length + AEAD_TAG_SIZE);
      buf.set(plaintext);
      aead.seal(buf, 0, plaintext.length, counter, 0);
      assert.deepEqual(buf, chacha20poly1305(key, wireguardNonce(counter, 0)).encrypt(plaintext));
    }
  });

  test('zero() wipes the key: the instance then behaves as one keyed with 32 zero bytes', () => {
    const aead = new TransportAead(new Uint8Array(32).fill(0xab));
    aead.zero();
    const a = new Uint8Array(20 + AEAD_TAG_SIZE);
    const b = new Uint8Array(20 + AEAD_TAG_SIZE);
    aead.seal(a, 0, 20, 0, 0);
    new TransportAead(new Uint8Array(32)).seal(b, 0, 20, 0, 0);
    assert.deepEqual(a, b);
  });

  test('bad caller input throws: key length, regions that do not fit', () => {
    assert.throws(() => new TransportAead(new Uint8Array(31)), TypeError);
    assert.throws(() => new TransportAead('k'.repeat(32) as unknown as Uint8Array), TypeError);
    const aead = new TransportAead(new Uint8Array(32));
    assert.throws(() => aead.seal(new Uint8Array(20), 0, 5, 0, 0), RangeError, 'no room for the tag');
    assert.throws(() => aead.seal(new Uint8Array(40), -1, 5, 0, 0), RangeError);
    assert.throws(() => aead.open(new Uint8Array(20), 0, 5, new Uint8Array(5), 0, 0, 0), RangeError, 'no tag after the ciphertext');
    assert.throws(() => aead.open(new Uint8Array(40), 0, 5, new Uint8Array(4), 0, 0, 0), RangeError, 'output too small');
    assert.throws(() => aead.poly1305Padded(new Uint8Array(16), new Uint8Array(0)), RangeError);
  });
});
