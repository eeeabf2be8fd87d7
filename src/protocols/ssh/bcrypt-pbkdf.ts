/**
 * bcrypt_pbkdf (OpenBSD, used by OpenSSH to derive the key of passphrase-protected private keys,
 * PROTOCOL.key "kdfname bcrypt"): PBKDF2-like rounds of a bcrypt-style hash over SHA-512 inputs.
 *
 *   bcryptPbkdf(pass, salt, length, rounds)
 *     for each output block: SHA-512(salt || counter) ─▶ bcryptHash(SHA-512(pass), ·) xor-folded
 *       over `rounds`, bytes spread across the output with a stride (so every block needs all rounds)
 *   bcryptHash: Blowfish "eksblowfish" key schedule (expandstate + 64 × expand0state of salt and
 *     pass), then "OxychromaticBlowfishSwatDynamite" encrypted 64 times, words written little-endian
 *
 * Blowfish's initial P-array and S-boxes are the hexadecimal digits of π (Schneier 1993); they are
 * computed once on first use (Machin's formula on bigints, ~8.3k hex digits) instead of shipping a
 * 4 KiB table.
 */
import { sha512 } from '@noble/hashes/sha2.js';

interface BlowfishState {
  p: Uint32Array;
  s: Uint32Array; // 4 × 256
}

let piWords: Uint32Array | undefined;

/** The first `count` 32-bit words of π's fractional hex digits (0x243f6a88, 0x85a308d3, ...). */
export function piFractionWords(count: number): Uint32Array {
  if (piWords && piWords.length >= count) return piWords.subarray(0, count);
  const guard = 64n;
  const bits = BigInt(count * 32) + guard;
  const one = 1n << bits;
  const arctanInv = (x: bigint): bigint => {
    let sum = 0n;
    let term = one / x;
    const x2 = x * x;
    for (let k = 1n; term !== 0n; k += 2n) {
      sum += (k & 2n ? -term : term) / k;
      term /= x2;
    }
    return sum;
  };
  const pi = 16n * arctanInv(5n) - 4n * arctanInv(239n);
  const frac = (pi - 3n * one) >> guard; // fractional part, count*32 bits
  const words = new Uint32Array(count);
  for (let i = 0; i < count; i++) words[i] = Number((frac >> BigInt((count - 1 - i) * 32)) & 0xffffffffn);
  piWords = words;
  return words;
}

function initState(): BlowfishState {
  const w = piFractionWords(18 + 1024);
  return { p: w.slice(0, 18), s: w.slice(18, 18 + 1024) };
}

function encipher(c: BlowfishState, lr: Uint32Array): void {
  const { p, s } = c;
  let l = lr[0]!;
  let r = lr[1]!;
  l ^= p[0]!;
  for (let i = 1; i <= 16; i += 2) {
    r ^= ((((s[l >>> 24]! + s[256 + ((l >>> 16) & 0xff)]!) ^ s[512 + ((l >>> 8) & 0xff)]!) + s[768 + (l & 0xff)]!) ^ p[i]!);
    l ^= ((((s[r >>> 24]! + s[256 + ((r >>> 16) & 0xff)]!) ^ s[512 + ((r >>> 8) & 0xff)]!) + s[768 + (r & 0xff)]!) ^ p[i + 1]!);
  }
  r ^= p[17]!;
  lr[0] = r;
  lr[1] = l;
}

/** Reads the next big-endian word of `data`, wrapping around (OpenBSD Blowfish_stream2word). */
function streamWord(data: Uint8Array, pos: { j: number }): number {
  let w = 0;
  for (let i = 0; i < 4; i++) {
    if (pos.j >= data.length) pos.j = 0;
    w = (w << 8) | data[pos.j++]!;
  }
  return w >>> 0;
}

function expand(c: BlowfishState, data: Uint8Array | undefined, key: Uint8Array): void {
  const kp = { j: 0 };
  for (let i = 0; i < 18; i++) c.p[i] = c.p[i]! ^ streamWord(key, kp);
  const dp = { j: 0 };
  const lr = new Uint32Array(2);
  const fill = (arr: Uint32Array, n: number, off: number): void => {
    for (let i = 0; i < n; i += 2) {
      if (data) {
        lr[0] = lr[0]! ^ streamWord(data, dp);
        lr[1] = lr[1]! ^ streamWord(data, dp);
      }
      encipher(c, lr);
      arr[off + i] = lr[0]!;
      arr[off + i + 1] = lr[1]!;
    }
  };
  fill(c.p, 18, 0);
  fill(c.s, 1024, 0);
}

const MAGIC = new TextEncoder().encode('OxychromaticBlowfishSwatDynamite');

function bcryptHash(sha2pass: Uint8Array, sha2salt: Uint8Array): Uint8Array {
  const c = initState();
  expand(c, sha2salt, sha2pass);
  for (let i = 0; i < 64; i++) {
    expand(c, undefined, sha2salt);
    expand(c, undefined, sha2pass);
  }
  const cdata = new Uint32Array(8);
  const pos = { j: 0 };
  for (let i = 0; i < 8; i++) cdata[i] = streamWord(MAGIC, pos);
  const lr = new Uint32Array(2);
  for (let round = 0; round < 64; round++) {
    for (let b = 0; b < 8; b += 2) {
      lr[0] = cdata[b]!;
      lr[1] = cdata[b + 1]!;
      encipher(c, lr);
      cdata[b] = lr[0]!;
      cdata[b + 1] = lr[1]!;
    }
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = cdata[i]!;
    out[4 * i] = v & 0xff;
    out[4 * i + 1] = (v >>> 8) & 0xff;
    out[4 * i + 2] = (v >>> 16) & 0xff;
    out[4 * i + 3] = v >>> 24;
  }
  return out;
}

/** Derives `length` bytes from a passphrase as OpenSSH does for `kdfname bcrypt`. */
export function bcryptPbkdf(pass: Uint8Array, salt: Uint8Array, length: number, rounds: number): Uint8Array {
  if (rounds < 1) throw new RangeError('bcryptPbkdf: rounds must be at least 1');
  if (length < 1 || length > 32 * 32) throw new RangeError('bcryptPbkdf: length out of range');
  const key = new Uint8Array(length);
  const stride = Math.ceil(length / 32);
  let amt = Math.ceil(length / stride);
  const sha2pass = sha512(pass);
  let left = length;
  for (let count = 1; left > 0; count++) {
    const countSalt = new Uint8Array(salt.length + 4);
    countSalt.set(salt, 0);
    new DataView(countSalt.buffer).setUint32(salt.length, count);
    let tmp = bcryptHash(sha2pass, sha512(countSalt));
    const out = tmp.slice();
    for (let i = 1; i < rounds; i++) {
      tmp = bcryptHash(sha2pass, sha512(tmp));
      for (let j = 0; j < 32; j++) out[j] = out[j]! ^ tmp[j]!;
    }
    amt = Math.min(amt, left);
    let i = 0;
    for (; i < amt; i++) {
      const dest = i * stride + (count - 1);
      if (dest >= length) break;
      key[dest] = out[i]!;
    }
    left -= i;
  }
  return key;
}
