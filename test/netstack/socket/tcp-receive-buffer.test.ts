/**
 * The receive ring with its out-of-order assembler: in-order data advances RCV.NXT, islands are
 * stored in place and merged, a filled hole releases everything behind it, the island count is
 * bounded, SACK ranges come most recent first.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReceiveBuffer } from '../../../src/netstack/socket/tcp-receive-buffer.ts';

const seq = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 255);

describe('ReceiveBuffer', () => {
  test('in-order data is readable at once', () => {
    const r = new ReceiveBuffer(100);
    assert.equal(r.write(0, seq(10)), 10);
    assert.equal(r.readable, 10);
    assert.equal(r.free, 90);
    assert.deepEqual([...r.read(4)!], [0, 1, 2, 3]);
    assert.equal(r.totalRead, 4);
  });

  test('out-of-order islands wait; the hole-filling segment releases them all', () => {
    const r = new ReceiveBuffer(100);
    assert.equal(r.write(20, seq(10, 20)), 0);
    assert.equal(r.write(10, seq(5, 10)), 0);
    assert.equal(r.islandCount, 2);
    assert.equal(r.readable, 0);
    assert.equal(r.write(0, seq(12)), 15, '0..12 reaches the island 10..15, and stops at the hole 15..20');
    assert.equal(r.write(0, seq(5, 15)), 15, 'filling 15..20 releases 20..30 too');
    assert.equal(r.islandCount, 0);
    assert.deepEqual([...r.read()!], [...seq(30)]);
  });

  test('islands that touch or overlap are merged', () => {
    const r = new ReceiveBuffer(100);
    r.write(10, seq(5, 10));
    r.write(15, seq(5, 15));
    r.write(12, seq(10, 12));
    assert.equal(r.islandCount, 1);
    assert.deepEqual(r.sackRanges(4), [10, 22]);
  });

  test('data is clipped to the capacity', () => {
    const r = new ReceiveBuffer(10);
    assert.equal(r.write(0, seq(15)), 10);
    assert.equal(r.write(0, seq(5)), 0);
    r.read(3);
    assert.equal(r.free, 3);
  });

  test('beyond the island bound a new island is refused (-1) but extending one is not', () => {
    const r = new ReceiveBuffer(1000, 2);
    r.write(10, seq(5));
    r.write(30, seq(5));
    assert.equal(r.write(50, seq(5)), -1);
    assert.equal(r.write(15, seq(5)), 0);
    assert.equal(r.islandCount, 2);
  });

  test('SACK ranges put the most recently received island first, then the others (RFC 2018 §4)', () => {
    const r = new ReceiveBuffer(1000);
    r.write(100, seq(10));
    r.write(300, seq(10));
    r.write(200, seq(10));
    assert.deepEqual(r.sackRanges(3), [200, 210, 300, 310, 100, 110]);
    assert.deepEqual(r.sackRanges(1), [200, 210]);
  });

  test('bytes come out in order across the ring wrap and the lazy growth, with every other pair swapped', () => {
    const r = new ReceiveBuffer(40_000);
    let off = 0;
    let readPos = 0;
    for (let i = 0; i < 200; i++) {
      const n1 = 1000 + (i % 7) * 100;
      const n2 = 700 + (i % 3) * 50;
      while (r.free < n1 + n2) {
        const got = r.read(9_000)!;
        for (let k = 0; k < got.length; k += 997) assert.equal(got[k], (readPos + k) & 255);
        readPos += got.length;
      }
      if (i % 2 === 0) {
        assert.equal(r.write(n1, seq(n2, off + n1)), 0);
        assert.equal(r.write(0, seq(n1, off)), n1 + n2);
      } else {
        assert.equal(r.write(0, seq(n1, off)), n1);
        assert.equal(r.write(0, seq(n2, off + n1)), n2);
      }
      off += n1 + n2;
    }
    const rest = new Uint8Array(r.readable);
    r.readInto(rest);
    for (let k = 0; k < rest.length; k++) assert.equal(rest[k], (readPos + k) & 255);
    assert.equal(readPos + rest.length, off);
  });

  test('capacity only grows; discard() frees without copying', () => {
    const r = new ReceiveBuffer(10);
    r.growCapacity(5);
    assert.equal(r.capacity, 10);
    r.growCapacity(20);
    assert.equal(r.capacity, 20);
    r.write(0, seq(8));
    assert.equal(r.discard(5), 5);
    assert.equal(r.readable, 3);
  });
});
