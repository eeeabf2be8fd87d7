/**
 * Shared by the tests of the two transport AEADs (transport-aead.ts and wasm/): a seeded generator,
 * WireGuard's nonce, and Poly1305 straight from RFC 8439 in BigInt as a reference.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../../src/shared/bytes.ts';
import { AEAD_TAG_SIZE } from '../../src/wireguard/constants.ts';
import type { WireGuardTransportAead } from '../../src/wireguard/transport-aead.ts';

/** mulberry32: a small seeded generator, so every run checks the same cases. Not cryptographic. */
export function seeded(seed: number): { u32(): number; below(n: number): number; bytes(n: number): Uint8Array } {
  let a = seed >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    u32,
    below: (n) => u32() % n,
    bytes: (n) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = u32() & 0xff;
      return b;
    },
  };
}

/** WireGuard's nonce (paper §5.4.6): 4 zero bytes, then the 64-bit counter little-endian. */
export function wireguardNonce(lo: number, hi: number): Uint8Array {
  const n = new Uint8Array(12);
  const v = new DataView(n.buffer);
  v.setUint32(4, lo, true);
  v.setUint32(8, hi, true);
  return n;
}

export function words(nonce: Uint8Array): [number, number, number] {
  const v = new DataView(nonce.buffer, nonce.byteOffset, 12);
  return [v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true)];
}

/** Poly1305 straight from RFC 8439 §2.5.1 in BigInt, over `message` zero-padded to 16-byte blocks. */
export function poly1305Reference(key: Uint8Array, message: Uint8Array): string {
  const le = (b: Uint8Array): bigint => b.reduceRight((x, byte) => (x << 8n) | BigInt(byte), 0n);
  const p = (1n << 130n) - 5n;
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  let h = 0n;
  for (let i = 0; i < message.length; i += 16) {
    const block = new Uint8Array(16);
    block.set(message.subarray(i, i + 16));
    h = ((h + le(block) + (1n << 128n)) * r) % p;
  }
  const tag = (h + le(key.subarray(16))) & ((1n << 128n) - 1n);
  return toHex(Uint8Array.from({ length: 16 }, (_, i) => Number((tag >> BigInt(8 * i)) & 0xffn)));
}

const zeros = (n: number): string => '00'.repeat(n);
/**
 * RFC 8439 Appendix A.3 #5–#11: Poly1305 inputs that probe carries and the final reduction
 * (partially reduced results, h exactly 2^130 − 5 and 2^130 − 6, s overflowing 2^128). All are
 * whole 16-byte blocks, so the AEAD's padded form computes plain Poly1305.
 */
export const POLY1305_EDGE_VECTORS: readonly { n: number; key: string; msg: string; tag: string }[] = [
  { n: 5, key: '02' + zeros(31), msg: 'ff'.repeat(16), tag: '03' + zeros(15) },
  { n: 6, key: '02' + zeros(15) + 'ff'.repeat(16), msg: '02' + zeros(15), tag: '03' + zeros(15) },
  { n: 7, key: '01' + zeros(31), msg: 'ff'.repeat(16) + 'f0' + 'ff'.repeat(15) + '11' + zeros(15), tag: '05' + zeros(15) },
  { n: 8, key: '01' + zeros(31), msg: 'ff'.repeat(16) + 'fb' + 'fe'.repeat(15) + '01'.repeat(16), tag: zeros(16) },
  { n: 9, key: '02' + zeros(31), msg: 'fd' + 'ff'.repeat(15), tag: 'fa' + 'ff'.repeat(15) },
  {
    n: 10,
    key: '0100000000000000' + '0400000000000000' + zeros(16),
    msg: 'e33594d7505e43b9' + zeros(8) + '3394d7505e4379cd' + '0100000000000000' + zeros(16) + '0100000000000000' + zeros(8),
    tag: '1400000000000000' + '5500000000000000',
  },
  {
    n: 11,
    key: '0100000000000000' + '0400000000000000' + zeros(16),
    msg: 'e33594d7505e43b9' + zeros(8) + '3394d7505e4379cd' + '0100000000000000' + zeros(16),
    tag: '13' + zeros(15),
  },
];

/**
 * RFC 8439 §2.8.2's AEAD example (nonce 07000000 40..47, 12 bytes of AD) through `makeAead`'s
 * instance: sealed byte for byte, opened back, and refused under other AD. Every AEAD runs it.
 */
export function assertRfc8439AeadExample(makeAead: (key: Uint8Array) => WireGuardTransportAead): void {
  const v = JSON.parse(readFileSync(new URL('../vectors/wireguard/primitives.json', import.meta.url), 'utf8')).chacha20poly1305 as Record<string, string>;
  const aead = makeAead(fromHex(v.key!));
  const plaintext = fromHex(v.plaintext!);
  const [n0, n1, n2] = words(fromHex(v.nonce!));
  const buf = new Uint8Array(plaintext.length + AEAD_TAG_SIZE);
  buf.set(plaintext);
  aead.sealWithNonce(buf, 0, plaintext.length, n0, n1, n2, fromHex(v.aad!));
  assert.equal(toHex(buf), v.ciphertext! + v.tag!);
  const out = new Uint8Array(plaintext.length);
  assert.equal(aead.openWithNonce(buf, 0, plaintext.length, out, 0, n0, n1, n2, fromHex(v.aad!)), true);
  assert.deepEqual(out, plaintext);
  assert.equal(aead.openWithNonce(buf, 0, plaintext.length, out, 0, n0, n1, n2, fromHex(v.aad!).subarray(1)), false, 'different AD');
}
