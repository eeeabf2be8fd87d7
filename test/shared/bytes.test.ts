/**
 * Byte helpers every key and fixture goes through: base64 as strict as `wg` (a key is 32 bytes in
 * 44 canonical characters; anything else is refused rather than guessed), hex for fixtures, and a
 * comparison whose work does not depend on where two secrets differ.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, constantTimeEqual, fromBase64, fromHex, isAllZero, toBase64, toHex, webCryptoRandomBytes, zeroize } from '../../src/shared/bytes.ts';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('base64 (RFC 4648 §4, padded)', () => {
  test('RFC 4648 §10 test vectors encode and decode', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, b64] of vectors) {
      assert.equal(toBase64(new TextEncoder().encode(plain)), b64);
      assert.equal(new TextDecoder().decode(fromBase64(b64)), plain);
    }
  });

  test('a WireGuard key is 44 characters and round-trips; every byte value survives', () => {
    const key = new Uint8Array(32).map((_, i) => i * 8 + 7);
    const text = toBase64(key);
    assert.equal(text.length, 44);
    assert.ok(text.endsWith('='));
    assert.deepEqual(fromBase64(text), key);
    const all = new Uint8Array(256).map((_, i) => i);
    assert.deepEqual(fromBase64(toBase64(all)), all);
    assert.equal(toBase64(bytes(0xfb, 0xff)), '+/8=', 'the standard alphabet, not base64url');
  });

  const refused: [string, string, RegExp][] = [
    ['a length that is not a multiple of 4', 'Zm9', /multiple of 4/],
    ['a missing padding', 'Zg', /multiple of 4/],
    ['three padding characters', 'Z===', /invalid character/],
    ['padding in the middle', 'Zg==Zm9v', /invalid character/],
    ['padding before data', '=Zm9', /invalid character/],
    ['a padding character followed by data', 'Zm=v', /invalid character/],
    ['non-zero trailing bits before ==', 'Zh==', /trailing bits/],
    ['non-zero trailing bits before =', 'Zm9=', /trailing bits/],
    ['base64url characters', '-_8=', /invalid character/],
    ['white space', 'Zm9v Zm9v', /multiple of 4|invalid character/],
    ['a line break', 'Zm9v\nZm9v', /multiple of 4|invalid character/],
    ['a non-ASCII character', 'Zm9é', /invalid character/],
  ];
  for (const [name, text, message] of refused) {
    test(`refuses ${name}: ${JSON.stringify(text)}`, () => assert.throws(() => fromBase64(text), (e: unknown) => e instanceof RangeError && message.test(e.message)));
  }

  test('a key with a flipped last bit in the padding position is refused, as `wg` refuses it', () => {
    const text = toBase64(new Uint8Array(32).fill(0xaa));
    const c = text[42];
    const flipped = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const next = flipped[(flipped.indexOf(c) ^ 1) & 63];
    assert.throws(() => fromBase64(text.slice(0, 42) + next + '='), /trailing bits/);
  });
});

describe('hex', () => {
  test('toHex writes lower case; fromHex reads either case and ignores white space', () => {
    assert.equal(toHex(bytes(0, 0x0f, 0xab, 0xff)), '000fabff');
    assert.deepEqual(fromHex('00 0F\nab ff'), bytes(0, 0x0f, 0xab, 0xff));
    assert.deepEqual(fromHex(''), bytes());
  });

  test('fromHex refuses an odd digit count and non-hex characters', () => {
    assert.throws(() => fromHex('abc'), /odd number/);
    assert.throws(() => fromHex('0g'), /non-hex/);
    assert.throws(() => fromHex('0x00'), /non-hex/);
  });
});

describe('constantTimeEqual', () => {
  test('is true only for the same bytes in the same length', () => {
    assert.equal(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 3)), true);
    assert.equal(constantTimeEqual(bytes(), bytes()), true);
    assert.equal(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 4)), false);
    assert.equal(constantTimeEqual(bytes(0, 2, 3), bytes(1, 2, 3)), false);
    assert.equal(constantTimeEqual(bytes(1, 2), bytes(1, 2, 0)), false, 'a zero byte more is a difference');
  });

  test('reads every byte even when the first one differs (no early exit)', () => {
    const reads: number[] = [];
    const watched = (data: Uint8Array): Uint8Array =>
      new Proxy(data, {
        get(target, key) {
          if (typeof key === 'string' && /^[0-9]+$/.test(key)) reads.push(Number(key));
          const v = Reflect.get(target, key);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    assert.equal(constantTimeEqual(watched(bytes(9, 2, 3, 4)), bytes(1, 2, 3, 4)), false);
    assert.deepEqual(reads, [0, 1, 2, 3]);
  });
});

describe('other helpers', () => {
  test('concatBytes joins in order into a new array', () => {
    const a = bytes(1, 2);
    const out = concatBytes(a, bytes(), bytes(3));
    assert.deepEqual(out, bytes(1, 2, 3));
    out[0] = 9;
    assert.equal(a[0], 1, 'the parts are copied');
    assert.deepEqual(concatBytes(), bytes());
  });

  test('zeroize overwrites each array in place and skips missing ones', () => {
    const a = bytes(1, 2);
    const b = bytes(3);
    zeroize(a, undefined, null, b);
    assert.deepEqual([a, b], [bytes(0, 0), bytes(0)]);
  });

  test('isAllZero is true for zeros and the empty array only', () => {
    assert.equal(isAllZero(bytes(0, 0, 0)), true);
    assert.equal(isAllZero(bytes()), true);
    assert.equal(isAllZero(bytes(0, 0, 1)), false);
  });
});

describe('webCryptoRandomBytes', () => {
  test('gives the length asked for, fresh bytes each call (two 32-byte draws colliding has probability 2^-256)', () => {
    const a = webCryptoRandomBytes(32);
    const b = webCryptoRandomBytes(32);
    assert.equal(a.length, 32);
    assert.equal(webCryptoRandomBytes(0).length, 0);
    assert.equal(constantTimeEqual(a, b), false);
    assert.equal(isAllZero(a), false);
  });
});
