/**
 * The send ring: accepts what fits, copies any window out across the wrap, consumes on ACK,
 * grows its allocation lazily up to the capacity.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SendBuffer } from '../../../src/netstack/socket/tcp-send-buffer.ts';

const seq = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 255);

describe('SendBuffer', () => {
  test('write() takes only what fits and reports it (backpressure)', () => {
    const b = new SendBuffer(10);
    assert.equal(b.write(seq(7)), 7);
    assert.equal(b.write(seq(7, 7)), 3);
    assert.equal(b.free, 0);
    assert.equal(b.write(seq(1)), 0);
  });

  test('copyOut() reads any range, also across the end of the ring', () => {
    const b = new SendBuffer(8, 8);
    b.write(seq(6));
    b.consume(5);
    b.write(seq(6, 6)); // wraps: bytes 5..11 now at ring positions 5..7,0..3
    const out = new Uint8Array(7);
    b.copyOut(0, 7, out, 0);
    assert.deepEqual([...out], [5, 6, 7, 8, 9, 10, 11]);
    const part = new Uint8Array(4);
    b.copyOut(2, 3, part, 1);
    assert.deepEqual([...part], [0, 7, 8, 9]);
    assert.throws(() => b.copyOut(5, 5, new Uint8Array(5), 0), RangeError);
  });

  test('the allocation starts small and doubles up to the capacity, keeping the bytes in order', () => {
    const b = new SendBuffer(100_000, 16);
    b.write(seq(10));
    b.consume(8);
    b.write(seq(50_000, 10));
    const out = new Uint8Array(50_002);
    b.copyOut(0, 50_002, out, 0);
    assert.deepEqual([...out.subarray(0, 4)], [8, 9, 10, 11]);
    assert.equal(out[50_001], (50_009) & 255);
  });

  test('consume() beyond the buffered bytes is a RangeError; clear() empties', () => {
    const b = new SendBuffer(10);
    b.write(seq(3));
    assert.throws(() => b.consume(4), RangeError);
    b.clear();
    assert.equal(b.length, 0);
    assert.throws(() => new SendBuffer(0), RangeError);
  });
});
