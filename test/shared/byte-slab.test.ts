import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteSlab, RecyclingSlab } from '../../src/shared/byte-slab.ts';

describe('ByteSlab', () => {
  test('hands out zeroed views of one shared buffer until it is full, then starts another', () => {
    const slab = new ByteSlab(4096);
    const a = slab.take(1000);
    const b = slab.take(1000);
    assert.equal(a.length, 1000);
    assert.equal(a.buffer, b.buffer, 'both views share one slab');
    assert.ok(a.every((x) => x === 0) && b.every((x) => x === 0));
    slab.take(1000);
    slab.take(1000);
    const e = slab.take(1000);
    assert.notEqual(e.buffer, a.buffer, 'the fifth does not fit 4096 bytes: a new slab');
  });

  test('never hands out a region twice: writing one view leaves the others unchanged', () => {
    const slab = new ByteSlab(1024);
    const views = Array.from({ length: 40 }, (_, i) => slab.take(13 + (i % 7)));
    views.forEach((v, i) => v.fill(i + 1));
    views.forEach((v, i) => assert.ok(v.every((x) => x === i + 1), `view ${i} kept its own bytes`));
  });

  test('aligns every view to 8 bytes in its slab', () => {
    const slab = new ByteSlab(4096);
    for (const n of [1, 3, 8, 13, 52, 1420]) assert.equal(slab.take(n).byteOffset % 8, 0, `after a ${n}-byte view`);
  });

  test('gives requests above a quarter of a slab a buffer of their own', () => {
    const slab = new ByteSlab(4096);
    const small = slab.take(16);
    const big = slab.take(1025);
    assert.notEqual(big.buffer, small.buffer);
    assert.equal(big.byteOffset, 0);
    assert.equal(big.buffer.byteLength, 1025);
    assert.equal(slab.take(16).buffer, small.buffer, 'the slab goes on after a big request');
  });

  test('takes zero bytes, and refuses counts that are not non-negative integers', () => {
    const slab = new ByteSlab();
    assert.equal(slab.take(0).length, 0);
    assert.throws(() => slab.take(-1), RangeError);
    assert.throws(() => slab.take(1.5), RangeError);
    assert.throws(() => new ByteSlab(0), RangeError);
  });
});

describe('RecyclingSlab', () => {
  test('after recycle() the same memory is handed out again, zeroed; between recycles it grows like a ByteSlab', () => {
    const slab = new RecyclingSlab(4096);
    const first = slab.take(1000);
    first.fill(0xaa);
    const second = slab.take(1000);
    assert.ok(second.buffer === first.buffer && second.byteOffset === 1000, 'packed, 8-byte aligned');
    slab.take(1000);
    slab.take(1000);
    const spill = slab.take(1000);
    assert.ok(spill.buffer !== first.buffer && slab.slabCount === 2, 'a full slab is followed by a new one');
    slab.recycle();
    const again = slab.take(1000);
    assert.ok(again.buffer === first.buffer && again.byteOffset === 0, 'the first slab from its start');
    assert.ok(again.every((b) => b === 0), 'zeroed although it was written');
    for (let i = 0; i < 4; i++) slab.take(1000);
    assert.equal(slab.slabCount, 2, 'the second slab is written again too, no third');
    assert.equal(slab.take(2000).buffer.byteLength, 2000, 'above a quarter slab: a buffer of its own');
    assert.throws(() => slab.take(-1), RangeError);
    assert.throws(() => new RecyclingSlab(0), RangeError);
  });
});
