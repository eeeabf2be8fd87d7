import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { fromHex, toHex } from '../../../src/shared/bytes.ts';
import { AEAD_TAG_SIZE } from '../../../src/wireguard/constants.ts';
import { TransportAead } from '../../../src/wireguard/transport-aead.ts';
import { buildChacha20Poly1305Module } from '../../../src/wireguard/wasm/chacha20-poly1305-wasm-module.ts';
import {
  WasmTransportAead,
  wasmChacha20Blocks,
  wasmMemoryPages,
  wasmPoly1305,
  wasmSecretArea,
  wasmTransportAeadStatus,
} from '../../../src/wireguard/wasm/wasm-transport-aead.ts';
import { assertRfc8439AeadExample, POLY1305_EDGE_VECTORS, poly1305Reference, seeded, words } from '../aead-helpers.ts';

const vectors = JSON.parse(readFileSync(new URL('../../vectors/wireguard/primitives.json', import.meta.url), 'utf8'));
const KEY_0_31 = Uint8Array.from({ length: 32 }, (_, i) => i);

/** node:crypto (OpenSSL) as the oracle: RFC 8439 AEAD, ciphertext ‖ tag. */
function oracleSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** node:crypto's raw ChaCha20 keystream from `counter` (its IV is le32 counter ‖ 12-byte nonce). */
function oracleKeystream(key: Uint8Array, nonce: Uint8Array, counter: number, n: number): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter, 0);
  iv.set(nonce, 4);
  return Uint8Array.from(createCipheriv('chacha20', key, iv).update(Buffer.alloc(n)));
}

describe('WasmTransportAead (WebAssembly SIMD ChaCha20-Poly1305)', () => {
  test('the module is generated the same every time, validates, and runs here', () => {
    const a = buildChacha20Poly1305Module();
    assert.deepEqual(a, buildChacha20Poly1305Module());
    assert.equal(WebAssembly.validate(a), true);
    assert.deepEqual(wasmTransportAeadStatus(), { available: true });
  });

  describe('RFC 8439 vectors', () => {
    test('§2.3.2: the block function (key 00..1f, nonce 000000090000004a00000000, counter 1), and the three blocks after it in the other SIMD lanes', () => {
      const nonce = fromHex('000000090000004a00000000');
      const blocks = wasmChacha20Blocks(KEY_0_31, nonce, 1);
      assert.equal(
        toHex(blocks.subarray(0, 64)),
        '10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4ed2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e',
      );
      assert.deepEqual(blocks, oracleKeystream(KEY_0_31, nonce, 1, 256));
    });

    test('§2.4.2: encrypting the sunscreen text from counter 1 (the AEAD ciphertext is exactly that)', () => {
      const plaintext = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
      const buf = new Uint8Array(plaintext.length + AEAD_TAG_SIZE);
      buf.set(plaintext);
      const [n0, n1, n2] = words(fromHex('000000000000004a00000000'));
      new WasmTransportAead(KEY_0_31).sealWithNonce(buf, 0, plaintext.length, n0, n1, n2, undefined);
      assert.equal(
        toHex(buf.subarray(0, plaintext.length)),
        '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8' +
          '07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d',
      );
    });

    test('§2.5.2: Poly1305 of "Cryptographic Forum Research Group" (a partial last block)', () => {
      const key = fromHex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b');
      const tag = wasmPoly1305(key, new TextEncoder().encode('Cryptographic Forum Research Group'));
      assert.equal(toHex(tag), 'a8061dc1305136c6c22b8baf0c0127a9');
    });

    test('§2.6.2: the Poly1305 one-time key is keystream block 0', () => {
      const key = fromHex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
      const block0 = wasmChacha20Blocks(key, fromHex('000000000001020304050607'), 0);
      assert.equal(toHex(block0.subarray(0, 32)), '8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646');
    });

    test('§2.8.2: the AEAD example seals and opens byte for byte; other AD is rejected', () => {
      assertRfc8439AeadExample((key) => new WasmTransportAead(key));
    });

    test('Appendix A.3 #5–#11 and seeded whole-block messages: Poly1305 carries and final reduction match the BigInt reference', () => {
      for (const v of POLY1305_EDGE_VECTORS) assert.equal(toHex(wasmPoly1305(fromHex(v.key), fromHex(v.msg))), v.tag, `A.3 #${v.n}`);
      const rand = seeded(17);
      for (const key of [new Uint8Array(32).fill(0xff), rand.bytes(32), rand.bytes(32)]) {
        for (const blocks of [1, 2, 3, 89]) {
          for (const msg of [new Uint8Array(16 * blocks).fill(0xff), rand.bytes(16 * blocks)]) {
            assert.equal(toHex(wasmPoly1305(key, msg)), poly1305Reference(key, msg), `${blocks} blocks`);
          }
        }
      }
    });
  });

  test('matches node:crypto chacha20-poly1305 (OpenSSL): 400 random messages of 0–65535 bytes, random keys, nonces and AD; opens each', () => {
    const rand = seeded(0xc0ffee);
    const edges = [0, 1, 15, 16, 17, 63, 64, 65, 191, 192, 193, 255, 256, 257, 447, 448, 449, 1420, 65535];
    for (let i = 0; i < 400; i++) {
      const length = i < edges.length ? edges[i] : i % 4 === 0 ? rand.below(65536) : rand.below(3000);
      const key = rand.bytes(32);
      const nonce = rand.bytes(12);
      const aad = rand.bytes(i % 3 === 0 ? 0 : rand.below(70));
      const plaintext = rand.bytes(length);
      const offset = rand.below(5);
      const buf = new Uint8Array(offset + length + AEAD_TAG_SIZE + 2);
      buf.set(plaintext, offset);
      const [n0, n1, n2] = words(nonce);
      const aead = new WasmTransportAead(key);
      aead.sealWithNonce(buf, offset, length, n0, n1, n2, aad);
      const expected = oracleSeal(key, nonce, plaintext, aad);
      assert.ok(Buffer.from(buf.subarray(offset, offset + length + AEAD_TAG_SIZE)).equals(expected), `case ${i}: ${length} bytes, ${aad.length} of AD`);
      assert.deepEqual([...buf.subarray(0, offset), ...buf.subarray(offset + length + AEAD_TAG_SIZE)], new Array(offset + 2).fill(0), 'nothing written outside');
      const out = new Uint8Array(length);
      assert.equal(aead.openWithNonce(buf, offset, length, out, 0, n0, n1, n2, aad), true, `case ${i}: opens`);
      assert.ok(Buffer.from(out).equals(plaintext), `case ${i}: plaintext back`);
    }
  });

  test('what node:crypto sealed opens in place, and a change anywhere is rejected with the buffer left as received', () => {
    const rand = seeded(99);
    for (const length of [0, 5, 64, 192, 300, 1420, 5000]) {
      const key = rand.bytes(32);
      const nonce = rand.bytes(12);
      const aad = rand.bytes(length % 2 === 0 ? 13 : 0);
      const plaintext = rand.bytes(length);
      const sealed = oracleSeal(key, nonce, plaintext, aad);
      const [n0, n1, n2] = words(nonce);
      const aead = new WasmTransportAead(key);
      // Every position class: first and last ciphertext byte, one in the first four blocks, one in
      // the bulk, the tag's first and last byte.
      const positions = [...new Set([0, Math.min(100, length - 1), length > 300 ? 299 : -1, length - 1, length, length + 15])].filter((p) => p >= 0);
      for (const at of positions) {
        const bad = Uint8Array.from(sealed);
        bad[at] ^= 0x40;
        const before = bad.slice();
        assert.equal(aead.openWithNonce(bad, 0, length, bad, 0, n0, n1, n2, aad), false, `${length} bytes: byte ${at} changed`);
        assert.deepEqual(bad, before, `${length} bytes: byte ${at} changed: the buffer stays as received`);
      }
      if (aad.length > 0) {
        const badAad = aad.slice();
        badAad[aad.length - 1] ^= 1;
        assert.equal(aead.openWithNonce(Uint8Array.from(sealed), 0, length, new Uint8Array(length), 0, n0, n1, n2, badAad), false, 'changed AD');
      }
      assert.equal(aead.openWithNonce(Uint8Array.from(sealed), 0, length, new Uint8Array(length), 0, n0 ^ 1, n1, n2, aad), false, 'other nonce');
      assert.equal(new WasmTransportAead(rand.bytes(32)).openWithNonce(Uint8Array.from(sealed), 0, length, new Uint8Array(length), 0, n0, n1, n2, aad), false, 'other key');
      const inPlace = Uint8Array.from(sealed);
      assert.equal(aead.openWithNonce(inPlace, 0, length, inPlace, 0, n0, n1, n2, aad), true);
      assert.ok(Buffer.from(inPlace.subarray(0, length)).equals(plaintext));
    }
  });

  test('identical to the TypeScript AEAD on the WireGuard path: 3000 seeded packets of 0..2000 bytes, 64-bit counters, any alignment', () => {
    const rand = seeded(0x5eed);
    const counters: [number, number][] = [[0, 0], [1, 0], [0xffffffff, 0], [0, 1], [0xffffdfff, 0xffffffff]];
    for (let i = 0; i < 3000; i++) {
      const length = i <= 2000 ? i : rand.below(2001);
      const key = rand.bytes(32);
      const [lo, hi] = i < counters.length ? counters[i] : [rand.u32(), rand.below(4) === 0 ? 0 : rand.u32()];
      const offset = 16 + rand.below(4);
      const a = new Uint8Array(offset + length + AEAD_TAG_SIZE);
      a.set(rand.bytes(length), offset);
      const b = a.slice();
      new TransportAead(key).seal(a, offset, length, lo, hi);
      new WasmTransportAead(key).seal(b, offset, length, lo, hi);
      assert.deepEqual(b, a, `case ${i}: ${length} bytes, counter ${hi}:${lo}`);
      const out = new Uint8Array(length);
      assert.equal(new WasmTransportAead(key).open(a, offset, length, out, 0, lo, hi), true);
      assert.equal(new TransportAead(key).open(b, offset, length, b, offset, lo, hi), true, 'the TypeScript AEAD opens what the WebAssembly one sealed');
      assert.deepEqual(out, b.subarray(offset, offset + length));
    }
  });

  test('a forged tag writes nothing: the output keeps its old bytes (not ciphertext, not plaintext)', () => {
    const key = seeded(3).bytes(32);
    const sealed = new Uint8Array(100 + AEAD_TAG_SIZE);
    sealed.set(seeded(4).bytes(100));
    const aead = new WasmTransportAead(key);
    aead.seal(sealed, 0, 100, 42, 0);
    for (let i = 0; i < AEAD_TAG_SIZE; i++) {
      const bad = sealed.slice();
      bad[100 + i] ^= 0x80;
      const out = new Uint8Array(100).fill(0xee);
      assert.equal(aead.open(bad, 0, 100, out, 0, 42, 0), false, `tag byte ${i}`);
      assert.deepEqual(out, new Uint8Array(100).fill(0xee), `tag byte ${i}: out untouched`);
    }
    assert.equal(aead.open(sealed, 0, 100, new Uint8Array(100), 0, 42, 1), false, 'other counter (high word)');
  });

  test('no key, nonce, keystream or one-time key is left in the module memory after a call', () => {
    const aead = new WasmTransportAead(new Uint8Array(32).fill(0x5a));
    const buf = new Uint8Array(500 + AEAD_TAG_SIZE).fill(1);
    aead.seal(buf, 0, 500, 7, 0);
    assert.deepEqual(wasmSecretArea(), new Uint8Array(wasmSecretArea().length), 'after seal');
    assert.equal(aead.open(buf, 0, 500, buf, 0, 7, 0), true);
    assert.deepEqual(wasmSecretArea(), new Uint8Array(wasmSecretArea().length), 'after open');
    buf[3] ^= 1;
    assert.equal(aead.open(buf, 0, 500, buf, 0, 7, 0), false);
    assert.deepEqual(wasmSecretArea(), new Uint8Array(wasmSecretArea().length), 'after a rejected open');
  });

  test('a message with AD larger than the initial memory grows it and still matches the oracle', () => {
    const rand = seeded(5);
    const key = rand.bytes(32);
    const nonce = rand.bytes(12);
    const plaintext = rand.bytes(65535);
    const aad = rand.bytes(70000);
    const before = wasmMemoryPages();
    const buf = new Uint8Array(plaintext.length + AEAD_TAG_SIZE);
    buf.set(plaintext);
    const [n0, n1, n2] = words(nonce);
    new WasmTransportAead(key).sealWithNonce(buf, 0, plaintext.length, n0, n1, n2, aad);
    assert.ok(wasmMemoryPages() > before, `memory grew from ${before} pages`);
    assert.ok(Buffer.from(buf).equals(oracleSeal(key, nonce, plaintext, aad)));
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    d.setAAD(aad, { plaintextLength: plaintext.length });
    d.setAuthTag(buf.subarray(plaintext.length));
    assert.ok(Buffer.concat([d.update(buf.subarray(0, plaintext.length)), d.final()]).equals(plaintext));
  });

  test('zero() wipes the key; bad caller input throws', () => {
    const aead = new WasmTransportAead(new Uint8Array(32).fill(0xab));
    aead.zero();
    const a = new Uint8Array(20 + AEAD_TAG_SIZE);
    const b = new Uint8Array(20 + AEAD_TAG_SIZE);
    aead.seal(a, 0, 20, 0, 0);
    new TransportAead(new Uint8Array(32)).seal(b, 0, 20, 0, 0);
    assert.deepEqual(a, b);
    assert.throws(() => new WasmTransportAead(new Uint8Array(31)), TypeError);
    assert.throws(() => aead.seal(new Uint8Array(20), 0, 5, 0, 0), RangeError, 'no room for the tag');
    assert.throws(() => aead.open(new Uint8Array(20), 0, 5, new Uint8Array(5), 0, 0, 0), RangeError, 'no tag after the ciphertext');
    assert.throws(() => aead.open(new Uint8Array(40), 0, 5, new Uint8Array(4), 0, 0, 0), RangeError, 'output too small');
  });
});
