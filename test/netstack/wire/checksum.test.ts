import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../../src/shared/bytes.ts';
import { finishChecksum, internetChecksum, pseudoHeaderSum, sumBytes } from '../../../src/netstack/wire/checksum.ts';

/** RFC 1071 §4.1 as written: 16-bit big-endian words, odd byte padded, end-around carry. */
function referenceChecksum(bytes: Uint8Array, start: number, end: number, initial: number): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** xorshift32, seeded: the same cases every run. */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

describe('Internet checksum (RFC 1071)', () => {
  test('the widely published IPv4 header example sums to b861', () => {
    const header = fromHex('450000730000400040110000c0a80001c0a800c7');
    assert.equal(internetChecksum(header), 0xb861);
    header[10] = 0xb8;
    header[11] = 0x61;
    assert.equal(internetChecksum(header), 0, 'a header with its checksum in place sums to zero');
  });

  test('equals the plain RFC 1071 loop for 3000 seeded ranges: any length, odd and even starts, any buffer alignment, any running sum', () => {
    const next = seeded(1071);
    const backing = new Uint8Array(4000);
    for (let i = 0; i < backing.length; i++) backing[i] = next() & 0xff;
    for (let n = 0; n < 3000; n++) {
      // A view at byteOffset 0..7 over the same memory, then a range at start 0..9 within it.
      const view = backing.subarray(next() % 8);
      const start = next() % 10;
      const end = Math.min(view.length, start + (n < 100 ? n : next() % 2000));
      const initial = n % 3 === 0 ? 0 : next() % 0x7fffffff;
      assert.equal(finishChecksum(sumBytes(view, start, end, initial)), referenceChecksum(view, start, end, initial), `case ${n}: byteOffset ${view.byteOffset}, [${start}, ${end}), initial ${initial}`);
    }
  });

  test('all-zero and all-ones data, and runs long enough to fold mid-way (70000 bytes)', () => {
    for (const fill of [0x00, 0xff, 0x80]) {
      for (const length of [32, 33, 1500, 65535, 70000]) {
        const b = new Uint8Array(length).fill(fill);
        assert.equal(finishChecksum(sumBytes(b)), referenceChecksum(b, 0, length, 0), `${length} bytes of ${fill}`);
      }
    }
  });

  test('a TCP segment with its pseudo-header verifies to zero once its checksum is filled in', () => {
    const next = seeded(6);
    const src = Uint8Array.of(10, 0, 0, 1);
    const dst = Uint8Array.of(10, 0, 0, 2);
    const segment = new Uint8Array(1400);
    for (let i = 0; i < segment.length; i++) segment[i] = next() & 0xff;
    segment[16] = segment[17] = 0;
    const c = finishChecksum(sumBytes(segment, 0, segment.length, pseudoHeaderSum(src, dst, 6, segment.length)));
    segment[16] = c >> 8;
    segment[17] = c & 0xff;
    assert.equal(finishChecksum(sumBytes(segment, 0, segment.length, pseudoHeaderSum(src, dst, 6, segment.length))), 0);
    // The same bytes at an odd address take the byte-pair path and agree.
    const odd = new Uint8Array(segment.length + 1).subarray(1);
    odd.set(segment);
    assert.equal(finishChecksum(sumBytes(odd, 0, odd.length, pseudoHeaderSum(src, dst, 6, odd.length))), 0);
  });
});
