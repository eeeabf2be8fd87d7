import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { blake2s } from '@noble/hashes/blake2.js';
import { fromHex, toHex } from '../../src/shared/bytes.ts';
import { aeadOpen, aeadSeal, hash, hmac, kdf1, kdf2, kdf3, mac, writeCounterNonce, xaeadOpen, xaeadSeal } from '../../src/wireguard/noise-primitives.ts';
import { INITIAL_CHAIN_KEY, INITIAL_HASH } from '../../src/wireguard/handshake.ts';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';

const vectors = JSON.parse(readFileSync(new URL('../vectors/wireguard/primitives.json', import.meta.url), 'utf8'));

describe('noise primitives', () => {
  test('the initial chaining key and hash are the well-known values for the construction string', () => {
    assert.equal(toHex(INITIAL_CHAIN_KEY), vectors.noiseConstants.initialChainKey);
    assert.equal(toHex(INITIAL_HASH), vectors.noiseConstants.initialHash);
    assert.equal(toHex(hash(new TextEncoder().encode(vectors.noiseConstants.construction))), vectors.noiseConstants.initialChainKey);
  });

  for (const v of vectors.blake2s) {
    test(`BLAKE2s matches ${v.source}`, () => {
      const out = v.key === '' ? hash(fromHex(v.input)) : blake2s(fromHex(v.input), { key: fromHex(v.key), dkLen: v.outputLength });
      assert.equal(toHex(out), v.output);
    });
  }

  test('HASH over several parts equals HASH over their concatenation', () => {
    const a = fromHex('0102');
    const b = fromHex('030405');
    assert.deepEqual(hash(a, b), hash(fromHex('0102030405')));
  });

  test('MAC is keyed BLAKE2s truncated by output length to 16 bytes (not a prefix of the 32-byte MAC)', () => {
    const key = fromHex('000102030405060708090a0b0c0d0e0f');
    const m = mac(key, fromHex('616263'));
    assert.equal(m.length, 16);
    assert.deepEqual(m, blake2s(fromHex('616263'), { key, dkLen: 16 }));
    assert.notDeepEqual(m, blake2s(fromHex('616263'), { key, dkLen: 32 }).subarray(0, 16));
  });

  test('KDF1..3 chain HMACs as in the paper: τ1 = HMAC(τ0, 1), τi = HMAC(τ0, τi−1 ‖ i)', () => {
    const key = fromHex('11'.repeat(32));
    const input = fromHex('22'.repeat(40));
    const t0 = hmac(key, input);
    const t1 = hmac(t0, Uint8Array.of(1));
    const t2 = hmac(t0, t1, Uint8Array.of(2));
    const t3 = hmac(t0, t2, Uint8Array.of(3));
    assert.deepEqual(kdf1(key, input), t1);
    assert.deepEqual(kdf2(key, input), [t1, t2]);
    assert.deepEqual(kdf3(key, input), [t1, t2, t3]);
  });

  test('ChaCha20-Poly1305 reproduces RFC 8439 §2.8.2', () => {
    const v = vectors.chacha20poly1305;
    const sealed = chacha20poly1305(fromHex(v.key), fromHex(v.nonce), fromHex(v.aad)).encrypt(fromHex(v.plaintext));
    assert.equal(toHex(sealed), v.ciphertext + v.tag);
  });

  test('AEAD nonces are 32 zero bits then the 64-bit counter little-endian', () => {
    const n = new Uint8Array(12).fill(0xff);
    writeCounterNonce(n, 0x04030201, 0x08070605);
    assert.equal(toHex(n), '000000000102030405060708');
    const key = fromHex('42'.repeat(32));
    const pt = fromHex('deadbeef');
    const ad = fromHex('aa');
    const counter = 0x0102030405;
    const expected = chacha20poly1305(key, fromHex('000000000504030201000000'), ad).encrypt(pt);
    assert.deepEqual(aeadSeal(key, counter, pt, ad), expected);
    assert.deepEqual(aeadOpen(key, counter, expected, ad), pt);
  });

  test('AEAD open returns undefined, not an exception, for a bad tag, wrong AD or a short box', () => {
    const key = fromHex('42'.repeat(32));
    const box = aeadSeal(key, 0, fromHex('00'), fromHex('01'));
    const bad = box.slice();
    bad[0] ^= 1;
    assert.equal(aeadOpen(key, 0, bad, fromHex('01')), undefined);
    assert.equal(aeadOpen(key, 0, box, fromHex('02')), undefined);
    assert.equal(aeadOpen(key, 1, box, fromHex('01')), undefined);
    assert.equal(aeadOpen(key, 0, box.subarray(0, 15), fromHex('01')), undefined);
  });

  test('XChaCha20-Poly1305 reproduces draft-irtf-cfrg-xchacha A.3.1', () => {
    const v = vectors.xchacha20poly1305;
    const sealed = xaeadSeal(fromHex(v.key), fromHex(v.nonce), fromHex(v.plaintext), fromHex(v.aad));
    assert.equal(toHex(sealed), v.ciphertext + v.tag);
    assert.equal(toHex(xaeadOpen(fromHex(v.key), fromHex(v.nonce), sealed, fromHex(v.aad))!), v.plaintext);
    sealed[sealed.length - 1] ^= 1;
    assert.equal(xaeadOpen(fromHex(v.key), fromHex(v.nonce), sealed, fromHex(v.aad)), undefined);
  });
});
